"""End to end with the real bundled model (all-MiniLM-L6-v2, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.semantic import build_semantic_index, semantic_search

pytestmark = pytest.mark.model


def test_bundled_model_finds_the_function_for_a_natural_language_query(project: Path) -> None:
    report = build_semantic_index(project)
    assert report.status == "built"
    for mode in ("dense", "hybrid"):
        rows = semantic_search(project, "read settings from a JSON file", k=3, mode=mode)
        assert "parse_config_file" in [row["name"] for row in rows], (mode, rows)
    rows = semantic_search(project, "sum the prices in the shopping basket", k=3)
    assert "cartTotal" in [row["name"] for row in rows]
