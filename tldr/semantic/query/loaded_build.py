"""A committed build loaded into memory: unit records, vector index, lexical index.

Opened from the files `metadata.json` names and validated against it; a
legacy schema v1 FAISS index can be served read-only too.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tldr._exceptions import (
    BackendError,
    BackendUnavailableError,
    IndexCorruptError,
    IndexIncompatibleError,
)
from tldr.paths import IndexPaths
from tldr.semantic import lexical
from tldr.semantic.fast_tier import open_fast_index
from tldr.semantic.storage import (
    Metadata,
    UnitsFile,
    open_units_file,
    read_legacy_index,
    verify_artifacts,
)
from tldr.semantic.unit_table import UnitTable
from tldr.settings import backend_settings
from tldr.units import Unit
from tldr.vector_store import VectorIndex, get_backend

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["LoadedBuild"]


@dataclass
class LoadedBuild:
    """One committed build held in memory.

    `units` is a `UnitTable` for a build of today's format (heads decoded
    when touched; `full_unit` adds code, docstring and the rest), a list for
    a legacy index. Vector keys map to positions through two sorted arrays,
    not a dict of a Python int per unit.
    """

    metadata: Metadata
    units: Sequence[Unit]
    sorted_keys: npt.NDArray[np.uint64]
    key_positions: npt.NDArray[np.int64]
    vector_index: Any
    lexical_index: lexical.LexicalIndex | None
    # A partial build's fast tier (spec 020): its index, and per position
    # whether the main index holds a vector of the full model.
    fast_index: Any = None
    has_full: Any = None
    _by_name: dict[str, list[int]] | None = None
    _callers: dict[str, list[int]] | None = None

    def full_unit(self, position: int) -> Unit:
        """The unit at `position` with every field (code preview, docstring, imports...)."""
        units = self.units
        return units.full(position) if isinstance(units, UnitTable) else units[position]

    def positions_of_keys(self, keys: npt.NDArray[np.uint64]) -> list[int | None]:
        """The unit position of each vector key; None for a key no unit has."""
        import numpy as np

        if not len(self.sorted_keys):
            return [None] * len(keys)
        keys = np.asarray(keys, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.sorted_keys, keys), len(self.sorted_keys) - 1)
        found = self.sorted_keys[at] == keys
        positions = self.key_positions[at].tolist()
        return [p if ok else None for p, ok in zip(positions, found.tolist(), strict=True)]

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
        vector_index: VectorIndex
        try:
            vector_index = store.open(store_meta.index_file, view=view)
        except BackendUnavailableError:
            raise
        except BackendError:  # the engine's server is down: serve lexically meanwhile
            vector_index = _Reconnecting(store, store_meta.index_file, metadata.dimension, view)
        if vector_index.dimension != metadata.dimension:
            raise IndexIncompatibleError(
                f"index dimension {vector_index.dimension} does not match metadata "
                f"({metadata.dimension}); run: tldrf semantic index --rebuild {paths.root}"
            )
        units_file, mapped_units = open_units_file(paths, metadata, verify=False)
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
            units=UnitTable(units_file.encoded, check=mapped_units.check),
            **_key_map(units_file.key_array),
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
        import numpy as np

        return cls(
            metadata=metadata,
            units=units,
            **_key_map(np.arange(len(units), dtype="<u8").tobytes()),
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
    keys = np.frombuffer(units_file.key_array, dtype="<u8").astype(np.uint64)
    full_keys = vector_index.keys() if len(vector_index) else np.empty(0, dtype=np.uint64)
    return fast_index, np.isin(keys, full_keys)


def _key_map(key_array: bytes | memoryview) -> dict[str, Any]:
    """`sorted_keys` and `key_positions` of a little-endian u64 key per unit."""
    import numpy as np

    keys = np.frombuffer(key_array, dtype="<u8").astype(np.uint64)
    order = np.argsort(keys, kind="stable")
    return {"sorted_keys": keys[order], "key_positions": order.astype(np.int64)}


class _Reconnecting(VectorIndex):
    """The vector index of a build whose engine could not be reached when it was loaded.

    Each use tries to open the collection again; until that works it raises
    the engine's one-line `BackendError`, which search answers with lexical
    results and a warning. The build's units and lexical index are local.
    """

    writable = False

    def __init__(self, store: Any, location: str, dimension: int, view: bool) -> None:
        self._store = store
        self._location = location
        self._dimension = dimension
        self._view = view
        self._index: VectorIndex | None = None

    def _opened(self) -> VectorIndex:
        if self._index is None:
            index = self._store.open(self._location, view=self._view)
            if index.dimension != self._dimension:
                raise IndexIncompatibleError(
                    f"index dimension {index.dimension} does not match metadata "
                    f"({self._dimension}); run: tldrf semantic index --rebuild"
                )
            self._index = index
        return self._index

    @property
    def dimension(self) -> int:
        """The dimension the build's metadata records."""
        return self._dimension

    def __len__(self) -> int:
        return len(self._opened())

    def add(self, keys: Any, vectors: Any) -> None:
        """Refuse: a committed build is read-only."""
        self._check_writable()

    def remove(self, keys: Any) -> None:
        """Refuse: a committed build is read-only."""
        self._check_writable()

    def keys(self) -> Any:
        """Every key, once the engine answers."""
        return self._opened().keys()

    def copy(self) -> VectorIndex:
        """A writable copy, once the engine answers."""
        return self._opened().copy()

    def search(self, query: Any, k: int) -> Any:
        """Search once the engine answers; see `VectorIndex.search`."""
        return self._opened().search(query, k)
