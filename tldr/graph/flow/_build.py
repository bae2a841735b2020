"""From a function's syntax tree to its graph of steps.

A step is a simple statement or the head of a compound one (see
specs/017-flow-analysis.md). The builder keeps `pending`, the dangling
exits of what it built last, each with the kind its edge will have; the
next step created takes them all as predecessors. Jumps (`break`,
`continue`, `return`, exceptions) walk a stack of contexts outward to find
their target, passing through every `finally` on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tldr.graph.flow._access import DECL_BLOCK, DECL_FUNCTION, NO_DECL, Access, AccessReader
from tldr.graph.flow._cases import Case, Handler, cases_of, handlers_of
from tldr.graph.flow._tables import FlowTables
from tldr.units.parsing import end_row

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["ENTRY", "EXIT", "HIDDEN_PREFIX", "Step", "StepGraph", "build_steps"]

ENTRY, EXIT = 0, 1
HIDDEN_PREFIX = "<subject>"  # names no source can spell; left out of def-use listings
_Pending = list[tuple[int, str]]
_RUST_LOOPS = frozenset({"loop_expression", "while_expression", "for_expression"})
_RUST_PANICS = frozenset({"panic", "unreachable", "todo", "unimplemented"})


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


class _Context:
    __slots__ = ("breaks", "continues", "jumps", "kind", "label", "raises")

    def __init__(self, kind: str, label: str | None = None) -> None:
        self.kind = kind  # "loop", "switch", "label", "catch" or "finally"
        self.label = label
        self.breaks: _Pending = []
        self.continues: _Pending = []
        self.raises: _Pending = []
        # Jumps leaving a try through its finally, by (kind, label): their sources.
        self.jumps: dict[tuple[str, str | None], _Pending] = {}


def _text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


class _Builder:
    def __init__(self, tables: FlowTables, reader: AccessReader) -> None:
        self.tables = tables
        self.reader = reader
        self.language = tables.language
        self.steps: list[Step] = []
        self.edges: list[tuple[int, int, str]] = []
        self.pending: _Pending = []
        self.contexts: list[_Context] = []
        self.scope: tuple[int, int] | None = None
        self.next_label: str | None = None
        self.labels: dict[str, int] = {}
        self.gotos: list[tuple[int, str]] = []

    # -- steps and edges ----------------------------------------------------

    def step(
        self, start: Node, end: Node | None, accesses: list[Access], scope: Node | None = None
    ) -> int:
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

    def connect(self, sources: _Pending, target: int, *, back: bool = False) -> None:
        for source, kind in sources:
            self.edges.append(
                (source, target, "loop_back" if back and kind == "fallthrough" else kind)
            )

    def jump_step(self, node: Node, accesses: list[Access]) -> int:
        sid = self.step(node, node, accesses)
        self.steps[sid].jump = True
        return sid

    def jump(self, kind: str, label: str | None, sources: _Pending) -> None:
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

    # -- statements -----------------------------------------------------------

    def sequence(self, node: Node, *, scoped: bool = True) -> None:
        saved = self.scope
        if scoped:
            self.scope = (node.start_byte, node.end_byte)
        for child in node.named_children:
            self.statement(child)
        self.scope = saved

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
        elif self.language == "go" and _is_call_to(node, "panic"):
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
                label = _text(_child_of_type(node, "label")) or None
                if (label is not None and label not in inner_labels) or loops == 0:
                    jump_kind = "break" if kind == "break_expression" else "continue"
                    self.jump(jump_kind, label, [(sid, jump_kind)])
            elif kind == "macro_invocation":
                name = _text(node.child_by_field_name("macro"))
                if name in _RUST_PANICS and node.id == root.id:
                    self.jump("exception", None, [(sid, "exception")])
                    diverges = True
            if kind in _RUST_LOOPS:
                loops += 1
                label = _text(_child_of_type(node, "label"))
                if label:
                    inner_labels.add(label)
            stack.extend((child, loops) for child in node.named_children)
        if diverges:
            self.pending = []

    # -- constructs -----------------------------------------------------------

    def c_block(self, node: Node, label: str | None) -> None:
        if label is None:
            self.sequence(node)
            return
        self.labelled(node, label, self.sequence)

    def labelled(self, node: Node, label: str, build: object) -> None:
        context = _Context("label", label)
        self.contexts.append(context)
        build(node)  # type: ignore[operator]
        self.contexts.pop()
        self.pending += context.breaks

    def c_labeled(self, node: Node, label: str | None) -> None:
        named = [c for c in node.named_children if c.type not in self.tables.skipped]
        if not named:
            return
        name = _text(named[0])
        inner = named[-1] if len(named) > 1 else None
        if self.language == "go":
            self.labels[name] = self.step(named[0], named[0], [])
        if inner is None:
            return
        if self.tables.constructs.get(inner.type) in (
            "while",
            "do",
            "for",
            "foreach",
            "go_for",
            "loop",
        ):
            self.next_label = name
            self.statement(inner)
        else:
            self.labelled(inner, name, self.statement)

    def head(
        self, node: Node, parts: Sequence[Node | None], accesses: list[Access] | None = None
    ) -> int:
        present = [part for part in parts if part is not None]
        if accesses is None:
            accesses = [access for part in present for access in self.reader.read(part)]
        last = max(present, key=lambda part: part.end_byte) if present else None
        return self.step(node, last, accesses, scope=node)

    def c_if(self, node: Node, label: str | None) -> None:
        condition = node.child_by_field_name("condition")
        sid = self.head(node, [node.child_by_field_name("initializer"), condition])
        self.pending = [(sid, "true")]
        self.branch(node.child_by_field_name("consequence"))
        outs = self.pending
        self.pending = [(sid, "false")]
        alternatives = node.children_by_field_name("alternative")
        for alternative in alternatives:
            if alternative.type == "elif_clause":
                elif_id = self.head(alternative, [alternative.child_by_field_name("condition")])
                self.pending = [(elif_id, "true")]
                self.branch(alternative.child_by_field_name("consequence"))
                outs += self.pending
                self.pending = [(elif_id, "false")]
            elif alternative.type == "else_clause":
                body = alternative.child_by_field_name("body")
                if body is None:
                    inner = [
                        c for c in alternative.named_children if c.type not in self.tables.skipped
                    ]
                    body = inner[0] if inner else None
                self.branch(body)
            else:
                self.branch(alternative)
        self.pending = outs + self.pending

    def loop_body(self, node: Node | None, head: int, label: str | None) -> _Context:
        context = _Context("loop", label)
        self.contexts.append(context)
        self.branch(node)
        self.contexts.pop()
        self.connect(self.pending, head, back=True)
        self.connect(context.continues, head)
        return context

    def loop_else(self, node: Node, exits: _Pending, context: _Context) -> None:
        self.pending = exits
        alternative = node.child_by_field_name("alternative")
        if alternative is not None:
            self.branch(alternative.child_by_field_name("body"))
        self.pending += context.breaks

    def endless(self, condition: Node | None) -> bool:
        return condition is None or _text(_unparen(condition)) in self.tables.true_literals

    def c_while(self, node: Node, label: str | None) -> None:
        condition = node.child_by_field_name("condition")
        sid = self.head(node, [condition])
        label = label or _text(_child_of_type(node, "label")) or None
        self.pending = [(sid, "true")]
        context = self.loop_body(node.child_by_field_name("body"), sid, label)
        self.loop_else(node, [] if self.endless(condition) else [(sid, "false")], context)

    def c_do(self, node: Node, label: str | None) -> None:
        body_start = len(self.steps)
        context = _Context("loop", label)
        self.contexts.append(context)
        self.branch(node.child_by_field_name("body"))
        self.contexts.pop()
        self.pending += context.continues
        condition = node.child_by_field_name("condition")
        sid = self.step(
            condition or node, condition, self.reader.read(condition) if condition else []
        )
        self.edges.append((sid, body_start if body_start < sid else sid, "loop_back"))
        self.pending = ([] if self.endless(condition) else [(sid, "false")]) + context.breaks

    def c_for(self, node: Node, label: str | None) -> None:
        if self.language == "java":
            inits = node.children_by_field_name("init")
            condition = node.child_by_field_name("condition")
            updates = node.children_by_field_name("update")
        elif self.language == "go":
            clause = _child_of_type(node, "for_clause")
            inits = clause.children_by_field_name("initializer") if clause else []
            condition = clause.child_by_field_name("condition") if clause else None
            updates = clause.children_by_field_name("update") if clause else []
        else:
            inits = node.children_by_field_name("initializer")
            condition = node.child_by_field_name("condition")
            updates = node.children_by_field_name("increment")
        inits = [i for i in inits if i.type not in self.tables.skipped]
        updates = [u for u in updates if u.type not in self.tables.skipped]
        if condition is not None and condition.type in self.tables.skipped:
            condition = None
        if condition is not None and condition.type == "expression_statement":
            condition = condition.named_children[0] if condition.named_child_count else None
        for init in inits:
            self.step(init, init, self.reader.read(init), scope=node)
        sid = self.head(node, [condition]) if condition is not None else self.head(node, [])
        self.pending = [(sid, "true")] if condition is not None else [(sid, "fallthrough")]
        context = _Context("loop", label)
        self.contexts.append(context)
        self.branch(node.child_by_field_name("body"))
        self.contexts.pop()
        if updates:
            self.pending += context.continues
            for update in updates:
                self.step(update, update, self.reader.read(update), scope=node)
            self.connect(self.pending, sid, back=True)
        else:
            self.connect(self.pending, sid, back=True)
            self.connect(context.continues, sid)
        self.pending = ([(sid, "false")] if condition is not None else []) + context.breaks

    def c_go_for(self, node: Node, label: str | None) -> None:
        if _child_of_type(node, "for_clause") is not None:
            self.c_for(node, label)
            return
        ranged = _child_of_type(node, "range_clause")
        if ranged is not None:
            self.c_foreach(node, label, ranged)
            return
        body = node.child_by_field_name("body")
        conditions = [c for c in node.named_children if body is None or c.id != body.id]
        conditions = [c for c in conditions if c.type not in self.tables.skipped]
        condition = conditions[0] if conditions else None
        sid = self.head(node, [condition])
        self.pending = [(sid, "true" if condition is not None else "fallthrough")]
        context = self.loop_body(body, sid, label)
        self.pending = ([(sid, "false")] if condition is not None else []) + context.breaks

    def c_loop(self, node: Node, label: str | None) -> None:
        sid = self.head(node, [])
        label = label or _text(_child_of_type(node, "label")) or None
        context = self.loop_body(node.child_by_field_name("body"), sid, label)
        self.pending = context.breaks

    def c_foreach(self, node: Node, label: str | None, ranged: Node | None = None) -> None:
        target, iterable, decl = self.loop_parts(node, ranged)
        accesses = self.reader.read(iterable) if iterable is not None else []
        if target is not None:
            accesses += (
                self.reader.bind(target, decl) if decl != NO_DECL else self.reader.write(target)
            )
        sid = self.head(node, [iterable, target], accesses)
        label = label or _text(_child_of_type(node, "label")) or None
        self.pending = [(sid, "true")]
        context = self.loop_body(node.child_by_field_name("body"), sid, label)
        self.loop_else(node, [(sid, "false")], context)

    def loop_parts(self, node: Node, ranged: Node | None) -> tuple[Node | None, Node | None, int]:
        language = self.language
        if ranged is not None:  # Go `for k, v := range m`
            declares = any(child.type == ":=" for child in ranged.children)
            return (
                ranged.child_by_field_name("left"),
                ranged.child_by_field_name("right"),
                DECL_BLOCK if declares else NO_DECL,
            )
        if language == "java":
            return node.child_by_field_name("name"), node.child_by_field_name("value"), DECL_BLOCK
        if language == "rust":
            return (
                node.child_by_field_name("pattern"),
                node.child_by_field_name("value"),
                DECL_BLOCK,
            )
        target = node.child_by_field_name("left")
        iterable = node.child_by_field_name("right")
        if language == "python":
            return target, iterable, NO_DECL
        kind = _text(node.child_by_field_name("kind"))
        decl = DECL_FUNCTION if kind == "var" else DECL_BLOCK if kind else NO_DECL
        return target, iterable, decl

    def c_switch(self, node: Node, label: str | None) -> None:
        subject, cases, falls = cases_of(node, self.language)
        head_accesses = self.switch_head_accesses(node, subject)
        # Each test compares the value the head computed: a hidden name links
        # them (so a slice through a case keeps the `switch` line), and the
        # test reads what the head read.
        hidden = Access("def", f"{HIDDEN_PREFIX}{node.start_byte}", node.start_point[0] + 1, 0)
        sid = self.head(node, subject, [*head_accesses, hidden])
        subject_reads = [a for a in head_accesses if a.kind == "use"]
        subject_reads.append(Access("use", hidden.name, hidden.line, 0))
        breakable = self.language in ("javascript", "typescript", "tsx", "java", "go")
        # JavaScript and Java cases share the switch's block; a Go case is its own.
        falls_together = self.language in ("javascript", "typescript", "tsx", "java")
        context = _Context("switch", label)
        if breakable:
            self.contexts.append(context)
        tests: _Pending = [(sid, "fallthrough")]
        carry: _Pending = []
        outs: _Pending = []
        default_step: int | None = None
        for case in cases:
            if case.default:
                self.pending = carry
                default_step = self.case_step(node, case, [])
                self.pending = [(default_step, "fallthrough")]
            else:
                self.pending = tests
                test = self.case_step(node, case, subject_reads)
                tests = [] if case.irrefutable else [(test, "false")]
                self.pending = [(test, "true"), *carry]
            saved = self.scope
            scope_node = node if falls_together else case.node
            self.scope = (scope_node.start_byte, scope_node.end_byte)
            for statement in case.body:
                self.statement(statement)
            self.scope = saved
            if falls or case.falls:
                carry = self.pending
            else:
                outs += self.pending
                carry = []
        outs += carry
        if default_step is not None:
            self.connect([(source, "false") for source, _ in tests], default_step)
        elif self.language != "rust":
            outs += tests
        if breakable:
            self.contexts.pop()
        self.pending = outs + context.breaks

    def switch_head_accesses(self, node: Node, subject: list[Node]) -> list[Access]:
        accesses: list[Access] = []
        for part in subject:
            if node.type == "type_switch_statement" and part.type == "expression_list":
                continue
            accesses += self.reader.read(part)
        alias = node.child_by_field_name("alias") if node.type == "type_switch_statement" else None
        if alias is not None:
            accesses += self.reader.bind(alias)
        return accesses

    def case_step(self, node: Node, case: Case, subject_reads: list[Access]) -> int:
        accesses = [Access("use", a.name, a.line, a.byte) for a in subject_reads]
        for part in case.reads:
            accesses += self.reader.read(part)
        for part in case.binds:
            accesses += self.reader.bind(part)
        ends = [*case.reads, *case.binds]
        last: Node | None = max(ends, key=lambda part: part.end_byte) if ends else None
        if case.guard is not None:
            accesses += self.reader.read(case.guard)
            last = case.guard
        if not ends and case.guard is None:
            last = None  # `default:`: its own line only
        sid = self.step(case.node, last, accesses, scope=case.node)
        self.steps[sid].extent = end_row(node) + 1  # a later case's jump is still inside
        return sid

    def c_select(self, node: Node, label: str | None) -> None:
        sid = self.head(node, [])
        context = _Context("switch", label)
        self.contexts.append(context)
        outs: _Pending = []
        for case in node.named_children:
            if case.type not in ("communication_case", "default_case"):
                continue
            self.pending = [(sid, "case")]
            communication = case.child_by_field_name("communication")
            self.step(
                case,
                communication,
                self.reader.read(communication) if communication else [],
                scope=case,
            )
            for statement in case.named_children:
                if communication is None or statement.id != communication.id:
                    self.statement(statement)
            outs += self.pending
        self.contexts.pop()
        self.pending = outs + context.breaks

    def c_try(self, node: Node, label: str | None) -> None:
        body, handlers, orelse, final, resources = handlers_of(node, self.language)
        head = self.step(
            node, resources, self.reader.read(resources) if resources else [], scope=node
        )
        finally_context = _Context("finally") if final is not None else None
        if finally_context is not None:
            self.contexts.append(finally_context)
        catch = _Context("catch") if handlers else None
        if catch is not None:
            self.contexts.append(catch)
        self.branch(body)
        body_end = len(self.steps)
        if catch is not None:
            self.contexts.pop()
        body_out = self.pending
        raising: _Pending = [(sid, "exception") for sid in range(head, body_end)]
        if catch is not None:
            known = {source for source, _ in raising}
            raising += [(s, k) for s, k in catch.raises if s not in known]
            outs = self.catch_handlers(handlers, raising)
        else:
            outs = []
            self.jump("exception", None, raising)
        self.pending = body_out
        if orelse is not None:
            self.branch(orelse)
        outs += self.pending
        if finally_context is None or final is None:
            self.pending = outs
            return
        self.contexts.pop()
        # The finally is built once per way out (as compilers copy it), so a
        # path entering it by one jump leaves it by that jump only.
        for (kind, jump_label), sources in finally_context.jumps.items():
            self.pending = sources
            self.branch(final)
            self.jump(kind, jump_label, [(source, kind) for source, _ in self.pending])
        self.pending = outs
        if outs:
            self.branch(final)

    def catch_handlers(self, handlers: list[Handler], raising: _Pending) -> _Pending:
        outs: _Pending = []
        self.pending = raising
        for handler in handlers:
            accesses: list[Access] = []
            if handler.test is not None:
                accesses += self.reader.read(handler.test)
            if handler.name is not None:
                accesses += self.reader.bind(
                    handler.name, NO_DECL if self.language == "python" else DECL_BLOCK
                )
            ends = [part for part in (handler.test, handler.name) if part is not None]
            last = max(ends, key=lambda part: part.end_byte) if ends else None
            sid = self.step(handler.node, last, accesses, scope=handler.node)
            self.pending = [(sid, "true")]
            self.branch(handler.body)
            outs += self.pending
            self.pending = [] if handler.catch_all else [(sid, "false")]
        if self.pending:
            self.jump("exception", None, [(source, "exception") for source, _ in self.pending])
        return outs

    def c_with(self, node: Node, label: str | None) -> None:
        body = node.child_by_field_name("body")
        accesses: list[Access] = []
        parts: list[Node | None] = []
        for child in node.named_children:
            if body is not None and child.id == body.id:
                continue
            parts.append(child)
            for item in _descendants_of_type(child, "with_item") or [child]:
                value = item.child_by_field_name("value") or item
                if value.type == "as_pattern" and value.named_child_count:
                    accesses += self.reader.read(value.named_children[0])
                    alias = value.child_by_field_name("alias")
                    if alias is not None:
                        accesses += self.reader.write(alias)
                else:
                    accesses += self.reader.read(value)
        self.head(node, parts, accesses)
        self.branch(body)

    def c_return(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, self.reader.read(node))
        if self.language == "rust":
            self.inner_jumps_below(node, sid)
        self.jump("return", None, [(sid, "return")])
        self.pending = []

    def inner_jumps_below(self, node: Node, sid: int) -> None:
        for child in node.named_children:
            self.inner_jumps(child, sid)
        self.pending = []

    def c_raise(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, self.reader.read(node))
        self.jump("exception", None, [(sid, "exception")])
        self.pending = []

    def c_assert(self, node: Node, label: str | None) -> None:
        sid = self.step(node, node, self.reader.read(node))
        self.jump("exception", None, [(sid, "exception")])
        self.pending = [(sid, "fallthrough")]

    def jump_label(self, node: Node) -> str | None:
        found = node.child_by_field_name("label") or _child_of_type(
            node, "label", "label_name", "identifier", "statement_identifier"
        )
        if found is None or (self.language == "rust" and found.type == "identifier"):
            return None
        return _text(found) or None

    def c_break(self, node: Node, label: str | None) -> None:
        target = self.jump_label(node)
        value = (
            [c for c in node.named_children if c.type != "label"] if self.language == "rust" else []
        )
        accesses = [a for part in value for a in self.reader.read(part)]
        sid = self.jump_step(node, accesses)
        self.jump("break", target, [(sid, "break")])
        self.pending = []

    def c_continue(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, [])
        self.jump("continue", self.jump_label(node), [(sid, "continue")])
        self.pending = []

    def c_goto(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, [])
        self.gotos.append((sid, _text(_child_of_type(node, "label_name"))))
        self.pending = []

    def c_fallthrough(self, node: Node, label: str | None) -> None:
        self.step(node, node, [])

    def c_expression(self, node: Node, label: str | None) -> None:
        inner = node.named_children[0] if node.named_child_count else None
        if inner is not None and inner.type in self.tables.constructs:
            self.next_label = label
            self.statement(inner)
        else:
            self.simple(node)

    def c_let(self, node: Node, label: str | None) -> None:
        alternative = node.child_by_field_name("alternative")
        if alternative is None:
            self.simple(node)
            return
        pattern = node.child_by_field_name("pattern")
        value = node.child_by_field_name("value")
        accesses = (self.reader.read(value) if value else []) + (
            self.reader.bind(pattern) if pattern else []
        )
        sid = self.step(node, value or pattern, accesses)
        if value is not None:
            self.inner_jumps(value, sid)
        self.pending = [(sid, "false")]
        self.branch(alternative)
        self.pending = [(sid, "true"), *self.pending]


def _unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def _child_of_type(node: Node | None, *types: str) -> Node | None:
    if node is None:
        return None
    for child in node.named_children:
        if child.type in types:
            return child
    return None


def _descendants_of_type(node: Node, kind: str) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            found.append(current)
            continue
        stack.extend(reversed(current.named_children))
    return found


def _is_call_to(node: Node, name: str) -> bool:
    call = (
        node.named_children[0]
        if node.type == "expression_statement" and node.named_child_count
        else node
    )
    if call.type != "call_expression":
        return False
    function = call.child_by_field_name("function")
    return function is not None and _text(function) == name


def build_steps(
    function: Node, body: Node | None, parameters: list[Node], tables: FlowTables
) -> StepGraph:
    """Build the step graph of one function.

    Args:
        function: The function's node (its first line is the entry's).
        body: The body: a block, or an expression (an arrow function's).
        parameters: Nodes holding the parameters (defined at the entry).
        tables: The language's flow tables.
    """
    reader = AccessReader(tables)
    builder = _Builder(tables, reader)
    entry_accesses = [access for node in parameters for access in reader.bind(node)]
    for access in entry_accesses:
        if access.kind == "def":
            access.decl = DECL_FUNCTION
    header_end = function.start_point[0]
    if body is not None:
        body_row = body.start_point[0]
        header_end = max(header_end, body_row - 1 if tables.language == "python" else body_row)
    start = function.start_point[0] + 1
    builder.steps.append(Step(ENTRY, start, header_end + 1, entry_accesses, None))
    builder.steps.append(Step(EXIT, 0, 0, [], None))
    builder.pending = [(ENTRY, "fallthrough")]
    if body is not None:
        if body.type in tables.blocks:
            builder.sequence(body, scoped=False)
        else:
            builder.simple(body)
            builder.jump("return", None, [(source, "return") for source, _ in builder.pending])
            builder.pending = []
    builder.connect(builder.pending, EXIT)
    for source, label in builder.gotos:
        target = builder.labels.get(label)
        builder.edges.append((source, target if target is not None else EXIT, "goto"))
    return StepGraph(builder.steps, builder.edges)
