"""Search results as text for people and agents: formats and token budgets.

Standard library only: the thin client and the MCP server use it too. A token
is counted as 4 characters, the usual rule of thumb for English and code with
BPE tokenizers; budgets are approximate by design.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "CHARS_PER_TOKEN",
    "FORMATS",
    "dense_note",
    "estimate_tokens",
    "fit_to_budget",
    "render",
    "render_files",
]

FORMATS = ("text", "compact", "json", "jsonl")
CHARS_PER_TOKEN = 4
# Snippet line caps tried in order until the output fits the budget.
_SNIPPET_LINE_STEPS = (40, 24, 12, 6, 3, 1, 0)


def estimate_tokens(text: str) -> int:
    """Approximate tokens in `text`."""
    return -(-len(text) // CHARS_PER_TOKEN)


def render(rows: list[dict[str, Any]], fmt: str = "text") -> str:
    """Rows in one of `FORMATS`."""
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "jsonl":
        return "\n".join(json.dumps(row) for row in rows)
    if not rows:
        return "no results"
    lines: list[str] = []
    for rank, row in enumerate(rows, 1):
        location = f"{row['file']}:{row['line']}-{row['end_line']}"
        if fmt == "compact":
            header = f"{location} {row['qualified_name']} ({row['score']:.2f})"
            if row.get("signature"):
                header += f" {row['signature']}"
            lines.append(header)
            indent = "  "
        else:
            lines.append(
                f"{rank:>2}. {row['score']:.3f}  {location}  {row['unit_type']} "
                f"{row['qualified_name']}"
            )
            indent = "      "
            if row.get("signature"):
                lines.append(f"{indent}{_shorten(row['signature'], 100)}")
        for relation in ("callers", "callees"):
            if row.get(relation):
                names = ", ".join(
                    f"{link['qualified_name']} ({link['file']}:{link['line']})"
                    for link in row[relation]
                )
                lines.append(f"{indent}{relation}: {names}")
        if row.get("snippet"):
            lines.extend(f"{indent}| {line}" for line in row["snippet"].splitlines())
    return "\n".join(lines)


def dense_note(dense: dict[str, Any] | None) -> str | None:
    """`dense: 43% embedded, ETA 40 s` for a search served by a partial build, else None."""
    if not dense:
        return None
    text = f"dense: {dense['percent']}% embedded"
    if dense.get("eta_s") is not None:
        from tldr.progress import format_seconds

        text += f", ETA {format_seconds(dense['eta_s'])}"
    if not dense.get("used"):
        reason = "query model loading" if dense.get("embedded") else "no vectors yet"
        text += f" (lexical results only: {reason})"
    else:
        text += " (units without a vector match lexically only)"
    if dense.get("files_pending"):
        text += f"; {dense['files_pending']} files not parsed yet"
    return text


def render_files(files: list[dict[str, Any]]) -> str:
    """File hits (`--files`) as text: each file, then its best units."""
    if not files:
        return "no results"
    lines: list[str] = []
    for rank, hit in enumerate(files, 1):
        lines.append(f"{rank:>2}. {hit['score']:.3f}  {hit['file']}")
        for unit in hit["units"]:
            lines.append(
                f"      {unit['line']}-{unit['end_line']}  {unit['unit_type']} "
                f"{unit['qualified_name']}"
            )
    return "\n".join(lines)


def fit_to_budget(
    rows: list[dict[str, Any]], budget_tokens: int, fmt: str = "text"
) -> list[dict[str, Any]]:
    """Rows whose rendering fits `budget_tokens`.

    Snippets are shortened first, then the lowest-ranked rows dropped; the
    best hit is always kept.
    """
    if budget_tokens <= 0:
        raise ValueError("budget_tokens must be positive")
    for max_lines in _SNIPPET_LINE_STEPS:
        trimmed = [_trim_snippet(row, max_lines) for row in rows]
        if estimate_tokens(render(trimmed, fmt)) <= budget_tokens:
            return trimmed
    while len(trimmed) > 1 and estimate_tokens(render(trimmed, fmt)) > budget_tokens:
        trimmed.pop()
    return trimmed


def _trim_snippet(row: dict[str, Any], max_lines: int) -> dict[str, Any]:
    snippet = row.get("snippet")
    if snippet is None:
        return row
    lines = snippet.splitlines()
    trimmed = dict(row)
    if max_lines == 0:
        trimmed.pop("snippet")
    elif len(lines) > max_lines:
        trimmed["snippet"] = "\n".join([*lines[:max_lines], "..."])
    return trimmed


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
