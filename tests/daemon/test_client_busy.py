"""A running daemon that refuses connections (a burst filled its accept queue):
the thin client retries briefly, then says so in one line."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldr._exceptions import DaemonError
from tldr.daemon import client
from tldr.daemon.client import DaemonClient
from tldr.daemon.lifecycle import PidLock
from tldr.paths import DaemonFiles, daemon_files


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[tuple[DaemonFiles, socket.socket]]:
    """A "daemon" that holds its pid lock and listens, but never accepts; queue full."""
    files = daemon_files(tmp_path)
    lock = PidLock(files.pid_file)
    assert lock.acquire({"pid": 0, "root": str(tmp_path)})
    server = socket.socket(socket.AF_UNIX)
    server.bind(files.socket)
    server.listen(0)
    waiting: list[socket.socket] = []
    while True:  # fill the accept queue until the kernel says EAGAIN
        probe = socket.socket(socket.AF_UNIX)
        probe.setblocking(False)
        try:
            probe.connect(files.socket)
        except BlockingIOError:
            probe.close()
            break
        waiting.append(probe)
    yield files, server
    for probe in waiting:
        probe.close()
    server.close()
    lock.release()


def test_refusing_daemon_gives_one_line_after_a_short_retry(
        busy: tuple[DaemonFiles, socket.socket], monkeypatch: pytest.MonkeyPatch) -> None:
    files, _ = busy
    monkeypatch.setattr(client, "_BUSY_CONNECT_S", 0.3)
    with pytest.raises(DaemonError, match="is refusing connections") as raised:
        DaemonClient(files=files, timeout=1.0).connect()
    assert "\n" not in str(raised.value)


def test_connect_succeeds_once_the_daemon_accepts(
        busy: tuple[DaemonFiles, socket.socket]) -> None:
    files, server = busy
    accepted: list[socket.socket] = []

    def accept_later() -> None:
        threading.Event().wait(0.3)
        for _ in range(8):
            accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept_later, daemon=True)
    thread.start()
    with DaemonClient(files=files, timeout=1.0):
        pass
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()


def test_the_command_line_says_it_in_one_line(busy: tuple[DaemonFiles, socket.socket]) -> None:
    files, _ = busy
    completed = subprocess.run(
        [sys.executable, "-m", "tldr.cli", "daemon", "status", "-p", str(files.root)],
        capture_output=True, text=True, check=False, timeout=60)
    assert "Traceback" not in completed.stderr and "BlockingIOError" not in completed.stderr
    assert completed.stdout.strip().splitlines() == [
        f"daemon running for {files.root} but not answering: the daemon for {files.root} is "
        f"refusing connections (Resource temporarily unavailable); it may be overloaded: "
        f"retry, or see tldrf daemon status --project {files.root}"]
    assert completed.returncode == 1
