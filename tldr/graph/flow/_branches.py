"""Conditionals, loops, labels and jumps: the builder's statement constructs.

Each `c_<construct>` method builds one statement kind named in the
language's tables (`_tables.FlowTables.constructs`), leaving `pending` as
the statement's ways out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldr.graph.flow._access import DECL_BLOCK, DECL_FUNCTION, NO_DECL, Access
from tldr.graph.flow._steps import (
    HIDDEN_PREFIX,
    BuilderCore,
    Context,
    Pending,
    child_of_type,
    node_text,
    unparen,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["BranchBuilder"]

_LOOPS = ("while", "do", "for", "foreach", "go_for", "loop")
_VALUE_CONSTRUCTS = frozenset(
    {"if_expression", "match_expression", "loop_expression", "block", "unsafe_block"}
)


class BranchBuilder(BuilderCore):
    """Builds `if`, the loops, labelled statements and the jump statements."""

    def c_block(self, node: Node, label: str | None) -> None:
        if label is None:
            self.sequence(node)
            return
        self.labelled(node, label, self.sequence)

    def c_labeled(self, node: Node, label: str | None) -> None:
        named = [c for c in node.named_children if c.type not in self.tables.skipped]
        if not named:
            return
        name = node_text(named[0])
        inner = named[-1] if len(named) > 1 else None
        if self.language == "go":
            self.labels[name] = self.step(named[0], named[0], [])
        if inner is None:
            return
        if self.tables.constructs.get(inner.type) in _LOOPS:
            self.next_label = name
            self.statement(inner)
        else:
            self.labelled(inner, name, self.statement)

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

    def loop_body(self, node: Node | None, head: int, label: str | None) -> Context:
        context = Context("loop", label)
        context.sink, self.loop_sink = self.loop_sink, None
        sink, self.value_sink = self.value_sink, None  # a loop body's value is `()`
        self.contexts.append(context)
        self.branch(node)
        self.contexts.pop()
        self.value_sink = sink
        self.connect(self.pending, head, back=True)
        self.connect(context.continues, head)
        return context

    def loop_else(self, node: Node, exits: Pending, context: Context) -> None:
        self.pending = exits
        alternative = node.child_by_field_name("alternative")
        if alternative is not None:
            self.branch(alternative.child_by_field_name("body"))
        self.pending += context.breaks

    def endless(self, condition: Node | None) -> bool:
        return condition is None or node_text(unparen(condition)) in self.tables.true_literals

    def c_while(self, node: Node, label: str | None) -> None:
        condition = node.child_by_field_name("condition")
        sid = self.head(node, [condition])
        label = label or node_text(child_of_type(node, "label")) or None
        self.pending = [(sid, "true")]
        context = self.loop_body(node.child_by_field_name("body"), sid, label)
        self.loop_else(node, [] if self.endless(condition) else [(sid, "false")], context)

    def c_do(self, node: Node, label: str | None) -> None:
        body_start = len(self.steps)
        context = Context("loop", label)
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
            clause = child_of_type(node, "for_clause")
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
        context = Context("loop", label)
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
        if child_of_type(node, "for_clause") is not None:
            self.c_for(node, label)
            return
        ranged = child_of_type(node, "range_clause")
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
        label = label or node_text(child_of_type(node, "label")) or None
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
        label = label or node_text(child_of_type(node, "label")) or None
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
        kind = node_text(node.child_by_field_name("kind"))
        decl = DECL_FUNCTION if kind == "var" else DECL_BLOCK if kind else NO_DECL
        return target, iterable, decl

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
        found = node.child_by_field_name("label") or child_of_type(
            node, "label", "label_name", "identifier", "statement_identifier"
        )
        if found is None or (self.language == "rust" and found.type == "identifier"):
            return None
        return node_text(found) or None

    def c_break(self, node: Node, label: str | None) -> None:
        target = self.jump_label(node)
        value = (
            [c for c in node.named_children if c.type != "label"] if self.language == "rust" else []
        )
        accesses = [a for part in value for a in self.reader.read(part)]
        loop = next(
            (
                c
                for c in reversed(self.contexts)
                if c.kind == "loop" and (target is None or c.label == target)
            ),
            None,
        )
        if loop is not None and loop.sink is not None:
            accesses.append(Access("def", loop.sink, node.start_point[0] + 1, node.start_byte))
        sid = self.jump_step(node, accesses)
        self.jump("break", target, [(sid, "break")])
        self.pending = []

    def c_continue(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, [])
        self.jump("continue", self.jump_label(node), [(sid, "continue")])
        self.pending = []

    def c_goto(self, node: Node, label: str | None) -> None:
        sid = self.jump_step(node, [])
        self.gotos.append((sid, node_text(child_of_type(node, "label_name"))))
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

    def let_value(self, node: Node, value: Node) -> None:
        """`let v = if/match/loop/{..}`: build the value's flow, then bind what it yields.

        The value's tail expressions (and a loop's `break value`) define a
        hidden name that the binding step, on the `let` line, reads.
        """
        hidden = f"{HIDDEN_PREFIX}{value.start_byte}"
        saved = self.value_sink
        self.value_sink = hidden
        if value.type == "loop_expression":
            self.loop_sink = hidden
        self.value_statement(value)
        self.value_sink = saved
        self.loop_sink = None
        pattern = node.child_by_field_name("pattern")
        accesses = [Access("use", hidden, value.start_point[0] + 1, value.start_byte)]
        if pattern is not None:
            accesses += self.reader.bind(pattern)
        sid = self.step(node, pattern, accesses)
        self.steps[sid].end_byte = node.end_byte  # the new name is seen after the whole `let`

    def c_let(self, node: Node, label: str | None) -> None:
        alternative = node.child_by_field_name("alternative")
        value = node.child_by_field_name("value")
        if alternative is None and value is not None and value.type in _VALUE_CONSTRUCTS:
            self.let_value(node, value)
            return
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
