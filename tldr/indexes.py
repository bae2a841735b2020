"""Every index tldrf knows on this machine: find, describe, remove, collect garbage.

The data behind `tldrf index list|info|rm|gc` (specs/013-index-mode.md):
in-tree indexes come from the registry (`tldr.registry`), index-mode ones
from the registry and from scanning `<cache_root>/indexes/*/index.json`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tldr._exceptions import ConfigError, IndexBusyError, TldrError
from tldr.paths import CACHE_ROOT_ENV, IndexPaths, default_cache_root, find_project_root
from tldr.registry import forget, read_registry
from tldr.settings import setting

__all__ = [
    "IN_TREE_KEY",
    "collect_index_garbage",
    "describe",
    "find_index",
    "known_indexes",
    "remove_index",
]

IN_TREE_KEY = "in-tree"  # the KEY column of an index inside its project (no key dir)


def _paths_of(entry: dict[str, Any]) -> IndexPaths | None:
    try:
        return IndexPaths(Path(entry["root"]), entry.get("cache_root"), entry.get("index"),
                          environ=False)
    except (KeyError, TypeError, ConfigError):
        return None


def _scan(cache_root: Path) -> Iterable[tuple[IndexPaths, dict[str, Any]]]:
    for descriptor in sorted((cache_root / "indexes").glob("*/index.json")):
        try:
            entry = json.loads(descriptor.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(entry, dict):
            continue
        paths = _paths_of({**entry, "cache_root": str(cache_root)})
        if paths is not None and paths.index_dir == descriptor.parent:
            yield paths, entry


def known_indexes(extra_cache_roots: Iterable[str | os.PathLike[str]] = ()) -> list[IndexPaths]:
    """Registered indexes plus index-mode ones found under the known cache roots."""
    found: dict[Path, IndexPaths] = {}
    for entry in read_registry().values():
        paths = _paths_of(entry)
        if paths is not None:
            found.setdefault(paths.semantic_dir, paths)
    roots = [default_cache_root(), *map(Path, extra_cache_roots)]
    if configured := setting(CACHE_ROOT_ENV):
        roots.append(Path(configured))
    for cache_root in dict.fromkeys(Path(root).expanduser().resolve() for root in roots):
        for paths, _ in _scan(cache_root):
            found.setdefault(paths.semantic_dir, paths)
    return sorted(found.values(), key=lambda paths: (str(paths.root), paths.index,
                                                     str(paths.cache_root)))


def _size(path: Path, *, freed: bool = False) -> int:
    """Bytes `path` takes on disk, as `du` counts them: each file once, however linked.

    Builds share unchanged files by hard links, so a sum of file sizes counts
    them again per version. With `freed`, only files with no link outside
    `path`: what deleting it gives back.
    """
    if not path.is_dir():
        return 0
    seen: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen here, links, bytes]
    for dirpath, _, names in os.walk(path):
        for name in names:
            try:
                info = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            used = getattr(info, "st_blocks", 0) * 512 or info.st_size
            entry = seen.setdefault((info.st_dev, info.st_ino), [0, info.st_nlink, used])
            entry[0] += 1
    return sum(used for here, links, used in seen.values() if not freed or here >= links)


def _stored_dir(paths: IndexPaths) -> Path:
    """What `rm` deletes: the key dir in index mode, the semantic dir in-tree."""
    return paths.semantic_dir if paths.in_tree else paths.index_dir


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def describe(paths: IndexPaths) -> dict[str, Any]:
    """One row of `index list`: where, what, how big, when used, who serves it."""
    from tldr.daemon.lifecycle import is_running, read_pid_info
    from tldr.paths import daemon_files
    from tldr.semantic.storage import read_metadata

    registered = read_registry().get(str(paths.semantic_dir), {})
    row: dict[str, Any] = {
        "key": paths.key or IN_TREE_KEY,
        "mode": "in-tree" if paths.in_tree else "index",
        "index": paths.index,
        "root": str(paths.root),
        "root_exists": paths.root.is_dir(),
        "cache_root": None if paths.cache_root is None else str(paths.cache_root),
        "semantic_dir": str(paths.semantic_dir),
        "backend": None, "model": None, "build_id": None, "units": None,
        "state": "missing",
        "size_bytes": _size(_stored_dir(paths)),
    }
    used = [registered.get("last_used")]
    try:
        metadata = read_metadata(paths)
        if metadata is not None:
            row.update(backend=metadata.vector_store.backend, model=metadata.model,
                       build_id=metadata.vector_store.build_id, units=metadata.count,
                       state="dirty" if paths.dirty.exists() else "ok")
            used.append(paths.metadata.stat().st_mtime)
    except (TldrError, OSError) as exc:
        row["state"] = f"damaged: {exc}"
    known = [stamp for stamp in used if isinstance(stamp, (int, float))]
    row["last_used"] = _iso(max(known)) if known else None
    row["daemon_pid"] = None
    try:
        files = daemon_files(paths.root, paths=paths)
        if is_running(files):
            row["daemon_pid"] = (read_pid_info(files) or {}).get("pid", "?")
    except TldrError:
        pass
    return row


def find_index(target: str, *, extra_cache_roots: Iterable[str] = (),
               cache_root: str | None = None, index: str | None = None) -> IndexPaths:
    """The index named by a key, a semantic dir, or a project path.

    A project path's index is the one `cache_root` and `index` select (by
    default: `TLDR_CACHE_ROOT`/`TLDR_INDEX`, else in-tree).

    Raises:
        ConfigError: nothing matches.
    """
    if target == IN_TREE_KEY:
        raise ConfigError("in-tree indexes are named by their project: "
                          "tldrf index rm PATH (see the ROOT column of tldrf index list)")
    known = known_indexes(extra_cache_roots)
    for paths in known:
        if target in (paths.key, str(paths.semantic_dir), str(paths.index_dir)):
            return paths
    candidate = Path(target).expanduser()
    if candidate.is_dir():
        return IndexPaths(find_project_root(candidate), cache_root, index)
    resolved = candidate.resolve()
    matches = [paths for paths in known if paths.root == resolved]
    if len(matches) == 1:
        return matches[0]
    if matches:
        keys = ", ".join(paths.key or "in-tree" for paths in matches)
        raise ConfigError(f"{target} has several indexes ({keys}); name one by its key")
    raise ConfigError(f"no index known for {target!r}; see: tldrf index list")


def remove_index(paths: IndexPaths, *, lock_timeout: float = 10.0) -> int:
    """Stop its daemon, take its lock, delete it and forget it; the bytes freed.

    Raises:
        IndexBusyError: a build holds the lock for longer than `lock_timeout`.
    """
    from filelock import FileLock, Timeout

    from tldr.daemon.client import stop_daemon
    from tldr.paths import daemon_files

    try:
        stop_daemon(daemon_files(paths.root, paths=paths))
    except TldrError:
        pass  # no runtime dir or an odd socket path: no daemon of ours to stop
    target = _stored_dir(paths)
    freed = _size(target, freed=True)
    if paths.semantic_dir.is_dir():
        lock = FileLock(str(paths.lock), timeout=lock_timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            raise IndexBusyError(
                f"a build of {paths.root} holds {paths.lock}; try again when it is done"
            ) from exc
        try:
            shutil.rmtree(target, ignore_errors=True)  # a waiting builder starts afresh
        finally:
            lock.release()
    else:
        shutil.rmtree(target, ignore_errors=True)
    forget(str(paths.semantic_dir))
    return freed


def collect_index_garbage(
    indexes: Iterable[IndexPaths], *, lock_timeout: float = 0.0
) -> list[dict[str, Any]]:
    """Remove indexes whose project is gone and old files of the rest; what each freed."""
    from filelock import FileLock, Timeout

    actions: list[dict[str, Any]] = []
    for paths in indexes:
        name = paths.key or str(paths.root)
        if not paths.root.is_dir():
            freed = remove_index(paths, lock_timeout=lock_timeout)
            actions.append({"index": name, "removed": "the index (its project is gone)",
                            "freed_bytes": freed})
            continue
        if not paths.semantic_dir.is_dir():
            forget(str(paths.semantic_dir))
            actions.append({"index": name, "removed": "its registry entry (no index on disk)",
                            "freed_bytes": 0})
            continue
        lock = FileLock(str(paths.lock), timeout=lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            actions.append({"index": name, "removed": "nothing (a build is running)",
                            "freed_bytes": 0})
            continue
        try:
            actions.extend({"index": name, "removed": file_name, "freed_bytes": size}
                           for file_name, size in _old_files(paths))
        finally:
            lock.release()
    return actions


def _old_files(paths: IndexPaths) -> list[tuple[str, int]]:
    """Under the lock: delete old versions, stale temp files and the legacy cache."""
    from tldr.semantic.indexing.freshness import open_store
    from tldr.semantic.storage import build_id_of, collect_garbage, read_metadata
    from tldr.settings import backend_settings

    sizes = {entry.name: entry.stat().st_size for entry in paths.semantic_dir.iterdir()
             if entry.is_file()}
    legacy = paths.legacy_embeddings.name
    removed = []
    for name in (legacy, f"{legacy}-wal", f"{legacy}-shm"):
        if name in sizes:
            (paths.semantic_dir / name).unlink(missing_ok=True)
            removed.append((name, sizes[name]))
    try:
        metadata = read_metadata(paths)
    except TldrError:
        return removed  # a damaged index: its next build repairs it, gc leaves it alone
    if metadata is None:
        return removed
    store_meta = metadata.vector_store
    keep = {store_meta.build_id}
    if store_meta.previous_index_file and (previous := build_id_of(store_meta.previous_index_file)):
        keep.add(previous)
    settings = backend_settings(paths.config, store_meta.backend)
    store = open_store(paths, store_meta.backend, settings)
    for file_name in collect_garbage(paths, keep_build_ids=keep,
                                     store_locations=store.list_locations(),
                                     delete_location=store.delete):
        removed.append((file_name, sizes.get(Path(file_name).name, 0)))
    return removed
