"""What the engine backends (chromadb, milvus) share: naming, atomic save, blobs.

A location is a collection `<prefix><scope>_<build_id>` (see `ServerVectorStore`).
`save` uploads into `<location>__tmp_<hex>` and renames it to the location
once complete, so a location exists only whole; a save killed half way leaves
a temp collection that is never listed and is dropped by the next save.

A store with `shared_index = NAME` also keeps a *blob collection*
`<prefix>NAME__blobs`: immutable named byte strings, cut into base64 chunks,
and append-only commit records (specs/018-engines.md § One index shared by a
team). The engine classes provide a handful of primitives; everything else
lives here once.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import re
import secrets
import threading
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tldr._exceptions import BackendError, ConfigError, IndexCorruptError, TldrError
from tldr.vector_store._exact import ExactIndex
from tldr.vector_store.base import BUILD_ID_PATTERN, VectorIndex, VectorStore, as_query

if TYPE_CHECKING:
    from tldr.vector_store.base import FloatArray, KeyArray

__all__ = [
    "BLOB_CHUNK",
    "SHARED_SETTINGS",
    "BlobRow",
    "ClientCache",
    "CollectionIndex",
    "ServerVectorStore",
    "engine_error",
]

TMP_MARKER = "__tmp_"
BLOBS_SUFFIX = "__blobs"
#: Raw bytes per blob chunk: base64 makes it 4/3 larger and Milvus caps a
#: VARCHAR at 65,535 bytes.
BLOB_CHUNK = 40_000
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
#: What follows the prefix in a build's collection name (tldr's build ids,
#: `-` spelled `_` where the engine refuses it); anything else under the
#: prefix (blobs, temp uploads, another scope) is not a build.
_LISTED_BUILD = re.compile(r"\d{8}T\d{6}Z[-_][0-9A-Za-z]{8}")

#: The settings every engine backend adds to its schema.
SHARED_SETTINGS: dict[str, dict[str, Any]] = {
    "collection_prefix": {"type": "string", "default": "tldr_"},
    "shared_index": {
        "type": ["string", "null"],
        "default": None,
        "description": "team index name on the server: builds are published/followed under it",
    },
    "shared_role": {
        "type": "string",
        "enum": ["follow", "publish"],
        "default": "follow",
        "description": "publish: this machine builds and publishes; follow: it reads",
    },
}


def _close_quietly(client: Any) -> None:
    """`client.close()`, best effort (at exit the engine may be half torn down)."""
    try:
        client.close()
    except Exception:
        pass


class ClientCache:
    """One engine client per address in this process, closed when its last store lets go.

    Stores of one engine share a client (a connection pool; an embedded
    engine's folder or file can have only one). A store's `close()` must not
    close a client that another store of the process still reads with (a
    loaded build while a follower installs the next one), so users are counted.
    """

    def __init__(self, close: Callable[[Any], None] | None = None) -> None:
        self._close = close or _close_quietly
        self._clients: dict[str, Any] = {}
        self._users: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        atexit.register(self.close_all)

    def get(self, key: str, user: object, make: Callable[[], Any]) -> Any:
        """The client for `key` (made by `make` if none), held for `user`."""
        with self._lock:
            if key not in self._clients:
                self._clients[key] = make()
            self._users.setdefault(key, set()).add(id(user))
            return self._clients[key]

    def release(self, key: str | None, user: object) -> None:
        """`user` lets go of `key`'s client; the last one closes it (best effort)."""
        client = None
        with self._lock:
            users = self._users.get(key, set()) if key else set()
            users.discard(id(user))
            if key and not users:
                self._users.pop(key, None)
                client = self._clients.pop(key, None)
        if client is not None:
            self._close(client)

    def close_all(self) -> None:
        """Close every client (at exit)."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            self._users.clear()
        for client in clients:
            self._close(client)


BlobRow = dict[str, Any]
"""One row of the blob collection: `id`, `kind` (blob|commit), `name`, `part`, `seq`, `data`."""


def engine_error(engine: str, where: str, exc: BaseException) -> BackendError:
    """One line saying which engine failed where; a refused connection says 'not reachable'."""
    if isinstance(exc, TldrError):
        return BackendError(str(exc))
    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    unreachable = (
        "connect" in lowered
        or "refused" in lowered
        or "unavailable" in lowered
        or "timed out" in lowered
        or "deadline" in lowered
    )
    if unreachable:
        return BackendError(f"{engine} at {where} is not reachable ({text[:200]})")
    return BackendError(f"{engine} at {where}: {type(exc).__name__}: {text[:300]}")


class CollectionIndex(VectorIndex):
    """A saved collection: read-only, immutable; `copy()` downloads it."""

    writable = False

    def __init__(self, store: ServerVectorStore, name: str, *, dimension: int, count: int) -> None:
        self._store = store
        self._name = name
        self._dimension = dimension
        self._count = count  # immutable once saved: no round trip per len()

    @property
    def dimension(self) -> int:
        """The vector dimension."""
        return self._dimension

    def __len__(self) -> int:
        return self._count

    def add(self, keys: KeyArray, vectors: FloatArray) -> None:
        """Refuse: a saved collection is immutable."""
        self._check_writable()

    def remove(self, keys: KeyArray) -> None:
        """Refuse: a saved collection is immutable."""
        self._check_writable()

    def keys(self) -> KeyArray:
        """Every key (reads the whole collection)."""
        keys: KeyArray = self._store.guarded(
            lambda: self._store._fetch(self._name, vectors=False)[0])
        return keys

    def copy(self) -> ExactIndex:
        """Download every vector into a writable in-memory index."""
        keys, matrix = self._store.guarded(lambda: self._store._fetch(self._name, vectors=True))
        index = ExactIndex.empty(self._dimension)
        if len(keys):
            index.add(keys, matrix)
        return index

    def search(self, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Query the collection; see `VectorIndex.search`."""
        import numpy as np

        q = as_query(query, self._dimension)
        if k <= 0 or self._count == 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        keys, scores = self._store.guarded(
            lambda: self._store._query(self._name, q, min(k, self._count))
        )
        order = np.argsort(-scores, kind="stable")
        return keys[order], scores[order]


class ServerVectorStore(VectorStore):
    """An engine backend: one collection per build, embedded or on a server."""

    #: The engine's name in messages ("chromadb", "milvus").
    engine: ClassVar[str]
    #: Whether collection names may contain `-` (Milvus takes letters,
    #: digits and `_` only: its names spell a build id's `-` as `_`).
    dashes_in_names: ClassVar[bool] = True

    def __init__(self, *, store_dir: Path, settings: dict[str, Any] | None = None) -> None:
        super().__init__(store_dir=store_dir, settings=settings)
        prefix = _NAME_UNSAFE.sub("_", self.settings["collection_prefix"]) or "tldr_"
        shared = self.settings.get("shared_index")
        if shared is not None and not BUILD_ID_PATTERN.match(shared):
            raise ConfigError(f"shared_index {shared!r}: only [A-Za-z0-9_-] allowed")
        if shared:
            scope = f"{shared}_"
        elif self.is_remote:
            # A server is shared by projects: scope names to this store so that
            # list_locations and GC never see another project's collections.
            scope = hashlib.sha256(str(self.store_dir.resolve()).encode()).hexdigest()[:8] + "_"
        else:
            scope = ""  # embedded: the folder is this project's alone
        self._prefix = self._engine_name(f"{prefix}{scope}")
        self._blobs = self._engine_name(f"{prefix}{shared}{BLOBS_SUFFIX}") if shared else None

    def _engine_name(self, name: str) -> str:
        return name if self.dashes_in_names else name.replace("-", "_")

    # -- what an engine provides ------------------------------------------

    @property
    @abstractmethod
    def is_remote(self) -> bool:
        """Whether the settings name a server (else the engine runs embedded)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """The server URL or local path, for messages."""

    @abstractmethod
    def _names(self) -> list[str]:
        """Every collection name on the engine."""

    @abstractmethod
    def _upload(self, name: str, keys: KeyArray, matrix: FloatArray) -> None:
        """Create collection `name` holding `keys` -> `matrix` (cosine), ready to search."""

    @abstractmethod
    def _rename(self, old: str, new: str) -> None:
        """Rename a collection (atomic on the engine)."""

    @abstractmethod
    def _drop(self, name: str) -> None:
        """Drop a collection if it exists."""

    @abstractmethod
    def _describe(self, name: str) -> tuple[int, int]:
        """(dimension, count) of a collection."""

    @abstractmethod
    def _query(self, name: str, query: FloatArray, k: int) -> tuple[KeyArray, FloatArray]:
        """Up to `k` (keys, cosine similarities) for one query."""

    @abstractmethod
    def _fetch(self, name: str, *, vectors: bool) -> tuple[KeyArray, FloatArray]:
        """Every key of a collection, and with `vectors` its vectors (else an empty matrix)."""

    @abstractmethod
    def _blob_put(self, collection: str, rows: list[BlobRow]) -> None:
        """Insert rows into the blob collection, creating it if needed."""

    @abstractmethod
    def _blob_find(self, collection: str, kind: str, name: str | None) -> list[BlobRow]:
        """Rows of `kind` (and `name`, unless None); [] when the collection is missing."""

    @abstractmethod
    def _blob_delete(self, collection: str, ids: list[str]) -> None:
        """Delete rows by id."""

    # -- the VectorStore contract ------------------------------------------

    def guarded(self, call: Any) -> Any:
        """Run `call()`; an engine failure becomes one-line `BackendError`."""
        try:
            return call()
        except (BackendError, IndexCorruptError, ConfigError):
            raise
        except Exception as exc:
            raise engine_error(self.engine, self.where, exc) from exc

    def location_for(self, build_id: str) -> str:
        """Return the collection name `<prefix><scope>_<build_id>`."""
        self._check_build_id(build_id)
        return self._engine_name(f"{self._prefix}{build_id}")

    def create(self, dimension: int) -> ExactIndex:
        """Return an empty writable in-memory index (uploaded by `save`)."""
        return ExactIndex.empty(dimension)

    def open(self, location: str, *, view: bool = False) -> VectorIndex:
        """Open a saved collection (always read-only; `view` is accepted for symmetry)."""
        self.require_available()
        if not self.exists(location):
            raise IndexCorruptError(f"{self.engine} collection {location!r} is missing")
        dimension, count = self.guarded(lambda: self._describe(location))
        return CollectionIndex(self, location, dimension=dimension, count=count)

    def save(self, index: VectorIndex, location: str) -> None:
        """Upload into a temp collection, then rename it to `location`."""
        self.require_available()
        if self.exists(location):
            raise BackendError(
                f"{self.engine} location {location!r} already exists; locations are immutable"
            )
        self._drop_orphans()
        source = index if isinstance(index, ExactIndex) else index.copy()
        if not isinstance(source, ExactIndex):
            raise BackendError(f"{self.engine} backend cannot save a {type(index).__name__}")
        temp = f"{location}{TMP_MARKER}{secrets.token_hex(4)}"
        try:
            self.guarded(lambda: self._upload(temp, source.keys(), source.matrix))
            self.guarded(lambda: self._rename(temp, location))
        except BaseException:
            try:
                self._drop(temp)
            except Exception:  # the engine is gone: the next save drops the orphan
                pass
            raise

    def delete(self, location: str) -> None:
        """Drop the collection; best effort."""
        try:
            self._drop(location)
        except Exception:
            pass

    def exists(self, location: str) -> bool:
        """Whether the (complete) collection exists."""
        return location in self.guarded(self._names)

    def list_locations(self) -> list[str]:
        """This store's build collections, oldest first (build ids sort by time)."""
        return sorted(name for name in self.guarded(self._names) if self._is_build(name))

    def _is_build(self, name: str) -> bool:
        rest = name[len(self._prefix):] if name.startswith(self._prefix) else ""
        return bool(_LISTED_BUILD.fullmatch(rest))

    def _drop_orphans(self) -> None:
        """Drop temp collections of this store left by an interrupted save."""
        for name in self.guarded(self._names):
            if name.startswith(self._prefix) and TMP_MARKER in name:
                self.delete(name)

    # -- the shared index (blobs and commit records) -----------------------

    @property
    def shared_index(self) -> str | None:
        """The team index name, or None for a private store."""
        value: str | None = self.settings.get("shared_index")
        return value

    def _blob_collection(self) -> str:
        if self._blobs is None:
            raise ConfigError(f"{self.engine}: set shared_index to publish or follow builds")
        return self._blobs

    def put_blob(self, name: str, data: bytes) -> None:
        """Store `data` under `name` (replacing nothing: names carry a build id)."""
        collection = self._blob_collection()
        rows: list[BlobRow] = []
        for part, start in enumerate(range(0, max(len(data), 1), BLOB_CHUNK)):
            chunk = base64.b64encode(data[start : start + BLOB_CHUNK]).decode("ascii")
            rows.append({"id": f"b:{name}:{part}", "kind": "blob", "name": name,
                         "part": part, "seq": 0, "data": chunk})
        for start in range(0, len(rows), 64):
            batch = rows[start : start + 64]
            self.guarded(lambda batch=batch: self._blob_put(collection, batch))

    def get_blob(self, name: str) -> bytes:
        """The bytes stored under `name`.

        Raises:
            IndexCorruptError: No blob has that name.
        """
        rows = self.guarded(lambda: self._blob_find(self._blob_collection(), "blob", name))
        if not rows:
            raise IndexCorruptError(f"{self.engine}: shared file {name!r} is missing")
        rows.sort(key=lambda row: int(row["part"]))
        if [int(row["part"]) for row in rows] != list(range(len(rows))):
            raise IndexCorruptError(f"{self.engine}: shared file {name!r} is incomplete")
        return b"".join(base64.b64decode(row["data"]) for row in rows)

    def blob_names(self) -> set[str]:
        """Every stored blob name."""
        rows = self.guarded(lambda: self._blob_find(self._blob_collection(), "blob", None))
        return {str(row["name"]) for row in rows}

    def delete_blob(self, name: str) -> None:
        """Delete a blob; a missing one is not an error."""
        collection = self._blob_collection()
        rows = self.guarded(lambda: self._blob_find(collection, "blob", name))
        if rows:
            self.guarded(lambda: self._blob_delete(collection, [row["id"] for row in rows]))

    def append_commit(self, seq: int, record: bytes) -> None:
        """Append a commit record; the one with the highest `seq` is live."""
        data = base64.b64encode(record).decode("ascii")
        if len(data) > 60_000:  # one row, under Milvus's VARCHAR cap
            raise BackendError(f"{self.engine}: commit record too large ({len(record)} bytes)")
        row = {"id": f"c:{seq:020d}", "kind": "commit", "name": "", "part": 0, "seq": seq,
               "data": data}
        self.guarded(lambda: self._blob_put(self._blob_collection(), [row]))

    def commits(self) -> list[tuple[int, bytes]]:
        """Every commit record (seq, bytes), oldest first."""
        rows = self.guarded(lambda: self._blob_find(self._blob_collection(), "commit", None))
        found = [(int(row["seq"]), base64.b64decode(row["data"])) for row in rows]
        return sorted(found)

    def prune_commits(self, keep: int) -> None:
        """Delete all but the newest `keep` commit records."""
        collection = self._blob_collection()
        rows = self.guarded(lambda: self._blob_find(collection, "commit", None))
        rows.sort(key=lambda row: int(row["seq"]))
        old = [row["id"] for row in rows[:-keep]] if keep else [row["id"] for row in rows]
        if old:
            self.guarded(lambda: self._blob_delete(collection, old))
