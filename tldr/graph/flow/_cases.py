"""The parts of `switch`/`match` and `try` statements, per grammar.

Grammars lay these out differently (a Java statement group, a Go
`statement_list`, a Python `except` clause with an `as` pattern); these
functions give the builder the same shape for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["Case", "Handler", "cases_of", "handlers_of"]

_FALLTHROUGH_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})


@dataclass
class Case:
    """One case: what its test reads and binds, its guard, its statements."""

    node: Node
    reads: list[Node] = field(default_factory=list)
    binds: list[Node] = field(default_factory=list)
    guard: Node | None = None
    body: list[Node] = field(default_factory=list)
    default: bool = False
    irrefutable: bool = False  # matches anything: no `false` edge after it
    falls: bool = False  # its end runs into the next case's statements


@dataclass
class Handler:
    """One `except`/`catch` clause."""

    node: Node
    test: Node | None
    name: Node | None
    body: Node | None
    catch_all: bool


def _named(node: Node | None) -> list[Node]:
    if node is None:
        return []
    return [child for child in node.named_children if child.type not in _COMMENTS]


def _python_irrefutable(patterns: list[Node]) -> bool:
    if len(patterns) != 1:
        return False
    inner = _named(patterns[0])
    if not inner:
        return True  # `case _:`
    return (
        len(inner) == 1 and inner[0].type == "dotted_name" and inner[0].named_child_count == 1
    )  # `case other:`, a capture


def _python_cases(node: Node) -> list[Case]:
    cases: list[Case] = []
    body = node.child_by_field_name("body")
    for clause in _named(body):
        if clause.type != "case_clause":
            continue
        patterns = [c for c in _named(clause) if c.type == "case_pattern"]
        guard = clause.child_by_field_name("guard")
        consequence = clause.child_by_field_name("consequence")
        cases.append(
            Case(
                clause,
                binds=patterns,
                guard=guard,
                body=[consequence] if consequence is not None else [],
                irrefutable=guard is None and _python_irrefutable(patterns),
            )
        )
    return cases


def _js_cases(node: Node) -> list[Case]:
    cases: list[Case] = []
    for clause in _named(node.child_by_field_name("body")):
        value = clause.child_by_field_name("value")
        body = clause.children_by_field_name("body")
        cases.append(
            Case(
                clause,
                reads=[value] if value is not None else [],
                body=body,
                default=clause.type == "switch_default",
            )
        )
    return cases


def _java_cases(node: Node) -> tuple[list[Case], bool]:
    cases: list[Case] = []
    rules = False
    for group in _named(node.child_by_field_name("body")):
        labels = [c for c in _named(group) if c.type == "switch_label"]
        statements = [c for c in _named(group) if c.type != "switch_label"]
        reads = [value for label in labels for value in _named(label)]
        default = any((label.text or b"").strip().startswith(b"default") for label in labels)
        rules = rules or group.type == "switch_rule"
        cases.append(Case(group, reads=reads, body=statements, default=default))
    return cases, not rules


def _go_cases(node: Node) -> list[Case]:
    cases: list[Case] = []
    for clause in _named(node):
        if clause.type not in ("expression_case", "type_case", "default_case"):
            continue
        statements: list[Node] = []
        value = clause.child_by_field_name("value")
        reads = [value] if value is not None else []
        for child in _named(clause):
            if child.type == "statement_list":
                statements.extend(_named(child))
            elif (value is None or child.id != value.id) and clause.type != "type_case":
                statements.append(child)  # a grammar without `statement_list`
        falls = bool(statements) and statements[-1].type == "fallthrough_statement"
        cases.append(
            Case(
                clause,
                reads=reads,
                body=statements,
                default=clause.type == "default_case",
                falls=falls,
            )
        )
    return cases


def _rust_cases(node: Node) -> list[Case]:
    cases: list[Case] = []
    for arm in _named(node.child_by_field_name("body")):
        if arm.type != "match_arm":
            continue
        pattern = arm.child_by_field_name("pattern")
        value = arm.child_by_field_name("value")
        cases.append(
            Case(
                arm,
                binds=[pattern] if pattern is not None else [],
                body=[value] if value is not None else [],
            )
        )
    return cases


def cases_of(node: Node, language: str) -> tuple[list[Node], list[Case], bool]:
    """The subject nodes of a switch/match, its cases, and whether cases fall through."""
    if language == "python":
        return node.children_by_field_name("subject"), _python_cases(node), False
    if language == "rust":
        value = node.child_by_field_name("value")
        return ([value] if value is not None else []), _rust_cases(node), False
    if language == "java":
        condition = node.child_by_field_name("condition")
        cases, falls = _java_cases(node)
        return ([condition] if condition is not None else []), cases, falls
    if language == "go":
        subject = [
            part
            for part in (
                node.child_by_field_name("initializer"),
                node.child_by_field_name("value"),
            )
            if part is not None
        ]
        return subject, _go_cases(node), False
    value = node.child_by_field_name("value")
    return ([value] if value is not None else []), _js_cases(node), True


def _python_handler(clause: Node) -> Handler:
    value = clause.child_by_field_name("value")
    test: Node | None = value
    name: Node | None = None
    if value is not None and value.type == "as_pattern":
        inner = _named(value)
        test = inner[0] if inner else None
        name = value.child_by_field_name("alias")
    body = next((c for c in _named(clause) if c.type == "block"), None)
    return Handler(clause, test, name, body, catch_all=value is None)


def handlers_of(
    node: Node, language: str
) -> tuple[Node | None, list[Handler], Node | None, Node | None, Node | None]:
    """(body, handlers, else body, finally body, resources) of a try statement."""
    body = node.child_by_field_name("body")
    handlers: list[Handler] = []
    orelse: Node | None = None
    final: Node | None = None
    resources = node.child_by_field_name("resources")
    for child in _named(node):
        kind = child.type
        if kind in ("except_clause", "except_group_clause"):
            handlers.append(_python_handler(child))
        elif kind == "catch_clause" and language == "java":
            parameter = next((c for c in _named(child) if c.type == "catch_formal_parameter"), None)
            handlers.append(
                Handler(child, None, parameter, child.child_by_field_name("body"), catch_all=False)
            )
        elif kind == "catch_clause":
            handlers.append(
                Handler(
                    child,
                    None,
                    child.child_by_field_name("parameter"),
                    child.child_by_field_name("body"),
                    catch_all=True,
                )
            )
        elif kind == "else_clause":
            orelse = child.child_by_field_name("body")
        elif kind == "finally_clause":
            final = child.child_by_field_name("body") or next(
                (c for c in _named(child) if c.type == "block"), None
            )
    return body, handlers, orelse, final, resources
