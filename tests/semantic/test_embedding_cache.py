"""The shared embedding cache: concurrent writers, damage, LRU bounds, reuse across copies."""

from __future__ import annotations

import shutil
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest
from processes import run_in_processes

from tldr._exceptions import ConfigError
from tldr.paths import embedding_cache_file
from tldr.semantic import build_semantic_index
from tldr.semantic.indexing.embedding_cache import EmbeddingCache, cache_stats, prune

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / "mini"


def _cache(path: Path, model: str = "m", dimension: int = 4) -> EmbeddingCache:
    return EmbeddingCache(path, model_id=model, text_format="t1", dimension=dimension)


def test_round_trip_is_keyed_by_model_and_text_format(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    cache = _cache(path)
    cache.put_many([("h1", np.arange(4, dtype=np.float32))])
    assert np.array_equal(cache.get_many(["h1", "h2"])["h1"], np.arange(4, dtype=np.float32))
    other_model = _cache(path, model="other")
    other_format = EmbeddingCache(path, model_id="m", text_format="t2", dimension=4)
    assert other_model.get_many(["h1"]) == {} and other_format.get_many(["h1"]) == {}
    for each in (cache, other_model, other_format):
        each.close()


def test_a_model_distilled_again_is_not_served_its_predecessors_vectors(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    first = EmbeddingCache(path, model_id="static:m", text_format="t1", dimension=4, revision="a")
    first.put_many([("h1", np.arange(4, dtype=np.float32))])
    again = EmbeddingCache(path, model_id="static:m", text_format="t1", dimension=4, revision="b")
    same = EmbeddingCache(path, model_id="static:m", text_format="t1", dimension=4, revision="a")
    assert again.get_many(["h1"]) == {}
    assert np.array_equal(same.get_many(["h1"])["h1"], np.arange(4, dtype=np.float32))
    for each in (first, again, same):
        each.close()


def test_a_build_with_other_weights_embeds_again(tmp_path: Path) -> None:
    from tldr.semantic.models.embedders import HashingEmbedder

    class Revised(HashingEmbedder):
        def __init__(self, revision: str) -> None:
            super().__init__(256)
            self.revision = revision

    project = Path(shutil.copytree(MINI, tmp_path / "mini"))
    first = build_semantic_index(project, model="hash-256", embedder=Revised("a"))
    assert first.embedded == first.units > 0
    redistilled = build_semantic_index(project, model="hash-256", embedder=Revised("b"),
                                       rebuild=True)
    assert redistilled.embedded == first.units
    same = build_semantic_index(project, model="hash-256", embedder=Revised("b"), rebuild=True)
    assert same.embedded == 0


def test_garbage_cache_file_is_moved_aside_and_the_build_succeeds(tmp_path: Path,
                                                                   caplog) -> None:
    path = embedding_cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    project = Path(shutil.copytree(MINI, tmp_path / "mini"))
    report = build_semantic_index(project, model="hash-256")
    assert report.status == "built" and report.units > 0
    aside = list(path.parent.glob("embeddings.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert "is damaged" in caplog.text and "\n" not in caplog.records[-1].getMessage()
    assert cache_stats(path)["vectors"] == report.units


def test_an_unwritable_cache_dir_is_one_line_error(tmp_path: Path, monkeypatch) -> None:
    from tldr._exceptions import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="TLDR_EMBEDDING_CACHE"):
        _cache(blocker / "sub" / "e.sqlite")


def test_cache_with_an_old_schema_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
    db.commit()
    db.close()
    cache = _cache(path)
    cache.put_many([("h", np.ones(4, dtype=np.float32))])
    assert "h" in cache.get_many(["h"])
    cache.close()


def test_least_recently_used_vectors_are_evicted_past_the_limit(tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("TLDR_EMBEDDING_CACHE_MAX_MB", "0.5")
    path = tmp_path / "e.sqlite"
    cache = _cache(path, dimension=256)
    vector = np.ones(256, dtype=np.float32)
    cache.put_many((f"old{i}", vector) for i in range(300))
    cache._db.execute("UPDATE vectors SET used = 1")  # long unused
    cache._db.commit()
    cache.put_many((f"new{i}", vector) for i in range(300))
    stats = cache_stats(path)
    assert stats["live_bytes"] <= 0.5 * 1024 * 1024
    kept = cache.get_many([f"new{i}" for i in range(300)] + [f"old{i}" for i in range(300)])
    assert all(f"new{i}" in kept for i in range(300))
    assert sum(key.startswith("old") for key in kept) < 300
    cache.close()
    before = path.stat().st_size
    result = prune(path, max_mb=1 / 16)
    assert result["evicted"] > 0 and cache_stats(path)["live_bytes"] <= 64 * 1024
    assert path.stat().st_size < before


def _on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _filled(path: Path, count: int = 3000) -> None:
    cache = _cache(path, dimension=256)
    cache.put_many((f"h{i}", np.full(256, i, dtype=np.float32)) for i in range(count))
    cache.close()


def test_prune_gives_the_freed_space_back_to_the_file_system(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    _filled(path)
    before = _on_disk(path)
    assert before > 2 * 1024 * 1024
    result = prune(path, max_mb=1 / 16)
    after = _on_disk(path)
    # Not one page (what a single step of `PRAGMA incremental_vacuum` frees):
    # the file shrinks to about what is still in use.
    assert after <= 64 * 1024 + 16 * 4096
    assert result["freed_bytes"] == before - after


def test_prune_shrinks_a_cache_made_without_auto_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA auto_vacuum=NONE")
    db.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, space TEXT NOT NULL,"
               " vector BLOB NOT NULL, used INTEGER NOT NULL)")
    db.commit()
    db.close()
    _filled(path)
    before = _on_disk(path)
    result = prune(path, max_mb=0)
    assert result["evicted"] == 3000
    assert _on_disk(path) <= 16 * 4096
    assert result["freed_bytes"] == before - _on_disk(path)
    cache = _cache(path, dimension=256)  # still a working cache
    cache.put_many([("h", np.ones(256, dtype=np.float32))])
    assert "h" in cache.get_many(["h"])
    cache.close()


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_prune_rejects_a_bound_that_is_not_a_size(tmp_path: Path, bad: float) -> None:
    path = tmp_path / "e.sqlite"
    _filled(path, 10)
    with pytest.raises(ConfigError, match="zero or more"):
        prune(path, max_mb=bad)
    assert cache_stats(path)["vectors"] == 10  # nothing evicted


def _writer(path: str, worker: int, count: int, overlap: int) -> None:
    cache = EmbeddingCache(Path(path), model_id="m", text_format="t1", dimension=8)
    for start in range(0, count, 50):
        batch = []
        for i in range(start, min(start + 50, count)):
            number = i if i < overlap else f"{worker}-{i}"
            value = zlib.crc32(str(number).encode()) % 1000
            batch.append((f"h{number}", np.full(8, value, dtype=np.float32)))
        cache.put_many(batch)
        cache.get_many(digest for digest, _ in batch)
    cache.close()


def test_concurrent_writers_in_processes_lose_and_corrupt_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"
    run_in_processes(_writer, [(str(path), worker, 2000, 1000) for worker in range(3)], 120)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 1000 + 3 * 1000
    db.close()
    cache = _cache(path, dimension=8)
    found = cache.get_many(f"h{i}" for i in range(1000))
    assert len(found) == 1000
    assert all(found[f"h{i}"][0] == zlib.crc32(str(i).encode()) % 1000 for i in range(1000))
    cache.close()


def _build(project: str) -> None:
    from tldr.semantic import build_semantic_index

    build_semantic_index(project, model="hash-256")


def test_two_concurrent_builds_over_overlapping_content(tmp_path: Path) -> None:
    """Two processes index copies of one project (one file differs) at once."""
    first = Path(shutil.copytree(MINI, tmp_path / "a"))
    second = Path(shutil.copytree(MINI, tmp_path / "b"))
    (second / "src" / "extra.py").write_text("def only_in_b(x):\n    return x + 1\n")
    run_in_processes(_build, [(str(first),), (str(second),)], 120)
    path = embedding_cache_file()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    # Every vector either build needed is in the cache, once.
    from tldr.paths import IndexPaths
    from tldr.semantic.storage import read_metadata, read_units_file
    from tldr.semantic.text import TEXT_FORMAT

    cache = EmbeddingCache(path, model_id="hash-256", text_format=TEXT_FORMAT, dimension=256)
    needed: set[str] = set()
    for root in (first, second):
        paths = IndexPaths(root)
        hashes = set(read_units_file(paths, read_metadata(paths)).text_hashes)
        assert len(cache.get_many(hashes)) == len(hashes)
        needed |= hashes
    cache.close()
    assert cache_stats(path)["vectors"] == len(needed)


def test_a_copy_of_an_indexed_project_embeds_nothing(tmp_path: Path) -> None:
    from tldr.semantic.models import embedders

    calls: list[int] = []
    original = embedders.get_embedder

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        embedder = original(*args, **kwargs)
        embed = embedder.embed_documents

        def embed_documents(texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return embed(texts)

        embedder.embed_documents = embed_documents
        return embedder

    roots = [Path(shutil.copytree(MINI, tmp_path / f"copy{n}")) for n in range(2)]
    import tldr.semantic.indexing.pipeline as build_module

    build_module.get_embedder, saved = counting, build_module.get_embedder
    try:
        build_semantic_index(roots[0], model="hash-256")
        first = sum(calls)
        build_semantic_index(roots[1], model="hash-256")
    finally:
        build_module.get_embedder = saved
    assert first > 0 and sum(calls) == first  # the copy embedded nothing
