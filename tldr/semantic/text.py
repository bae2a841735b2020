"""The text each unit is embedded as (format `TEXT_FORMAT`).

Layers, each line present only when it has content: a header with the unit
kind, qualified name and file path; L1 signature and docstring; L2 calls and
called-by (resolved across the project by name); L3 control flow; L4 data
flow; L5 dependencies; then a code preview. Any change to what this module
produces must change `TEXT_FORMAT`, which invalidates cached vectors.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence

from tldr.units import Unit

__all__ = ["TEXT_FORMAT", "CallerIndex", "build_called_by", "embedding_text", "text_hash"]

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
    callers = CallerIndex()
    callers.add(units)
    return [callers.called_by(unit) for unit in units]


class CallerIndex:
    """Who calls each name, fed units in any number of batches.

    A unit's called-by line names at most `_MAX_NAMES` callers, the first in
    sorted order, itself excluded; so per called name only the first
    `_MAX_NAMES + 1` distinct caller names are kept, however many units call
    it. A build holds this instead of every unit until its texts are made.
    """

    def __init__(self) -> None:
        self._callers: dict[str, list[str]] = {}  # name -> sorted distinct qualified names

    def add(self, units: Iterable[Unit]) -> None:
        """Count the calls of `units`."""
        keep = _MAX_NAMES + 1
        callers = self._callers
        for unit in units:
            caller = unit.qualified_name
            for callee in unit.calls:
                names = callers.get(callee)
                if names is None:
                    callers[callee] = [caller]
                    continue
                if len(names) == keep and caller >= names[-1]:
                    continue
                at = bisect.bisect_left(names, caller)
                if at < len(names) and names[at] == caller:
                    continue
                names.insert(at, caller)
                if len(names) > keep:
                    names.pop()

    def called_by(self, unit: Unit) -> list[str]:
        """The qualified names of the units seen so far that call `unit` by name."""
        if unit.unit_type == "module":
            return []
        names = self._callers.get(unit.name, ())
        return [name for name in names if name != unit.qualified_name][:_MAX_NAMES]


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
