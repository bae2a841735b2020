"""The results of flow analysis: msgspec structs, JSON-ready through `to_dict`."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "EDGE_KINDS",
    "Block",
    "Cfg",
    "DefUse",
    "Dfg",
    "Edge",
    "FunctionRef",
    "SliceResult",
]

EDGE_KINDS = (
    "fallthrough",
    "true",
    "false",
    "case",
    "loop_back",
    "break",
    "continue",
    "return",
    "exception",
    "goto",
)


class _Result(msgspec.Struct, kw_only=True, frozen=True):
    def to_dict(self) -> dict[str, Any]:
        """The struct as plain JSON-ready values."""
        built: dict[str, Any] = msgspec.to_builtins(self)
        return built


class FunctionRef(_Result, frozen=True):
    """The analysed function: names as the units layer gives them, 1-based lines."""

    name: str
    qualified_name: str
    file: str
    language: str
    line: int
    end_line: int


class Block(_Result, frozen=True):
    """A basic block; the exit block has no lines (0, 0)."""

    id: int
    start_line: int
    end_line: int
    kind: str = "body"  # "entry", "body" or "exit"


class Edge(_Result, frozen=True):
    """A control-flow edge between two blocks; `kind` is one of `EDGE_KINDS`."""

    source: int
    target: int
    kind: str


class Cfg(_Result, frozen=True):
    """The control-flow graph of one function."""

    function: FunctionRef
    blocks: list[Block]
    edges: list[Edge]
    entry: int
    exit: int

    @property
    def complexity(self) -> int:
        """Cyclomatic complexity, edges - blocks + 2 (parallel edges counted once)."""
        pairs = {(edge.source, edge.target) for edge in self.edges}
        return max(1, len(pairs) - len(self.blocks) + 2)

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain values, with its complexity."""
        built = super().to_dict()
        built["complexity"] = self.complexity
        return built


class DefUse(_Result, frozen=True):
    """One definition of a name and the lines that may read the value it sets."""

    var: str
    def_line: int
    use_lines: list[int]


class Dfg(_Result, frozen=True):
    """The def-use chains of one function (reaching definitions)."""

    function: FunctionRef
    chains: list[DefUse]


class SliceResult(_Result, frozen=True):
    """A program slice: sorted line numbers, each with its source text."""

    function: FunctionRef
    line: int
    direction: str
    var: str | None
    lines: list[int]
    code: list[str]
