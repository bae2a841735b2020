"""A committed build loaded into memory: unit records, vector index, lexical index.

Opened from the files `metadata.json` names and validated against it; a
legacy schema v1 FAISS index can be served read-only too.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tldr._exceptions import IndexCorruptError, IndexIncompatibleError
from tldr.config import backend_settings
from tldr.paths import IndexPaths
from tldr.semantic import lexical
from tldr.semantic.fast_tier import open_fast_index
from tldr.semantic.storage import (
    Metadata,
    UnitsFile,
    read_legacy_index,
    read_units_file,
    verify_artifacts,
)
from tldr.units import Unit
from tldr.vector_store import get_backend

__all__ = ["LoadedBuild"]


@dataclass
class LoadedBuild:
    """One committed build held in memory."""

    metadata: Metadata
    units: list[Unit]
    position_of_key: dict[int, int]
    vector_index: Any
    lexical_index: lexical.LexicalIndex | None
    # A partial build's fast tier (spec 020): its index, and per position
    # whether the main index holds a vector of the full model.
    fast_index: Any = None
    has_full: Any = None
    _by_name: dict[str, list[int]] | None = None
    _callers: dict[str, list[int]] | None = None

    def positions_named(self, name: str) -> list[int]:
        """Positions of units whose (short) name is `name`."""
        if self._by_name is None:
            by_name: dict[str, list[int]] = defaultdict(list)
            for position, unit in enumerate(self.units):
                by_name[unit.name].append(position)
            self._by_name = dict(by_name)
        return self._by_name.get(name, [])

    def callers_of(self, name: str) -> list[int]:
        """Positions of units that call something named `name`."""
        if self._callers is None:
            callers: dict[str, list[int]] = defaultdict(list)
            for position, unit in enumerate(self.units):
                for callee in unit.calls:
                    callers[callee].append(position)
            self._callers = dict(callers)
        return self._callers.get(name, [])

    @classmethod
    def open(cls, paths: IndexPaths, metadata: Metadata, *, view: bool) -> LoadedBuild:
        """Open the files `metadata` points at; validate them against it.

        Sizes and checksums are checked before anything is parsed or mapped
        (a mapped file shorter than its header says kills the process).
        """
        verify_artifacts(paths, metadata)
        store_meta = metadata.vector_store
        backend = get_backend(store_meta.backend)
        if store_meta.format != backend.index_format:
            raise IndexIncompatibleError(
                f"the index was built with {store_meta.backend} format {store_meta.format}; "
                f"this version reads {backend.index_format}; "
                f"run: tldrf semantic index --rebuild {paths.root}"
            )
        store = backend(
            store_dir=paths.semantic_dir,
            settings=backend_settings(paths.config, store_meta.backend),
        )
        vector_index = store.open(store_meta.index_file, view=view)
        if vector_index.dimension != metadata.dimension:
            raise IndexIncompatibleError(
                f"index dimension {vector_index.dimension} does not match metadata "
                f"({metadata.dimension}); run: tldrf semantic index --rebuild {paths.root}"
            )
        units_file: UnitsFile = read_units_file(paths, metadata, verify=False)
        lexical_index = None
        if metadata.lexical_file:
            lexical_path = paths.semantic_dir / metadata.lexical_file
            try:
                lexical_index = lexical.LexicalIndex.load(lexical_path)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                raise IndexCorruptError(
                    f"cannot read {lexical_path}: {exc}; "
                    f"run: tldrf semantic index --rebuild {paths.root}"
                ) from exc
        fast_index = has_full = None
        if metadata.fast is not None:
            fast_index, has_full = _open_fast_tier(paths, metadata, units_file, vector_index,
                                                   view=view)
        return cls(
            metadata=metadata,
            units=units_file.units,
            position_of_key={key: i for i, key in enumerate(units_file.keys)},
            vector_index=vector_index,
            lexical_index=lexical_index,
            fast_index=fast_index,
            has_full=has_full,
        )

    @classmethod
    def open_legacy(cls, paths: IndexPaths) -> LoadedBuild:
        """Serve a schema v1 `index.faiss` read-only (needs the faiss extra)."""
        from tldr.vector_store import open_legacy_faiss

        metadata, units = read_legacy_index(paths)
        try:
            vector_index = open_legacy_faiss(paths.legacy_faiss)
        except IndexCorruptError as exc:
            raise IndexCorruptError(
                f"{exc}; run: tldrf semantic index --rebuild {paths.root}"
            ) from exc
        metadata.dimension = vector_index.dimension
        return cls(
            metadata=metadata,
            units=units,
            position_of_key={i: i for i in range(len(units))},
            vector_index=vector_index,
            lexical_index=lexical.LexicalIndex.build(units),
        )


def _open_fast_tier(
    paths: IndexPaths, metadata: Metadata, units_file: UnitsFile, vector_index: Any, *, view: bool
) -> tuple[Any, Any]:
    """The fast index and, per unit position, whether the full model's index has it."""
    import numpy as np

    assert metadata.fast is not None
    fast_index = open_fast_index(paths.semantic_dir, metadata.fast, view=view)
    if fast_index.dimension != metadata.fast.dimension:
        raise IndexCorruptError(
            f"fast index dimension {fast_index.dimension} does not match metadata "
            f"({metadata.fast.dimension}); run: tldrf semantic index --rebuild {paths.root}"
        )
    keys = np.asarray(units_file.keys, dtype=np.uint64)
    full_keys = vector_index.keys() if len(vector_index) else np.empty(0, dtype=np.uint64)
    return fast_index, np.isin(keys, full_keys)
