"""The `faiss` backend (extra `[faiss]`): `IndexIDMap2(IndexFlatIP)` files.

Vectors are L2-normalised, so inner product is cosine similarity and scores
need no transform. uint64 keys are stored bit-cast as faiss's int64 ids.
`open_legacy_faiss` reads a schema v1 `index.faiss` (a bare `IndexFlatIP`
whose row positions are the ids) for search.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendError, BackendUnavailableError, IndexCorruptError
from tldr.vector_store.base import (
    FileVectorStore,
    VectorIndex,
    as_keys,
    as_matrix,
    as_query,
)

if TYPE_CHECKING:
    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = ["FaissIndex", "FaissVectorStore", "open_legacy_faiss"]

_INSTALL = "pip install 'tldrf[faiss]'"


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise BackendUnavailableError(f"the faiss backend needs faiss-cpu: {_INSTALL}") from exc
    return faiss


class FaissIndex(VectorIndex):
    """A faiss index searched by inner product; ids are bit-cast uint64 keys.

    With `legacy=True` the wrapped index is a bare `IndexFlatIP` whose row
    positions are the keys; it is read-only and `copy()` converts it.
    """

    def __init__(self, index: Any, *, writable: bool, legacy: bool = False) -> None:
        self._index = index
        self.writable = writable and not legacy
        self.legacy = legacy

    @property
    def raw(self) -> Any:
        """The wrapped faiss index."""
        return self._index

    @property
    def dimension(self) -> int:
        """The vector dimension."""
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Add vectors; see `VectorIndex.add`."""
        import numpy as np

        self._check_writable()
        keys = as_keys(keys)
        mat = as_matrix(keys, vectors, self.dimension)
        if not len(keys):
            return
        if np.isin(keys, self.keys()).any():
            raise BackendError("some keys are already in the index; remove them first")
        self._index.add_with_ids(mat, keys.view(np.int64))

    def remove(self, keys: KeyArray) -> None:
        """Remove keys; see `VectorIndex.remove`."""
        import numpy as np

        self._check_writable()
        keys = as_keys(keys)
        if len(keys):
            self._index.remove_ids(np.ascontiguousarray(keys.view(np.int64)))

    def keys(self) -> KeyArray:
        """Return every key."""
        import numpy as np

        if self.legacy:
            return np.arange(len(self), dtype=np.uint64)
        ids = _faiss().vector_to_array(self._index.id_map)
        keys: KeyArray = np.asarray(ids, dtype=np.int64).view(np.uint64).copy()
        return keys

    def copy(self) -> FaissIndex:
        """Return a writable in-memory copy (a legacy index becomes an ID-mapped one).

        Rebuilt from the stored vectors: `faiss.clone_index` of a memory-mapped
        index shares the mapped codes and `remove_ids` on it crashes the process.
        """
        import numpy as np

        faiss = _faiss()
        fresh = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        n = len(self)
        if n:
            flat = self._index if self.legacy else faiss.downcast_index(self._index.index)
            vectors = np.ascontiguousarray(flat.reconstruct_n(0, n), dtype=np.float32)
            fresh.add_with_ids(vectors, self.keys().view(np.int64))
        return FaissIndex(fresh, writable=True)

    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Search exhaustively; see `VectorIndex.search`."""
        import numpy as np

        q = as_query(query, self.dimension).reshape(1, -1)
        n = len(self)
        if k <= 0 or n == 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        scores, ids = self._index.search(q, min(k, n))
        ids, scores = ids[0], scores[0]
        valid = ids != -1
        return (
            np.ascontiguousarray(ids[valid], dtype=np.int64).view(np.uint64),
            np.asarray(scores[valid], dtype=np.float32),
        )


class FaissVectorStore(FileVectorStore):
    """FAISS flat inner-product index files (`index.<build_id>.faiss`)."""

    backend_id: ClassVar[str] = "faiss"
    display_name: ClassVar[str] = "FAISS (flat inner product)"
    index_format: ClassVar[str] = "faiss-idmap2-flatip-v1"
    library: ClassVar[str | None] = "faiss-cpu"
    heavy_modules: ClassVar[tuple[str, ...]] = ("faiss",)
    extra: ClassVar[str | None] = "faiss"
    suffix: ClassVar[str] = "faiss"

    def create(self, dimension: int) -> FaissIndex:
        """Return an empty writable index."""
        self.require_available()
        faiss = _faiss()
        if dimension <= 0:
            raise BackendError(f"dimension must be positive, got {dimension}")
        return FaissIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), writable=True)

    def _write(self, index: VectorIndex, path: Path) -> None:
        if not isinstance(index, FaissIndex) or index.legacy:
            raise BackendError(f"faiss backend cannot save a {type(index).__name__}")
        _faiss().write_index(index.raw, str(path))

    def _read(self, path: Path, *, view: bool) -> FaissIndex:
        faiss = _faiss()
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if view else 0
        raw = faiss.read_index(str(path), flags)
        if not isinstance(raw, faiss.IndexIDMap2):
            raise IndexCorruptError(f"{path} is a {type(raw).__name__}, not an IndexIDMap2")
        return FaissIndex(raw, writable=not view)


def open_legacy_faiss(path: Path) -> FaissIndex:
    """Open a legacy schema v1 `index.faiss` (bare `IndexFlatIP`) read-only.

    Keys are row positions. Raises `BackendUnavailableError` without faiss and
    `IndexCorruptError` if the file is missing or unreadable.
    """
    faiss = _faiss()
    path = Path(path)
    if not path.is_file():
        raise IndexCorruptError(f"legacy index file {path} is missing")
    try:
        raw = faiss.read_index(str(path))
    except Exception as exc:
        raise IndexCorruptError(f"cannot read legacy index {path}: {exc}") from exc
    if isinstance(raw, faiss.IndexIDMap2):
        return FaissIndex(raw, writable=False)
    return FaissIndex(raw, writable=False, legacy=True)
