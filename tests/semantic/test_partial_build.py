"""Partial builds: a first build commits units and the lexical index before it
embeds, then vectors as they come (specs/010-lexical-first.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tldr.paths import IndexPaths
from tldr.semantic import build_semantic_index, is_up_to_date, semantic_search
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.models.embedders import HashingEmbedder
from tldr.semantic.query.loaded_build import LoadedBuild
from tldr.semantic.storage import read_metadata
from tldr.units import walk_project

MODEL = "hash-256"


class WatchingEmbedder(HashingEmbedder):
    """The hash model, checking at every batch what a reader would see committed."""

    def __init__(self, root: Path, *, fail_after: int | None = None) -> None:
        super().__init__(256)
        self.paths = IndexPaths(root)
        self.fail_after = fail_after
        self.batches = 0
        self.embedded_texts = 0
        self.seen: list[tuple[int, int]] = []  # (embedded, total) of the committed build

    def embed_documents(self, texts):
        self.batches += 1
        if self.fail_after is not None and self.batches > self.fail_after:
            raise RuntimeError("killed mid-build")
        metadata = read_metadata(self.paths)
        assert metadata is not None and metadata.dense is not None
        loaded = LoadedBuild.open(self.paths, metadata, view=False)
        # One build's units and that build's vectors: every vector key is a unit key.
        assert len(loaded.units) == metadata.count == metadata.dense.total
        assert len(loaded.vector_index) == metadata.dense.embedded
        assert loaded.lexical_index is not None
        self.seen.append((metadata.dense.embedded, metadata.dense.total))
        self.embedded_texts += len(texts)
        return super().embed_documents(texts)


@pytest.fixture
def partial_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches, a partial commit after each, even for a small project."""
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 4)
    monkeypatch.setattr(build_module, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(build_module, "_EMBED_BATCH", 4)


def test_first_build_commits_partial_builds_while_it_embeds(
    project: Path, partial_every_batch: None
) -> None:
    embedder = WatchingEmbedder(project)
    report = build_semantic_index(project, model=MODEL, embedder=embedder)
    assert report.status == "built"
    assert embedder.seen[0][0] == 0  # lexical first: committed before any vector
    embedded = [seen[0] for seen in embedder.seen]
    assert embedded == sorted(embedded) and embedded[-1] > 0
    # + the commit of every unit made before the graph is resolved
    assert report.partial_commits == len(embedder.seen) + 1
    assert "first_commit" in report.timings
    metadata = read_metadata(IndexPaths(project))
    assert metadata is not None and metadata.dense is None
    assert is_up_to_date(project)


def test_every_unit_is_committed_before_the_graph_is_resolved(
    project: Path, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At scale the graph takes a while: search covers the whole project first."""
    seen = []
    resolve = build_module._Build._graph

    def graph_after_the_commit(self, stamps):
        seen.append(read_metadata(IndexPaths(project)))
        return resolve(self, stamps)

    monkeypatch.setattr(build_module._Build, "_graph", graph_after_the_commit)
    report = build_semantic_index(project, model=MODEL)
    [committed] = seen
    assert committed is not None and committed.dense is not None
    assert committed.count == report.units and committed.dense.files_pending == 0
    assert committed.graph_file is None
    metadata = read_metadata(IndexPaths(project))
    assert metadata is not None and metadata.dense is None and metadata.graph_file


def test_a_partial_build_answers_lexically_and_is_not_up_to_date(
    project: Path, partial_every_batch: None
) -> None:
    with pytest.raises(RuntimeError, match="killed"):
        build_semantic_index(project, model=MODEL, embedder=WatchingEmbedder(project,
                                                                              fail_after=2))
    metadata = read_metadata(IndexPaths(project))
    assert metadata is not None and metadata.dense is not None
    assert 0 < metadata.dense.embedded < metadata.dense.total
    assert not is_up_to_date(project)
    rows = semantic_search(project, "parse config", mode="lexical", k=3)
    assert rows

    # The next build carries on: what was embedded comes from the cache.
    finisher = WatchingEmbedder(project)
    report = build_semantic_index(project, model=MODEL, embedder=finisher)
    assert report.status == "built"
    assert finisher.embedded_texts == metadata.dense.total - metadata.dense.embedded
    final = read_metadata(IndexPaths(project))
    assert final is not None and final.dense is None
    assert is_up_to_date(project)


def test_updates_of_a_complete_index_commit_no_partial_build(
    project: Path, partial_every_batch: None
) -> None:
    build_semantic_index(project, model=MODEL)
    for number, path in enumerate(sorted(project.rglob("*.py"))[:3]):
        path.write_text(path.read_text() + f"\n\ndef brand_new_helper_{number}():\n    return 1\n")
    report = build_semantic_index(project, model=MODEL)
    assert report.status == "updated"
    assert report.partial_commits == 0
    report = build_semantic_index(project, model=MODEL, rebuild=True)
    assert report.partial_commits == 0  # the complete index keeps serving meanwhile


def test_small_builds_commit_once(project: Path) -> None:
    report = build_semantic_index(project, model=MODEL)
    assert report.units < build_module.PARTIAL_MIN_UNITS
    assert report.partial_commits == 0


def test_a_large_project_commits_the_files_parsed_so_far(
    project: Path, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "PARTIAL_FIRST_S", 0.0)
    monkeypatch.setattr(build_module, "_EXTRACT_CHUNK", 1)
    committed: list[tuple[int, int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "commit":
            metadata = read_metadata(IndexPaths(project))
            assert metadata is not None and metadata.dense is not None
            loaded = LoadedBuild.open(IndexPaths(project), metadata, view=False)
            assert len(loaded.units) == metadata.dense.total == metadata.count
            committed.append((metadata.files_indexed, metadata.dense.files_pending,
                              metadata.dense.embedded))

    report = build_semantic_index(project, model=MODEL, progress=progress)
    first_files, first_pending, first_embedded = committed[0]
    assert first_pending > 0 and first_embedded == 0  # parsing goes on
    assert first_files < report.files
    assert committed[-1][1] == 0  # later commits have every file
    assert report.partial_commits == len(committed)


def test_no_partial_commit_once_most_bytes_are_parsed(
    project: Path, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "PARTIAL_FIRST_S", 0.0)  # else due at every file
    monkeypatch.setattr(build_module, "_EXTRACT_CHUNK", 1)
    sizes = [source.size for source in walk_project(project).files]
    committed_files: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        metadata = read_metadata(IndexPaths(project))
        if stage == "commit" and metadata is not None and metadata.dense.files_pending:
            committed_files.append(metadata.files_indexed)

    build_semantic_index(project, model=MODEL, progress=progress)
    assert committed_files
    assert all(sum(sizes[:files]) < 0.6 * sum(sizes) for files in committed_files)
    assert sum(sizes[:len(sizes) - 1]) >= 0.6 * sum(sizes)  # a later commit was due


def test_carrying_on_never_serves_fewer_vectors(
    project: Path, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "PARTIAL_FIRST_S", 0.0)
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 1)
    monkeypatch.setattr(build_module, "_EXTRACT_CHUNK", 1)
    with pytest.raises(RuntimeError, match="killed"):
        build_semantic_index(project, model=MODEL, embedder=WatchingEmbedder(project,
                                                                              fail_after=1))
    metadata = read_metadata(IndexPaths(project))
    assert metadata is not None and metadata.dense is not None and metadata.dense.embedded > 0
    committed: list[int] = []
    build_semantic_index(project, model=MODEL, progress=lambda stage, done, total: (
        committed.append(done) if stage == "commit" else None))
    assert committed and min(committed) >= metadata.dense.embedded


def test_embedding_progress_counts_as_the_commits_do(
    project: Path, partial_every_batch: None
) -> None:
    # Units whose vector is already cached get no model call, but they count:
    # "embedding 1024/1268" beside "committed 1029/1289" read as two builds
    # (issue 21).
    build_semantic_index(project, model=MODEL)  # the embedding cache holds these texts
    shutil.rmtree(IndexPaths(project).semantic_dir)
    (project / "fresh.py").write_text("".join(f"def fresh_{n}():\n    return {n}\n\n\n"
                                              for n in range(6)))
    events: list[tuple[str, int, int]] = []
    build_semantic_index(project, model=MODEL, embedder=WatchingEmbedder(project),
                         progress=lambda stage, done, total: events.append((stage, done, total)))
    embeds = [(done, total) for stage, done, total in events if stage == "embed"]
    commits = [(done, total) for stage, done, total in events if stage == "commit"]
    assert embeds and commits
    assert {total for _, total in embeds} == {total for _, total in commits}
    assert embeds[-1][0] == embeds[-1][1]  # every unit has its vector at the end
    assert {done for done, _ in commits} <= {done for done, _ in embeds} | {0}
