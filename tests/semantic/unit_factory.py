"""Build `Unit` records for tests: only what a test cares about is spelled out."""

from __future__ import annotations

from typing import Any

from tldr.units import Unit


def make_unit(name: str, file: str = "pkg/mod.py", **fields: Any) -> Unit:
    """A Python function unit named `name` in `file`; `fields` override anything."""
    values: dict[str, Any] = {
        "qualified_name": name,
        "line": 1,
        "end_line": 5,
        "unit_type": "function",
        "language": "python",
        "content_hash": f"h-{name}-{file}-{len(fields.get('code', ''))}",
    }
    values.update(fields)
    return Unit(name=name, file=file, **values)
