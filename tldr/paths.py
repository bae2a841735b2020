"""Where things live: the project root, its cache layout and the runtime dir.

Per project (DESIGN.md § On disk): `<root>/.tldr/cache/semantic/` holds the
committed index. Per user: a private runtime dir for daemon sockets and pid
files (`TLDR_RUNTIME_DIR`, else platformdirs' user runtime dir, else a
uid-named dir under the temp dir).

On the thin client's path: no dataclasses, tempfile or platformdirs at import
(they cost milliseconds on every command).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from tldr._exceptions import ConfigError

__all__ = ["IndexPaths", "find_project_root", "runtime_dir"]

_ROOT_MARKERS = (".tldr", ".git")


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

    Immutable and compared by `root`.
    """

    __slots__ = ("root",)
    root: Path

    def __init__(self, root: Path) -> None:
        object.__setattr__(self, "root", root)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: IndexPaths is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: IndexPaths is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self.root == other.root)

    def __hash__(self) -> int:
        return hash((IndexPaths, self.root))

    def __repr__(self) -> str:
        return f"IndexPaths(root={self.root!r})"

    @property
    def tldr_dir(self) -> Path:
        """The project's `.tldr` directory."""
        return self.root / ".tldr"

    @property
    def semantic_dir(self) -> Path:
        """Where the semantic index lives."""
        return self.root / ".tldr" / "cache" / "semantic"

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
        """The embedding cache database."""
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
    from tldr.settings import setting

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
    fast = _xdg_runtime_dir()
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
        import tempfile

        uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
        base = Path(tempfile.gettempdir()) / f"tldrf-{uid}"
    return base


def _xdg_runtime_dir() -> Path | None:
    """`$XDG_RUNTIME_DIR/tldrf` on Linux when that dir is sound, without platformdirs.

    The common case of platformdirs' rule (an absolute `XDG_RUNTIME_DIR` that
    is a real directory, ours, mode 0700, that no other user can replace),
    checked here because importing platformdirs costs ~10 ms per command.
    None means: ask platformdirs (other systems, or any doubt).
    """
    value = os.environ.get("XDG_RUNTIME_DIR", "")
    if not sys.platform.startswith("linux") or not os.path.isabs(value):
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
        shared = False  # below a world-writable dir, each level must be root's or ours
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
