"""Project builds on real engines: a shared index followed by readers, a server that dies.

A real `chroma run` on 127.0.0.1 (no mocks); Milvus Lite from a temp file;
Qdrant embedded (local mode) in a temp folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_servers import ChromaServer, clone_with_backend, write_markers
from processes import run_in_processes

from tldr._exceptions import BackendError, ConfigError, IndexMissingError
from tldr.semantic import build_semantic_index
from tldr.semantic.query.search import Searcher
from tldr.semantic.shared import follow_shared_index
from tldr.vector_store import get_backend

ROUNDS = 4


def _publisher(root: str, done: str) -> None:
    build_ids = []
    for generation in range(ROUNDS):
        write_markers(Path(root), generation)
        report = build_semantic_index(root)
        assert report.status in ("built", "updated"), report.status
        build_ids.append(report.build_id)
        time.sleep(1.5)  # readers follow within this; GC keeps the last 3 builds
    Path(done).write_text(json.dumps(build_ids))


def _reader(root: str, done: str, log: str) -> None:
    searcher = Searcher(root)
    seen: list[str] = []
    deadline = time.monotonic() + 240
    published: list[str] = []
    while time.monotonic() < deadline:
        try:
            follow_shared_index(root)
        except IndexMissingError:
            time.sleep(0.2)  # the first publish has not landed yet
            continue
        build = searcher.build
        build_id = build.metadata.vector_store.build_id
        # One build: its collection, and every key of it is a unit of this build.
        assert build.vector_index._name.endswith(build_id)
        assert set(build.vector_index.keys().tolist()) == set(build.sorted_keys.tolist())
        generation = sum(1 for unit in build.units if unit.name.startswith("marker_")) - 1
        rows = searcher.search(f"marker_{generation}", k=3, mode="hybrid")
        assert rows and rows[0]["name"] == f"marker_{generation}", rows
        dense = searcher.run(f"marker {generation}", k=3, mode="dense")
        assert dense.rows and not dense.warnings
        if not seen or seen[-1] != build_id:
            seen.append(build_id)
        if os.path.exists(done):
            published = json.loads(Path(done).read_text())
            if build_id == published[-1]:
                break
        time.sleep(0.1)
    Path(log).write_text(json.dumps(seen))
    assert published and seen[-1] == published[-1], (seen, published)


def test_two_readers_follow_a_publisher_on_one_server(tmp_path: Path, chroma: ChromaServer
                                                      ) -> None:
    """A publisher rebuilds ROUNDS times; two readers on their own clones follow it.

    No reader errs, each read comes from one build (its collection and units
    agree), both end on the last published build and never go backwards.
    """
    common = {"url": chroma.url, "shared_index": "team"}
    publisher = clone_with_backend(tmp_path, "ci", "chromadb", shared_role="publish", **common)
    readers = [clone_with_backend(tmp_path, f"dev{i}", "chromadb", **common) for i in (1, 2)]
    done = tmp_path / "published.json"
    logs = [tmp_path / f"reader{i}.json" for i in (1, 2)]
    run_in_processes(
        _publisher_or_reader,
        [("publish", str(publisher), str(done), "")]
        + [("read", str(root), str(done), str(log)) for root, log in zip(readers, logs,
                                                                         strict=True)],
        timeout=300,
    )
    published = json.loads(done.read_text())
    assert len(set(published)) == ROUNDS
    for log in logs:
        seen = json.loads(log.read_text())
        assert seen[-1] == published[-1]
        assert [published.index(b) for b in seen] == sorted(published.index(b) for b in seen)
    # A reader's own `semantic index` follows instead of building.
    report = build_semantic_index(readers[0])
    assert report.status == "up_to_date" and report.build_id == published[-1]
    # The publisher's GC kept its last builds only, and their files alone.
    store = get_backend("chromadb")(store_dir=tmp_path, settings=common)
    assert len(store.list_locations()) <= 3
    assert {name.split(".")[1] for name in store.blob_names()} <= {  # type: ignore[attr-defined]
        loc.split("team_")[1] for loc in store.list_locations()
    }
    store.close()


def _publisher_or_reader(role: str, root: str, done: str, log: str) -> None:
    if role == "publish":
        _publisher(root, done)
    else:
        _reader(root, done, log)


def test_follow_without_a_shared_index_or_publish_says_so(tmp_path: Path,
                                                          chroma: ChromaServer) -> None:
    plain = clone_with_backend(tmp_path, "plain", "chromadb", url=chroma.url)
    with pytest.raises(ConfigError, match="shared_index"):
        follow_shared_index(plain)
    reader = clone_with_backend(tmp_path, "reader", "chromadb", url=chroma.url,
                                shared_index="nobody")
    with pytest.raises(IndexMissingError, match="nothing is published"):
        build_semantic_index(reader)


def _big(root: Path, files: int = 12, per_file: int = 400) -> None:
    for n in range(files):
        (root / "src" / f"bulk_{n}.py").write_text("".join(
            f"def bulk_{n}_{i}(x):\n    return x * {i} + {n}\n\n" for i in range(per_file)
        ))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    tldrf = Path(sys.executable).parent / "tldrf"
    return subprocess.run([str(tldrf), *args], capture_output=True, text=True, timeout=300)


def test_server_killed_mid_build(tmp_path: Path, chroma: ChromaServer) -> None:
    """Kill the server during a build: the build fails in one line, search keeps answering
    from the last good build (lexically, saying the server is down), and once the server
    is back the next build succeeds."""
    root = clone_with_backend(tmp_path, "proj", "chromadb", url=chroma.url)
    build_semantic_index(root)
    warm = Searcher(root)  # as a daemon holds it
    good = warm.build.metadata.vector_store.build_id
    _big(root)
    build = subprocess.Popen(
        [str(Path(sys.executable).parent / "tldrf"), "semantic", "index", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    store = get_backend("chromadb")(store_dir=tmp_path, settings={"url": chroma.url})
    deadline = time.monotonic() + 120
    uploading = False
    while time.monotonic() < deadline and build.poll() is None and not uploading:
        uploading = any("__tmp_" in name for name in store._names())  # type: ignore[attr-defined]
        time.sleep(0.05)
    store.close()
    assert uploading, "the build never started uploading"
    chroma.kill()
    _out, err = build.communicate(timeout=120)
    assert build.returncode != 0
    assert "Traceback" not in err and "not reachable" in err, err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("tldrf: error: chromadb at"), err

    for searcher in (warm, Searcher(root)):  # loaded before the kill, and after it
        outcome = searcher.run("parse config", k=3)
        assert outcome.rows and searcher.build.metadata.vector_store.build_id == good
        assert any("not reachable" in w for w in outcome.warnings), outcome.warnings
        with pytest.raises(BackendError, match="not reachable"):
            searcher.run("parse config", k=3, mode="dense")
    cli = _cli("semantic", "search", "parse config", "-p", str(root), "--no-daemon")
    assert cli.returncode == 0 and cli.stdout.strip(), cli.stderr
    assert "Traceback" not in cli.stderr and "not reachable" in cli.stderr, cli.stderr

    chroma.start()  # same path and port: the last good build is still there
    assert not warm.run("parse config", k=3).warnings  # the warm searcher reconnects
    after = _cli("semantic", "index", str(root))
    assert after.returncode == 0, after.stderr
    fresh = Searcher(root)
    assert fresh.build.metadata.vector_store.build_id != good
    outcome = fresh.run("bulk_3_7", k=3, mode="dense")
    assert outcome.rows and not outcome.warnings


def test_milvus_lite_build_search_and_update(tmp_path: Path) -> None:
    """A project on Milvus Lite: build, search, change a file, incremental update."""
    if not get_backend("milvus").is_available()[0]:
        pytest.skip("pymilvus is not installed: pip install 'tldrf[milvus]'")
    root = clone_with_backend(tmp_path, "proj", "milvus")
    first = build_semantic_index(root)
    write_markers(root, 2)
    second = build_semantic_index(root)
    assert second.build_id != first.build_id
    searcher = Searcher(root)
    rows = searcher.search("marker_2", k=3)
    assert rows[0]["name"] == "marker_2"
    assert not searcher.run("marker number", k=3, mode="dense").warnings


def test_milvus_shared_index_publish_and_follow(tmp_path: Path) -> None:
    """The shared-index flow on Milvus: publish, follow, republish, follow again.

    Milvus Lite admits one process per file, so publisher and reader share
    this process (and its client); the server path uses the same calls.
    """
    if not get_backend("milvus").is_available()[0]:
        pytest.skip("pymilvus is not installed: pip install 'tldrf[milvus]'")
    common = {"uri": str(tmp_path / "team.db"), "shared_index": "team"}
    publisher = clone_with_backend(tmp_path, "ci", "milvus", shared_role="publish", **common)
    reader = clone_with_backend(tmp_path, "dev", "milvus", **common)
    with pytest.raises(IndexMissingError):
        follow_shared_index(reader)
    searcher = Searcher(reader)
    for generation in range(2):
        write_markers(publisher, generation)
        published = build_semantic_index(publisher).build_id
        followed = build_semantic_index(reader)  # a follower's index = follow
        assert (followed.status, followed.build_id) == ("followed", published)
        assert searcher.build.metadata.vector_store.build_id == published
        dense = searcher.run(f"marker number {generation}", k=3, mode="dense")
        assert dense.rows and not dense.warnings
        assert searcher.search(f"marker_{generation}", k=1)[0]["name"] == f"marker_{generation}"
    assert build_semantic_index(reader).status == "up_to_date"


def _qdrant_publish(root: str, generation: int, out: str) -> None:
    write_markers(Path(root), generation)
    report = build_semantic_index(root)
    assert report.status in ("built", "updated"), report.status
    Path(out).write_text(report.build_id)


def _qdrant_follow(root: str, generation: int, out: str) -> None:
    report = build_semantic_index(root)  # a follower's index = follow
    searcher = Searcher(root)
    build = searcher.build
    assert build.metadata.vector_store.build_id == report.build_id
    assert build.vector_index._name.endswith(report.build_id)
    assert set(build.vector_index.keys().tolist()) == set(build.sorted_keys.tolist())
    dense = searcher.run(f"marker number {generation}", k=3, mode="dense")
    assert dense.rows and not dense.warnings
    assert searcher.search(f"marker_{generation}", k=1)[0]["name"] == f"marker_{generation}"
    assert build_semantic_index(root).status == "up_to_date"
    Path(out).write_text(json.dumps([report.status, report.build_id]))


def test_qdrant_embedded_publish_and_follow_across_processes(tmp_path: Path) -> None:
    """Qdrant's local mode: a publisher process, then a follower process, twice.

    Local mode admits one process per folder at a time, so each runs after
    the other has exited (closing its client); the server path, untested
    here, uses the same calls.
    """
    if not get_backend("qdrant").is_available()[0]:
        pytest.skip("qdrant-client is not installed: pip install 'tldrf[qdrant]'")
    common = {"path": str(tmp_path / "team-qdrant"), "shared_index": "team"}
    publisher = clone_with_backend(tmp_path, "ci", "qdrant", shared_role="publish", **common)
    reader = clone_with_backend(tmp_path, "dev", "qdrant", **common)
    published: list[str] = []
    for generation in range(2):
        out, seen = tmp_path / f"published-{generation}", tmp_path / f"followed-{generation}"
        run_in_processes(_qdrant_publish, [(str(publisher), generation, str(out))], timeout=300)
        run_in_processes(_qdrant_follow, [(str(reader), generation, str(seen))], timeout=300)
        published.append(out.read_text())
        assert json.loads(seen.read_text()) == ["followed", published[-1]]
    assert published[0] != published[1]
    store = get_backend("qdrant")(store_dir=tmp_path, settings=common)
    try:
        assert len(store.commits()) == 2  # type: ignore[attr-defined]
        assert store.list_locations() == sorted(  # both builds kept (GC keeps 3)
            store.location_for(build_id) for build_id in published)
    finally:
        store.close()
