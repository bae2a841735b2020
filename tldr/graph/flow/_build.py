"""From a function's syntax tree to its graph of steps.

`build_steps` is the entry point. This module adds the multi-way
constructs (`switch`/`match`/`select`, `try`, `with`) to the builder of
`_branches`; `_steps` holds the step graph and the builder's core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldr.graph.flow._access import DECL_BLOCK, DECL_FUNCTION, NO_DECL, Access, AccessReader
from tldr.graph.flow._branches import BranchBuilder
from tldr.graph.flow._cases import Case, Handler, cases_of, handlers_of
from tldr.graph.flow._steps import (
    ENTRY,
    EXIT,
    HIDDEN_PREFIX,
    Context,
    Pending,
    Step,
    StepGraph,
    descendants_of_type,
)
from tldr.graph.flow._tables import FlowTables
from tldr.units.parsing import end_row

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["build_steps"]


class _Builder(BranchBuilder):
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
        context = Context("switch", label)
        if breakable:
            self.contexts.append(context)
        tests: Pending = [(sid, "fallthrough")]
        carry: Pending = []
        outs: Pending = []
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
                self.value_statement(statement)  # a Rust arm may be the value of a `let`
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
        context = Context("switch", label)
        self.contexts.append(context)
        outs: Pending = []
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
        finally_context = Context("finally") if final is not None else None
        if finally_context is not None:
            self.contexts.append(finally_context)
        catch = Context("catch") if handlers else None
        if catch is not None:
            self.contexts.append(catch)
        self.branch(body)
        body_end = len(self.steps)
        if catch is not None:
            self.contexts.pop()
        body_out = self.pending
        raising: Pending = [(sid, "exception") for sid in range(head, body_end)]
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

    def catch_handlers(self, handlers: list[Handler], raising: Pending) -> Pending:
        outs: Pending = []
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
            for item in descendants_of_type(child, "with_item") or [child]:
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
