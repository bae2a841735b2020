from __future__ import annotations

from pathlib import Path

import pytest

from tldr import ConfigError, IndexIncompatibleError
from tldr.semantic import ROW_FIELDS, Searcher, build_semantic_index, semantic_search
from tldr.semantic.models.embedders import HashingEmbedder


@pytest.fixture
def indexed(project: Path) -> Path:
    build_semantic_index(project, model="hash-256")
    return project


def test_rows_have_every_field_and_descend_by_score(indexed: Path) -> None:
    rows = semantic_search(indexed, "retry with backoff", k=5)
    assert rows and len(rows) <= 5
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["line"] <= row["end_line"]
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert rows[0]["name"] == "retry_with_backoff"


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_an_exact_symbol(indexed: Path, mode: str) -> None:
    rows = semantic_search(indexed, "merge_settings", k=3, mode=mode)
    assert rows[0]["qualified_name"] == "merge_settings"


def test_language_filter(indexed: Path) -> None:
    rows = semantic_search(indexed, "start server", k=10, lang="go")
    assert rows and {row["language"] for row in rows} == {"go"}


def test_path_prefix_filter(indexed: Path) -> None:
    rows = semantic_search(indexed, "config", k=10, path_prefix="web/")
    assert rows and all(row["file"].startswith("web/") for row in rows)


def test_bad_arguments_are_config_errors(indexed: Path) -> None:
    with pytest.raises(ConfigError):
        semantic_search(indexed, "x", mode="fuzzy")
    with pytest.raises(ConfigError):
        semantic_search(indexed, "x", k=0)


def test_searcher_reloads_only_after_a_new_commit(indexed: Path) -> None:
    searcher = Searcher(indexed, view=True)
    first = searcher.build
    assert searcher.refresh() is False
    assert searcher.build is first
    (indexed / "src" / "extra.py").write_text("def brand_new_helper():\n    return 42\n")
    build_semantic_index(indexed)
    assert searcher.refresh() is True
    rows = searcher.search("brand_new_helper", k=1)
    assert rows[0]["name"] == "brand_new_helper"


def test_dimension_disagreement_asks_for_rebuild(indexed: Path) -> None:
    searcher = Searcher(indexed, embedder=HashingEmbedder(64))
    searcher._embedder.model_id = "hash-256"  # same name, other dimension
    with pytest.raises(IndexIncompatibleError, match="--rebuild"):
        searcher.search("anything", mode="dense")


def test_unit_type_filter(indexed: Path) -> None:
    rows = semantic_search(indexed, "config", k=10, unit_type="class")
    assert rows and {row["unit_type"] for row in rows} == {"class"}
    with pytest.raises(ConfigError, match="unit type"):
        semantic_search(indexed, "config", unit_type="lambda")


def test_snippets_and_expand(indexed: Path) -> None:
    rows = semantic_search(indexed, "parse_config_file", k=1, snippets=True, expand=True)
    row = rows[0]
    assert row["name"] == "parse_config_file"
    assert row["snippet"].startswith("def parse_config_file")
    assert row["callees"] == [{"qualified_name": "ConfigError", "file": "src/config.py", "line": 7}]
    assert row["callers"] == []


def test_get_unit_by_name_and_by_line(indexed: Path) -> None:
    searcher = Searcher(indexed)
    unit = searcher.get_unit(qualified_name="merge_settings")
    assert unit["file"] == "src/config.py"
    assert unit["source"].startswith("def merge_settings(base: dict, override: dict) -> dict:")
    assert unit["source"].count("\n") == unit["end_line"] - unit["line"]
    inner = searcher.get_unit(file="src/config.py", line=unit["line"] + 2)
    assert inner["qualified_name"] == "merge_settings"
    with pytest.raises(ConfigError, match="no unit with qualified name"):
        searcher.get_unit(qualified_name="nope")
    with pytest.raises(ConfigError, match="no unit spans"):
        searcher.get_unit(file="src/config.py", line=10_000)


def test_cli_compact_budget_and_expand(indexed: Path, capsys) -> None:
    from tldr.cli import main

    assert (
        main(
            [
                "semantic",
                "search",
                "parse config file",
                "--path",
                str(indexed),
                "--format",
                "compact",
                "--budget-tokens",
                "120",
                "--expand",
                "--no-daemon",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert len(out) <= 120 * 4 + 1
    assert out.startswith("src/config.py:")
