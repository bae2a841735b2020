"""The `exact` backend: brute-force numpy search, one file per index version.

File format (`exact-npy-v1`): two standard `.npy` arrays back to back in one
file, the uint64 keys and then the float32 `(n, d)` matrix. `view=True` maps
both read-only from a `MappedFile` (checked before each read), so opening
is O(1) and pages are shared.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from tldr._exceptions import BackendError, IndexCorruptError
from tldr._mapped import MappedFile
from tldr.vector_store.base import (
    FileVectorStore,
    VectorIndex,
    as_keys,
    as_matrix,
    as_query,
    dot_scores,
    top_k,
)

if TYPE_CHECKING:
    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = ["ExactIndex", "ExactVectorStore"]


class ExactIndex(VectorIndex):
    """Keys plus a float32 matrix; search is `matrix @ query` and a partial sort."""

    def __init__(self, keys: KeyArray, matrix: FloatArray, *, writable: bool = True,
                 check: Callable[[], None] | None = None) -> None:
        """`check()`, when given, runs before the arrays are read (views into a `MappedFile`)."""
        self._keys = keys
        self._matrix = matrix
        self._check = check or _nothing
        self.writable = writable

    @classmethod
    def empty(cls, dimension: int) -> ExactIndex:
        """Return an empty writable index."""
        import numpy as np

        if dimension <= 0:
            raise BackendError(f"dimension must be positive, got {dimension}")
        return cls(np.empty(0, dtype=np.uint64), np.empty((0, dimension), dtype=np.float32))

    @property
    def dimension(self) -> int:
        """The vector dimension."""
        return int(self._matrix.shape[1])

    @property
    def matrix(self) -> FloatArray:
        """The `(n, d)` vectors, row i belonging to `keys()[i]` (read-only use)."""
        self._check()
        return self._matrix

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Append vectors; see `VectorIndex.add`."""
        import numpy as np

        self._check_writable()
        keys = as_keys(keys)
        mat = as_matrix(keys, vectors, self.dimension)
        if len(keys) and np.isin(keys, self._keys).any():
            raise BackendError("some keys are already in the index; remove them first")
        self._keys = np.concatenate([self._keys, keys])
        self._matrix = np.concatenate([self._matrix, mat])

    def remove(self, keys: KeyArray) -> None:
        """Drop keys; see `VectorIndex.remove`."""
        import numpy as np

        self._check_writable()
        keep = ~np.isin(self._keys, as_keys(keys))
        self._keys = self._keys[keep]
        self._matrix = self._matrix[keep]

    def keys(self) -> KeyArray:
        """Return a copy of the keys."""
        import numpy as np

        self._check()
        return np.array(self._keys, dtype=np.uint64)

    def copy(self) -> ExactIndex:
        """Return a writable in-memory copy."""
        import numpy as np

        self._check()
        return ExactIndex(np.array(self._keys), np.array(self._matrix), writable=True)

    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Score every vector; see `VectorIndex.search`."""
        q = as_query(query, self.dimension)
        self._check()
        scores = dot_scores(self._matrix, q)
        return top_k(self._keys, scores, k)


class ExactVectorStore(FileVectorStore):
    """Exact (brute-force) search; perfect recall, fine up to ~10k-50k vectors."""

    backend_id: ClassVar[str] = "exact"
    display_name: ClassVar[str] = "Exact (numpy brute force)"
    index_format: ClassVar[str] = "exact-npy-v1"
    library: ClassVar[str | None] = "numpy"
    heavy_modules: ClassVar[tuple[str, ...]] = ("numpy",)
    suffix: ClassVar[str] = "exact.npy"

    def create(self, dimension: int) -> ExactIndex:
        """Return an empty writable index."""
        return ExactIndex.empty(dimension)

    def _write(self, index: VectorIndex, path: Path) -> None:
        write_exact_file(_as_exact(index), path)

    def _read(self, path: Path, *, view: bool) -> ExactIndex:
        return read_exact_file(path, view=view)


def _as_exact(index: VectorIndex) -> ExactIndex:
    if isinstance(index, ExactIndex):
        return index
    raise BackendError(f"exact backend cannot save a {type(index).__name__}")


def write_exact_file(index: ExactIndex, path: Path) -> None:
    """Write keys then matrix as two `.npy` arrays into `path`."""
    import numpy as np

    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(index.keys(), dtype="<u8"))
        np.save(fh, np.ascontiguousarray(index.matrix, dtype="<f4"))


def read_exact_file(path: Path, *, view: bool) -> ExactIndex:
    """Read a file written by `write_exact_file`; `view=True` memory-maps it."""
    import numpy as np

    fmt = np.lib.format
    with open(path, "rb") as fh:
        headers = []
        for _ in range(2):
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = fmt.read_array_header_2_0(fh)
            offset = fh.tell()
            if fortran:
                raise IndexCorruptError(f"{path}: unexpected Fortran-ordered array")
            headers.append((shape, dtype, offset))
            fh.seek(offset + int(np.prod(shape)) * dtype.itemsize)
        size = fh.seek(0, 2)
    (kshape, kdtype, koff), (mshape, mdtype, moff) = headers
    if len(kshape) != 1 or len(mshape) != 2 or kshape[0] != mshape[0] or mshape[1] <= 0:
        raise IndexCorruptError(f"{path}: inconsistent shapes {kshape} and {mshape}")
    if moff + int(np.prod(mshape)) * mdtype.itemsize > size:
        raise IndexCorruptError(f"{path}: file is truncated")
    if kdtype != np.dtype("<u8") or mdtype != np.dtype("<f4"):
        raise IndexCorruptError(f"{path}: unexpected dtypes {kdtype} and {mdtype}")
    if kshape[0] == 0:
        return ExactIndex(
            np.empty(0, dtype=np.uint64), np.empty(mshape, dtype=np.float32), writable=not view
        )
    if view:
        file = MappedFile(path)
        mapped_keys = np.frombuffer(file.map, dtype=kdtype, count=kshape[0], offset=koff)
        mapped = np.frombuffer(file.map, dtype=mdtype, count=int(np.prod(mshape)),
                               offset=moff).reshape(mshape)
        return ExactIndex(mapped_keys, mapped, writable=False, check=file.check)
    with open(path, "rb") as fh:
        fh.seek(koff)
        keys = np.fromfile(fh, dtype=kdtype, count=kshape[0])
        fh.seek(moff)
        matrix = np.fromfile(fh, dtype=mdtype, count=int(np.prod(mshape))).reshape(mshape)
    return ExactIndex(keys, matrix, writable=True)


def _nothing() -> None:
    """No check: arrays in memory."""
