"""What is indexed and how: the data behind `tldrf semantic info`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from tldr.paths import IndexPaths, find_project_root
from tldr.semantic.query.coverage import dense_fields
from tldr.semantic.storage import read_units_file, require_metadata
from tldr.settings import backend_settings
from tldr.vector_store import get_backend

__all__ = ["index_info"]


def index_info(project: str | Path, *, skipped: bool = False,
               paths: IndexPaths | None = None) -> dict[str, Any]:
    """Metadata of the committed build plus what lies on disk beside it.

    With `skipped`, also `skipped_files` ([{path, reason}], the first
    `MAX_LISTED_SKIPS` of the build) and `replaced_files` (paths indexed though
    decoded with replacement), read from the build's units file.
    """
    root = find_project_root(project)
    paths = paths or IndexPaths(root)
    metadata = require_metadata(paths)
    info: dict[str, Any] = msgspec.to_builtins(metadata)
    info["root"] = str(root)
    info["index_dir"] = str(paths.semantic_dir)
    info["index"] = {"mode": "in-tree" if paths.in_tree else "index", "name": paths.index,
                     "key": paths.key,
                     "cache_root": None if paths.cache_root is None else str(paths.cache_root)}
    info["dirty"] = paths.dirty.exists()
    info["dense"] = dense_fields(metadata.dense)  # the words: tldr.output.dense_note
    if skipped:
        units_file = read_units_file(paths, metadata)
        info["skipped_files"] = [
            {"path": path, "reason": reason} for path, reason in units_file.skipped
        ]
        info["replaced_files"] = list(units_file.replaced)
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
