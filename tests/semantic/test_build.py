from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from filelock import FileLock

from tldr import IndexBusyError, IndexCorruptError, IndexMissingError
from tldr.paths import IndexPaths
from tldr.semantic import build_semantic_index, is_up_to_date, lexical, semantic_search
from tldr.semantic.storage import KEEP_VERSIONS, read_metadata, read_units_file

MODEL = "hash-256"


def _metadata(root: Path):
    metadata = read_metadata(IndexPaths(root))
    assert metadata is not None
    return metadata


def test_first_build_commits_schema_v2(project: Path) -> None:
    report = build_semantic_index(project, model=MODEL)
    assert report.status == "built"
    assert report.units > 5
    raw = json.loads((project / ".tldr/cache/semantic/metadata.json").read_text())
    assert raw["schema_version"] == 2
    for field in (
        "created_at",
        "tldr_version",
        "model",
        "lang",
        "dimension",
        "count",
        "text_format",
        "project_signature",
        "units_file",
    ):
        assert field in raw
    store = raw["vector_store"]
    for field in (
        "backend",
        "format",
        "backend_version",
        "build_id",
        "index_file",
        "previous_index_file",
        "metric_intent",
        "backend_metric",
        "dtype",
        "embeddings_normalized",
        "score_transform",
        "build_params",
    ):
        assert field in store
    assert store["backend"] == "usearch"
    assert store["index_file"] == f"index.{store['build_id']}.usearch"
    assert raw["project_signature"]["kind"] == "fs"
    assert raw["count"] == report.units


def test_second_build_is_a_cheap_no_op(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    before = _metadata(project).vector_store.build_id
    started = time.perf_counter()
    report = build_semantic_index(project)
    assert report.status == "up_to_date"
    assert time.perf_counter() - started < 1.0
    assert _metadata(project).vector_store.build_id == before


def test_rebuild_makes_a_new_build_and_records_the_previous(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    first = _metadata(project).vector_store
    report = build_semantic_index(project, rebuild=True)
    second = _metadata(project).vector_store
    assert report.status == "built"
    assert second.build_id != first.build_id
    assert second.previous_index_file == first.index_file


def test_one_file_change_embeds_only_changed_units(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    paths = IndexPaths(project)
    old = read_units_file(paths, _metadata(project))
    retry = project / "src" / "retry.py"
    retry.write_text(retry.read_text() + "\n\ndef jitter(delay):\n    return delay * 1.5\n")
    report = build_semantic_index(project)
    assert report.status == "updated"
    assert report.extracted_files == 1
    assert 1 <= report.embedded <= 3  # the new function and the changed module unit
    new = read_units_file(paths, _metadata(project))
    old_keys = dict(zip(old.text_hashes, old.keys, strict=True))
    unchanged = [
        key for digest, key in zip(new.text_hashes, new.keys, strict=True) if digest in old_keys
    ]
    assert unchanged and all(
        old_keys[d] == k for d, k in zip(new.text_hashes, new.keys, strict=True) if d in old_keys
    )
    names = {row["name"] for row in semantic_search(project, "jitter delay", k=5)}
    assert "jitter" in names


def test_deleted_file_disappears_from_results(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    (project / "tools" / "lib.rs").unlink()
    build_semantic_index(project)
    files = {row["file"] for row in semantic_search(project, "tokenize words", k=20)}
    assert "tools/lib.rs" not in files


def test_settings_recorded_in_metadata_win_over_defaults(project: Path, monkeypatch) -> None:
    build_semantic_index(project, model="hash-128", lang="python")
    (project / "src" / "new.py").write_text("def added():\n    return 1\n")
    build_semantic_index(project)
    metadata = _metadata(project)
    assert metadata.model == "hash-128"
    assert metadata.lang == ["python"]
    monkeypatch.setenv("TLDR_MODEL", "hash-64")
    build_semantic_index(project)
    assert _metadata(project).model == "hash-64"


def test_gc_keeps_recent_versions_and_the_previous_active(project: Path) -> None:
    for _ in range(KEEP_VERSIONS + 3):
        build_semantic_index(project, model=MODEL, rebuild=True)
    semantic_dir = project / ".tldr/cache/semantic"
    metadata = _metadata(project)
    indexes = sorted(p.name for p in semantic_dir.glob("index.*.usearch"))
    assert len(indexes) == KEEP_VERSIONS
    assert metadata.vector_store.index_file in indexes
    assert metadata.vector_store.previous_index_file in indexes
    assert len(list(semantic_dir.glob("units.*.msgpack"))) == KEEP_VERSIONS


def test_gc_removes_temp_files_of_dead_builds_at_once(project: Path) -> None:
    # GC holds the lock, and every writer of temp files holds it too: a temp
    # file found then was left by a killed build, however young.
    build_semantic_index(project, model=MODEL)
    semantic_dir = project / ".tldr/cache/semantic"
    old = semantic_dir / "index.20200101T000000Z-deadbeef.usearch.tmp-1234"
    fresh = semantic_dir / "metadata.json.tmp-5678"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    stamp = time.time() - 2 * 24 * 3600
    os.utime(old, (stamp, stamp))
    build_semantic_index(project, rebuild=True)
    assert not old.exists()
    assert not fresh.exists()


def test_failure_mid_build_keeps_previous_index_active(project: Path, monkeypatch) -> None:
    build_semantic_index(project, model=MODEL)
    before = _metadata(project).vector_store.build_id

    def broken_save(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(lexical.LexicalIndex, "save", broken_save)
    with pytest.raises(OSError):
        build_semantic_index(project, rebuild=True)
    assert _metadata(project).vector_store.build_id == before
    assert semantic_search(project, "parse config", k=3)
    assert (project / ".tldr/cache/semantic/.dirty").exists()


def test_dirty_marker_forces_a_rebuild(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    (project / ".tldr/cache/semantic/.dirty").touch()
    assert not is_up_to_date(project)
    assert build_semantic_index(project).status != "up_to_date"
    assert not (project / ".tldr/cache/semantic/.dirty").exists()


def test_busy_lock_with_zero_timeout(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    with FileLock(str(project / ".tldr/cache/semantic/.lock")):
        with pytest.raises(IndexBusyError):
            build_semantic_index(project, rebuild=True, lock_timeout=0)


def test_skipped_files_are_counted(project: Path, monkeypatch) -> None:
    (project / "src" / "blob.py").write_bytes(b"\x00\x01binary")
    (project / "src" / "latin.py").write_bytes(b"x = '\xe9\xff'\n")
    (project / "src" / "noise.py").write_bytes(b"\xe9\xff\xfe\xfd = 1\n")
    (project / "src" / "huge.py").write_text("x = 1\n" * 5000)
    monkeypatch.setenv("TLDR_MAX_FILE_BYTES", "10000")
    report = build_semantic_index(project, model=MODEL)
    assert report.skipped.get("binary") == 1
    assert report.skipped.get("too_large") == 1
    assert report.skipped.get("undecodable") == 1  # noise.py; latin.py is indexed
    assert report.replaced == 1
    assert _metadata(project).files_skipped == report.skipped
    assert _metadata(project).files_replaced == 1


def test_syntax_errors_give_partial_units(project: Path) -> None:
    (project / "src" / "broken.py").write_text(
        "def good_before():\n    return 1\n\n"
        "def broken(:\n    pass\n\n"
        "def good_after():\n    return 2\n"
    )
    build_semantic_index(project, model=MODEL)
    names = {unit.name for unit in read_units_file(IndexPaths(project), _metadata(project)).units}
    assert {"good_before", "good_after"} <= names


def test_missing_index_names_the_command(project: Path) -> None:
    with pytest.raises(IndexMissingError, match="tldrf semantic index"):
        semantic_search(project, "anything")


def test_corrupt_metadata_says_rebuild(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    (project / ".tldr/cache/semantic/metadata.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        semantic_search(project, "anything")


def test_missing_referenced_file_says_rebuild(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    metadata = _metadata(project)
    (project / ".tldr/cache/semantic" / metadata.units_file).unlink()
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        semantic_search(project, "anything")


def test_backend_failure_mid_build_keeps_previous_index_active(project: Path, monkeypatch) -> None:
    from tldr import BackendError
    from tldr.vector_store._usearch import UsearchVectorStore

    build_semantic_index(project, model=MODEL)
    before = _metadata(project).vector_store.build_id

    def failing_save(self, index, location):
        raise BackendError("the backend broke while writing")

    monkeypatch.setattr(UsearchVectorStore, "save", failing_save)
    with pytest.raises(BackendError):
        build_semantic_index(project, rebuild=True)
    assert _metadata(project).vector_store.build_id == before
    assert semantic_search(project, "merge settings", k=1)[0]["name"] == "merge_settings"


def test_units_with_the_same_text_are_embedded_once(tmp_path: Path) -> None:
    from tldr.semantic.models.embedders import HashingEmbedder

    class RecordingEmbedder(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__(256)
            self.texts: list[str] = []

        def embed_documents(self, texts):
            self.texts += texts
            return super().embed_documents(texts)

    # A redefinition: two units, one text.
    (tmp_path / "twins.py").write_text("def twin():\n    return 1\n\n\ndef twin():\n    return 1\n")
    embedder = RecordingEmbedder()
    report = build_semantic_index(tmp_path, model=MODEL, embedder=embedder)
    units = read_units_file(IndexPaths(tmp_path), _metadata(tmp_path))
    twins = [h for u, h in zip(units.units, units.text_hashes, strict=True) if u.name == "twin"]
    assert len(twins) == 2 and twins[0] == twins[1]
    assert len(embedder.texts) == len(set(embedder.texts)) == report.embedded
    # Both have their vector: the dense retriever alone finds both.
    hits = semantic_search(tmp_path, "twin", k=5, mode="dense")
    scores = [row["score"] for row in hits if row["name"] == "twin"]
    assert len(scores) == 2 and _metadata(tmp_path).dense is None
