"""The text each unit is embedded as (format `TEXT_FORMAT`).

Layers, each line present only when it has content: a header with the unit
kind, qualified name and file path; L1 signature and docstring; L2 calls and
called-by (resolved across the project by name); L3 control flow; L4 data
flow; L5 dependencies; then a code preview. Any change to what this module
produces must change `TEXT_FORMAT`, which invalidates cached vectors.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from tldr.units import Unit

__all__ = ["TEXT_FORMAT", "build_called_by", "embedding_text", "text_hash"]

# v2: same text, but the default model now reads 128 word pieces of it, so
# vectors cached under v1 must not be reused.
TEXT_FORMAT = "tldr-text-v2"

# Models read at most 256-512 word pieces (about 1000-2000 characters of
# code); anything past that is truncated by the model anyway.
_MAX_TEXT_CHARS = 1600
_MAX_DOCSTRING_CHARS = 400
_MAX_NAMES = 12


def build_called_by(units: Sequence[Unit]) -> list[list[str]]:
    """For each unit, the qualified names of project units that call it by name."""
    callers_by_name: dict[str, set[str]] = defaultdict(set)
    for unit in units:
        for callee in unit.calls:
            callers_by_name[callee].add(unit.qualified_name)
    result: list[list[str]] = []
    for unit in units:
        if unit.unit_type == "module":
            result.append([])
            continue
        callers = callers_by_name.get(unit.name, set()) - {unit.qualified_name}
        result.append(sorted(callers)[:_MAX_NAMES])
    return result


def embedding_text(unit: Unit, called_by: Sequence[str] = ()) -> str:
    """The text embedded for `unit`."""
    lines = [f"{unit.unit_type} {unit.qualified_name} in {unit.file}"]
    summary = unit.signature
    if unit.docstring:
        summary = f"{summary} / {_first_paragraph(unit.docstring)}"
    if summary:
        lines.append(summary)
    relations = []
    if unit.calls:
        relations.append("calls: " + ", ".join(unit.calls[:_MAX_NAMES]))
    if called_by:
        relations.append("called by: " + ", ".join(called_by[:_MAX_NAMES]))
    if relations:
        lines.append("; ".join(relations))
    if unit.branches or unit.loops:
        lines.append(
            f"control flow: {unit.branches} branches, {unit.loops} loops, "
            f"complexity {unit.complexity}"
        )
    data_flow = []
    if unit.params:
        data_flow.append("params " + ", ".join(unit.params[:_MAX_NAMES]))
    if unit.assigns:
        data_flow.append("assigns " + ", ".join(unit.assigns[:_MAX_NAMES]))
    if data_flow:
        lines.append("data flow: " + "; ".join(data_flow))
    if unit.imports:
        lines.append("depends on: " + ", ".join(unit.imports[:_MAX_NAMES]))
    if unit.code:
        lines.append(unit.code)
    return "\n".join(lines)[:_MAX_TEXT_CHARS]


def text_hash(text: str) -> str:
    """A short stable digest of an embedding text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _first_paragraph(docstring: str) -> str:
    paragraph = docstring.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())[:_MAX_DOCSTRING_CHARS]
