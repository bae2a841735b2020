"""Where a daemon's files live: its key, socket, pid file and log.

The daemon's environment variables (`TLDR_DEBOUNCE_MS`, `TLDR_IDLE_TIMEOUT`,
...) are in the settings registry, `tldr.settings`.
`TLDR_CACHE_ROOT` and `TLDR_INDEX` choose index mode (see
`tldr.paths.IndexPaths`): the daemon of an index-mode index has its own
socket, named after the index key, and keeps these for its background
rebuilds.

On the thin client's path, where each import is paid on every command: no
dataclasses (it imports inspect) and no hashlib (it loads OpenSSL).
"""

from __future__ import annotations

import os
from pathlib import Path

from tldr._exceptions import ConfigError
from tldr.paths import CACHE_ROOT_ENV, DEFAULT_INDEX, INDEX_ENV, IndexPaths, short_digest

__all__ = [
    "DEFAULT_INDEX",
    "MAX_SOCKET_PATH",
    "DaemonFiles",
    "daemon_files",
    "daemon_key",
    "export_index_location",
]

MAX_SOCKET_PATH = 104  # sun_path on macOS; Linux allows 108


def daemon_key(root: Path, index: str = DEFAULT_INDEX) -> str:
    """A short stable name for the in-tree daemon of (project root, index)."""
    return short_digest(f"{root}\0{index}")


def _key_of(paths: IndexPaths) -> str:
    """In-tree: `daemon_key`; index mode: the index key plus a hash of the cache root."""
    if paths.cache_root is None:
        return daemon_key(paths.root, paths.index)
    return f"{paths.key}-{short_digest(str(paths.cache_root), 8)}"


def export_index_location(paths: IndexPaths) -> None:
    """Put `paths`' cache root and index into this process's environment.

    Everything below the daemon (`IndexPaths(root)` in the service, the
    build worker it spawns) then resolves the same index, as the rebuilds it
    triggers by itself keep the recorded model, language and backend.
    """
    if paths.cache_root is None:
        os.environ.pop(CACHE_ROOT_ENV, None)
        os.environ.pop(INDEX_ENV, None)
    else:
        os.environ[CACHE_ROOT_ENV] = str(paths.cache_root)
        os.environ[INDEX_ENV] = paths.index


class DaemonFiles:
    """Where one daemon's socket, pid file and log live (immutable, compared by value).

    `paths` is the index it serves (in-tree or index mode).
    """

    __slots__ = ("key", "log_file", "paths", "pid_file", "root", "socket")
    _FIELDS = ("root", "key", "socket", "pid_file", "log_file", "paths")

    root: Path
    key: str
    socket: str
    pid_file: Path
    log_file: Path
    paths: IndexPaths

    def __init__(self, root: Path, key: str, socket: str, pid_file: Path, log_file: Path,
                 paths: IndexPaths | None = None) -> None:
        set_field = object.__setattr__
        set_field(self, "root", root)
        set_field(self, "key", key)
        set_field(self, "socket", socket)
        set_field(self, "pid_file", pid_file)
        set_field(self, "log_file", log_file)
        set_field(self, "paths", paths if paths is not None else IndexPaths(root))

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
    root: Path, *, paths: IndexPaths | None = None, runtime: Path | None = None
) -> DaemonFiles:
    """The files of the daemon for `root`'s index, in the per-user runtime dir.

    `paths` defaults to `IndexPaths(root)`: in-tree, or the index mode that
    `TLDR_CACHE_ROOT`/`TLDR_INDEX` select.

    Raises:
        ConfigError: the runtime dir is not private, or the socket path is too long.
    """
    if runtime is None:
        from tldr.paths import runtime_dir

        runtime = runtime_dir()
    if paths is None:
        paths = IndexPaths(root)
    key = _key_of(paths)
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
        log_file=paths.index_dir / "daemon.log",
        paths=paths,
    )
