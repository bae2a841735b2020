"""The engine backends (chromadb, milvus, qdrant) on real engines (no mocks).

ChromaDB runs embedded and as a real `chroma run` server on 127.0.0.1;
Milvus runs as Milvus Lite from a temp file; Qdrant runs embedded (local
mode; its contract class is in test_contract.py). No Qdrant server can be
installed here, so its `url` path is not exercised.
"""

from __future__ import annotations

import gc
import itertools
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from engine_servers import ChromaServer, chroma_command

from tldr._exceptions import BackendError, ConfigError
from tldr.testing import VectorStoreContract, backend_store, random_unit_vectors
from tldr.vector_store import VectorStore, get_backend


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One `chroma run` for this module's tests (each store has its own name scope)."""
    if chroma_command() is None:
        pytest.skip("chroma is not installed: pip install 'tldrf[chromadb]'")
    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "data").start()
    yield server
    server.stop()


class TestChromaEmbeddedContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("chromadb", tmp_path)


class TestChromaServerContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path, chroma_server: ChromaServer) -> Iterator[VectorStore]:
        yield from backend_store("chromadb", tmp_path, url=chroma_server.url)


class TestMilvusLiteContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from backend_store("milvus", tmp_path)


@pytest.mark.parametrize("backend", ["chromadb", "milvus", "qdrant"])
def test_orphan_temp_collection_is_never_listed_and_is_dropped(
    backend: str, tmp_path: Path
) -> None:
    """What a save killed after its upload leaves is invisible, and the next save drops it."""
    store = next(backend_store(backend, tmp_path))
    try:
        vectors = random_unit_vectors(20, 8)
        keys = np.arange(20, dtype=np.uint64)
        first = store.location_for("20240101T000000Z-00000001")
        index = store.create(8)
        index.add(keys, vectors)
        store.save(index, first)
        orphan = f"{store.location_for('20240102T000000Z-00000002')}__tmp_dead"
        store._upload(orphan, keys, vectors)  # type: ignore[attr-defined]
        assert store.list_locations() == [first]
        second = store.location_for("20240103T000000Z-00000003")
        store.save(index, second)
        assert orphan not in store._names()  # type: ignore[attr-defined]
        assert store.list_locations() == [first, second]
    finally:
        store.close()


def test_server_scopes_and_shared_names(tmp_path: Path, chroma_server: ChromaServer) -> None:
    """Two projects on one server never list each other's builds; a shared name is stable."""
    cls = get_backend("chromadb")
    a = cls(store_dir=tmp_path / "a", settings={"url": chroma_server.url})
    b = cls(store_dir=tmp_path / "b", settings={"url": chroma_server.url})
    index = a.create(4)
    index.add(np.arange(4, dtype=np.uint64), np.eye(4, dtype=np.float32))
    a.save(index, a.location_for("20240101T000000Z-0000000a"))
    assert b.list_locations() == []
    shared = [
        cls(store_dir=tmp_path / d, settings={"url": chroma_server.url, "shared_index": "team"})
        for d in ("x", "y")
    ]
    assert shared[0].location_for("20240101T000000Z-0000000a") == shared[1].location_for(
        "20240101T000000Z-0000000a"
    )
    with pytest.raises(ConfigError):
        cls(store_dir=tmp_path, settings={"shared_index": "../x"})


@pytest.mark.parametrize("backend", ["chromadb", "milvus", "qdrant"])
def test_blobs_and_commit_records(backend: str, tmp_path: Path) -> None:
    """Blobs round-trip across chunks; the newest commit record wins; pruning keeps N."""
    store = next(backend_store(backend, tmp_path, shared_index="team"))
    try:
        data = bytes(range(256)) * 700  # several chunks
        store.put_blob("units.20240101T000000Z-00000001.msgpack", data)  # type: ignore[attr-defined]
        store.put_blob("empty", b"")  # type: ignore[attr-defined]
        assert store.get_blob("units.20240101T000000Z-00000001.msgpack") == data  # type: ignore[attr-defined]
        assert store.get_blob("empty") == b""  # type: ignore[attr-defined]
        for seq in (5, 7, 6):
            store.append_commit(seq, f"record {seq}".encode())  # type: ignore[attr-defined]
        assert store.commits()[-1] == (7, b"record 7")  # type: ignore[attr-defined]
        store.prune_commits(2)  # type: ignore[attr-defined]
        assert [seq for seq, _ in store.commits()] == [6, 7]  # type: ignore[attr-defined]
        store.delete_blob("empty")  # type: ignore[attr-defined]
        assert store.blob_names() == {"units.20240101T000000Z-00000001.msgpack"}  # type: ignore[attr-defined]
        assert store.list_locations() == []  # the blob collection is not a build
    finally:
        store.close()


def test_unavailable_reason_names_the_extra() -> None:
    """The reason a missing engine gives carries its install command (checked in a child
    process where the engine's module cannot be found)."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["chromadb"] = None  # find_spec raises ValueError for a None module
        import importlib.util
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name in (
            "chromadb", "pymilvus", "qdrant_client") else real(name, *a)
        from tldr.vector_store import get_backend
        for backend, extra in (("chromadb", "chromadb"), ("milvus", "milvus"),
                               ("qdrant", "qdrant")):
            ok, reason = get_backend(backend).is_available()
            assert not ok and f"pip install 'tldrf[{extra}]'" in reason, reason
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_crash_mid_save_leaves_the_previous_build(tmp_path: Path,
                                                 chroma_server: ChromaServer) -> None:
    """A process killed while uploading a build leaves only the previous build listed."""
    cls = get_backend("chromadb")
    settings = {"url": chroma_server.url}
    store = cls(store_dir=tmp_path / "store", settings=settings)
    good = store.location_for("20240101T000000Z-00000001")
    index = store.create(16)
    index.add(np.arange(10, dtype=np.uint64), random_unit_vectors(10, 16))
    store.save(index, good)
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        import numpy as np
        from tldr.testing import random_unit_vectors
        from tldr.vector_store import get_backend
        store = get_backend("chromadb")(store_dir=Path({str(tmp_path / "store")!r}),
                                        settings={settings!r})
        index = store.create(16)
        index.add(np.arange(200_000, dtype=np.uint64), random_unit_vectors(200_000, 16))
        store.save(index, store.location_for("20240102T000000Z-00000002"))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if any("__tmp_" in name for name in store._names()):  # type: ignore[attr-defined]
                break
            time.sleep(0.05)
        assert child.poll() is None, "the upload finished before it could be killed"
        time.sleep(0.3)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert store.list_locations() == [good]
    found, _scores = store.open(good).search(random_unit_vectors(10, 16)[3], 1)
    assert int(found[0]) == 3
    store.save(index, store.location_for("20240103T000000Z-00000003"))
    assert not any("__tmp_" in name for name in store._names())  # type: ignore[attr-defined]
    store.close()


def test_server_down_is_one_line(tmp_path: Path) -> None:
    """A search or save against a dead server is a one-line BackendError naming it."""
    if chroma_command() is None:
        pytest.skip("chroma is not installed")
    server = ChromaServer(tmp_path / "data").start()
    store = get_backend("chromadb")(store_dir=tmp_path / "s", settings={"url": server.url})
    location = store.location_for("20240101T000000Z-00000001")
    index = store.create(4)
    index.add(np.arange(4, dtype=np.uint64), np.eye(4, dtype=np.float32))
    store.save(index, location)
    opened = store.open(location)
    server.kill()
    try:
        with pytest.raises(BackendError, match="not reachable") as caught:
            opened.search(np.eye(4, dtype=np.float32)[1], 2)
        assert "\n" not in str(caught.value) and server.url in str(caught.value)
        with pytest.raises(BackendError, match="not reachable"):
            store.save(index, store.location_for("20240102T000000Z-00000002"))
        server.start()
        assert int(opened.search(np.eye(4, dtype=np.float32)[1], 2)[0][0]) == 1
        store.save(index, store.location_for("20240102T000000Z-00000002"))
        assert len(store.list_locations()) == 2
    finally:
        store.close()
        server.stop()


def test_one_store_closing_leaves_the_shared_client_to_the_others() -> None:
    # A follower's store closes while a loaded build still reads through the
    # same client: only the last user closes it.
    from tldr.vector_store._server import ClientCache

    closed: list[object] = []
    cache = ClientCache(closed.append)
    first, second = object(), object()
    client = cache.get("url", first, object)
    assert cache.get("url", second, object) is client
    cache.release("url", first)
    assert closed == []
    cache.release("url", second)
    assert closed == [client]


# qdrant-client opens the folder's .lock file and raises without closing it
# when the lock is taken: its leak, reported when the half-made client is
# collected (made to happen inside the test, below).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_embedded_qdrant_held_by_another_process_is_one_line(tmp_path: Path) -> None:
    """Local mode locks its folder: a second process gets one line naming it, not a traceback."""
    if not get_backend("qdrant").is_available()[0]:
        pytest.skip("qdrant-client is not installed")
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from tldr.vector_store import get_backend
        store = get_backend("qdrant")(store_dir=Path({str(tmp_path)!r}))
        store.list_locations()
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes it
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        store = get_backend("qdrant")(store_dir=tmp_path)
        with pytest.raises(BackendError, match="already accessed") as caught:
            store.list_locations()
        assert "\n" not in str(caught.value) and str(tmp_path / "qdrant") in str(caught.value)
        del caught
        gc.collect()
    finally:
        holder.communicate(timeout=30)
    store.list_locations()  # the holder exited: the folder is free
    store.close()


def test_milvus_names_spell_dashes_as_underscores(tmp_path: Path) -> None:
    """Milvus accepts only letters, digits and `_` in collection names (its server, and
    the C++ Milvus Lite 2.x, refuse a build id's `-`); the build id is still read back."""
    from tldr.semantic.storage import build_id_of

    store = get_backend("milvus")(store_dir=tmp_path, settings={"shared_index": "team-a"})
    location = store.location_for("20240101T000000Z-0000abcd")
    assert "-" not in location and build_id_of(location) == "20240101T000000Z-0000abcd"
    assert "-" not in store._blob_collection()  # type: ignore[attr-defined]
    assert store._is_build(location)  # type: ignore[attr-defined]
    assert store._is_build(location.replace("Z_", "Z-"))  # type: ignore[attr-defined]  # built before


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1500, 20_000, 123_457, 1_000_000])
def test_chroma_upload_plan_ends_every_interval_on_an_index_write(count: int) -> None:
    """Replaying Chroma's rule (write the HNSW file once `sync_threshold` records
    were applied since the last write) over the planned slices: each write falls
    on a slice's end, the last slice included, and there are ~sqrt(count / batch)."""
    from tldr.vector_store._chroma import _upload_plan

    batch = 5000
    threshold, slices = _upload_plan(count, batch)
    assert [stop for _start, stop in slices][-1:] == ([count] if count else [])
    assert all(0 < stop - start <= batch for start, stop in slices)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
    unwritten, writes = 0, 0
    for start, stop in slices:
        unwritten += stop - start
        if unwritten >= threshold:
            unwritten, writes = 0, writes + 1
    if count >= 1000:
        assert unwritten == 0 and writes == max(1, count // math.isqrt(count * batch))
    else:
        assert threshold == 1000  # Chroma's default: too small to plan


def test_chroma_save_leaves_the_index_whole_on_disk(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """After a save, Chroma's HNSW files hold every record (nothing left in its log
    to replay when the build is opened), written a few times, not once per 1,000."""
    import sqlite3

    from tldr.vector_store import _chroma

    monkeypatch.setattr(_chroma, "_PAGE", 250)  # many batches from a small build
    store = next(backend_store("chromadb", tmp_path))
    try:
        count = 8_100
        location = store.location_for("20240101T000000Z-00000001")
        index = store.create(4)
        index.add(np.arange(count, dtype=np.uint64), random_unit_vectors(count, 4))
        store.save(index, location)
        handle = store.client.get_collection(location)  # type: ignore[attr-defined]
        assert handle.configuration_json["hnsw"]["sync_threshold"] == 1620  # 5 writes
        database = sqlite3.connect(tmp_path / "store" / "chroma" / "chroma.sqlite3")
        seqs = {seq for (seq,) in database.execute("SELECT seq_id FROM max_seq_id")}
        queued = database.execute("SELECT COUNT(*) FROM embeddings_queue").fetchone()[0]
        database.close()
        assert len(seqs) == 1 and queued <= 1  # the HNSW segment is as far as the log
        found, _scores = store.open(location).search(random_unit_vectors(count, 4)[8_099], 1)
        assert int(found[0]) == 8_099
    finally:
        store.close()


def test_milvus_builds_its_index_once_with_our_parameters(tmp_path: Path) -> None:
    """Milvus Lite's AUTOINDEX is spelled out as HNSW with the store's M and
    efConstruction; indexing or renaming a second time (what a resent RPC does)
    is not an error."""
    store = next(backend_store("milvus", tmp_path, ef_construction=64))
    try:
        location = store.location_for("20240101T000000Z-00000001")
        index = store.create(8)
        index.add(np.arange(50, dtype=np.uint64), random_unit_vectors(50, 8))
        store.save(index, location)
        client = store.client  # type: ignore[attr-defined]
        described = client.describe_index(location, "vec")
        assert described["index_type"] == "HNSW"
        assert described["params"] == {"M": 16, "efConstruction": 64}
        store._build_index(location)  # type: ignore[attr-defined]
        temp = f"{location}__tmp_0001"
        client.rename_collection(location, temp)
        client.rename_collection(temp, location)  # the first RPC of two did it
        store._rename(temp, location)  # type: ignore[attr-defined]
        assert store.list_locations() == [location]
        found, _scores = store.open(location).search(random_unit_vectors(50, 8)[7], 1)
        assert int(found[0]) == 7
    finally:
        store.close()
