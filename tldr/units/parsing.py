"""Cached tree-sitter parsers and the small records the extraction walk keeps."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

__all__ = ["OpenUnit", "Scope", "end_row", "parse", "parser_for"]

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


# Rust crates (tokio) wrap whole items in configuration macros, `cfg_rt! {
# pub struct LocalSet {...} }`, whose bodies tree-sitter leaves as unparsed
# token trees. Blanking the macro's head and closing brace (same byte
# offsets and lines) and parsing again makes those items visible.
_RUST_ITEM_MACRO_PREFIX = b"cfg_"
_RUST_NOT_ITEMS = frozenset({b"cfg_if"})  # `cfg_if! { if #[cfg(..)] {..} }` is not items
_RUST_ITEM_CONTAINERS = frozenset({"impl_item", "mod_item", "trait_item"})
_MAX_UNWRAP_ROUNDS = 3


def _blank(data: bytearray, start: int, end: int) -> None:
    data[start:end] = bytes(b if b == 0x0A else 0x20 for b in data[start:end])


def _rust_item_macros(root: Node) -> list[tuple[int, int, int]]:
    """(macro start, end of `{`, position of `}`) of each item-level cfg macro."""
    found: list[tuple[int, int, int]] = []
    pending = [root]
    while pending:
        node = pending.pop()
        for child in node.named_children:
            if child.type in _RUST_ITEM_CONTAINERS:
                body = child.child_by_field_name("body")
                if body is not None:
                    pending.append(body)
                continue
            if child.type != "macro_invocation":
                continue
            macro = child.child_by_field_name("macro")
            name = (macro.text or b"").rsplit(b"::", 1)[-1] if macro is not None else b""
            tree = child.named_children[-1] if child.named_children else None
            if (
                name.startswith(_RUST_ITEM_MACRO_PREFIX)
                and name not in _RUST_NOT_ITEMS
                and tree is not None
                and tree.type == "token_tree"
                and (tree.text or b"").startswith(b"{")
            ):
                found.append((child.start_byte, tree.start_byte + 1, tree.end_byte - 1))
    return found


def parse(source: bytes, language: str) -> tuple[bytes, Tree]:
    """Parse a file; returns the source the tree describes (see Rust cfg macros)."""
    parser = parser_for(language)
    tree = parser.parse(source)
    if language != "rust" or _RUST_ITEM_MACRO_PREFIX not in source:
        return source, tree
    for _ in range(_MAX_UNWRAP_ROUNDS):
        macros = _rust_item_macros(tree.root_node)
        if not macros:
            break
        data = bytearray(source)
        for start, body_start, close in macros:
            _blank(data, start, body_start)
            _blank(data, close, close + 1)
        source = bytes(data)
        tree = parser.parse(source)
    return source, tree


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
        "index",
        "kind",
        "last",
        "loops",
        "name",
        "node",
        "outer",
        "parent",
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
        self.index = -1  # position among the file's units; -1: the module
        self.parent = -1  # index of the enclosing unit
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
