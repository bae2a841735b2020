"""Where an index and its daemon live: its files, the user's dirs, the daemon's socket.

The project root, the index's files, the user's cache and state dirs, the
runtime dir, and a daemon's socket, pid file and log.

Per project (DESIGN.md § On disk): `<root>/.tldr/cache/semantic/` holds the
committed index. In index mode (`--cache-root DIR` / `TLDR_CACHE_ROOT`,
`--index NAME` / `TLDR_INDEX`; specs/013-index-mode.md) it lives under
`<cache_root>/indexes/<key>/cache/semantic/` instead, and nothing is written
inside the project. Per user: a cache dir (shared embedding cache, default
cache root), a state dir (the index registry), and a private runtime dir for
daemon sockets and pid files (`TLDR_RUNTIME_DIR`, else platformdirs' user
runtime dir, else a uid-named dir under the temp dir).

Locations are values (`IndexPaths`, `DaemonFiles`) passed down to the
library and to the processes a command starts (the daemon, its build
worker, as arguments): nothing is handed over through the environment.

On the thin client's path: no dataclasses, hashlib, tempfile or platformdirs
at import (they cost milliseconds on every command).
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from tldr._exceptions import ConfigError
from tldr.settings import setting

try:  # CPython's built-in sha256, as random.py does for sha512: no OpenSSL to load
    from _sha2 import sha256 as _sha256  # 3.12+
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256

__all__ = [
    "CACHE_ROOT_ENV",
    "DEFAULT_INDEX",
    "INDEX_ENV",
    "MAX_SOCKET_PATH",
    "DaemonFiles",
    "IndexPaths",
    "daemon_files",
    "daemon_key",
    "default_cache_root",
    "embedding_cache_file",
    "find_project_root",
    "runtime_dir",
    "short_digest",
    "user_cache_dir",
    "user_state_dir",
]

_ROOT_MARKERS = (".tldr", ".git")
DEFAULT_INDEX = "semantic"
CACHE_ROOT_ENV = "TLDR_CACHE_ROOT"
INDEX_ENV = "TLDR_INDEX"
_INDEX_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def short_digest(text: str, length: int = 16) -> str:
    """The first `length` hex digits of sha256(`text`): stable names for files."""
    digest: str = _sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:length]


def _platform_dir(kind: str) -> Path:
    import platformdirs

    finder = getattr(platformdirs, f"user_{kind}_dir")
    return Path(finder("tldrf", appauthor=False, ensure_exists=False))


def user_cache_dir() -> Path:
    """The per-user cache dir: `TLDR_USER_CACHE_DIR`, else platformdirs' user cache dir."""
    configured = setting("TLDR_USER_CACHE_DIR")
    return Path(configured).expanduser() if configured else _platform_dir("cache")


def user_state_dir() -> Path:
    """Where tldrf keeps its own records: `TLDR_STATE_DIR`, else the user state dir."""
    configured = setting("TLDR_STATE_DIR")
    return Path(configured).expanduser() if configured else _platform_dir("state")


def embedding_cache_file() -> Path:
    """The shared embedding cache: in `TLDR_EMBEDDING_CACHE`, else the user cache dir.

    One per user, not per index: a second worktree or copy of a project
    finds the vectors of the first (see tldr.semantic.indexing.embedding_cache).
    """
    configured = setting("TLDR_EMBEDDING_CACHE")
    base = Path(configured).expanduser() if configured else user_cache_dir() / "embeddings"
    return base / "embeddings.sqlite"


def default_cache_root() -> Path:
    """The cache root of `--index NAME` without `--cache-root`."""
    return user_cache_dir()


def find_project_root(path: str | os.PathLike[str]) -> Path:
    """The project that contains `path`.

    The nearest directory at or above `path` holding `.tldr` or `.git`; when
    there is none, `path` itself is the project.
    """
    start = Path(path).expanduser().resolve()
    if start.is_file():
        start = start.parent
    if not start.is_dir():
        raise ConfigError(f"not a directory: {path}")
    for candidate in (start, *start.parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    return start


class IndexPaths:
    """The files of one project's semantic index (see DESIGN.md § On disk).

    `cache_root` and `index` default to `TLDR_CACHE_ROOT` and `TLDR_INDEX`
    (unless `environ` is False); with neither set the index is in-tree.
    `--index` alone puts it under `default_cache_root()`. Immutable and
    compared by value.
    """

    __slots__ = ("cache_root", "index", "root")
    root: Path
    cache_root: Path | None  # None: in-tree
    index: str

    def __init__(
        self, root: Path, cache_root: str | os.PathLike[str] | None = None,
        index: str | None = None, *, environ: bool = True,
    ) -> None:
        if environ:  # False: take the arguments as they are (None cache root: in-tree)
            index = index or setting(INDEX_ENV) or None
            cache_root = cache_root or setting(CACHE_ROOT_ENV) or None
            if cache_root is None and index is not None:
                cache_root = default_cache_root()
        if index is not None and not _INDEX_NAME.fullmatch(index):
            raise ConfigError(
                f"bad index name {index!r}: use 1-64 letters, digits, '.', '_' or '-'"
            )
        resolved = None if cache_root is None else Path(cache_root).expanduser().resolve()
        if resolved is not None and resolved.is_relative_to(root):
            # The daemon would watch its own index writes and rebuild forever.
            raise ConfigError(f"the cache root {resolved} is inside the project {root}; "
                              "choose a directory outside it")
        set_field = object.__setattr__
        set_field(self, "root", root)
        set_field(self, "cache_root", resolved)
        set_field(self, "index", index or DEFAULT_INDEX)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: IndexPaths is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: IndexPaths is immutable")

    def _values(self) -> tuple[object, ...]:
        return (self.root, self.cache_root, self.index)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((IndexPaths, *self._values()))

    def __repr__(self) -> str:
        if self.cache_root is None:
            return f"IndexPaths(root={self.root!r})"
        return (f"IndexPaths(root={self.root!r}, cache_root={self.cache_root!r}, "
                f"index={self.index!r})")

    @property
    def in_tree(self) -> bool:
        """Whether the index lives inside the project (`.tldr/`)."""
        return self.cache_root is None

    @property
    def key(self) -> str | None:
        """The index-mode directory name: root basename slug + hash of (root, index)."""
        if self.cache_root is None:
            return None
        slug = _SLUG_UNSAFE.sub("_", self.root.name)[:20].strip("._-") or "root"
        digest = short_digest(f"{self.root}\x00{self.index}", 12)
        return f"{slug}-{digest}"

    @property
    def index_dir(self) -> Path:
        """The directory that holds this index and nothing else's: `.tldr` or the key dir."""
        if self.cache_root is None:
            return self.tldr_dir
        return self.cache_root / "indexes" / str(self.key)

    @property
    def descriptor(self) -> Path | None:
        """Index mode: `index.json`, naming the project root and index of the key dir."""
        return None if self.cache_root is None else self.index_dir / "index.json"

    @property
    def tldr_dir(self) -> Path:
        """The project's `.tldr` directory."""
        return self.root / ".tldr"

    @property
    def semantic_dir(self) -> Path:
        """Where the semantic index lives."""
        return self.index_dir / "cache" / "semantic"

    @property
    def metadata(self) -> Path:
        """metadata.json, the commit point."""
        return self.semantic_dir / "metadata.json"

    @property
    def lock(self) -> Path:
        """The rebuild lock file."""
        return self.semantic_dir / ".lock"

    @property
    def dirty(self) -> Path:
        """The rebuild-needed marker."""
        return self.semantic_dir / ".dirty"

    @property
    def embeddings(self) -> Path:
        """The embedding cache this index uses: the shared one (`embedding_cache_file`)."""
        return embedding_cache_file()

    @property
    def legacy_embeddings(self) -> Path:
        """Where indexes before the shared cache kept their own embedding cache."""
        return self.semantic_dir / "embeddings.sqlite"

    @property
    def config(self) -> Path:
        """The project's `.tldr/config.toml`."""
        return self.tldr_dir / "config.toml"

    @property
    def legacy_faiss(self) -> Path:
        """Where a schema v1 index kept its vectors."""
        return self.semantic_dir / "index.faiss"

    def units_file(self, build_id: str) -> Path:
        """Unit records of one build."""
        return self.semantic_dir / f"units.{build_id}.msgpack"

    def lexical_file(self, build_id: str) -> Path:
        """Lexical index of one build."""
        return self.semantic_dir / f"lexical.{build_id}.bm25"


def runtime_dir(*, create: bool = True) -> Path:
    """The per-user directory for sockets and pid files, private (0700) and ours.

    Raises:
        ConfigError: the directory is owned by another user or open to others.
    """
    configured = setting("TLDR_RUNTIME_DIR")
    if configured:
        path = Path(configured)
    else:
        path = _default_runtime_dir()
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and os.name != "nt":
        info = path.stat()
        if info.st_uid != os.getuid():
            raise ConfigError(f"runtime dir {path} is owned by uid {info.st_uid}, not by you")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigError(
                f"runtime dir {path} is accessible by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 700 {path}"
            )
    return path


def _default_runtime_dir() -> Path:
    fast = _linux_runtime_dir()
    if fast is not None and len(str(fast)) <= 60:
        return fast
    import warnings

    import platformdirs

    try:
        with warnings.catch_warnings():  # its fallback notice would print on every command
            warnings.simplefilter("ignore")
            base = Path(
                platformdirs.user_runtime_dir("tldrf", appauthor=False, ensure_exists=False)
            )
    except Exception:  # platformdirs has no runtime dir on some systems
        base = None
    # Unix socket paths are limited to ~104 bytes on macOS: prefer a short path.
    if base is None or not base.parent.is_dir() or len(str(base)) > 60:
        base = _temp_runtime_dir()
    return base


def _temp_runtime_dir() -> Path:
    """`tldrf-<uid>` in the temp dir, found in tempfile's order without importing it.

    The first of $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp that is a
    writable directory, else the working directory.
    """
    uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    candidates = [os.environ.get(name, "") for name in ("TMPDIR", "TEMP", "TMP")]
    candidates += ["/tmp", "/var/tmp", "/usr/tmp"] if os.name != "nt" else []
    temp = next((c for c in candidates if c and os.path.isdir(c)
                 and os.access(c, os.W_OK | os.X_OK)), os.getcwd())
    return Path(os.path.abspath(temp)) / f"tldrf-{uid}"


def _linux_runtime_dir() -> Path | None:
    """The answer of platformdirs on Linux, without importing it (~10 ms per command).

    `$XDG_RUNTIME_DIR/tldrf` when that dir is sound; with the variable unset,
    `/run/user/<uid>/tldrf` when that dir is sound, else (platformdirs would
    name `runtime-<uid>` in the temp dir, which nothing made) our temp dir.
    None means: ask platformdirs (other systems, or any doubt).
    """
    if not sys.platform.startswith("linux"):
        return None
    value = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if value:
        return _sound_runtime_base(value)
    run_user = _sound_runtime_base(f"/run/user/{os.getuid()}")
    if run_user is not None:
        return run_user
    temp = _temp_runtime_dir()
    if os.path.lexists(temp.parent / f"runtime-{os.getuid()}"):
        return None
    return temp


def _sound_runtime_base(value: str) -> Path | None:
    """`value/tldrf` when `value` is platformdirs' idea of a sound runtime dir.

    An absolute real directory, ours, mode 0700, that no other user can
    replace (below a world-writable dir, each level must be root's or ours).
    """
    if not os.path.isabs(value):
        return None
    path = os.path.normpath(value)
    try:
        info = os.lstat(path)
        if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
                or stat.S_IMODE(info.st_mode) != 0o700):
            return None
        parents = []
        parent = os.path.dirname(path)
        while True:
            parents.append(parent)
            if parent == os.path.dirname(parent):
                break
            parent = os.path.dirname(parent)
        shared = False
        for parent in reversed(parents):
            if shared and os.lstat(parent).st_uid not in (0, os.geteuid()):
                return None
            mode = os.stat(parent).st_mode
            shared = bool(mode & stat.S_IWOTH)
            if shared and not mode & stat.S_ISVTX:
                return None
    except OSError:
        return None
    return Path(path) / "tldrf"


MAX_SOCKET_PATH = 104  # sun_path on macOS; Linux allows 108


def daemon_key(root: Path, index: str = DEFAULT_INDEX) -> str:
    """A short stable name for the in-tree daemon of (project root, index)."""
    return short_digest(f"{root}\0{index}")


def _key_of(paths: IndexPaths) -> str:
    """In-tree: `daemon_key`; index mode: the index key plus a hash of the cache root."""
    if paths.cache_root is None:
        return daemon_key(paths.root, paths.index)
    return f"{paths.key}-{short_digest(str(paths.cache_root), 8)}"


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
