"""Finding the function to analyse, by name or by a line inside it.

Names are the units layer's qualified names (`Class.method`, `outer.inner`,
Go `Type.Method`), built with the same naming rules, so a name from search
results or `structure` finds its function here. A name is found through
the places its text occurs (no walk of the whole tree); only a miss
enumerates every definition, for the did-you-mean list.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tldr.graph.flow._errors import (
    AmbiguousFunctionError,
    FunctionNotFoundError,
    LineOutsideFunctionError,
)
from tldr.units.languages import SPECS
from tldr.units.naming import classify, definition_name, function_value
from tldr.units.parsing import end_row

if TYPE_CHECKING:
    from tree_sitter import Node, Query

__all__ = ["Located", "locate"]

_MAX_CANDIDATES = 5
_MAX_WRAPPER_DEPTH = 3  # export -> lexical_declaration -> variable_declarator
_local = threading.local()


@dataclass(frozen=True)
class Located:
    """The function found: its node, its body and where its parameters are."""

    node: Node
    body: Node | None
    parameters: list[Node]
    name: str
    qualified_name: str
    line: int
    end_line: int


def _definition(node: Node, language: str) -> tuple[str, list[str], str] | None:
    """(name, qualifiers, kind) when `node` opens a named definition."""
    spec = SPECS[language]
    kind = classify(node, spec)
    if kind is None:
        return None
    named = definition_name(node, spec)
    if named is None:
        return None
    return named[0], named[1], kind


def _qualified(node: Node, language: str, own: tuple[str, list[str], str]) -> str:
    parts = [*own[1], own[0]]
    parent = node.parent
    while parent is not None:
        found = _definition(parent, language)
        if found is not None:
            parts = [*found[1], found[0], *parts]
        parent = parent.parent
    return ".".join(parts)


def _function_node(node: Node) -> Node:
    """The node holding parameters and body (a JS `const f = () => ...` holds an arrow)."""
    value = function_value(node)
    return value if value is not None else node


def _located(node: Node, language: str, own: tuple[str, list[str], str]) -> Located:
    function = _function_node(node)
    body = function.child_by_field_name("body")
    parameters = [
        found
        for field_name in ("receiver", "parameters", "parameter", "result")
        if (found := function.child_by_field_name(field_name)) is not None
        and (field_name != "result" or found.type == "parameter_list")
    ]
    return Located(
        node=function,
        body=body,
        parameters=parameters,
        name=own[0],
        qualified_name=_qualified(node, language, own),
        line=function.start_point[0] + 1,
        end_line=end_row(function) + 1,
    )


def _enclosing_definition(
    node: Node | None, language: str
) -> tuple[Node, tuple[str, list[str], str]] | None:
    while node is not None:
        if node.type == "decorated_definition":  # a line of a decorator: its function
            inner = node.child_by_field_name("definition")
            found = _definition(inner, language) if inner is not None else None
            if inner is not None and found is not None and found[2] == "function":
                return inner, found
        found = _definition(node, language)
        if found is not None and found[2] == "function":
            return node, found
        node = node.parent
    return None


def _starting_on(
    node: Node | None, row: int, language: str
) -> tuple[Node, tuple[str, list[str], str]] | None:
    """A function that starts on `row` inside `node` (under `export`, `const f =`, ...)."""
    pending = [(node, 0)] if node is not None else []
    while pending:
        current, depth = pending.pop()
        if current.start_point[0] != row:
            continue
        found = _definition(current, language)
        if found is not None and found[2] == "function":
            return current, found
        if depth < _MAX_WRAPPER_DEPTH:
            pending.extend((child, depth + 1) for child in reversed(current.named_children))
    return None


def _by_line(root: Node, source: bytes, language: str, line: int, file: str) -> Located:
    row = line - 1
    lines = source.split(b"\n")
    if not 0 <= row < len(lines):
        raise LineOutsideFunctionError(f"line {line} is outside {file or 'the file'}")
    text = lines[row]
    column = len(text) - len(text.lstrip())
    node = root.descendant_for_point_range((row, column), (row, max(column, len(text) - 1)))
    found = _starting_on(node, row, language) or _enclosing_definition(node, language)
    if found is None:
        raise LineOutsideFunctionError(
            f"line {line} is not inside a function of {file or 'the file'}"
        )
    return _located(found[0], language, found[1])


def _query(language: str) -> Query:
    queries: dict[str, Query] | None = getattr(_local, "queries", None)
    if queries is None:
        queries = _local.queries = {}
    query = queries.get(language)
    if query is None:
        from tree_sitter import Query
        from tree_sitter_language_pack import get_language

        spec = SPECS[language]
        types = " ".join(f"({kind})" for kind in sorted(spec.functions))
        query = queries[language] = Query(get_language(language), f"[{types}] @d")  # type: ignore[arg-type]
    return query


def _all_functions(root: Node, language: str) -> list[tuple[str, str]]:
    """(qualified name, name) of every named function in the file."""
    from tree_sitter import QueryCursor

    captures = QueryCursor(_query(language)).captures(root)
    found: list[tuple[str, str]] = []
    for node in captures.get("d", []):
        own = _definition(node, language)
        if own is not None and own[2] == "function":
            found.append((_qualified(node, language, own), own[0]))
    return found


def _did_you_mean(wanted: str, functions: list[tuple[str, str]]) -> list[str]:
    qualified = sorted({q for q, _ in functions})
    by_name = {name: q for q, name in functions}
    close = difflib.get_close_matches(wanted, qualified, n=_MAX_CANDIDATES, cutoff=0.6)
    last = wanted.rsplit(".", 1)[-1]
    for name in difflib.get_close_matches(last, sorted(by_name), n=_MAX_CANDIDATES, cutoff=0.6):
        if by_name[name] not in close:
            close.append(by_name[name])
    return close[:_MAX_CANDIDATES]


def _by_name(root: Node, source: bytes, language: str, wanted: str, file: str) -> Located:
    last = wanted.rsplit(".", 1)[-1].encode("utf-8")
    matches: dict[int, Located] = {}
    for occurrence in re.finditer(rb"(?<![\w$])" + re.escape(last) + rb"(?![\w$])", source):
        start = occurrence.start()
        node = root.descendant_for_byte_range(start, start + len(last))
        for _ in range(4):  # the name node, then the definition a few levels up
            if node is None:
                break
            own = _definition(node, language)
            if own is not None and own[2] == "function" and own[0] == last.decode("utf-8"):
                located = _located(node, language, own)
                qualified = located.qualified_name
                if qualified == wanted or qualified.endswith("." + wanted):
                    matches[node.id] = located
                break
            node = node.parent
    exact = [m for m in matches.values() if m.qualified_name == wanted]
    chosen = exact or list(matches.values())
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise FunctionNotFoundError(
            wanted, file, _did_you_mean(wanted, _all_functions(root, language))
        )
    places = sorted((m.qualified_name, m.line) for m in chosen)
    raise AmbiguousFunctionError(wanted, file, places)


def locate(
    root: Node, source: bytes, language: str, function: str | int, file: str = ""
) -> Located:
    """Find a function by (qualified) name, or the innermost one around a line.

    Raises:
        FunctionNotFoundError: No function of that name (with close names).
        AmbiguousFunctionError: Several functions of that name.
        LineOutsideFunctionError: The line is in no function.
    """
    if isinstance(function, int) or function.strip().isdigit():
        return _by_line(root, source, language, int(function), file)
    return _by_name(root, source, language, function.strip(), file)
