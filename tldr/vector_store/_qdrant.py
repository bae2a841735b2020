"""The `qdrant` backend (extra `[qdrant]`): one collection per index version.

By default the client runs embedded (`QdrantClient(path=...)` on
`store_dir/"qdrant"`); set `url` to use a server (collection names then also
carry a hash of `store_dir`, so projects sharing a server never see each
other's). Embedded mode locks its folder, so one client per folder per process
is cached here; two processes cannot share a folder (use a server for that).

A location is an alias `<prefix><build_id>`; `save` uploads into a fresh
collection `<location>__tmp_<hex>` and then creates the alias, so a location
exists only once complete. Indexes made by `create()` or `copy()` are
in-memory numpy indexes until saved; opened locations are read-only.
Embedded mode commits every point to SQLite separately (about 100 points/s on
a disk with real fsync), so it suits small projects and tests; use a server
for large ones.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendError, BackendUnavailableError, ConfigError, IndexCorruptError
from tldr.vector_store._exact import ExactIndex
from tldr.vector_store.base import VectorIndex, VectorStore, as_query

if TYPE_CHECKING:
    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = ["QdrantCollectionIndex", "QdrantVectorStore"]

_INSTALL = "pip install 'tldrf[qdrant]'"
_TMP_MARKER = "__tmp_"
_BATCH = 1024
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _close_all_clients() -> None:
    """Close cached clients before interpreter teardown (their __del__ fails late)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        try:
            client.close()
        except Exception:
            pass


atexit.register(_close_all_clients)


def _qdrant() -> Any:
    try:
        import qdrant_client
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the qdrant backend needs qdrant-client: {_INSTALL}"
        ) from exc
    return qdrant_client


class QdrantCollectionIndex(VectorIndex):
    """A saved (read-only) collection; `copy()` gives a writable in-memory index."""

    writable = False

    def __init__(self, client: Any, location: str, *, dimension: int) -> None:
        self._client = client
        self._location = location
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        """The vector dimension."""
        return self._dimension

    def __len__(self) -> int:
        return int(self._client.count(self._location, exact=True).count)

    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Refuse: a saved collection is immutable."""
        self._check_writable()

    def remove(self, keys: KeyArray) -> None:
        """Refuse: a saved collection is immutable."""
        self._check_writable()

    def keys(self) -> KeyArray:
        """Return every key (scrolls the collection)."""
        import numpy as np

        return np.array([key for key, _vec in self._scroll(with_vectors=False)], dtype=np.uint64)

    def copy(self) -> ExactIndex:
        """Download every point into a writable in-memory index."""
        import numpy as np

        points = list(self._scroll(with_vectors=True))
        index = ExactIndex.empty(self._dimension)
        if points:
            keys = np.array([key for key, _vec in points], dtype=np.uint64)
            index.add(keys, np.array([vec for _key, vec in points], dtype=np.float32))
        return index

    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Query the collection; see `VectorIndex.search`."""
        import numpy as np

        q = as_query(query, self._dimension)
        if k <= 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        result = self._client.query_points(self._location, query=q.tolist(), limit=k)
        keys = np.array([int(p.id) for p in result.points], dtype=np.uint64)
        scores = np.array([p.score for p in result.points], dtype=np.float32)
        order = np.argsort(-scores, kind="stable")
        return keys[order], scores[order]

    def _scroll(self, *, with_vectors: bool) -> Any:
        offset = None
        while True:
            points, offset = self._client.scroll(
                self._location,
                limit=_BATCH,
                offset=offset,
                with_payload=False,
                with_vectors=with_vectors,
            )
            for p in points:
                yield int(p.id), p.vector
            if offset is None:
                return


class QdrantVectorStore(VectorStore):
    """Qdrant collections, embedded (local folder) or on a server (`url`)."""

    backend_id: ClassVar[str] = "qdrant"
    backend_metric: ClassVar[str] = "Cosine"
    display_name: ClassVar[str] = "Qdrant (embedded or server)"
    index_format: ClassVar[str] = "qdrant-collection-v1"
    library: ClassVar[str | None] = "qdrant-client"
    heavy_modules: ClassVar[tuple[str, ...]] = ("qdrant_client",)
    extra: ClassVar[str | None] = "qdrant"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {
                "type": ["string", "null"],
                "default": None,
                "description": "Qdrant server URL; unset = embedded in store_dir/qdrant",
            },
            "api_key_env": {
                "type": ["string", "null"],
                "default": None,
                "description": "name of the env var holding the API key",
            },
            "prefer_grpc": {"type": "boolean", "default": False},
            "collection_prefix": {"type": "string", "default": "tldr_"},
        },
    }

    def __init__(self, *, store_dir: Path, settings: dict[str, Any] | None = None) -> None:
        super().__init__(store_dir=store_dir, settings=settings)
        prefix = re.sub(r"[^A-Za-z0-9_-]", "_", self.settings["collection_prefix"])
        if self.settings["url"]:
            # A server is shared by projects: scope names to this store so that
            # list_locations/GC never see another project's collections.
            digest = hashlib.sha256(str(self.store_dir.resolve()).encode()).hexdigest()[:8]
            prefix = f"{prefix}{digest}_"
        self._prefix = prefix
        self._client_key: str | None = None

    @property
    def build_params(self) -> dict[str, Any]:
        """Where the collections live (never the API key)."""
        return {"url": self.settings["url"], "collection_prefix": self._prefix}

    @property
    def client(self) -> Any:
        """The (cached) `QdrantClient` for this store."""
        self.require_available()
        qdrant_client = _qdrant()
        url = self.settings["url"]
        if url:
            key_env = self.settings["api_key_env"]
            api_key = os.environ.get(key_env) if key_env else None
            if key_env and not api_key:
                raise ConfigError(f"qdrant api_key_env names {key_env}, which is not set")
            cache_key = f"url:{url}:{key_env}:{self.settings['prefer_grpc']}"
            make = lambda: qdrant_client.QdrantClient(  # noqa: E731
                url=url, api_key=api_key, prefer_grpc=self.settings["prefer_grpc"]
            )
        else:
            path = (self.store_dir / "qdrant").resolve()
            cache_key = f"path:{path}"

            def make() -> Any:
                path.mkdir(parents=True, exist_ok=True)
                return qdrant_client.QdrantClient(path=str(path))

        with _clients_lock:
            if cache_key not in _clients:
                try:
                    _clients[cache_key] = make()  # type: ignore[no-untyped-call]
                except Exception as exc:
                    raise BackendError(f"cannot open qdrant client ({cache_key}): {exc}") from exc
            self._client_key = cache_key
            return _clients[cache_key]

    def close(self) -> None:
        """Close and forget this store's cached client."""
        with _clients_lock:
            client = _clients.pop(self._client_key, None) if self._client_key else None
        if client is not None:
            client.close()

    def location_for(self, build_id: str) -> str:
        """Return the alias name `<prefix><build_id>`."""
        self._check_build_id(build_id)
        return f"{self._prefix}{build_id}"

    def create(self, dimension: int) -> ExactIndex:
        """Return an empty writable in-memory index (uploaded by `save`)."""
        return ExactIndex.empty(dimension)

    def open(self, location: str, *, view: bool = False) -> VectorIndex:
        """Open a saved collection (always read-only; `view` is accepted for symmetry)."""
        client = self.client
        if not self.exists(location):
            raise IndexCorruptError(f"qdrant collection {location!r} is missing")
        try:
            info = client.get_collection(location)
            dimension = int(info.config.params.vectors.size)
        except Exception as exc:
            raise IndexCorruptError(f"cannot read qdrant collection {location!r}: {exc}") from exc
        return QdrantCollectionIndex(client, location, dimension=dimension)

    def save(self, index: VectorIndex, location: str) -> None:
        """Upload into a temp collection, then point the alias `location` at it."""
        models = _qdrant().models
        client = self.client
        if self.exists(location):
            raise BackendError(
                f"qdrant location {location!r} already exists; locations are immutable"
            )
        self._drop_orphans()
        source = index if isinstance(index, ExactIndex) else index.copy()
        if not isinstance(source, ExactIndex):
            raise BackendError(f"qdrant backend cannot save a {type(index).__name__}")
        real = f"{location}{_TMP_MARKER}{secrets.token_hex(4)}"
        try:
            client.create_collection(
                real,
                vectors_config=models.VectorParams(
                    size=source.dimension, distance=models.Distance.COSINE
                ),
            )
            keys, matrix = source.keys(), source.matrix
            for start in range(0, len(keys), _BATCH):
                stop = start + _BATCH
                client.upsert(
                    real,
                    points=models.Batch(
                        ids=keys[start:stop].tolist(), vectors=matrix[start:stop].tolist()
                    ),
                    wait=True,
                )
            client.update_collection_aliases(
                change_aliases_operations=[
                    models.CreateAliasOperation(
                        create_alias=models.CreateAlias(collection_name=real, alias_name=location)
                    )
                ]
            )
        except BaseException:
            try:
                client.delete_collection(real)
            finally:
                raise

    def delete(self, location: str) -> None:
        """Drop the alias and its collection; best effort."""
        models = _qdrant().models
        client = self.client
        target = self._aliases().get(location)
        try:
            if target is not None:
                client.update_collection_aliases(
                    change_aliases_operations=[
                        models.DeleteAliasOperation(
                            delete_alias=models.DeleteAlias(alias_name=location)
                        )
                    ]
                )
            client.delete_collection(target or location)
        except Exception:
            pass

    def exists(self, location: str) -> bool:
        """Whether the alias exists (only complete uploads get one)."""
        return location in self._aliases()

    def list_locations(self) -> list[str]:
        """Aliases with this store's prefix, oldest first (build ids sort by time)."""
        return sorted(name for name in self._aliases() if name.startswith(self._prefix))

    def _aliases(self) -> dict[str, str]:
        result = self.client.get_aliases()
        return {a.alias_name: a.collection_name for a in result.aliases}

    def _drop_orphans(self) -> None:
        """Drop temp collections no alias points at (interrupted saves)."""
        client = self.client
        targets = set(self._aliases().values())
        for coll in client.get_collections().collections:
            name = coll.name
            if name.startswith(self._prefix) and _TMP_MARKER in name and name not in targets:
                client.delete_collection(name)
