from __future__ import annotations

import json

import pytest

from tldr.output import estimate_tokens, fit_to_budget, render


def _row(n: int, snippet_lines: int = 30) -> dict:
    return {
        "name": f"f{n}",
        "qualified_name": f"mod.f{n}",
        "file": "a.py",
        "line": n * 10,
        "end_line": n * 10 + snippet_lines,
        "unit_type": "function",
        "language": "python",
        "signature": f"def f{n}(x)",
        "score": 1.0 / n,
        "snippet": "\n".join(f"    line {i} of f{n}" for i in range(snippet_lines)),
    }


def test_formats() -> None:
    rows = [_row(1, 2), _row(2, 2)]
    assert json.loads(render(rows, "json")) == rows
    assert [json.loads(line) for line in render(rows, "jsonl").splitlines()] == rows
    compact = render(rows, "compact").splitlines()
    assert compact[0] == "a.py:10-12 mod.f1 (1.00) def f1(x)"
    assert compact[1] == "  |     line 0 of f1"
    text = render(rows, "text")
    assert " 1. 1.000  a.py:10-12  function mod.f1" in text
    assert render([], "text") == "no results"


def test_budget_trims_snippets_before_dropping_rows() -> None:
    rows = [_row(n) for n in range(1, 6)]
    full = estimate_tokens(render(rows, "compact"))
    fitted = fit_to_budget(rows, full // 3, "compact")
    assert len(fitted) == 5
    assert estimate_tokens(render(fitted, "compact")) <= full // 3
    assert all(len(row.get("snippet", "").splitlines()) < 30 for row in fitted)


def test_tiny_budget_keeps_the_best_hit() -> None:
    rows = [_row(n) for n in range(1, 6)]
    fitted = fit_to_budget(rows, 5, "compact")
    assert [row["name"] for row in fitted] == ["f1"]
    assert "snippet" not in fitted[0]
    with pytest.raises(ValueError):
        fit_to_budget(rows, 0)


def test_relations_are_rendered() -> None:
    row = _row(1, 0)
    row.pop("snippet")
    row["callers"] = [{"qualified_name": "main", "file": "b.py", "line": 3}]
    assert "callers: main (b.py:3)" in render([row], "compact")
