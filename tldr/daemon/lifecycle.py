"""Daemon lifecycle shared by both sides: pid file lock, spawn, readiness, signals.

Stopping over the socket is the client's (`tldr.daemon.client.stop_daemon`),
next to starting; this module never imports the client.

Standard library only, so the thin client can start and stop daemons (and
no logger or subprocess import at module level: this is on the thin
client's path, where each import is paid on every command). The
pid file is locked (`flock`, or `msvcrt.locking` on Windows) for the whole
life of the daemon; the kernel drops the lock when the process dies, so a
pid file whose lock can be taken belongs to no one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tldr._exceptions import DaemonError
from tldr._spawn import isolated_python
from tldr.daemon.transport import check_socket_owner, connect
from tldr.paths import DaemonFiles

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "PidLock",
    "is_running",
    "read_pid_info",
    "remove_stale",
    "spawn_daemon",
    "terminate",
    "wait_ready",
    "wait_stopped",
]

# Daemons this process started: kept so they are reaped (no zombies in a
# long-lived client such as an editor plugin) and never garbage-collected
# while running, which would warn.
_children: list[subprocess.Popen[bytes]] = []


class PidLock:
    """The daemon's claim on its key: an exclusively locked pid file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self, info: dict[str, Any], *, attempts: int = 5) -> bool:
        """Lock the pid file and record `info`; False if a live daemon holds it."""
        for attempt in range(attempts):
            handle = open(self.path, "a+", encoding="utf-8")
            if _try_lock(handle):
                if os.name != "nt":
                    os.chmod(self.path, 0o600)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(info) + "\n")
                handle.flush()
                self._handle = handle
                return True
            handle.close()
            if attempt + 1 < attempts:  # a client may be probing the lock right now
                time.sleep(0.05)
        return False

    def release(self) -> None:
        """Remove the pid file and drop the lock."""
        if self._handle is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self._handle.close()
            self._handle = None


def _try_lock(handle: IO[str]) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def read_pid_info(files: DaemonFiles) -> dict[str, Any] | None:
    """What the running daemon wrote into its pid file, or None."""
    try:
        info = files.pid_file.stat()
        if os.name != "nt" and info.st_uid != os.getuid():
            raise DaemonError(f"refusing pid file {files.pid_file}: owned by uid {info.st_uid}")
        data = json.loads(files.pid_file.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_running(files: DaemonFiles) -> bool:
    """True when a live process holds the pid file lock."""
    if not files.pid_file.exists():
        return False
    try:
        handle = open(files.pid_file, encoding="utf-8")
    except OSError:
        return False
    try:
        if _try_lock(handle):
            return False  # nobody holds it; closing drops our probe lock
        return True
    finally:
        handle.close()


def remove_stale(files: DaemonFiles) -> bool:
    """Remove the socket and pid file of a daemon that died; True if any were removed."""
    if is_running(files):
        return False
    removed = False
    if os.name != "nt" and check_socket_owner(files.socket):
        try:
            connect(files.socket, timeout=0.5).close()
            return False  # something answers: not stale
        except OSError:
            os.unlink(files.socket)
            removed = True
    if files.pid_file.exists():
        files.pid_file.unlink(missing_ok=True)
        removed = True
    return removed


def spawn_daemon(
    files: DaemonFiles, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `python -I -m tldr.daemon --project ROOT` detached, logging to its log file.

    It runs in the runtime dir, not the project: a model name is tried as a
    local path (relative to the working directory) before the hub.
    """
    import subprocess
    files.log_file.parent.mkdir(parents=True, exist_ok=True)
    command = isolated_python("tldr.daemon", "--project", str(files.root))
    if files.paths.cache_root is not None:  # index mode: the daemon and its rebuilds keep it
        command += ["--cache-root", str(files.paths.cache_root), "--index", files.paths.index]
    with open(files.log_file, "ab") as log:
        kwargs: dict[str, Any] = {}
        if os.name == "nt":  # pragma: no cover - Windows
            kwargs["creationflags"] = (subprocess.DETACHED_PROCESS  # type: ignore[attr-defined]
                                       | subprocess.CREATE_NEW_PROCESS_GROUP)  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(files.pid_file.parent), env=env, close_fds=True, **kwargs,
        )
    _children[:] = [child for child in _children if child.poll() is None]
    _children.append(process)
    return process


def wait_ready(
    files: DaemonFiles, *, timeout: float, process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until the daemon accepts connections.

    Raises:
        DaemonError: it did not within `timeout`, or the process we started died.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            connect(files.socket, timeout=1.0).close()
            return
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        if process is not None and process.poll() is not None and not is_running(files):
            raise DaemonError(
                f"the daemon exited with code {process.returncode} before it was ready; "
                f"see {files.log_file}:\n{_tail(files.log_file)}"
            )
        if time.monotonic() >= deadline:
            raise DaemonError(f"the daemon did not start within {timeout:g}s; see {files.log_file}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def wait_stopped(files: DaemonFiles, pid: int | None, *, timeout: float) -> bool:
    """Wait until the daemon is gone; True if it went."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(files) and (pid is None or not _pid_alive(pid)):
            return True
        time.sleep(0.02)
    return False


def terminate(files: DaemonFiles, pid: object, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL, the daemon process `pid`, waiting `timeout` after each."""
    if not isinstance(pid, int):
        return
    import signal

    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        try:
            os.kill(pid, sig)
        except OSError:
            break
        if wait_stopped(files, pid, timeout=timeout):
            break


def _pid_alive(pid: int) -> bool:
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
