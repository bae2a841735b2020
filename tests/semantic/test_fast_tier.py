"""The fast dense tier: partial builds name a static-model index of every unit,
searches fuse it with the full model's vectors, the complete build drops it
(specs/020-fast-tier-and-scale.md)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from static_models import DIMENSION, tiny_static_model

from tldr.paths import IndexPaths
from tldr.semantic import Searcher, build_semantic_index
from tldr.semantic.fast_tier import fast_model_for
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.models import embedders
from tldr.semantic.models.embedders import HashingEmbedder, get_embedder
from tldr.semantic.models.static_embedder import StaticEmbedder
from tldr.semantic.query.loaded_build import LoadedBuild
from tldr.semantic.query.tiers import merge_by_coverage
from tldr.semantic.storage import build_id_of, read_metadata, write_metadata

MODEL = "hash-256"


class KilledAfter(HashingEmbedder):
    """The hash model, dying after `batches` batches (a build killed mid-way)."""

    def __init__(self, batches: int) -> None:
        super().__init__(256)
        self.left = batches

    def embed_documents(self, texts):
        if self.left == 0:
            raise RuntimeError("killed mid-build")
        self.left -= 1
        return super().embed_documents(texts)


@pytest.fixture
def fast_model(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`TLDR_FAST_MODEL` naming a tiny static model of the project's words."""
    name = f"static:{tiny_static_model(tmp_path / 'tiny-static', project)}"
    monkeypatch.setenv("TLDR_FAST_MODEL", name)
    return name


@pytest.fixture
def partial_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 4)
    monkeypatch.setattr(build_module, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(build_module, "_EMBED_BATCH", 4)


def test_the_static_embedder_gives_unit_vectors(fast_model: str) -> None:
    embedder = get_embedder(fast_model)
    assert isinstance(embedder, StaticEmbedder)
    assert embedder.dimension == DIMENSION and embedder.model_id == fast_model
    vectors = embedder.embed_documents(["def parse_config(path)", "qqqq zzzz", ""])
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    fresh = StaticEmbedder(embedder.model_id, embedder.directory, revision=embedder.revision)
    query = fresh.embed_query("def parse_config(path)")
    assert fresh._table is None  # a query reads its own rows, not the table in float32
    np.testing.assert_allclose(query, vectors[0], rtol=1e-6)


def test_the_static_embedder_gives_model2vecs_vectors(fast_model: str, project: Path) -> None:
    """The sparse mean of each text is model2vec's own `encode`, unknown words and cuts alike."""
    embedder = get_embedder(fast_model)
    assert isinstance(embedder, StaticEmbedder)
    texts = [path.read_text() for path in sorted(project.rglob("*.py"))]
    texts += ["qqqq parse zzzz", "one", " ".join(texts) * 40]  # the last is cut at max_length
    ours = embedder.embed_documents(texts)
    theirs = embedder._model.encode(texts, use_multiprocessing=False)
    norms = np.linalg.norm(theirs, axis=1, keepdims=True)
    assert (norms[:, 0] > 0).sum() >= 3
    np.testing.assert_allclose(ours, np.where(norms > 0, theirs / np.maximum(norms, 1e-30),
                                              np.eye(1, theirs.shape[1])), atol=2e-6)


def test_which_builds_get_a_fast_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast_model_for("hash-256") is None  # not a model with bundled weights
    assert fast_model_for("all-MiniLM-L6-v2:onnx-int8") == "static:all-MiniLM-L6-v2"
    monkeypatch.setenv("TLDR_FAST_MODEL", "none")
    assert fast_model_for("all-MiniLM-L6-v2") is None
    monkeypatch.setenv("TLDR_FAST_MODEL", "static:/some/dir")
    assert fast_model_for("hash-256") == "static:/some/dir"


def test_partial_builds_name_a_fast_index_of_every_unit(
    project: Path, fast_model: str, partial_every_batch: None
) -> None:
    paths = IndexPaths(project)
    seen: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage != "commit":
            return
        metadata = read_metadata(paths)
        assert metadata is not None and metadata.dense is not None
        assert metadata.fast is not None and metadata.fast.model == fast_model
        assert metadata.fast.index_file in metadata.artifacts  # stamped like the others
        loaded = LoadedBuild.open(paths, metadata, view=False)
        assert len(loaded.fast_index) == metadata.fast.count == metadata.count
        assert sorted(loaded.fast_index.keys().tolist()) == loaded.sorted_keys.tolist()
        assert int(loaded.has_full.sum()) == metadata.dense.embedded
        seen.append((metadata.dense.embedded, metadata.count))

    report = build_semantic_index(project, model=MODEL, progress=progress)
    assert report.partial_commits == len(seen) > 1
    assert "fast" in report.timings
    final = read_metadata(paths)
    assert final is not None and final.dense is None and final.fast is None
    # Partial commits of one snapshot share one fast file (hard links).
    inodes = {(paths.semantic_dir / name).stat().st_ino
              for name in (p.name for p in paths.semantic_dir.glob("fast.*"))}
    assert len(inodes) <= 1

    # A complete build of its own: every fast file is collected with its build.
    build_semantic_index(project, model=MODEL, rebuild=True)
    build_semantic_index(project, model=MODEL, rebuild=True)
    kept = {build_id_of(p.name) for p in paths.semantic_dir.glob("index.*")}
    assert all(build_id_of(p.name) in kept for p in paths.semantic_dir.glob("fast.*"))


def test_without_hard_links_each_commit_copies_the_files_written_once(
    project: Path, fast_model: str, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast matrix and the graph are let go once written: later commits copy the files."""
    import os

    from tldr.graph import load_graph
    from tldr.semantic.indexing.commit import Snapshot

    def no_links(source: object, target: object) -> None:
        raise OSError("no hard links on this file system")

    monkeypatch.setattr(os, "link", no_links)
    paths = IndexPaths(project)
    snapshots: list[Snapshot] = []
    commit = build_module._Build._commit

    def watched(self, store, index, snapshot, dense):
        snapshots.append(snapshot)
        return commit(self, store, index, snapshot, dense)

    monkeypatch.setattr(build_module._Build, "_commit", watched)
    seen: list[tuple[str | None, str | None]] = []

    def progress(stage: str, done: int, total: int) -> None:
        metadata = read_metadata(paths)
        if stage == "commit" and metadata is not None and metadata.count == total:
            loaded = LoadedBuild.open(paths, metadata, view=False)  # stamps and sizes check out
            assert len(loaded.fast_index) == metadata.count
            seen.append((metadata.fast.index_file if metadata.fast else None,
                         metadata.graph_file))

    build_semantic_index(project, model=MODEL, progress=progress)
    assert len(seen) > 2 and all(fast for fast, _ in seen)
    assert seen[0][1] is None and all(graph for _, graph in seen[1:])  # the graph came next
    final = snapshots[-1]
    assert final.graph is None and final.fast is not None and final.fast.index is None
    inodes = {p.stat().st_ino for p in paths.semantic_dir.glob("graph.*")}
    assert len(inodes) == len(list(paths.semantic_dir.glob("graph.*"))) > 1  # copies
    assert load_graph(project, build_missing=False).source == read_metadata(paths).graph_file


def _killed_partial_build(project: Path) -> LoadedBuild:
    with pytest.raises(RuntimeError, match="killed"):
        build_semantic_index(project, model=MODEL, embedder=KilledAfter(2))
    paths = IndexPaths(project)
    metadata = read_metadata(paths)
    assert metadata is not None and metadata.dense is not None and metadata.fast is not None
    assert 0 < metadata.dense.embedded < metadata.dense.total
    return LoadedBuild.open(paths, metadata, view=False)


def test_a_search_of_a_partial_build_fuses_both_tiers(
    project: Path, fast_model: str, partial_every_batch: None
) -> None:
    loaded = _killed_partial_build(project)
    searcher = Searcher(project)
    without_full = [p for p in range(len(loaded.units)) if not loaded.has_full[p]]
    target = loaded.units[without_full[0]]

    def dense_names(tiers: tuple[str, ...] | None) -> list[str]:
        rows = searcher.run(target.name, k=50, mode="dense", tiers=tiers).rows
        return [row["qualified_name"] for row in rows]

    # The full model alone cannot find a unit it has not embedded ...
    assert target.qualified_name not in dense_names(("full",))
    # ... the fast tier answers for it, and for every unit alone.
    assert target.qualified_name in dense_names(None)
    assert target.qualified_name in dense_names(("fast",))
    # Both tiers: each unit is scored by one model only.
    both = searcher.run(target.name, k=50, mode="dense").rows
    assert len({(r["file"], r["line"], r["qualified_name"]) for r in both}) == len(both)


def test_a_fast_index_is_queried_only_with_the_model_that_built_it(
    project: Path, fast_model: str, partial_every_batch: None, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = _killed_partial_build(project)
    paths = IndexPaths(project)
    metadata = loaded.metadata
    assert metadata.fast is not None
    write_metadata(paths, msgspec.structs.replace(
        metadata, fast=msgspec.structs.replace(metadata.fast, revision="another")))
    searcher = Searcher(project)
    rows = searcher.run("parse config", k=5, mode="dense").rows
    assert rows  # the full model's part still answers
    assert "another revision" in caplog.text
    with_fast = Searcher(project).run("parse config", k=5, mode="dense", tiers=("fast",)).rows
    assert with_fast == []


def test_without_a_fast_model_partial_builds_have_none(
    project: Path, partial_every_batch: None
) -> None:
    _seen: list[object] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "commit":
            metadata = read_metadata(IndexPaths(project))
            assert metadata is not None
            _seen.append(metadata.fast)

    build_semantic_index(project, model=MODEL, progress=progress)
    assert _seen and all(fast is None for fast in _seen)


def test_a_fast_model_that_cannot_load_leaves_the_build_without_the_tier(
    project: Path, partial_every_batch: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TLDR_FAST_MODEL", f"static:{tmp_path / 'missing'}")
    report = build_semantic_index(project, model=MODEL)
    assert report.status == "built" and report.partial_commits > 0


def test_merge_by_coverage_keeps_the_tiers_in_proportion() -> None:
    full = [(i, 0.9 - i / 100) for i in range(0, 100)]
    fast = [(1000 + i, 0.5 - i / 100) for i in range(0, 100)]
    merged = merge_by_coverage(full, fast, 0.75, 40)
    assert len(merged) == 40
    from_full = sum(1 for position, _ in merged if position < 1000)
    assert from_full == 30  # three of every four come from the tier covering 75 %
    assert [p for p, _ in merged if p < 1000] == list(range(30))  # each list keeps its order
    assert merge_by_coverage(full, [], 0.5, 10) == full[:10]
    assert merge_by_coverage([], fast, 0.0, 10) == fast[:10]


def test_get_embedder_keeps_one_static_model(fast_model: str) -> None:
    assert get_embedder(fast_model) is get_embedder(fast_model)
    assert (fast_model, None) in embedders._cache


def test_a_static_models_dense_list_counts_less_in_the_fusion() -> None:
    from unit_factory import make_unit

    from tldr.semantic.query import ranking, tiers

    assert tiers.dense_weight("static:all-MiniLM-L6-v2") == tiers.FAST_DENSE_WEIGHT < 1.0
    assert tiers.dense_weight("all-MiniLM-L6-v2:onnx-int8") == 1.0
    assert tiers.dense_weight("all-MiniLM-L6-v2:onnx-int8", share=0.5) == pytest.approx(
        0.5 + 0.5 * tiers.FAST_DENSE_WEIGHT)
    units = [make_unit(f"handler_{i}", file=f"pkg/mod{i}.py") for i in range(6)]
    dense = [(0, 0.9), (1, 0.8), (2, 0.7)]
    lexical = [(3, 9.0), (4, 8.0), (5, 7.0)]

    def top(weight: float) -> list[int]:
        return [p for p, _ in ranking.rank("how are requests served", units, dense=dense,
                                           lexical=lexical, k=6, dense_weight=weight)]

    assert top(1.0)[0] == 0  # questions lean on the embedding ...
    assert top(0.1)[0] == 3  # ... unless its list counts for little
