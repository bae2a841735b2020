"""Example tldrf plugin: `example-flat`, a flat numpy index saved as `.npz`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tldr import BackendError
from tldr.hookspecs import hookimpl
from tldr.vector_store import FileVectorStore, VectorIndex

__all__ = ["ExampleFlatIndex", "ExampleFlatStore", "register_vector_stores"]


class ExampleFlatIndex(VectorIndex):
    """Keys and a matrix in memory; search scores every row."""

    def __init__(self, keys: np.ndarray, matrix: np.ndarray, *, writable: bool = True) -> None:
        self._keys = keys.astype(np.uint64)
        self._matrix = matrix.astype(np.float32)
        self.writable = writable

    @property
    def dimension(self) -> int:
        return int(self._matrix.shape[1])

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._check_writable()
        keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), -1)
        if vectors.shape[1] != self.dimension:
            raise BackendError(f"expected dimension {self.dimension}, got {vectors.shape[1]}")
        if np.isin(keys, self._keys).any() or len(set(keys.tolist())) != len(keys):
            raise BackendError("duplicate keys")
        self._keys = np.concatenate([self._keys, keys])
        self._matrix = np.concatenate([self._matrix, vectors])

    def remove(self, keys: np.ndarray) -> None:
        self._check_writable()
        keep = ~np.isin(self._keys, np.asarray(keys, dtype=np.uint64))
        self._keys, self._matrix = self._keys[keep], self._matrix[keep]

    def keys(self) -> np.ndarray:
        return self._keys.copy()

    def copy(self) -> ExampleFlatIndex:
        return ExampleFlatIndex(self._keys.copy(), self._matrix.copy())

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dimension:
            raise BackendError(
                f"query dimension {q.shape[0]} does not match the index dimension {self.dimension}"
            )
        scores = self._matrix @ q
        order = np.argsort(-scores, kind="stable")[: max(k, 0)]
        return self._keys[order], scores[order].astype(np.float32)


class ExampleFlatStore(FileVectorStore):
    """One `index.<build_id>.npz` per version."""

    backend_id: ClassVar[str] = "example-flat"
    display_name: ClassVar[str] = "Example flat (numpy .npz)"
    index_format: ClassVar[str] = "example-flat-npz-v1"
    tldr_requires: ClassVar[str] = ">=0.1,<1"
    library: ClassVar[str | None] = "tldr-plugin-example"
    suffix: ClassVar[str] = "npz"

    def create(self, dimension: int) -> ExampleFlatIndex:
        return ExampleFlatIndex(np.empty(0, np.uint64), np.empty((0, dimension), np.float32))

    def _write(self, index: VectorIndex, path: Path) -> None:
        if not isinstance(index, ExampleFlatIndex):
            raise BackendError(f"cannot save a {type(index).__name__}")
        with open(path, "wb") as fh:  # a file object: np.savez would append ".npz" to a name
            np.savez(fh, keys=index._keys, matrix=index._matrix)

    def _read(self, path: Path, *, view: bool) -> ExampleFlatIndex:
        with np.load(path) as data:
            return ExampleFlatIndex(data["keys"], data["matrix"], writable=not view)


@hookimpl
def register_vector_stores(register: Callable[[type[Any]], None]) -> None:
    register(ExampleFlatStore)
