"""Reusable contract test suites for plugin authors (imports pytest and numpy).

`VectorStoreContract` (fixture `store`), `EmbedderContract` (fixture
`embedder`) and `RerankerContract` (fixture `reranker`). Subclass one in your
own test suite and provide its fixture:

```python
import pytest
from tldr.testing import VectorStoreContract

class TestMyStore(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        store = MyStore(store_dir=tmp_path)
        yield store
        store.close()
```
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tldr._exceptions import BackendError, IndexCorruptError
from tldr.vector_store.base import FileVectorStore, VectorIndex, VectorStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import numpy.typing as npt

__all__ = [
    "EmbedderContract",
    "RerankerContract",
    "VectorStoreContract",
    "backend_store",
    "random_unit_vectors",
]

_BUILD_IDS = ("20240101T000000Z-00000001", "20240102T000000Z-00000002", "20240103T000000Z-00000003")


def backend_store(backend_id: str, tmp_path: Path, **settings: object) -> Iterator[VectorStore]:
    """A store of the registered backend `backend_id` in `tmp_path`, closed afterwards.

    For a contract fixture: `yield from backend_store("mine", tmp_path, url=...)`;
    skips the test when the backend is not available (its reason is the message).
    """
    from tldr.vector_store import get_backend

    cls = get_backend(backend_id)
    ok, reason = cls.is_available()
    if not ok:
        pytest.skip(reason)
    store = cls(store_dir=tmp_path / "store", settings=dict(settings) or None)
    yield store
    store.close()


def random_unit_vectors(n: int, dimension: int, *, seed: int = 0) -> npt.NDArray[np.float32]:
    """Return `n` random L2-normalised float32 vectors."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


class VectorStoreContract:
    """Tests every `VectorStore` backend must pass; subclasses provide `store`."""

    #: Vector dimension and number of vectors per test; lower `count` for slow stores.
    dimension = 16
    count = 200

    @pytest.fixture
    def store(self) -> VectorStore:
        """Override: return a fresh store in a temporary directory."""
        raise NotImplementedError("subclasses must provide a `store` fixture")

    @pytest.fixture
    def vectors(self) -> npt.NDArray[np.float32]:
        """The vectors each test indexes."""
        return random_unit_vectors(self.count, self.dimension)

    @pytest.fixture
    def keys(self) -> npt.NDArray[np.uint64]:
        """Sparse, large uint64 keys (not positions), one above 2**63."""
        keys = np.arange(self.count, dtype=np.uint64) * np.uint64(7) + np.uint64(3)
        keys[-1] = np.uint64(2**63 + 11)
        return np.asarray(keys, dtype=np.uint64)

    def _build(self, store: VectorStore, keys: Any, vectors: Any) -> VectorIndex:
        index = store.create(self.dimension)
        index.add(keys, vectors)
        return index

    def _saved(
        self, store: VectorStore, keys: Any, vectors: Any, build_id: str = _BUILD_IDS[0]
    ) -> str:
        location = store.location_for(build_id)
        store.save(self._build(store, keys, vectors), location)
        return location

    # -- class-level facts -------------------------------------------------

    def test_class_attributes(self, store: VectorStore) -> None:
        """Class attributes are set; the backend is available."""
        cls = type(store)
        for name in ("backend_id", "display_name", "index_format", "tldr_requires"):
            assert isinstance(getattr(cls, name), str) and getattr(cls, name), name
        assert isinstance(cls.settings_schema, dict)
        assert cls.settings_schema.get("type") == "object"
        ok, reason = cls.is_available()
        assert ok, reason
        assert isinstance(cls.backend_version(), str)

    def test_health_check(self, store: VectorStore) -> None:
        """`health_check()` builds and searches a tiny index."""
        ok, reason = type(store).health_check()
        assert ok, reason

    def test_is_available_is_cheap(self, store: VectorStore) -> None:
        """`is_available()` imports none of `heavy_modules` (run in a fresh process)."""
        cls = type(store)
        heavy = [m for m in cls.heavy_modules if m]
        code = textwrap.dedent(
            f"""
            import importlib, sys
            mod = importlib.import_module({cls.__module__!r})
            cls = mod
            for part in {cls.__qualname__!r}.split("."):
                cls = getattr(cls, part)
            before = set(sys.modules)
            ok, reason = cls.is_available()
            assert ok, reason
            loaded = [m for m in {heavy!r} if m in sys.modules and m not in before]
            assert not loaded, loaded
            """
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

    def test_metadata_and_build_params(self, store: VectorStore) -> None:
        """`metadata()` has the keys metadata.json records; `build_params` is a dict."""
        meta = store.metadata()
        for key in ("format", "backend_version", "backend_metric", "dtype", "score_transform"):
            assert key in meta, key
        assert meta["format"] == type(store).index_format
        assert isinstance(store.build_params, dict)

    def test_location_names(self, store: VectorStore) -> None:
        """Locations differ per build id, carry it (GC reads it back) and bad ones are refused.

        An engine that refuses `-` in names (Milvus) may spell it `_`.
        """
        a, b = (store.location_for(bid) for bid in _BUILD_IDS[:2])
        assert a != b and (_BUILD_IDS[0] in a or _BUILD_IDS[0].replace("-", "_") in a)
        with pytest.raises(BackendError):
            store.location_for("../evil")

    # -- index behaviour ---------------------------------------------------

    def test_round_trip(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """create, add, save, open, search."""
        location = self._saved(store, keys, vectors)
        assert store.exists(location)
        index = store.open(location)
        assert index.dimension == self.dimension
        assert len(index) == self.count
        found, scores = index.search(vectors[10], 5)
        assert int(found[0]) == int(keys[10])
        assert found.dtype == np.uint64 and scores.dtype == np.float32

    def test_open_view(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """`view=True` searches and refuses writes."""
        location = self._saved(store, keys, vectors)
        view = store.open(location, view=True)
        assert len(view) == self.count
        found, _scores = view.search(vectors[-1], 3)
        assert int(found[0]) == int(keys[-1])
        with pytest.raises(BackendError):
            view.add(np.array([1], dtype=np.uint64), vectors[:1])
        with pytest.raises(BackendError):
            view.remove(keys[:1])

    def test_score_direction(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """Scores are cosine similarity, descending; a self-query scores ~1."""
        index = self._build(store, keys, vectors)
        for row in (0, self.count // 2, self.count - 1):
            found, scores = index.search(vectors[row], 10)
            assert int(found[0]) == int(keys[row])
            assert scores[0] == pytest.approx(1.0, abs=1e-3)
            assert np.all(np.diff(scores) <= 1e-6)
            assert np.all(scores <= 1.0 + 1e-3) and np.all(scores >= -1.0 - 1e-3)

    def test_query_shapes(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """Queries shaped `(d,)` and `(1, d)` give the same flat results."""
        index = self._build(store, keys, vectors)
        flat_keys, flat_scores = index.search(vectors[3], 5)
        row_keys, row_scores = index.search(vectors[3:4], 5)
        assert flat_keys.shape == row_keys.shape == (5,)
        np.testing.assert_array_equal(flat_keys, row_keys)
        np.testing.assert_allclose(flat_scores, row_scores, atol=1e-5)

    def test_dimension_mismatch(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """A wrong dimension is a `BackendError` naming the dimension."""
        index = self._build(store, keys, vectors)
        with pytest.raises(BackendError, match="dimension"):
            index.search(np.ones(self.dimension + 1, dtype=np.float32), 3)
        with pytest.raises(BackendError):
            index.add(
                np.array([10**6], dtype=np.uint64), np.ones((1, self.dimension + 2), np.float32)
            )

    def test_fewer_than_k_and_only_valid_keys(
        self, store: VectorStore, keys: Any, vectors: Any
    ) -> None:
        """Small indexes return fewer than k results and no sentinel keys."""
        index = self._build(store, keys[:3], vectors[:3])
        found, scores = index.search(vectors[0], 10)
        assert len(found) == len(scores) == 3
        assert set(found.tolist()) == set(keys[:3].tolist())
        empty = store.create(self.dimension)
        found, scores = empty.search(vectors[0], 10)
        assert len(found) == len(scores) == 0

    def test_keys(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """`keys()` returns every uint64 key."""
        index = self._build(store, keys, vectors)
        got = index.keys()
        assert got.dtype == np.uint64
        assert sorted(got.tolist()) == sorted(keys.tolist())

    def test_duplicate_key_rejected(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """Adding a key already present is a `BackendError`."""
        index = self._build(store, keys, vectors)
        with pytest.raises(BackendError):
            index.add(keys[:1], vectors[:1])

    def test_copy_on_write(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """A copy (also of a view) changes without touching the original or its file."""
        location = self._saved(store, keys, vectors)
        for view in (False, True):
            original = store.open(location, view=view)
            copy = original.copy()
            copy.remove(keys[:10])
            new_vector = random_unit_vectors(1, self.dimension, seed=99)
            copy.add(np.array([10**9], dtype=np.uint64), new_vector)
            assert len(copy) == self.count - 9
            assert len(original) == self.count
            assert int(copy.search(new_vector[0], 1)[0][0]) == 10**9
            assert int(original.search(vectors[0], 1)[0][0]) == int(keys[0])
            assert int(keys[0]) not in copy.search(vectors[0], 5)[0].tolist()
            new_location = store.location_for(_BUILD_IDS[1 + int(view)])
            store.save(copy, new_location)
            reopened = store.open(new_location)
            assert len(reopened) == self.count - 9
            assert len(store.open(location)) == self.count

    def test_save_is_atomic_and_immutable(
        self, store: VectorStore, keys: Any, vectors: Any
    ) -> None:
        """No temp files remain; saving over a location is refused."""
        location = self._saved(store, keys, vectors)
        leftovers = [p.name for p in store.store_dir.rglob("*") if ".tmp-" in p.name]
        assert leftovers == []
        with pytest.raises(BackendError):
            store.save(self._build(store, keys, vectors), location)
        assert len(store.open(location)) == self.count

    def test_list_exists_delete(self, store: VectorStore, keys: Any, vectors: Any) -> None:
        """list_locations (oldest first), exists and delete agree."""
        assert store.list_locations() == []
        locations = [self._saved(store, keys[:5], vectors[:5], bid) for bid in _BUILD_IDS]
        assert store.list_locations() == locations
        store.delete(locations[1])
        assert not store.exists(locations[1])
        assert store.list_locations() == [locations[0], locations[2]]
        store.delete(locations[1])  # missing: best effort, no error
        with pytest.raises(IndexCorruptError):
            store.open(locations[1])

    def test_open_missing(self, store: VectorStore) -> None:
        """Opening a missing location is an `IndexCorruptError`."""
        with pytest.raises(IndexCorruptError):
            store.open(store.location_for("20000101T000000Z-deadbeef"))

    def test_open_corrupt_file(self, store: VectorStore) -> None:
        """Opening a garbage file is an `IndexCorruptError`."""
        if not isinstance(store, FileVectorStore):
            pytest.skip("not a file backend")
        location = store.location_for(_BUILD_IDS[0])
        store.store_dir.mkdir(parents=True, exist_ok=True)
        store.path_for(location).write_bytes(b"not an index" * 10)
        with pytest.raises(IndexCorruptError):
            store.open(location)


class EmbedderContract:
    """Tests every embedder must pass; subclasses provide an `embedder` fixture."""

    texts = ("def parse_config(path): read settings", "class Cart: total price", "")

    @pytest.fixture
    def embedder(self) -> Any:
        """The embedder under test (override in the subclass)."""
        raise NotImplementedError("subclasses must provide an `embedder` fixture")

    def test_identity(self, embedder: Any) -> None:
        """A model id and a positive dimension."""
        assert isinstance(embedder.model_id, str) and embedder.model_id
        assert isinstance(embedder.dimension, int) and embedder.dimension > 0

    def test_documents_are_normalised_float32_rows(self, embedder: Any) -> None:
        """One unit-length float32 row per text, empty texts included."""
        matrix = embedder.embed_documents(list(self.texts))
        assert matrix.shape == (len(self.texts), embedder.dimension)
        assert matrix.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)

    def test_query_is_one_normalised_vector(self, embedder: Any) -> None:
        """A query gives a single unit-length vector of the same dimension."""
        vector = embedder.embed_query("where is the config parsed")
        assert vector.shape == (embedder.dimension,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3

    def test_deterministic(self, embedder: Any) -> None:
        """The same text twice gives the same vector."""
        first = embedder.embed_documents([self.texts[0]])
        second = embedder.embed_documents([self.texts[0]])
        np.testing.assert_allclose(first, second, atol=1e-5)

    def test_no_texts(self, embedder: Any) -> None:
        """An empty batch is an empty (0, dimension) matrix."""
        assert embedder.embed_documents([]).shape == (0, embedder.dimension)

    def test_related_texts_are_closer(self, embedder: Any) -> None:
        """A query is closer to a text sharing its subject than to an unrelated one."""
        matrix = embedder.embed_documents(
            ["parse the configuration file", "render the shopping cart page"]
        )
        query = embedder.embed_query("parse configuration")
        scores = matrix @ query
        assert scores[0] > scores[1]


class RerankerContract:
    """Tests every reranker must pass; subclasses provide a `reranker` fixture."""

    @pytest.fixture
    def reranker(self) -> Any:
        """The reranker under test (override in the subclass)."""
        raise NotImplementedError("subclasses must provide a `reranker` fixture")

    def test_identity(self, reranker: Any) -> None:
        """An id and a cheap availability check."""
        assert isinstance(reranker.id, str) and reranker.id
        available, reason = type(reranker).is_available()
        assert available is True and isinstance(reason, str)

    def test_one_float_per_document(self, reranker: Any) -> None:
        """Scores come back in the documents' order, one float each."""
        documents = ["def parse_config(path): ...", "class Cart: ...", "x = 1"]
        scores = reranker.rerank("parse the config", documents)
        assert len(scores) == len(documents)
        assert all(isinstance(score, float) for score in scores)

    def test_no_documents(self, reranker: Any) -> None:
        """No documents, no scores."""
        assert reranker.rerank("anything", []) == []

    def test_deterministic(self, reranker: Any) -> None:
        """The same pairs score the same twice."""
        documents = ["def parse_config(path): ...", "class Cart: ..."]
        first = reranker.rerank("parse the config", documents)
        second = reranker.rerank("parse the config", documents)
        np.testing.assert_allclose(first, second, atol=1e-5)
