"""Every backend (built-ins and the example plugin) against the shared contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tldr.testing import VectorStoreContract, backend_store
from tldr.vector_store import VectorStore, get_backend


class TestUsearchContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("usearch", tmp_path)


class TestUsearchHnswContract(VectorStoreContract):
    """exact_threshold=0 forces the HNSW path even on tiny indexes."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("usearch", tmp_path, exact_threshold=0)


class TestExactContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("exact", tmp_path)


class TestFaissContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("faiss", tmp_path)


class TestQdrantContract(VectorStoreContract):
    count = 40  # embedded qdrant commits each point separately (~10 ms each)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("qdrant", tmp_path)


class TestExamplePluginContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        plugin = pytest.importorskip("tldr_plugin_example")
        store = plugin.ExampleFlatStore(store_dir=tmp_path / "store")
        yield store
        store.close()


def test_legacy_faiss_index(tmp_path: Path) -> None:
    faiss = pytest.importorskip("faiss")
    from tldr.vector_store import open_legacy_faiss

    vectors = np.eye(8, dtype=np.float32)
    flat = faiss.IndexFlatIP(8)
    flat.add(vectors)
    faiss.write_index(flat, str(tmp_path / "index.faiss"))
    index = open_legacy_faiss(tmp_path / "index.faiss")
    keys, scores = index.search(vectors[5], 3)
    assert int(keys[0]) == 5 and scores[0] == pytest.approx(1.0)
    assert sorted(index.keys().tolist()) == list(range(8))
    copy = index.copy()
    copy.remove(np.array([5], dtype=np.uint64))
    assert 5 not in copy.search(vectors[5], 8)[0].tolist()
    assert len(index) == 8


def test_unknown_setting_is_config_error(tmp_path: Path) -> None:
    from tldr._exceptions import ConfigError

    cls = get_backend("usearch")
    with pytest.raises(ConfigError, match="connectivity"):
        cls(store_dir=tmp_path, settings={"connectivity": "many"})
    with pytest.raises(ConfigError, match="unknown"):
        cls(store_dir=tmp_path, settings={"bogus": 1})
    store = cls(store_dir=tmp_path, settings={"connectivity": 32})
    assert store.build_params["connectivity"] == 32
    assert store.build_params["expansion_add"] == 128


def test_import_is_cheap() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tldr.vector_store import get_backend, available_backends\n"
        "for cls in available_backends().values(): cls.is_available()\n"
        "heavy = [m for m in ('numpy', 'usearch', 'faiss', 'qdrant_client', 'chromadb',\n"
        "                     'pymilvus') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "TLDR_LOAD_PLUGINS": ""}  # built-ins only: plugins may import numpy
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
