"""Vector stores: the `VectorStore`/`VectorIndex` contract, the registry, built-ins.

Importing this package is cheap: no numpy and no backend library is imported
until an index is created or opened.

```python
from tldr.vector_store import DEFAULT_BACKEND, get_backend

cls = get_backend(DEFAULT_BACKEND)
store = cls(store_dir=path)
index = store.create(384)
```
"""

from __future__ import annotations

from tldr._exceptions import UnknownBackendError
from tldr.vector_store.base import FileVectorStore, VectorIndex, VectorStore

__all__ = [
    "DEFAULT_BACKEND",
    "FileVectorStore",
    "VectorIndex",
    "VectorStore",
    "available_backends",
    "get_backend",
    "open_legacy_faiss",
]

DEFAULT_BACKEND = "usearch"


def available_backends() -> dict[str, type[VectorStore]]:
    """Every registered backend class by id (built-in and plugins), sorted by id."""
    from tldr.plugins import registered_vector_stores

    return {bid: reg.obj for bid, reg in sorted(registered_vector_stores().items())}


def get_backend(backend_id: str) -> type[VectorStore]:
    """Return the backend class registered as `backend_id`.

    Raises:
        UnknownBackendError: No backend has that id; the message lists those that do.
        PluginError: Two plugins registered one id.
    """
    backends = available_backends()
    try:
        return backends[backend_id]
    except KeyError:
        known = ", ".join(backends) or "(none)"
        raise UnknownBackendError(
            f"unknown vector store backend {backend_id!r}; available: {known} "
            "(run 'tldrf semantic backends' for details)"
        ) from None


def open_legacy_faiss(path: object) -> VectorIndex:
    """Open a legacy schema v1 `index.faiss` read-only (needs the `[faiss]` extra)."""
    from pathlib import Path

    from tldr.vector_store._faiss import open_legacy_faiss as _open

    return _open(Path(str(path)))
