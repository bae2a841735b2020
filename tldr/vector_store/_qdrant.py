"""The `qdrant` backend (extra `[qdrant]`): one Qdrant collection per index version.

Embedded by default (qdrant-client's local mode, `QdrantClient(path=...)` on
`path` or `store_dir/"qdrant"`; it locks its folder: one process at a time)
or a server (`url`, an optional API key read from the variable `api_key_env`
names). Naming, the atomic save and the shared-index blobs are
`tldr.vector_store._server`'s. Qdrant has no rename: a build is uploaded
into `<location>__tmp_<hex>` and then given the alias `<location>`, one
atomic alias operation. `_names` lists aliases and the collections no alias
points at, so a temp collection behind its alias is a build and one without
is an orphan a later save drops. Embedded mode commits every point to
SQLite separately (about 100 points/s on a disk with real fsync): it suits
small projects and tests; use a server for large ones.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendUnavailableError, ConfigError
from tldr.vector_store._server import SHARED_SETTINGS, BlobRow, ClientCache, ServerVectorStore

if TYPE_CHECKING:
    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = ["QdrantVectorStore"]

_INSTALL = "pip install 'tldrf[qdrant]'"
_BATCH = 1024
_BLOB_VECTOR = [1.0, 0.0]  # a point needs a vector; blobs are found by their payload


def _qdrant() -> Any:
    try:
        import qdrant_client
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the qdrant backend needs qdrant-client: {_INSTALL}"
        ) from exc
    return qdrant_client


_clients = ClientCache()


def _point_id(row_id: str) -> str:
    """A blob row's point id: Qdrant takes integers or UUIDs, not our row ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, row_id))


class QdrantVectorStore(ServerVectorStore):
    """Qdrant collections, embedded (a local folder) or on a server (`url`)."""

    backend_id: ClassVar[str] = "qdrant"
    engine: ClassVar[str] = "qdrant"
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
                "description": "Qdrant server URL; unset = embedded (local mode)",
            },
            "path": {
                "type": ["string", "null"],
                "default": None,
                "description": "embedded mode's folder (one process at a time); "
                "unset = store_dir/qdrant",
            },
            "api_key_env": {
                "type": ["string", "null"],
                "default": None,
                "description": "name of the env var holding the API key",
            },
            "prefer_grpc": {"type": "boolean", "default": False},
            **SHARED_SETTINGS,
        },
    }

    def __init__(self, *, store_dir: Path, settings: dict[str, Any] | None = None) -> None:
        super().__init__(store_dir=store_dir, settings=settings)
        self._client_key: str | None = None
        self._client: Any = None  # held from the cache until close(): no lookup per query

    @property
    def is_remote(self) -> bool:
        """Whether `url` names a server."""
        return bool(self.settings["url"])

    @property
    def folder(self) -> Path:
        """Embedded mode's folder."""
        path = self.settings["path"]
        return Path(path).expanduser().resolve() if path else (self.store_dir / "qdrant").resolve()

    @property
    def where(self) -> str:
        """The server URL or the embedded folder, for messages."""
        return str(self.settings["url"] or self.folder)

    @property
    def build_params(self) -> dict[str, Any]:
        """Where the collections live (never the API key)."""
        return {"url": self.settings["url"], "path": self.settings["path"],
                "collection_prefix": self._prefix, "shared_index": self.settings["shared_index"]}

    @property
    def client(self) -> Any:
        """The (cached) `QdrantClient` of this store."""
        if self._client is not None:
            return self._client
        self.require_available()
        qdrant_client = _qdrant()
        url = self.settings["url"]
        if url:
            key_env = self.settings["api_key_env"]
            api_key = os.environ.get(key_env) if key_env else None
            if key_env and not api_key:
                raise ConfigError(f"qdrant api_key_env names {key_env}, which is not set")
            key = f"url:{url}:{key_env}:{self.settings['prefer_grpc']}"

            def make() -> Any:
                return qdrant_client.QdrantClient(url=url, api_key=api_key,
                                                  prefer_grpc=self.settings["prefer_grpc"])
        else:
            folder = self.folder
            key = f"path:{folder}"

            def make() -> Any:
                folder.mkdir(parents=True, exist_ok=True)
                return qdrant_client.QdrantClient(path=str(folder))

        self._client_key = key
        self._client = _clients.get(key, self, lambda: self.guarded(make))
        return self._client

    def close(self) -> None:
        """Let go of the shared client; the last store using it closes it.

        Embedded mode then releases its folder to other processes.
        """
        self._client = None
        _clients.release(self._client_key, self)

    # -- engine primitives -------------------------------------------------

    def _aliases(self) -> dict[str, str]:
        return {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}

    def _names(self) -> list[str]:
        aliases = self._aliases()
        targets = set(aliases.values())
        collections = [c.name for c in self.client.get_collections().collections]
        return [*aliases, *(name for name in collections if name not in targets)]

    def _upload(self, name: str, keys: KeyArray, matrix: FloatArray) -> None:
        models = _qdrant().models
        client = self.client
        client.create_collection(name, vectors_config=models.VectorParams(
            size=int(matrix.shape[1]), distance=models.Distance.COSINE))
        for start in range(0, len(keys), _BATCH):
            stop = start + _BATCH
            client.upsert(name, points=models.Batch(ids=keys[start:stop].tolist(),
                                                    vectors=matrix[start:stop].tolist()),
                          wait=True)

    def _rename(self, old: str, new: str) -> None:
        models = _qdrant().models
        self.client.update_collection_aliases(change_aliases_operations=[
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=old, alias_name=new))
        ])

    def _drop(self, name: str) -> None:
        models = _qdrant().models
        client = self.client
        target = self._aliases().get(name)
        if target is not None:
            client.update_collection_aliases(change_aliases_operations=[
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=name))
            ])
        if client.collection_exists(target or name):
            client.delete_collection(target or name)

    def _describe(self, name: str) -> tuple[int, int]:
        client = self.client
        dimension = int(client.get_collection(name).config.params.vectors.size)
        return dimension, int(client.count(name, exact=True).count)

    def _query(self, name: str, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        import numpy as np

        points = self.client.query_points(name, query=query.tolist(), limit=k,
                                          with_payload=False, with_vectors=False).points
        keys = np.array([int(p.id) for p in points], dtype=np.uint64)
        return keys, np.array([p.score for p in points], dtype=np.float32)

    def _fetch(self, name: str, *, vectors: bool) -> tuple[KeyArray, FloatArray]:
        import numpy as np

        dimension, _count = self._describe(name)
        keys: list[int] = []
        rows: list[Any] = []
        for point in self._scroll(name, vectors=vectors, payload=False, where=None):
            keys.append(int(point.id))
            if vectors:
                rows.append(point.vector)
        matrix = (np.asarray(rows, dtype=np.float32).reshape(-1, dimension) if vectors
                  else np.empty((0, dimension), dtype=np.float32))
        return np.array(keys, dtype=np.uint64), matrix

    def _scroll(self, name: str, *, vectors: bool, payload: bool, where: Any) -> Any:
        offset = None
        while True:
            points, offset = self.client.scroll(name, scroll_filter=where, limit=_BATCH,
                                                offset=offset, with_payload=payload,
                                                with_vectors=vectors)
            yield from points
            if offset is None:
                return

    def _blob_put(self, collection: str, rows: list[BlobRow]) -> None:
        models = _qdrant().models
        client = self.client
        if not client.collection_exists(collection):
            client.create_collection(collection, vectors_config=models.VectorParams(
                size=len(_BLOB_VECTOR), distance=models.Distance.COSINE))
        points = [models.PointStruct(id=_point_id(row["id"]), vector=_BLOB_VECTOR, payload=row)
                  for row in rows]
        client.upsert(collection, points=points, wait=True)

    def _blob_find(self, collection: str, kind: str, name: str | None) -> list[BlobRow]:
        models = _qdrant().models
        if not self.client.collection_exists(collection):
            return []
        match = [("kind", kind)] if name is None else [("kind", kind), ("name", name)]
        where = models.Filter(must=[
            models.FieldCondition(key=key, match=models.MatchValue(value=value))
            for key, value in match
        ])
        return [dict(point.payload or {})
                for point in self._scroll(collection, vectors=False, payload=True, where=where)]

    def _blob_delete(self, collection: str, ids: list[str]) -> None:
        models = _qdrant().models
        for start in range(0, len(ids), _BATCH):
            chunk = [_point_id(row_id) for row_id in ids[start : start + _BATCH]]
            self.client.delete(collection, points_selector=models.PointIdsList(points=chunk),
                               wait=True)
