"""A partial (interrupted) build says how far embedding got, the same way everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.cli import main
from tldr.daemon.coverage import DenseCoverage
from tldr.output import dense_note
from tldr.paths import IndexPaths
from tldr.semantic import Searcher, build_semantic_index, index_info
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.models.embedders import HashingEmbedder
from tldr.semantic.storage import read_metadata

QUERY = "parse config"


class _InterruptedEmbedder(HashingEmbedder):
    """The hash model, with Ctrl-C pressed before batch `after + 1`."""

    def __init__(self, after: int) -> None:
        super().__init__(256)
        self.after = after
        self.batches = 0

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.batches += 1
        if self.batches > self.after:
            raise KeyboardInterrupt
        return super().embed_documents(texts)


def _interrupted(project: Path, monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 4)
    monkeypatch.setattr(build_module, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(build_module, "_EMBED_BATCH", 4)
    with pytest.raises(KeyboardInterrupt):
        build_semantic_index(project, model="hash-256", embedder=_InterruptedEmbedder(after))


def test_in_process_search_of_an_interrupted_build_carries_its_coverage(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupted(project, monkeypatch, after=2)
    coverage = read_metadata(IndexPaths(project)).dense  # type: ignore[union-attr]
    assert coverage is not None and 0 < coverage.embedded < coverage.total
    searcher = Searcher(project)
    dense = searcher.run(QUERY, mode="dense").dense
    assert dense is not None and dense["used"] and dense["mode"] == "dense"
    assert (dense["embedded"], dense["total"]) == (coverage.embedded, coverage.total)
    note = dense_note(dense)
    assert note is not None
    assert f"({coverage.embedded} of {coverage.total} units)" in note
    assert "units without a vector cannot be found" in note
    hybrid = searcher.run(QUERY).dense
    assert hybrid is not None and "match lexically only" in str(dense_note(hybrid))
    assert searcher.run(QUERY, mode="lexical").dense is not None


def test_a_build_without_vectors_answers_lexically_in_process_as_the_daemon_does(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupted(project, monkeypatch, after=0)
    searcher = Searcher(project)
    outcome = searcher.run(QUERY)
    assert outcome.dense is not None and not outcome.dense["used"]
    assert outcome.rows == searcher.run(QUERY, mode="lexical").rows
    assert "lexical results only: no vectors yet" in str(dense_note(outcome.dense))

    # The daemon's plan, once its query model is loaded, gives the same fields.
    metadata = searcher.build.metadata
    daemon = DenseCoverage()
    daemon.loaded(metadata.model, ok=True)
    for mode in ("hybrid", "dense", "lexical"):
        effective, fields = daemon.plan(metadata, mode)
        outcome = searcher.run(QUERY, mode=mode)
        assert fields == outcome.dense and effective == fields["mode"]
        assert dense_note(fields) == dense_note(outcome.dense)


def test_the_cli_says_it_on_every_path(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _interrupted(project, monkeypatch, after=1)
    coverage = read_metadata(IndexPaths(project)).dense  # type: ignore[union-attr]
    assert coverage is not None
    expected = f"({coverage.embedded} of {coverage.total} units)"
    capsys.readouterr()
    assert main(["semantic", "search", QUERY, "-p", str(project), "--no-daemon",
                 "--mode", "dense"]) == 0
    assert expected in capsys.readouterr().err
    assert main(["semantic", "info", str(project)]) == 0
    info_text = capsys.readouterr().out
    assert f"dense:          {coverage.embedded * 100 // coverage.total}% embedded" in info_text
    assert expected in info_text and "has not finished" in info_text
    assert index_info(project)["dense"]["percent"] == coverage.embedded * 100 // coverage.total


def test_a_complete_build_has_no_coverage_note(project: Path) -> None:
    build_semantic_index(project, model="hash-256")
    assert Searcher(project).run(QUERY).dense is None
    assert index_info(project).get("dense") is None
