"""Real daemon processes: autostart, second start, stale files, idle exit, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tldr._exceptions import ConfigError, DaemonError, IndexMissingError
from tldr.daemon.client import DaemonClient, ensure_daemon, search_via_daemon, stop_daemon
from tldr.daemon.lifecycle import is_running, read_pid_info, wait_stopped
from tldr.daemon.runner import ALREADY_RUNNING
from tldr.paths import daemon_files


def test_autostart_search_and_stop(built: Path, stop_after: list[Path]) -> None:
    stop_after.append(built)
    files = daemon_files(built)
    assert not is_running(files)
    rows = search_via_daemon(built, "parse the configuration file", k=1)
    assert rows[0]["qualified_name"] == "parse_config"
    assert is_running(files)
    info = read_pid_info(files)
    assert info is not None and info["root"] == str(built)
    assert oct(os.stat(files.socket).st_mode & 0o777) == "0o600"
    # a second daemon for the same project reports the running one
    second = subprocess.run([sys.executable, "-m", "tldr.daemon", "--project", str(built)],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == ALREADY_RUNNING
    assert f"pid {info['pid']}" in second.stderr
    assert stop_daemon(files) is True
    assert not is_running(files) and not os.path.exists(files.socket)
    assert not files.pid_file.exists()


def test_daemon_death_then_next_call_restarts(built: Path, stop_after: list[Path]) -> None:
    stop_after.append(built)
    files = daemon_files(built)
    assert ensure_daemon(files) is True
    pid = read_pid_info(files)["pid"]  # type: ignore[index]
    os.kill(pid, signal.SIGKILL)
    assert wait_stopped(files, pid, timeout=5)
    assert os.path.exists(files.socket)  # stale socket and pid file left behind
    rows = search_via_daemon(built, "retry backoff", k=1)
    assert rows[0]["name"] == "backoff"
    assert read_pid_info(files)["pid"] != pid  # type: ignore[index]


def test_stale_socket_file_is_replaced(built: Path, stop_after: list[Path]) -> None:
    stop_after.append(built)
    files = daemon_files(built)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(files.socket)  # bound, never listening: connections are refused
    stale.close()
    files.pid_file.write_text('{"pid": 999999}\n')
    assert ensure_daemon(files) is True
    with DaemonClient(files=files) as client:
        assert client.call("ping")["pong"] is True


def test_sigterm_is_a_clean_shutdown(built: Path, stop_after: list[Path]) -> None:
    stop_after.append(built)
    files = daemon_files(built)
    ensure_daemon(files)
    pid = read_pid_info(files)["pid"]  # type: ignore[index]
    os.kill(pid, signal.SIGTERM)
    assert wait_stopped(files, pid, timeout=10)
    assert not os.path.exists(files.socket) and not files.pid_file.exists()
    assert "signal SIGTERM" in files.log_file.read_text()


def test_idle_shutdown(built: Path, stop_after: list[Path],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    stop_after.append(built)
    monkeypatch.setenv("TLDR_IDLE_TIMEOUT", "0.5")
    files = daemon_files(built)
    ensure_daemon(files)
    with DaemonClient(files=files) as client:
        pid = client.call("ping")["pid"]
    assert wait_stopped(files, pid, timeout=15)
    assert "idle for 0.5s" in files.log_file.read_text()


def test_missing_index_is_built_by_the_daemon(project: Path, stop_after: list[Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stop_after.append(project)
    monkeypatch.setenv("TLDR_MODEL", "hash-256")
    deadline = time.monotonic() + 30
    while True:
        try:
            rows = search_via_daemon(project, "http handler", k=1)
            break
        except IndexMissingError as exc:
            assert "building now" in str(exc)
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert rows[0]["name"] == "http_handler"


def test_no_daemon_without_autostart(built: Path) -> None:
    with pytest.raises(DaemonError, match="no daemon is running"):
        search_via_daemon(built, "x", autostart=False)


def test_foreign_or_unsafe_runtime_dir_is_refused(built: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o755)
    open_dir.chmod(0o755)
    monkeypatch.setenv("TLDR_RUNTIME_DIR", str(open_dir))
    with pytest.raises(ConfigError, match="accessible by other users"):
        daemon_files(built)
    long_dir = tmp_path / ("x" * 90)
    long_dir.mkdir(mode=0o700)
    monkeypatch.setenv("TLDR_RUNTIME_DIR", str(long_dir))
    with pytest.raises(ConfigError, match="too long"):
        daemon_files(built)


def test_socket_of_another_user_is_refused(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = daemon_files(built)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(files.socket)
    sock.close()
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    with pytest.raises(DaemonError, match="owned by uid"):
        DaemonClient(files=files).connect()


def test_client_imports_stay_light() -> None:
    code = (
        "import sys; import tldr.daemon.client, tldr.cli.daemon; "
        "heavy = {'numpy', 'torch', 'usearch', 'tree_sitter', 'watchfiles', 'psutil', "
        "'filelock', 'tldr.semantic', 'tldr.daemon.service', 'tldr.daemon.server'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_client_reads_messages_without_msgspec() -> None:
    from tldr._exceptions import LegacyIndexError, ProtocolError
    from tldr.daemon import client

    assert client._encode({"id": 1, "params": {"query": "é"}}) == (
        '{"id":1,"params":{"query":"é"}}\n'.encode())
    assert client._decode(b'{"jsonrpc":"2.0","id":3,"result":{"a":1}}')["result"] == {"a": 1}
    for bad in (b"not json", b"[1]", b'{"id":1.5}', b'{"method":3}', b"\xff",
                b'{"id":1,"error":{"code":"x","message":"m"}}'):
        with pytest.raises(ProtocolError, match="bad message"):
            client._decode(bad)
    exc = client._error({"code": -32001, "message": "old index",
                         "data": {"type": "LegacyIndexError"}})
    assert isinstance(exc, LegacyIndexError) and exc.rpc_code == -32001  # type: ignore[attr-defined]


def test_daemon_files_and_index_paths_are_values(tmp_path: Path) -> None:
    import hashlib

    from tldr.paths import DaemonFiles, IndexPaths, daemon_key

    assert daemon_key(tmp_path) == hashlib.sha256(
        f"{tmp_path}\0semantic".encode()).hexdigest()[:16]
    files = daemon_files(tmp_path)
    again = DaemonFiles(root=files.root, key=files.key, socket=files.socket,
                        pid_file=files.pid_file, log_file=files.log_file)
    assert files == again and hash(files) == hash(again) and "key=" in repr(files)
    assert IndexPaths(tmp_path) == IndexPaths(root=tmp_path) != IndexPaths(tmp_path / "x")
    assert len({IndexPaths(tmp_path), IndexPaths(tmp_path)}) == 1
    with pytest.raises(AttributeError):
        files.key = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        IndexPaths(tmp_path).root = tmp_path  # type: ignore[misc]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast path is Linux-only")
def test_xdg_runtime_dir_fast_path_agrees_with_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    from tldr import paths

    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    xdg.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    fast = paths._linux_runtime_dir()
    if fast is None:  # tmp_path below a world-writable dir: platformdirs decides
        pytest.skip("tmp_path is under a world-writable directory")
    assert fast == Path(platformdirs.user_runtime_dir("tldrf", appauthor=False,
                                                      ensure_exists=False))
    xdg.chmod(0o755)
    assert paths._linux_runtime_dir() is None
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative")
    assert paths._linux_runtime_dir() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast path is Linux's")
def test_runtime_dir_without_xdg_agrees_with_platformdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No XDG_RUNTIME_DIR (CI, containers): the same dir as asking platformdirs."""
    from tldr import paths

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    fast = paths._linux_runtime_dir()
    assert fast is not None
    monkeypatch.setattr(paths, "_linux_runtime_dir", lambda: None)
    assert paths._default_runtime_dir() == fast
    if not str(fast).startswith("/run/user/"):
        assert fast == tmp_path / f"tldrf-{os.getuid()}"
