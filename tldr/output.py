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
    "NOTE_TOKENS",
    "budget_note",
    "dense_note",
    "dense_summary",
    "estimate_tokens",
    "fit_to_budget",
    "fit_with_note",
    "render",
    "render_files",
]

FORMATS = ("text", "compact", "json", "jsonl")
CHARS_PER_TOKEN = 4
NOTE_TOKENS = 40  # what a closing note ("[N more hits cut ...]") may take of a budget
# Snippet line caps tried in order until the output fits the budget.
_SNIPPET_LINE_STEPS = (40, 24, 12, 6, 3, 1, 0)


def estimate_tokens(text: str) -> int:
    """Approximate tokens in `text`."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _paint(code: str, color: bool) -> Any:
    """A function wrapping text in the ANSI `code` (identity without colour)."""
    if not color:
        return lambda text: text
    return lambda text: f"\x1b[{code}m{text}\x1b[0m"


def render(rows: list[dict[str, Any]], fmt: str = "text", *, color: bool = False) -> str:
    """Rows in one of `FORMATS`; `color` adds ANSI colours to text and compact."""
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "jsonl":
        return "\n".join(json.dumps(row) for row in rows)
    if not rows:
        return "no results"
    path, name = _paint("35", color), _paint("1", color)
    lines: list[str] = []
    for rank, row in enumerate(rows, 1):
        location = path(f"{row['file']}:{row['line']}-{row['end_line']}")
        if fmt == "compact":
            header = f"{location} {name(row['qualified_name'])} ({row['score']:.2f})"
            if row.get("signature"):
                header += f" {row['signature']}"
            lines.append(header)
            indent = "  "
        else:
            lines.append(
                f"{rank:>2}. {row['score']:.3f}  {location}  {row['unit_type']} "
                f"{name(row['qualified_name'])}"
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
    """`dense: 43% embedded (430 of 1000 units), ETA 40 s; …` for a partial build, else None.

    One wording for every path: a search's `dense` field (daemon, in-process,
    MCP) says what it meant for the results; `semantic info`'s (no `used`
    key) says the build has not finished.
    """
    summary = dense_summary(dense)
    return None if summary is None else f"dense: {summary}"


def dense_summary(dense: dict[str, Any] | None) -> str | None:
    """`dense_note` without its `dense: ` label (the value of `info`'s `dense:` line)."""
    if not dense:
        return None
    text = f"{dense['percent']}% embedded ({dense['embedded']} of {dense['total']} units)"
    tiers = dense.get("tiers") or []
    if "fast" in tiers:
        text += (", the rest by the fast tier" if "full" in tiers
                 else ", every unit found by the fast tier")
        text += f" ({dense.get('fast_model') or 'static'})"
    if dense.get("eta_s") is not None:
        from tldr.progress import format_seconds

        text += f", ETA {format_seconds(dense['eta_s'])}"
    if "used" not in dense:
        text += ("; the build has not finished (a running daemon carries on; "
                 "else run: tldrf semantic index)")
    elif not dense["used"]:
        loading = dense.get("embedded") or dense.get("fast_model")
        text += f"; lexical results only: {'query model loading' if loading else 'no vectors yet'}"
    elif "fast" in tiers:
        pass  # every unit has a vector of one tier or the other
    elif dense.get("mode") == "dense":
        text += "; units without a vector cannot be found"
    else:
        text += "; units without a vector match lexically only"
    if dense.get("files_pending"):
        text += f"; {dense['files_pending']} files not parsed yet"
    return text


def render_files(files: list[dict[str, Any]], fmt: str = "text", *,
                 color: bool = False) -> str:
    """File hits (`--files`) in one of `FORMATS`: each file, then its best units."""
    if fmt == "json":
        return json.dumps(files, indent=2)
    if fmt == "jsonl":
        return "\n".join(json.dumps(hit) for hit in files)
    if not files:
        return "no results"
    path = _paint("35", color)
    lines: list[str] = []
    for rank, hit in enumerate(files, 1):
        if fmt == "compact":
            units = ", ".join(f"{unit['qualified_name']}:{unit['line']}" for unit in hit["units"])
            lines.append(f"{path(hit['file'])} ({hit['score']:.2f}) {units}".rstrip())
            continue
        lines.append(f"{rank:>2}. {hit['score']:.3f}  {path(hit['file'])}")
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


def fit_with_note(
    rows: list[dict[str, Any]], budget_tokens: int, fmt: str = "text", *,
    option: str = "budget_tokens",
) -> tuple[list[dict[str, Any]], str]:
    """`fit_to_budget`, and the note saying how many hits were cut ('' if none).

    When hits must go, `NOTE_TOKENS` of the budget are kept for the note, so
    rows and note together still fit.
    """
    kept = fit_to_budget(rows, budget_tokens, fmt)
    if len(kept) == len(rows):
        return kept, ""
    kept = fit_to_budget(rows, max(budget_tokens - NOTE_TOKENS, 1), fmt)
    return kept, budget_note(len(rows) - len(kept), budget_tokens, option=option)


def budget_note(cut: int, budget_tokens: int, *, option: str = "budget_tokens") -> str:
    """What to tell the reader when `cut` hits did not fit the budget ('' when none)."""
    if cut <= 0:
        return ""
    return (f"{cut} more hits cut to fit {option}={budget_tokens}; "
            "raise it or narrow the query")


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
