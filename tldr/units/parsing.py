"""Cached tree-sitter parsers and the small records the extraction walk keeps."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

__all__ = ["OpenUnit", "Scope", "end_row", "parser_for"]

_local = threading.local()


def parser_for(language: str) -> Parser:
    """Return this thread's cached tree-sitter parser for a language."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        from tree_sitter_language_pack import get_parser

        parser = parsers[language] = get_parser(language)  # type: ignore[arg-type]
    return parser


class Scope:
    """The qualified-name prefix and kind of the definition being walked."""

    __slots__ = ("kind", "names")

    def __init__(self, names: tuple[str, ...], kind: str) -> None:
        self.names = names
        self.kind = kind


class OpenUnit:
    """A unit being collected during the walk; see `extract`."""

    __slots__ = (
        "assigns",
        "bools",
        "branches",
        "calls",
        "docstring",
        "kind",
        "last",
        "loops",
        "name",
        "node",
        "outer",
        "parent_kind",
        "qualified",
        "qualifiers",
        "sig_start",
    )

    def __init__(self, node: Node | None, kind: str, name: str, qualified: str) -> None:
        self.node = node
        self.outer = node
        self.last = node  # the last node of the unit's span (a later clause, a body)
        self.sig_start = node.start_byte if node is not None else 0
        self.kind = kind
        self.name = name
        self.qualified = qualified
        self.parent_kind = ""
        self.qualifiers: list[str] = []
        self.calls: list[str] = []
        self.assigns: list[str] = []
        self.branches = 0
        self.loops = 0
        self.bools = 0
        self.docstring = ""


def end_row(node: Node) -> int:
    """Return a node's last row, not counting a trailing newline it swallowed."""
    row, column = node.end_point
    if column == 0 and row > node.start_point[0]:
        return row - 1
    return row
