"""The index registry: every index this user's tldrf has built or served.

`indexes.json` in `user_state_dir()`, one entry per semantic dir, so
`tldrf index list` finds in-tree indexes (which live inside projects it
cannot scan for) as well as index-mode ones under any cache root. Each
update is a read-modify-write under a file lock, written to a temp file and
renamed, so concurrent builds and daemons never lose each other's entries or
leave a torn file; an unreadable file counts as empty and is rewritten.
The registry is advisory: failing to write it never fails a build.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tldr.paths import IndexPaths, user_state_dir

__all__ = ["forget", "read_registry", "record_use", "registry_file", "write_descriptor"]

logger = logging.getLogger(__name__)

_LOCK_TIMEOUT_S = 10.0


def registry_file() -> Path:
    """`<state dir>/indexes.json`."""
    return user_state_dir() / "indexes.json"


def read_registry() -> dict[str, dict[str, Any]]:
    """The entries by semantic dir ({} when there is no readable registry)."""
    try:
        data = json.loads(registry_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("indexes") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {key: value for key, value in entries.items() if isinstance(value, dict)}


def _update(change: Callable[[dict[str, dict[str, Any]]], None]) -> None:
    from filelock import FileLock

    path = registry_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock", timeout=_LOCK_TIMEOUT_S):
        entries = read_registry()
        change(entries)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".indexes.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "indexes": entries}, out, indent=1, sort_keys=True)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _entry_of(paths: IndexPaths) -> dict[str, Any]:
    return {
        "root": str(paths.root),
        "cache_root": None if paths.cache_root is None else str(paths.cache_root),
        "index": paths.index,
        "key": paths.key,
        "semantic_dir": str(paths.semantic_dir),
    }


def record_use(paths: IndexPaths) -> None:
    """Note that `paths`' index was built or served now (never raises)."""
    now = time.time()

    def change(entries: dict[str, dict[str, Any]]) -> None:
        entry = entries.setdefault(str(paths.semantic_dir), {"first_seen": now})
        entry.update(_entry_of(paths), last_used=now)

    try:
        write_descriptor(paths)
        _update(change)
    except Exception as exc:  # the registry is a convenience, never a reason to fail
        logger.warning("could not update the index registry %s: %s", registry_file(), exc)


def forget(semantic_dir: str) -> None:
    """Drop one entry."""

    def change(entries: dict[str, dict[str, Any]]) -> None:
        entries.pop(semantic_dir, None)

    _update(change)


def write_descriptor(paths: IndexPaths) -> None:
    """Index mode: write `index.json` (root, index, key) into the key dir, once."""
    descriptor = paths.descriptor
    if descriptor is None or descriptor.exists():
        return
    descriptor.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=descriptor.parent, prefix=".index.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(_entry_of(paths), out, indent=1, sort_keys=True)
    os.replace(temp, descriptor)
