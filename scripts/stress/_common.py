"""Shared by the stress scripts: a scratch project, a real daemon, a raw client.

Everything lives under one temp dir (the project, the runtime dir with the
socket, the logs) and is removed at the end; the daemon is a real
subprocess (`python -I -m tldr.daemon`), so a crash shows as a dead pid, not
as a dead script. The hash test embedder (`hash-256`) keeps it on the CPU
and fast.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_REPO))
sys.path.insert(0, str(_REPO / "scripts"))

from bench_daemon import make_project as _make_functions  # noqa: E402  (one generator)

MODEL = "hash-256"

__all__ = [
    "MODEL",
    "RawSocket",
    "Scratch",
    "alive",
    "daemon_usage",
    "make_project",
    "scratch",
    "verdict",
    "wait_until",
]


def make_project(root: Path, units: int, per_file: int = 20) -> None:
    """About `units` small Python functions (`bench_daemon`'s project), with `.tldr/`."""
    _make_functions(root, units, per_file)
    (root / ".tldr").mkdir(exist_ok=True)


class Scratch:
    """A temp dir with a project in it and its own daemon runtime dir."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "project"
        self.runtime = base / "runtime"
        self.root.mkdir()
        self.runtime.mkdir(mode=0o700)
        os.environ["TLDR_RUNTIME_DIR"] = str(self.runtime)
        os.environ.setdefault("TLDR_DEBOUNCE_MS", "200")
        os.environ.setdefault("TLDR_IDLE_TIMEOUT", "0")
        os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ["TLDR_MODEL"] = MODEL  # a daemon rebuilding from nothing uses it too

    @property
    def files(self) -> Any:
        from tldr.paths import daemon_files

        return daemon_files(self.root)

    def build(self, **options: Any) -> Any:
        from tldr.semantic import build_semantic_index

        options.setdefault("model", MODEL)
        return build_semantic_index(self.root, **options)

    def start_daemon(self) -> int:
        """Start the project's daemon (a subprocess); its pid."""
        from tldr.daemon.client import ensure_daemon
        from tldr.daemon.lifecycle import read_pid_info

        ensure_daemon(self.files)
        info = read_pid_info(self.files)
        assert info is not None
        return int(info["pid"])

    def stop_daemon(self) -> None:
        from tldr.daemon.client import stop_daemon

        stop_daemon(self.files, timeout=5.0)

    def connect(self, timeout: float = 30.0) -> RawSocket:
        return RawSocket(self.files.socket, timeout=timeout)

    def log_tracebacks(self) -> int:
        """Tracebacks in the daemon's log (a handled error logs none)."""
        try:
            return self.files.log_file.read_text(errors="replace").count("Traceback")
        except OSError:
            return 0


@contextmanager
def scratch(prefix: str) -> Iterator[Scratch]:
    """A `Scratch` that stops its daemon and deletes itself on the way out."""
    base = Path(tempfile.mkdtemp(prefix=f"tldr-stress-{prefix}-"))
    work = Scratch(base)
    try:
        yield work
    finally:
        try:
            work.stop_daemon()
        finally:
            _make_removable(base)
            shutil.rmtree(base, ignore_errors=True)


def _make_removable(base: Path) -> None:
    for dirpath, dirnames, _ in os.walk(base):
        for name in dirnames:
            try:
                os.chmod(os.path.join(dirpath, name), 0o700)
            except OSError:
                pass


class RawSocket:
    """A blocking line client that can send anything, including garbage."""

    def __init__(self, address: str, *, timeout: float) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self._buffer = b""
        self._ids = 0

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_line(self) -> bytes | None:
        """The next line, or None when the daemon closed the connection."""
        while b"\n" not in self._buffer:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if params is not None:
            message["params"] = params
        self.send(json.dumps(message).encode() + b"\n")
        while True:
            line = self.recv_line()
            if line is None:
                raise ConnectionError("the daemon closed the connection")
            answer = json.loads(line)
            if answer.get("id") == self._ids:
                return answer

    def close(self) -> None:
        self.sock.close()


def daemon_usage(pid: int) -> tuple[float, int]:
    """The daemon's resident memory (MiB) and open file descriptors."""
    import psutil

    process = psutil.Process(pid)
    return process.memory_info().rss / 2**20, process.num_fds()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # the thing polled may fail until it is ready
            pass
        time.sleep(interval)
    return False


def verdict(script: str, figures: Mapping[str, Any], ok: bool, notes: Sequence[str] = ()) -> int:
    """Print the one summary line (`script: key=value ... ok|FAILED`) and up to
    five notes under it; return the script's exit status."""
    fields = " ".join(f"{key}={value}" for key, value in figures.items())
    print(f"{script}: {fields} {'ok' if ok else 'FAILED'}")
    for note in notes[:5]:
        print(f"  {note}")
    return 0 if ok else 1
