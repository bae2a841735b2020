"""What an import statement binds: the local names it makes visible, per language.

`statement_imports` (imports.py) says *which modules* a file imports, for
search; this says *which names* each import binds and where they come
from, for the code graph: `from a import b as c` binds `c` to `a`'s `b`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from tldr.units.imports import statement_imports

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["ImportBinding", "call_binding", "import_bindings"]


class ImportBinding(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One name an import binds in a file.

    `local` is the name code in the file uses (an alias, a package name,
    `*` for a wildcard import); `module` the module text as written
    (relative dots and paths kept); `symbol` the imported member, "" when
    the binding is the module itself. `line` is 1-based.
    """

    local: str
    module: str
    symbol: str
    line: int


_SPLIT = re.compile(r"::|[./\\:]")
_QUOTES = "\"'`<>"


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text[:500].decode("utf-8", "replace")


def _python(node: Node, line: int) -> list[ImportBinding]:
    if node.type == "future_import_statement":
        return []
    found: list[ImportBinding] = []
    if node.type == "import_statement":
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                module = _text(child.child_by_field_name("name"))
                alias = _text(child.child_by_field_name("alias"))
                found.append(ImportBinding(alias, module, "", line))
            else:
                module = _text(child)
                found.append(ImportBinding(module, module, "", line))
        return found
    module = _text(node.child_by_field_name("module_name"))
    names = node.children_by_field_name("name")
    if not names:
        return [ImportBinding("*", module, "*", line)]
    for child in names:
        if child.type == "aliased_import":
            symbol = _text(child.child_by_field_name("name"))
            found.append(ImportBinding(_text(child.child_by_field_name("alias")), module, symbol,
                                       line))
        else:
            symbol = _text(child)
            found.append(ImportBinding(symbol, module, symbol, line))
    return found


def _js_specifiers(holder: Node, module: str, line: int, found: list[ImportBinding]) -> None:
    for spec in holder.named_children:
        if spec.type not in ("import_specifier", "export_specifier"):
            continue
        name = _text(spec.child_by_field_name("name"))
        alias = _text(spec.child_by_field_name("alias")) or name
        found.append(ImportBinding(alias, module, name, line))


def _js(node: Node, line: int) -> list[ImportBinding]:
    source = node.child_by_field_name("source")
    if source is None:
        return []
    module = _text(source).strip(_QUOTES)
    found: list[ImportBinding] = []
    for child in node.named_children:
        if child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":
                    found.append(ImportBinding(_text(part), module, "default", line))
                elif part.type == "namespace_import":
                    name = next((c for c in part.named_children if c.type == "identifier"), None)
                    found.append(ImportBinding(_text(name), module, "", line))
                elif part.type == "named_imports":
                    _js_specifiers(part, module, line, found)
        elif child.type == "export_clause":
            _js_specifiers(child, module, line, found)
    if node.type == "export_statement" and not found:
        found.append(ImportBinding("*", module, "*", line))
    return found


def _go(node: Node, line: int) -> list[ImportBinding]:
    path = _text(node.child_by_field_name("path")).strip(_QUOTES)
    alias = _text(node.child_by_field_name("name"))
    if alias == "_":
        return []
    if alias == ".":
        return [ImportBinding("*", path, "*", line)]
    local = alias or path.rsplit("/", 1)[-1]
    if not alias and re.fullmatch(r"v\d+", local) and "/" in path:
        local = path.rsplit("/", 2)[-2]  # `example.com/lib/v2` is package `lib`
    return [ImportBinding(local, path, "", line)]


def _rust_tree(node: Node, prefix: str, line: int, found: list[ImportBinding]) -> None:
    kind = node.type
    if kind in ("scoped_identifier", "identifier", "crate", "self", "super"):
        text = _text(node)
        full = f"{prefix}::{text}" if prefix else text
        module, _, symbol = full.rpartition("::")
        found.append(ImportBinding(symbol, module, symbol, line))
    elif kind == "use_as_clause":
        path = _text(node.child_by_field_name("path"))
        full = f"{prefix}::{path}" if prefix else path
        module, _, symbol = full.rpartition("::")
        found.append(ImportBinding(_text(node.child_by_field_name("alias")), module, symbol, line))
    elif kind == "scoped_use_list":
        path = _text(node.child_by_field_name("path"))
        inner = f"{prefix}::{path}" if prefix and path else (path or prefix)
        use_list = node.child_by_field_name("list")
        if use_list is not None:
            for child in use_list.named_children:
                _rust_tree(child, inner, line, found)
    elif kind == "use_list":
        for child in node.named_children:
            _rust_tree(child, prefix, line, found)
    elif kind == "use_wildcard":
        text = _text(node).removesuffix("::*").removesuffix("*")
        full = f"{prefix}::{text}" if prefix and text else (text or prefix)
        found.append(ImportBinding("*", full, "*", line))


def _dotted(text: str, line: int) -> list[ImportBinding]:
    """`a.b.C`, `a.b.C as D`, `a.b.*`, `X = a.b` (C#): the last component binds."""
    alias = ""
    if " as " in text:
        text, alias = (part.strip() for part in text.split(" as ", 1))
    elif "=" in text:
        alias, text = (part.strip() for part in text.split("=", 1))
    text = text.strip().strip(_QUOTES).rstrip(";")
    if text.endswith("*"):
        return [ImportBinding("*", text.rstrip("*").rstrip(".:\\"), "*", line)]
    parts = [p for p in _SPLIT.split(text) if p]
    if not parts:
        return []
    symbol = parts[-1]
    module = text[: len(text) - len(symbol)].rstrip(".:/\\")
    return [ImportBinding(alias or symbol, module, symbol, line)]


def import_bindings(node: Node, language: str) -> list[ImportBinding]:
    """The names one import statement node binds.

    Args:
        node: A node whose type is in the language spec's `imports`.
        language: The tree-sitter language name.
    """
    line = node.start_point[0] + 1
    if language == "python":
        return _python(node, line)
    if language in ("javascript", "typescript", "tsx"):
        return _js(node, line)
    if language == "go":
        return _go(node, line)
    if language == "rust" and node.type == "use_declaration":
        found: list[ImportBinding] = []
        argument = node.child_by_field_name("argument")
        if argument is not None:
            _rust_tree(argument, "", line, found)
        return found
    if language in ("c", "cpp", "objc", "proto"):  # a header binds no name of its own
        return [ImportBinding("", module, "", line) for module in statement_imports(node, language)]
    found = []
    for text in statement_imports(node, language):
        found.extend(_dotted(text, line))
    return found


def call_binding(call: Node, module: str) -> list[ImportBinding]:
    """What `const x = require('m')` / `{a, b} = require('m')` binds."""
    line = call.start_point[0] + 1
    parent = call.parent
    if parent is None or parent.type != "variable_declarator":
        return [ImportBinding("", module, "", line)]
    target = parent.child_by_field_name("name")
    if target is None:
        return []
    if target.type == "identifier":
        return [ImportBinding(_text(target), module, "", line)]
    found: list[ImportBinding] = []
    if target.type == "object_pattern":
        for child in target.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                found.append(ImportBinding(_text(child), module, _text(child), line))
            elif child.type == "pair_pattern":
                key = _text(child.child_by_field_name("key"))
                value = _text(child.child_by_field_name("value"))
                found.append(ImportBinding(value, module, key, line))
    return found
