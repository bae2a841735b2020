"""The modules and names a file imports, per language.

Two shapes exist: import statements (`import`, `use`, `#include`,
`using`) and import calls (`require('x')`, Ruby `require`, Elixir `alias`,
Bash `source`). Both come out as plain dotted or path-like strings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["IMPORT_CALLS", "call_import", "statement_imports"]

# Callee names that import something, per language; the first argument names it.
IMPORT_CALLS: dict[str, frozenset[str]] = {
    "javascript": frozenset({"require", "import"}),
    "typescript": frozenset({"require", "import"}),
    "tsx": frozenset({"require", "import"}),
    "ruby": frozenset({"require", "require_relative", "load", "autoload"}),
    "lua": frozenset({"require"}),
    "elixir": frozenset({"alias", "import", "use", "require"}),
    "bash": frozenset({"source", "."}),
}

_LEADING_KEYWORDS = re.compile(
    r"^(?:(?:import|using|use|static|global|pub(?:\([^)]*\))?|extern\s+crate|export)\s+)+"
)
_WHITESPACE = re.compile(r"\s+")
_STRING_TYPES = frozenset(
    {"string", "string_literal", "interpreted_string_literal", "raw_string_literal",
     "system_lib_string", "encapsed_string", "word"}
)


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text[:500].decode("utf-8", "replace")


def _unquote(text: str) -> str:
    return text.strip().strip("\"'`<>").strip()


def _keyword_stripped(node: Node) -> str:
    # Some grammars (Kotlin) attach the next line's comment to an import.
    end = max(
        (c.end_byte for c in node.children if "comment" not in c.type),
        default=node.end_byte,
    )
    data = (node.text or b"")[: min(end - node.start_byte, 500)]
    text = _WHITESPACE.sub(" ", data.decode("utf-8", "replace")).strip().rstrip(";").strip()
    return _LEADING_KEYWORDS.sub("", text).strip()


def _python(node: Node) -> list[str]:
    if node.type == "future_import_statement":
        return ["__future__"]
    names = []
    for child in node.children_by_field_name("name"):
        target = child.child_by_field_name("name") if child.type == "aliased_import" else child
        names.append(_text(target))
    if node.type == "import_statement":
        return names
    module = _text(node.child_by_field_name("module_name"))
    if not names:  # `from x import *`
        return [module]
    separator = "" if module.endswith(".") else "."
    return [f"{module}{separator}{name}" for name in names]


def statement_imports(node: Node, language: str) -> list[str]:
    """Return what one import statement node imports.

    Args:
        node: A node whose type is in the language spec's `imports`.
        language: The tree-sitter language name.
    """
    if language == "python":
        return _python(node)
    if language in ("javascript", "typescript", "tsx"):
        source = node.child_by_field_name("source")
        return [_unquote(_text(source))] if source is not None else []
    if language == "go":
        return [_unquote(_text(node.child_by_field_name("path")))]
    if language in ("c", "cpp", "objc"):
        return [_unquote(_text(node.child_by_field_name("path")))]
    if language == "php":
        if node.type == "namespace_use_declaration":
            clauses = [c for c in node.named_children if c.type == "namespace_use_clause"]
            if clauses:
                return [_keyword_stripped(c).split(" as ")[0] for c in clauses]
            return [_keyword_stripped(node)]
        strings = [c for c in node.named_children if c.type in _STRING_TYPES]
        return [_unquote(_text(strings[0]))] if strings else []
    if language in ("haskell", "perl"):
        return [_text(node.child_by_field_name("module"))]
    if language == "dart":
        return [_unquote(_keyword_stripped(node))]
    if language == "proto":
        return [_unquote(_text(node.child_by_field_name("path")))]
    if language == "rust" and node.type == "extern_crate_declaration":
        return [_text(node.child_by_field_name("name"))]
    if language == "csharp":
        text = _keyword_stripped(node)
        return [text.split("=", 1)[-1].strip()]
    # java, kotlin, scala, swift, rust `use`: the statement minus its keywords.
    return [_keyword_stripped(node)]


def call_import(call: Node, language: str) -> str:
    """Return what an import call (`require('x')`) imports, or ""."""
    if language == "bash":
        argument = call.child_by_field_name("argument")
        return _unquote(_text(argument))
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        arguments = next((c for c in call.named_children if c.type == "arguments"), None)
    if arguments is None:
        return ""
    first = next(iter(arguments.named_children), None)
    if first is None:
        return ""
    if language == "elixir":
        return _text(first) if first.type in ("alias", "atom") else ""
    if first.type in ("string", "string_literal", "template_string"):
        return _unquote(_text(first))
    return ""
