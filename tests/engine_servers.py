"""Real engine servers for tests: `chroma run` on loopback, started and stopped here.

Also a silent peer: a loopback socket that accepts connections and never
answers, as a hung engine server does (not a mock of an engine: no engine
protocol is spoken at all).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

__all__ = [
    "ChromaServer",
    "SilentPeer",
    "chroma_command",
    "clone_with_backend",
    "free_port",
    "write_markers",
]

_HEARTBEAT_TRIES = 150
_HEARTBEAT_EVERY_S = 0.2
_START_TIMEOUT_S = 45.0


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies (no orphan server on Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_command() -> str | None:
    """The `chroma` executable installed next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.is_file() else shutil.which("chroma")


class ChromaServer:
    """`chroma run --path PATH --host 127.0.0.1 --port PORT` as a child process."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = path.parent / f"chroma-{self.port}.log"

    @property
    def url(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ChromaServer:
        """Start the server and wait (bounded) for its heartbeat."""
        command = chroma_command()
        if command is None:
            raise RuntimeError("chroma is not installed: pip install 'tldrf[chromadb]'")
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [command, "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        for _ in range(_HEARTBEAT_TRIES):
            if self.process.poll() is not None:
                break
            if self.alive():
                return self
            if time.monotonic() > deadline:
                break
            time.sleep(_HEARTBEAT_EVERY_S)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"chroma did not start on {self.url}:\n{tail}")

    def alive(self) -> bool:
        """Whether the heartbeat answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the server (a crash, not a shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Terminate the server, killing it if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


class SilentPeer:
    """Accepts TCP connections on 127.0.0.1 and never reads or writes; `close()` hangs up."""

    _ACCEPT_POLL_S = 0.1
    _MAX_CONNECTIONS = 64

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(self._ACCEPT_POLL_S)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-peer", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The peer's URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        """How many connections it has accepted."""
        return len(self._held)

    def _accept(self) -> None:
        while not self._stop.is_set() and len(self._held) < self._MAX_CONNECTIONS:
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        """Stop accepting and close every connection (a client blocked on one sees EOF)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._held:
            connection.close()

    def __enter__(self) -> SilentPeer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"


def clone_with_backend(tmp_path: Path, name: str, backend: str, **settings: str) -> Path:
    """A copy of the mini project whose config names `backend` with `settings`."""
    root = Path(shutil.copytree(_FIXTURES / "mini", tmp_path / name))
    (root / ".tldr").mkdir()
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    (root / ".tldr" / "config.toml").write_text(
        f'[semantic]\nvector_backend = "{backend}"\nmodel = "hash-256"\n\n'
        f"[vector_store.{backend}]\n{table}\n"
    )
    return root


def write_markers(root: Path, upto: int) -> None:
    """`src/markers.py` with `marker_0` .. `marker_<upto>`: one generation of a rebuild."""
    body = "".join(
        f"def marker_{i}(value):\n    \"\"\"Marker number {i}.\"\"\"\n    return value + {i}\n\n"
        for i in range(upto + 1)
    )
    (root / "src" / "markers.py").write_text(body)
