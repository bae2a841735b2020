"""The step graph and the builder's core: steps, edges, jumps, sequences.

A step is a simple statement or the head of a compound one (see
specs/017-flow-analysis.md). The builder keeps `pending`, the dangling
exits of what it built last, each with the kind its edge will have; the
next step created takes them all as predecessors. Jumps (`break`,
`continue`, `return`, exceptions) walk a stack of contexts outward to find
their target, passing through every `finally` on the way. The constructs
themselves are built by the subclasses in `_branches` and `_build`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tldr.graph.flow._access import Access, AccessReader
from tldr.graph.flow._tables import FlowTables
from tldr.units.parsing import end_row

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "ENTRY",
    "EXIT",
    "HIDDEN_PREFIX",
    "BuilderCore",
    "Context",
    "Pending",
    "Step",
    "StepGraph",
    "child_of_type",
    "descendants_of_type",
    "is_call_to",
    "node_text",
    "unparen",
]

ENTRY, EXIT = 0, 1
HIDDEN_PREFIX = "<subject>"  # names no source can spell; left out of def-use listings
Pending = list[tuple[int, str]]
_RUST_LOOPS = frozenset({"loop_expression", "while_expression", "for_expression"})
_RUST_PANICS = frozenset({"panic", "unreachable", "todo", "unimplemented"})
_NOT_VALUES = frozenset({"expression_statement", "let_declaration", "macro_invocation"})


class Step:
    """One node of the step graph; lines are 1-based and inclusive (0, 0 for the exit)."""

    __slots__ = ("accesses", "end", "end_byte", "extent", "id", "jump", "scope", "start")

    def __init__(
        self,
        sid: int,
        start: int,
        end: int,
        accesses: list[Access],
        scope: tuple[int, int] | None,
        end_byte: int = 0,
    ) -> None:
        self.id = sid
        self.start = start
        self.end = end
        self.accesses = accesses
        self.scope = scope  # byte range a declaration here lives in; None: the whole function
        self.jump = False  # a break, continue, return, goto or raise
        self.extent = end  # last line of the statement a head step heads
        self.end_byte = end_byte  # where what it declares becomes visible


class StepGraph:
    """Steps and their edges (source, target, kind); step 0 is the entry, 1 the exit."""

    __slots__ = ("edges", "steps")

    def __init__(self, steps: list[Step], edges: list[tuple[int, int, str]]) -> None:
        self.steps = steps
        self.edges = edges


class Context:
    """An enclosing statement a jump may target: loop, switch, label, catch or finally."""

    __slots__ = ("breaks", "continues", "jumps", "kind", "label", "raises", "sink")

    def __init__(self, kind: str, label: str | None = None) -> None:
        self.kind = kind  # "loop", "switch", "label", "catch" or "finally"
        self.label = label
        self.sink: str | None = None  # Rust `let v = loop {..}`: what `break value` defines
        self.breaks: Pending = []
        self.continues: Pending = []
        self.raises: Pending = []
        # Jumps leaving a try through its finally, by (kind, label): their sources.
        self.jumps: dict[tuple[str, str | None], Pending] = {}


def node_text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


class BuilderCore:
    """Steps, edges, the jump contexts and the dispatch from node types to constructs."""

    def __init__(self, tables: FlowTables, reader: AccessReader) -> None:
        self.tables = tables
        self.reader = reader
        self.language = tables.language
        self.steps: list[Step] = []
        self.edges: list[tuple[int, int, str]] = []
        self.pending: Pending = []
        self.contexts: list[Context] = []
        self.scope: tuple[int, int] | None = None
        self.next_label: str | None = None
        self.labels: dict[str, int] = {}
        self.gotos: list[tuple[int, str]] = []
        # Rust `let v = <if/match/loop/block>`: the hidden name the value's
        # tail expressions define and the `let` reads (see `_branches.c_let`).
        self.value_sink: str | None = None
        self.loop_sink: str | None = None

    def step(
        self, start: Node, end: Node | None, accesses: list[Access], scope: Node | None = None
    ) -> int:
        """Add a step from `start`'s line to `end`'s; every pending exit leads to it.

        `scope` is the compound statement a head step's declarations live in.
        """
        sid = len(self.steps)
        last = end_row(end) if end is not None else start.start_point[0]
        first = start.start_point[0]
        where = (scope.start_byte, scope.end_byte) if scope is not None else self.scope
        end_byte = end.end_byte if end is not None else start.start_byte
        self.steps.append(Step(sid, first + 1, max(first, last) + 1, accesses, where, end_byte))
        if scope is not None:
            self.steps[sid].extent = end_row(scope) + 1
        for source, kind in self.pending:
            self.edges.append((source, sid, kind))
        self.pending = [(sid, "fallthrough")]
        return sid

    def connect(self, sources: Pending, target: int, *, back: bool = False) -> None:
        for source, kind in sources:
            self.edges.append(
                (source, target, "loop_back" if back and kind == "fallthrough" else kind)
            )

    def jump_step(self, node: Node, accesses: list[Access]) -> int:
        sid = self.step(node, node, accesses)
        self.steps[sid].jump = True
        return sid

    def jump(self, kind: str, label: str | None, sources: Pending) -> None:
        """Send `sources` to the target of a jump, through any `finally` on the way."""
        for context in reversed(self.contexts):
            if context.kind == "finally":
                context.jumps.setdefault((kind, label), []).extend(sources)
                return
            if kind == "exception" and context.kind == "catch":
                context.raises.extend(sources)
                return
            matches = label is None or context.label == label
            if kind == "break" and matches and context.kind in ("loop", "switch", "label"):
                if label is None and context.kind == "label":
                    continue  # an unlabelled break leaves the loop or switch, not a block
                context.breaks.extend(sources)
                return
            if kind == "continue" and matches and context.kind == "loop":
                context.continues.extend(sources)
                return
        self.connect(sources, EXIT)

    def sequence(self, node: Node, *, scoped: bool = True) -> None:
        saved = self.scope
        if scoped:
            self.scope = (node.start_byte, node.end_byte)
        sink, self.value_sink = self.value_sink, None
        children = node.named_children
        tail = _tail(children, self.tables.skipped) if sink is not None else None
        for child in children:
            if tail is not None and child.id == tail.id:
                self.value_sink = sink
                self.value_statement(child)
            else:
                self.statement(child)
        self.value_sink = sink
        self.scope = saved

    def value_statement(self, node: Node) -> None:
        """A statement whose value is the value being bound: its step defines the sink."""
        first = len(self.steps)
        self.statement(node)
        sink = self.value_sink
        if sink is not None and node.type not in self.tables.constructs and first < len(self.steps):
            step = self.steps[first]
            step.accesses.append(Access("def", sink, step.start, node.start_byte))

    def branch(self, node: Node | None) -> None:
        if node is None:
            return
        if node.type in self.tables.blocks:
            self.sequence(node)
        else:
            self.statement(node)

    def statement(self, node: Node) -> None:
        kind = node.type
        if kind in self.tables.skipped:
            return
        if kind == "statement_list":
            self.sequence(node, scoped=False)
            return
        construct = self.tables.constructs.get(kind)
        label, self.next_label = self.next_label, None
        if construct is None:
            self.simple(node)
            return
        getattr(self, "c_" + construct)(node, label)

    def simple(self, node: Node) -> None:
        sid = self.step(node, node, self.reader.read(node))
        if self.language == "rust":
            self.inner_jumps(node, sid)
        elif self.language == "go" and is_call_to(node, "panic"):
            self.jump("exception", None, [(sid, "exception")])
            self.pending = []

    def inner_jumps(self, root: Node, sid: int) -> None:
        """Rust: a `return`, `?` or labelled `break` inside an expression leaves the step."""
        inner_labels: set[str] = set()
        stack: list[tuple[Node, int]] = [(root, 0)]
        diverges = False
        while stack:
            node, loops = stack.pop()
            kind = node.type
            if kind in self.tables.scopes:
                continue
            if kind in ("return_expression", "try_expression"):
                self.jump("return", None, [(sid, "return")])
                diverges = diverges or (kind == "return_expression" and node.id == root.id)
            elif kind in ("break_expression", "continue_expression"):
                label = node_text(child_of_type(node, "label")) or None
                if (label is not None and label not in inner_labels) or loops == 0:
                    jump_kind = "break" if kind == "break_expression" else "continue"
                    self.jump(jump_kind, label, [(sid, jump_kind)])
            elif kind == "macro_invocation":
                name = node_text(node.child_by_field_name("macro"))
                if name in _RUST_PANICS and node.id == root.id:
                    self.jump("exception", None, [(sid, "exception")])
                    diverges = True
            if kind in _RUST_LOOPS:
                loops += 1
                label = node_text(child_of_type(node, "label"))
                if label:
                    inner_labels.add(label)
            stack.extend((child, loops) for child in node.named_children)
        if diverges:
            self.pending = []

    def labelled(self, node: Node, label: str, build: object) -> None:
        context = Context("label", label)
        self.contexts.append(context)
        build(node)  # type: ignore[operator]
        self.contexts.pop()
        self.pending += context.breaks

    def head(
        self, node: Node, parts: Sequence[Node | None], accesses: list[Access] | None = None
    ) -> int:
        present = [part for part in parts if part is not None]
        if accesses is None:
            accesses = [access for part in present for access in self.reader.read(part)]
        last = max(present, key=lambda part: part.end_byte) if present else None
        return self.step(node, last, accesses, scope=node)


def _tail(children: list[Node], skipped: frozenset[str]) -> Node | None:
    """A Rust block's tail expression (its value), if it has one."""
    for child in reversed(children):
        if child.type in skipped:
            continue
        if child.type in _NOT_VALUES or child.type.endswith("_item"):
            return None
        return child
    return None


def unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def child_of_type(node: Node | None, *types: str) -> Node | None:
    if node is None:
        return None
    for child in node.named_children:
        if child.type in types:
            return child
    return None


def descendants_of_type(node: Node, kind: str) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            found.append(current)
            continue
        stack.extend(reversed(current.named_children))
    return found


def is_call_to(node: Node, name: str) -> bool:
    call = (
        node.named_children[0]
        if node.type == "expression_statement" and node.named_child_count
        else node
    )
    if call.type != "call_expression":
        return False
    function = call.child_by_field_name("function")
    return function is not None and node_text(function) == name
