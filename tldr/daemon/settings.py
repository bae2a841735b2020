"""Where a daemon's files live: its key, socket, pid file and log.

The daemon's environment variables (`TLDR_DEBOUNCE_MS`, `TLDR_IDLE_TIMEOUT`,
...) are in the settings registry, `tldr.settings`.

On the thin client's path, where each import is paid on every command: no
dataclasses (it imports inspect) and no hashlib (it loads OpenSSL).
"""

from __future__ import annotations

import os
from pathlib import Path

from tldr._exceptions import ConfigError

try:  # CPython's built-in sha256, as random.py does for sha512: no OpenSSL to load
    from _sha2 import sha256 as _sha256  # 3.12+
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256

__all__ = [
    "DEFAULT_INDEX",
    "MAX_SOCKET_PATH",
    "DaemonFiles",
    "daemon_files",
    "daemon_key",
]

DEFAULT_INDEX = "semantic"
MAX_SOCKET_PATH = 104  # sun_path on macOS; Linux allows 108


def daemon_key(root: Path, index: str = DEFAULT_INDEX) -> str:
    """A short stable name for the daemon of (project root, index)."""
    return _sha256(f"{root}\0{index}".encode()).hexdigest()[:16]


class DaemonFiles:
    """Where one daemon's socket, pid file and log live (immutable, compared by value)."""

    __slots__ = ("key", "log_file", "pid_file", "root", "socket")
    _FIELDS = ("root", "key", "socket", "pid_file", "log_file")

    root: Path
    key: str
    socket: str
    pid_file: Path
    log_file: Path

    def __init__(self, root: Path, key: str, socket: str, pid_file: Path, log_file: Path) -> None:
        set_field = object.__setattr__
        set_field(self, "root", root)
        set_field(self, "key", key)
        set_field(self, "socket", socket)
        set_field(self, "pid_file", pid_file)
        set_field(self, "log_file", log_file)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: DaemonFiles is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: DaemonFiles is immutable")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"DaemonFiles({fields})"


def daemon_files(
    root: Path, *, index: str = DEFAULT_INDEX, runtime: Path | None = None
) -> DaemonFiles:
    """The files of the daemon for `root`, in the per-user runtime dir.

    Raises:
        ConfigError: the runtime dir is not private, or the socket path is too long.
    """
    if runtime is None:
        from tldr.paths import runtime_dir

        runtime = runtime_dir()
    key = daemon_key(root, index)
    if os.name == "nt":
        socket = rf"\\.\pipe\tldrf-{os.getlogin()}-{key}"
    else:
        socket = str(runtime / f"{key}.sock")
        if len(socket.encode()) >= MAX_SOCKET_PATH:
            raise ConfigError(
                f"socket path {socket} is too long for a Unix socket "
                f"({len(socket.encode())} >= {MAX_SOCKET_PATH} bytes); "
                "set TLDR_RUNTIME_DIR to a shorter private directory"
            )
    return DaemonFiles(
        root=root,
        key=key,
        socket=socket,
        pid_file=runtime / f"{key}.pid",
        log_file=root / ".tldr" / "daemon.log",
    )
