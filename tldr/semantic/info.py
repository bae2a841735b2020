"""What is indexed and how: the data behind `tldrf semantic info`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from tldr.config import backend_settings
from tldr.paths import IndexPaths, find_project_root
from tldr.semantic.storage import require_metadata
from tldr.vector_store import get_backend

__all__ = ["index_info"]


def index_info(project: str | Path) -> dict[str, Any]:
    """Metadata of the committed build plus what lies on disk beside it."""
    root = find_project_root(project)
    paths = IndexPaths(root)
    metadata = require_metadata(paths)
    info: dict[str, Any] = msgspec.to_builtins(metadata)
    info["root"] = str(root)
    info["index_dir"] = str(paths.semantic_dir)
    info["index"] = {"mode": "in-tree" if paths.in_tree else "index", "name": paths.index,
                     "key": paths.key,
                     "cache_root": None if paths.cache_root is None else str(paths.cache_root)}
    info["dirty"] = paths.dirty.exists()
    try:
        store = get_backend(metadata.vector_store.backend)(
            store_dir=paths.semantic_dir,
            settings=backend_settings(paths.config, metadata.vector_store.backend),
        )
        info["versions_on_disk"] = store.list_locations()
    except Exception as exc:  # info must still show what it can
        info["versions_on_disk"] = []
        info["backend_error"] = str(exc)
    return info
