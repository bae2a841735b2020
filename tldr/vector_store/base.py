"""The vector store contract: `VectorStore` (a backend) and `VectorIndex` (one index).

A `VectorStore` owns a directory and names immutable index versions
("locations"); a `VectorIndex` is one index in memory (or memory-mapped).
Vectors arrive L2-normalised; scores are cosine similarity, higher is better.
This module imports no numpy at import time, so listing backends stays cheap.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendError, BackendUnavailableError, ConfigError, IndexCorruptError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    KeyArray = npt.NDArray[np.uint64]
    FloatArray = npt.NDArray[np.float32]

__all__ = [
    "BUILD_ID_PATTERN",
    "FileVectorStore",
    "VectorIndex",
    "VectorStore",
    "as_keys",
    "as_matrix",
    "as_query",
    "dot_scores",
    "top_k",
    "validate_settings",
]

BUILD_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
_TEMP_MARKER = ".tmp-"


class VectorIndex(ABC):
    """One vector index: uint64 keys -> float32 vectors, cosine similarity search."""

    #: False for read-only indexes (views, opened collections); `copy()` to write.
    writable: bool = True

    @property
    @abstractmethod
    def dimension(self) -> int:
        """The vector dimension."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of vectors."""

    @abstractmethod
    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Add vectors under new keys.

        Raises:
            BackendError: The index is read-only, a key is already present, or
                the shapes do not match.
        """

    @abstractmethod
    def remove(self, keys: KeyArray) -> None:
        """Remove keys; keys not present are ignored.

        Raises:
            BackendError: The index is read-only.
        """

    @abstractmethod
    def keys(self) -> KeyArray:
        """Return every key (uint64, no particular order)."""

    @abstractmethod
    def copy(self) -> VectorIndex:
        """Return a writable in-memory copy (also of a read-only view)."""

    @abstractmethod
    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Return up to `k` (keys, scores), scores descending cosine similarity.

        Args:
            query: Shape `(d,)` or `(1, d)`.
            k: The most results wanted; fewer come back when the index is smaller.

        Raises:
            BackendError: The query dimension differs from the index's.
        """

    def _check_writable(self) -> None:
        if not self.writable:
            raise BackendError(
                f"{type(self).__name__} is read-only (a view or saved location); "
                "call copy() for a writable index"
            )


class VectorStore(ABC):
    """A backend: creates, saves, opens and deletes versioned indexes in `store_dir`."""

    backend_id: ClassVar[str]
    display_name: ClassVar[str]
    index_format: ClassVar[str]
    tldr_requires: ClassVar[str] = ">=0.1,<1"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }
    #: The distribution whose version `backend_version()` reports.
    library: ClassVar[str | None] = None
    #: Modules `is_available()` must not import (checked by the contract suite).
    heavy_modules: ClassVar[tuple[str, ...]] = ()
    #: Extra to install when the library is missing.
    extra: ClassVar[str | None] = None
    #: The backend's own metric, and how its raw result becomes a cosine score.
    backend_metric: ClassVar[str] = "inner_product"
    score_transform: ClassVar[str] = "identity"

    def __init__(self, *, store_dir: Path, settings: dict[str, Any] | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.settings = validate_settings(self.settings_schema, settings or {}, self.backend_id)

    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        """Say whether the backend's library is installed, without importing it."""
        for module in cls.heavy_modules:
            if importlib.util.find_spec(module) is None:
                hint = f": pip install 'tldrf[{cls.extra}]'" if cls.extra else ""
                return False, f"{module} is not installed{hint}"
        return True, "ok"

    @classmethod
    def require_available(cls) -> None:
        """Raise `BackendUnavailableError` (with the install command) if unavailable."""
        ok, reason = cls.is_available()
        if not ok:
            raise BackendUnavailableError(f"backend {cls.backend_id!r} is unavailable: {reason}")

    @classmethod
    def health_check(cls) -> tuple[bool, str]:
        """Build and search a tiny in-memory index; may import the library."""
        ok, reason = cls.is_available()
        if not ok:
            return ok, reason
        try:
            import tempfile

            import numpy as np

            with tempfile.TemporaryDirectory(prefix="tldr-health-") as tmp:
                store = cls(store_dir=Path(tmp))
                index = store.create(4)
                vectors = np.eye(4, dtype=np.float32)
                index.add(np.arange(4, dtype=np.uint64), vectors)
                keys, scores = index.search(vectors[2], 2)
                if len(keys) == 0 or int(keys[0]) != 2 or abs(float(scores[0]) - 1.0) > 1e-3:
                    return False, f"unexpected search result {keys!r} {scores!r}"
                store.close()
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, "ok"

    @classmethod
    def backend_version(cls) -> str:
        """The installed version of the backend's library ("" if none or unknown)."""
        if cls.library is None:
            return ""
        try:
            return importlib.metadata.version(cls.library)
        except importlib.metadata.PackageNotFoundError:
            return ""

    @property
    def build_params(self) -> dict[str, Any]:
        """Parameters that shaped the index; recorded in metadata.json."""
        return dict(self.settings)

    def metadata(self) -> dict[str, Any]:
        """`format`, `backend_version`, `backend_metric`, `dtype`, `score_transform`."""
        return {
            "format": self.index_format,
            "backend_version": self.backend_version(),
            "backend_metric": self.backend_metric,
            "dtype": self.settings.get("dtype", "f32"),
            "score_transform": self.score_transform,
        }

    @abstractmethod
    def location_for(self, build_id: str) -> str:
        """The location name that `save` would write for `build_id`."""

    @abstractmethod
    def create(self, dimension: int) -> VectorIndex:
        """Return an empty, writable index."""

    @abstractmethod
    def open(self, location: str, *, view: bool = False) -> VectorIndex:
        """Open a saved location; `view=True` is read-only (memory-mapped where possible).

        Raises:
            IndexCorruptError: The location is missing or unreadable.
        """

    @abstractmethod
    def save(self, index: VectorIndex, location: str) -> None:
        """Write `index` to a new location atomically; it is then complete and immutable.

        Raises:
            BackendError: The location already exists.
        """

    @abstractmethod
    def delete(self, location: str) -> None:
        """Delete a location; best effort, a missing one is not an error."""

    @abstractmethod
    def exists(self, location: str) -> bool:
        """Whether a complete location exists."""

    @abstractmethod
    def list_locations(self) -> list[str]:
        """Every complete location of this backend, oldest first."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (clients, handles); the store may not be used after."""

    def _check_build_id(self, build_id: str) -> None:
        if not BUILD_ID_PATTERN.match(build_id):
            raise BackendError(f"invalid build id {build_id!r}: only [A-Za-z0-9_-] allowed")


class FileVectorStore(VectorStore):
    """A backend that keeps each index in one file `index.<build_id>.<suffix>`."""

    suffix: ClassVar[str]

    def location_for(self, build_id: str) -> str:
        """Return `index.<build_id>.<suffix>`."""
        self._check_build_id(build_id)
        return f"index.{build_id}.{self.suffix}"

    def path_for(self, location: str) -> Path:
        """The file of a location (a plain file name inside `store_dir`)."""
        if not location or "/" in location or "\\" in location or location in (".", ".."):
            raise BackendError(f"invalid location {location!r}: expected a file name")
        return self.store_dir / location

    def open(self, location: str, *, view: bool = False) -> VectorIndex:
        """Open a saved file; see `VectorStore.open`."""
        self.require_available()
        path = self.path_for(location)
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing")
        try:
            return self._read(path, view=view)
        except (BackendError, IndexCorruptError):
            raise
        except Exception as exc:
            raise IndexCorruptError(f"cannot read index file {path}: {exc}") from exc

    def save(self, index: VectorIndex, location: str) -> None:
        """Write to `<location>.tmp-<random>` in `store_dir`, then `os.replace`."""
        path = self.path_for(location)
        if path.exists():
            raise BackendError(f"{path} already exists; index locations are immutable")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}{_TEMP_MARKER}{secrets.token_hex(4)}")
        try:
            self._write(index, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, location: str) -> None:
        """Delete the file if present."""
        self.path_for(location).unlink(missing_ok=True)

    def exists(self, location: str) -> bool:
        """Whether the file exists."""
        return self.path_for(location).is_file()

    def list_locations(self) -> list[str]:
        """Files `index.*.<suffix>` (no temp files), oldest mtime first."""
        if not self.store_dir.is_dir():
            return []
        found = []
        for path in self.store_dir.glob(f"index.*.{self.suffix}"):
            name = path.name
            build_id = name[len("index.") : -len(self.suffix) - 1]
            if path.is_file() and BUILD_ID_PATTERN.match(build_id):
                found.append((path.stat().st_mtime_ns, name))
        return [name for _mtime, name in sorted(found)]

    @abstractmethod
    def _write(self, index: VectorIndex, path: Path) -> None:
        """Write `index` to `path` (a temp file)."""

    @abstractmethod
    def _read(self, path: Path, *, view: bool) -> VectorIndex:
        """Read `path`; errors become `IndexCorruptError`."""


def validate_settings(
    schema: dict[str, Any], settings: dict[str, Any], backend: str
) -> dict[str, Any]:
    """Check `settings` against a flat JSON schema and fill in defaults.

    Supports `type` (string, integer, number, boolean), `enum`, `minimum`,
    `maximum`, `default` and `additionalProperties: false`.

    Raises:
        ConfigError: A setting is unknown or has a bad value.
    """
    props: dict[str, dict[str, Any]] = schema.get("properties", {})
    unknown = sorted(set(settings) - set(props))
    if unknown and not schema.get("additionalProperties", True):
        raise ConfigError(
            f"unknown setting(s) for backend {backend!r}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(props)) or '(none)'}"
        )
    types: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
    }
    result = {name: spec["default"] for name, spec in props.items() if "default" in spec}
    for name, value in settings.items():
        spec = props.get(name, {})
        expected = spec.get("type")
        allowed = [t for t in ([expected] if isinstance(expected, str) else expected or [])]
        ok_type = (
            not allowed
            or (value is None and "null" in allowed)
            or any(
                isinstance(value, types.get(t, ()))
                and not (t != "boolean" and isinstance(value, bool))
                for t in allowed
            )
        )
        if not ok_type:
            raise ConfigError(f"backend {backend!r}: {name} must be {expected}, got {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            raise ConfigError(
                f"backend {backend!r}: {name} must be one of {spec['enum']}, got {value!r}"
            )
        if "minimum" in spec and value is not None and value < spec["minimum"]:
            raise ConfigError(
                f"backend {backend!r}: {name} must be >= {spec['minimum']}, got {value!r}"
            )
        if "maximum" in spec and value is not None and value > spec["maximum"]:
            raise ConfigError(
                f"backend {backend!r}: {name} must be <= {spec['maximum']}, got {value!r}"
            )
        result[name] = value
    return result


def as_keys(keys: Any) -> KeyArray:
    """Return `keys` as a 1-D contiguous uint64 array.

    Raises:
        BackendError: Keys are not 1-D non-negative integers.
    """
    import numpy as np

    arr = np.asarray(keys)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise BackendError(f"keys must be a 1-D integer array, got shape {arr.shape} {arr.dtype}")
    if arr.size and np.issubdtype(arr.dtype, np.signedinteger) and int(arr.min()) < 0:
        raise BackendError("keys must be non-negative")
    return np.ascontiguousarray(arr, dtype=np.uint64)


def as_matrix(keys: KeyArray, vectors: Any, dimension: int) -> FloatArray:
    """Return `vectors` as a contiguous float32 `(len(keys), dimension)` matrix.

    Raises:
        BackendError: The shape does not match, or keys repeat.
    """
    import numpy as np

    mat = np.asarray(vectors, dtype=np.float32)
    if mat.ndim == 1 and len(keys) == 1:
        mat = mat.reshape(1, -1)
    if mat.ndim != 2 or mat.shape != (len(keys), dimension):
        raise BackendError(
            f"expected vectors of shape ({len(keys)}, {dimension}), got {tuple(mat.shape)}"
        )
    if len(np.unique(keys)) != len(keys):
        raise BackendError("keys to add must be unique")
    return np.ascontiguousarray(mat)


def as_query(query: Any, dimension: int) -> FloatArray:
    """Return a `(d,)` or `(1, d)` query as a contiguous float32 `(d,)` vector.

    Raises:
        BackendError: The query is not one vector of the index's dimension.
    """
    import numpy as np

    q = np.asarray(query, dtype=np.float32)
    if q.ndim == 2 and q.shape[0] == 1:
        q = q[0]
    if q.ndim != 1:
        raise BackendError(f"query must have shape (d,) or (1, d), got {tuple(q.shape)}")
    if q.shape[0] != dimension:
        raise BackendError(
            f"query dimension {q.shape[0]} does not match the index dimension {dimension}; "
            "was the index built with another model? rebuild it with --rebuild"
        )
    return np.ascontiguousarray(q)


#: Rows per matrix-vector product in `dot_scores`. OpenBLAS threads a gemv from
#: about 2,000 rows up; on a busy 2-core box that took a 10k x 384 product from
#: 0.2 ms to 8-12 ms (threads fighting for cores). Blocks of 1,024 rows stay
#: single-threaded, cost the same when idle and stay fast under load.
_DOT_BLOCK = 1024


def dot_scores(matrix: FloatArray, query: FloatArray) -> FloatArray:
    """Return `matrix @ query` computed in single-threaded BLAS-sized blocks."""
    import numpy as np

    n = len(matrix)
    if n <= _DOT_BLOCK:
        return np.asarray(matrix @ query, dtype=np.float32)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, _DOT_BLOCK):
        stop = min(start + _DOT_BLOCK, n)
        out[start:stop] = matrix[start:stop] @ query
    return out


def top_k(keys: KeyArray, scores: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
    """Select the `k` best (highest score) entries, sorted descending."""
    import numpy as np

    n = len(scores)
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.arange(n)
    order = part[np.argsort(-scores[part], kind="stable")]
    return np.asarray(keys[order], dtype=np.uint64), np.asarray(scores[order], dtype=np.float32)
