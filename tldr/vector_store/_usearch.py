"""The `usearch` backend (default): HNSW, cosine metric, one file per index version.

Below `exact_threshold` vectors, search is exact (numpy `matrix @ q` over the
vectors fetched once from the index): measured on this project's 2-core dev
box, d=384, k=10, median per query:

    n        numpy exact   HNSW (ef=64)   usearch exact=True
    1,000        61 us        202 us          250 us
    5,000       149 us        385 us          710 us
    10,000      222 us        439 us        1,610 us
    20,000    1,233 us        848 us        2,888 us

On clustered vectors (scripts/bench_backends.py) HNSW and exact tie at 10k
(~0.21 ms p50). On the same box under load (load average ~5), with the exact
product computed in single-threaded blocks (`base.dot_scores`): exact 0.46 ms
p50 / 0.85 ms p99 at 10k vs HNSW 0.34 / 8.4 ms, and exact 1.8 ms at 20k.
Up to ~10k exact is as fast or faster, has perfect recall and a far better
p99 (the 15 MB matrix for 10k x 384 costs one ~40 ms fetch on the first
query); past that HNSW wins. Hence `exact_threshold = 10_000`; 0 = always HNSW.

`expansion_search` is 256: at 1,000,000 clustered vectors (f16) HNSW's
recall@10 against exact search is 0.830 at 64, 0.916 at 128, 0.965 at 256
and 0.984 at 512, for a p50 of 1.1, 1.6, 2.3 and 3.5 ms
(scripts/bench_engines_scale.py --sweep; docs/benchmarks.md); below
`exact_threshold` it does not apply.

Vectors are stored as `i8` by default (`DEFAULT_DTYPE`): a quarter of f32's
bytes, and on the development set (scripts/bench_quality.py --dtypes, the
very vectors of each build stored both ways) mean NDCG@10 within 0.003 of
f32 (docs/benchmarks.md § Compact index). Exact search fetches the vectors
dequantised to f32, so only the stored precision changes a score.
"""

from __future__ import annotations

import importlib.util
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendError, IndexCorruptError
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
    from usearch.index import Index

    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = ["DEFAULT_DTYPE", "DEFAULT_EXACT_THRESHOLD", "UsearchIndex", "UsearchVectorStore"]

DEFAULT_EXACT_THRESHOLD = 10_000
DEFAULT_DTYPE = "i8"


def _index_class() -> type[Index]:
    """The `usearch` `Index` class, imported after onnxruntime when that is installed.

    usearch loads its numkong library with RTLD_GLOBAL; onnxruntime imported
    after that crashes in its static initialisers (segfault in libstdc++, seen
    with usearch 2.26.6 and onnxruntime 1.32.0). The other order works, and
    the default embedder needs onnxruntime in the same process anyway.
    """
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime  # noqa: F401

    from usearch.index import Index

    return Index


class UsearchIndex(VectorIndex):
    """A `usearch.index.Index` with score = 1 - cosine distance."""

    def __init__(
        self,
        index: Index,
        *,
        writable: bool,
        exact_threshold: int,
        mapped: Path | None = None,
    ) -> None:
        self._index = index
        self.writable = writable
        self.exact_threshold = exact_threshold
        self._exact_cache: tuple[KeyArray, FloatArray] | None = None
        self._mapped = mapped
        self._mapped_fd: int | None = None
        self._mapped_stamp: tuple[int, int] | None = None
        if mapped is not None:
            # Our own descriptor of the mapped inode: a rename or unlink of the
            # path (a newer build, GC) leaves the mapping valid; only a write to
            # this inode can shrink it.
            fd = os.open(mapped, os.O_RDONLY)
            weakref.finalize(self, os.close, fd)
            self._mapped_fd, self._mapped_stamp = fd, _stamp(fd)

    def _check_mapping(self) -> None:
        """Refuse to touch a mapped file that was truncated or rewritten under us.

        Reading a page past the end of a shrunk mapping is SIGBUS, which
        kills the whole process; an `fstat` per search (microseconds) turns
        that into an error the daemon answers and repairs.
        """
        if self._mapped_fd is None:
            return
        if _stamp(self._mapped_fd) != self._mapped_stamp:
            raise IndexCorruptError(
                f"index file {self._mapped} changed on disk while in use; "
                "it is rebuilt (or run: tldrf semantic index --rebuild)"
            )

    @property
    def raw(self) -> Index:
        """The wrapped `usearch.index.Index`."""
        return self._index

    @property
    def dimension(self) -> int:
        """The vector dimension."""
        return int(self._index.ndim)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Add vectors; see `VectorIndex.add`."""
        import numpy as np

        self._check_writable()
        keys = as_keys(keys)
        mat = as_matrix(keys, vectors, self.dimension)
        if not len(keys):
            return
        if np.asarray(self._index.contains(keys)).any():
            raise BackendError("some keys are already in the index; remove them first")
        self._index.add(keys, mat)
        self._exact_cache = None

    def remove(self, keys: KeyArray) -> None:
        """Remove keys; see `VectorIndex.remove`."""
        import numpy as np

        self._check_writable()
        keys = as_keys(keys)
        present = keys[np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)]
        if len(present):
            self._index.remove(present)
            self._exact_cache = None

    def keys(self) -> KeyArray:
        """Return every key."""
        import numpy as np

        self._check_mapping()
        # IndexedKeys.__array__ lacks the `copy` keyword (a DeprecationWarning on
        # numpy 2); slicing calls the compiled accessor directly.
        return np.array(self._index.keys[:], dtype=np.uint64)

    def copy(self) -> UsearchIndex:
        """Return a writable in-memory copy (works on a view)."""
        self._check_mapping()
        return UsearchIndex(self._index.copy(), writable=True, exact_threshold=self.exact_threshold)

    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Search exactly below `exact_threshold`, else HNSW; see `VectorIndex.search`."""
        import numpy as np

        q = as_query(query, self.dimension)
        self._check_mapping()
        n = len(self._index)
        if k <= 0 or n == 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        if n <= self.exact_threshold:
            keys, matrix = self._exact_vectors()
            return top_k(keys, dot_scores(matrix, q), k)
        matches = self._index.search(q, min(k, n))
        found = np.asarray(matches.keys, dtype=np.uint64).reshape(-1)
        dist = np.asarray(matches.distances, dtype=np.float32).reshape(-1)
        count = int(np.asarray(getattr(matches, "count", len(found))).reshape(-1)[0])
        found, dist = found[:count], dist[:count]
        scores = (1.0 - dist).astype(np.float32)
        order = np.argsort(-scores, kind="stable")
        return found[order], scores[order]

    def _exact_vectors(self) -> tuple[KeyArray, FloatArray]:
        """Keys and normalised vectors, fetched once and kept until the next change."""
        import numpy as np

        if self._exact_cache is None:
            keys = self.keys()  # checks the mapping
            fetched = self._index.get(keys, "f32")
            raw = np.asarray(fetched, dtype=np.float32).reshape(len(keys), -1)
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            unit = raw / np.where(norms == 0, 1, norms)
            self._exact_cache = (keys, np.ascontiguousarray(unit, dtype=np.float32))
        return self._exact_cache


class UsearchVectorStore(FileVectorStore):
    """USearch HNSW index files (`index.<build_id>.usearch`), memory-mapped for serving."""

    backend_id: ClassVar[str] = "usearch"
    backend_metric: ClassVar[str] = "cos"
    score_transform: ClassVar[str] = "one_minus_distance"
    display_name: ClassVar[str] = "USearch (HNSW)"
    index_format: ClassVar[str] = "usearch-hnsw-v1"
    library: ClassVar[str | None] = "usearch"
    heavy_modules: ClassVar[tuple[str, ...]] = ("usearch",)
    suffix: ClassVar[str] = "usearch"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "connectivity": {
                "type": "integer",
                "minimum": 2,
                "maximum": 256,
                "default": 16,
                "description": "HNSW graph degree (M)",
            },
            "expansion_add": {
                "type": "integer",
                "minimum": 1,
                "maximum": 4096,
                "default": 128,
                "description": "candidate list size while building (efConstruction)",
            },
            "expansion_search": {
                "type": "integer",
                "minimum": 1,
                "maximum": 4096,
                "default": 256,
                "description": "candidate list size while searching (ef)",
            },
            "dtype": {
                "type": "string",
                "enum": ["f32", "f16", "bf16", "i8"],
                "default": DEFAULT_DTYPE,
                "description": "scalar type stored in the index",
            },
            "exact_threshold": {
                "type": "integer",
                "minimum": 0,
                "default": DEFAULT_EXACT_THRESHOLD,
                "description": "search exactly at or below this many vectors",
            },
        },
    }

    @property
    def build_params(self) -> dict[str, Any]:
        """HNSW parameters and the exact-search threshold."""
        return {
            name: self.settings[name]
            for name in ("connectivity", "expansion_add", "expansion_search", "exact_threshold")
        }

    def create(self, dimension: int) -> UsearchIndex:
        """Return an empty writable HNSW index."""
        self.require_available()
        Index = _index_class()
        if dimension <= 0:
            raise BackendError(f"dimension must be positive, got {dimension}")
        raw = Index(
            ndim=dimension,
            metric="cos",
            dtype=self.settings["dtype"],
            connectivity=self.settings["connectivity"],
            expansion_add=self.settings["expansion_add"],
            expansion_search=self.settings["expansion_search"],
        )
        return UsearchIndex(raw, writable=True, exact_threshold=self.settings["exact_threshold"])

    def _write(self, index: VectorIndex, path: Path) -> None:
        if not isinstance(index, UsearchIndex):
            raise BackendError(f"usearch backend cannot save a {type(index).__name__}")
        index.raw.save(str(path))

    def _read(self, path: Path, *, view: bool) -> UsearchIndex:
        raw = _index_class().restore(str(path), view=view)
        if raw is None:
            raise BackendError(f"{path} is not a USearch index")
        # expansion_search is a search-time knob the file does not keep.
        raw.expansion_search = self.settings["expansion_search"]  # type: ignore[misc]
        return UsearchIndex(
            raw,
            writable=not view,
            exact_threshold=self.settings["exact_threshold"],
            mapped=path if view else None,
        )


def _stamp(fd: int) -> tuple[int, int]:
    """What a write to the mapped inode changes: its size and mtime."""
    info = os.fstat(fd)
    return (info.st_size, info.st_mtime_ns)
