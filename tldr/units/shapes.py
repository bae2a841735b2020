"""Definitions that a node's type alone does not reveal.

In some grammars the node that defines something is a generic one: a Zig
`Decl` holds a function or a `const X = struct {...}` or a plain constant; a
Clojure `(defn ...)` is a list like any call; an R function is an
assignment. For the node types a `LanguageSpec` lists in `shaped`, a rule
here looks at the children and says what, if anything, is defined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["Shape", "shape"]

Shape = tuple[str, str, list[str]]
"""(definition kind, name, qualifiers): kind as `naming.classify` says it."""

_MAX_NAME_TEXT = 300


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    return (node.text or b"")[:_MAX_NAME_TEXT].decode("utf-8", "replace").strip()


def _first_named(node: Node, *types: str) -> Node | None:
    for child in node.named_children:
        if child.type in types:
            return child
    return None


def _dotted(text: str, kind: str) -> Shape | None:
    parts = [part for part in text.split(".") if part]
    return (kind, parts[-1], parts[:-1]) if parts else None


_HASKELL_SCOPES = frozenset({"declarations", "class_declarations", "instance_declarations"})


def _haskell(node: Node) -> Shape | None:
    if node.type == "instance":
        patterns = node.child_by_field_name("patterns")
        target = patterns.named_children[0] if patterns and patterns.named_children else None
        words = _text(target).strip("()").split()
        return ("type_scope", words[0], []) if words else None
    parent = node.parent
    if parent is None or parent.type not in _HASKELL_SCOPES:
        return None  # `where` and `let` bindings belong to their function
    name = _text(node.child_by_field_name("name"))
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1].strip()  # an operator such as `(.:)`
    return ("function", name, []) if name else None


_ZIG_CONTAINER_DEPTH = 3


def _zig(node: Node) -> Shape | None:
    proto = _first_named(node, "FnProto")
    if proto is not None:
        name = _text(proto.child_by_field_name("function"))
        return ("function", name, []) if name else None
    declaration = _first_named(node, "VarDecl")
    if declaration is None:
        return None
    value = declaration.named_children[-1] if declaration.named_children else None
    for _ in range(_ZIG_CONTAINER_DEPTH):  # ErrorUnionExpr > SuffixExpr > ContainerDecl
        if value is None or value.type == "ContainerDecl":
            break
        value = value.named_children[0] if value.named_children else None
    if value is None or value.type != "ContainerDecl":
        return None
    name = _text(declaration.child_by_field_name("variable_type_function"))
    return ("class", name, []) if name else None


_OCAML_NAMES = {
    "module_definition": ("module_binding", "module_name"),
    "module_type_definition": ("module_type_name",),
    "type_definition": ("type_binding", "type_constructor"),
    "class_definition": ("class_binding", "class_name"),
}


def _ocaml(node: Node) -> Shape | None:
    if node.type == "value_definition":
        binding = _first_named(node, "let_binding")
        if binding is None:
            return None
        body = binding.child_by_field_name("body")
        is_function = _first_named(binding, "parameter") is not None or (
            body is not None and body.type in ("fun_expression", "function_expression")
        )
        name = _text(binding.child_by_field_name("pattern"))
        return ("function", name, []) if is_function and name.isidentifier() else None
    current: Node | None = node
    for step in _OCAML_NAMES[node.type]:
        current = _first_named(current, step) if current is not None else None
        if current is not None and step in ("type_binding",):
            current = current.child_by_field_name("name") or current
            break
    name = _text(current)
    return ("class", name, []) if current is not None and name else None


def _dart(node: Node) -> Shape | None:
    if node.type == "function_signature":
        if node.parent is not None and node.parent.type == "method_signature":
            return None  # the method signature around it is the unit
        name = _text(node.child_by_field_name("name"))
        return ("function", name, []) if name else None
    inner = node.named_children[0] if node.named_children else None
    if inner is None:
        return None
    name_node = inner.child_by_field_name("name") or _first_named(inner, "identifier")
    name = _text(name_node)
    return ("function", name, []) if name else None


def _erlang(node: Node) -> Shape | None:
    if node.type == "fun_decl":
        clause = node.child_by_field_name("clause")
        name = _text(clause.child_by_field_name("name")) if clause is not None else ""
        return ("function", name, []) if name else None
    head = node.child_by_field_name("name")  # type_alias: `-type name(...) :: ...`
    name = _text(head.child_by_field_name("name")) if head is not None else ""
    return ("class", name, []) if name else None


_CLOJURE_FUNCTIONS = frozenset(
    {"defn", "defn-", "defmacro", "defmulti", "defmethod", "deftest", "defn-memo"}
)
_CLOJURE_CLASSES = frozenset(
    {"defprotocol", "defrecord", "deftype", "definterface", "defstruct", "defschema"}
)


def _clojure(node: Node) -> Shape | None:
    symbols = [child for child in node.named_children[:3] if child.type == "sym_lit"]
    if len(symbols) < 2 or node.named_children[0] is not symbols[0]:
        return None
    head = _text(symbols[0].child_by_field_name("name"))
    if head in _CLOJURE_FUNCTIONS:
        kind = "function"
    elif head in _CLOJURE_CLASSES:
        kind = "class"
    else:
        return None
    name = _text(symbols[1].child_by_field_name("name"))
    return (kind, name, []) if name else None


def _julia_callee(node: Node | None) -> Node | None:
    for _ in range(4):  # signature > [where/typed expression >] call_expression
        if node is None or node.type == "call_expression":
            break
        node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "call_expression":
        return None
    return node.named_children[0] if node.named_children else None


def _julia(node: Node) -> Shape | None:
    if node.type == "assignment":  # `square(x) = x * x`
        first = node.named_children[0] if node.named_children else None
        if first is None or first.type != "call_expression":
            return None
        return _dotted(_text(_julia_callee(first)), "function")
    signature = _first_named(node, "signature")
    if signature is None:
        name = _text(_first_named(node, "identifier"))
        return ("function", name, []) if name else None
    callee = _julia_callee(signature)
    return _dotted(_text(callee if callee is not None else signature), "function")


def _r(node: Node) -> Shape | None:
    value = node.child_by_field_name("rhs")
    if value is None or value.type != "function_definition":
        return None
    name = _text(node.child_by_field_name("lhs")).strip("\"'`")
    return ("function", name, []) if name else None


_SQL_CLASSES = frozenset(
    {"create_table", "create_view", "create_materialized_view", "create_type", "create_index",
     "create_schema", "create_sequence", "create_extension", "create_database", "alter_table"}
)
_SQL_FUNCTIONS = frozenset({"create_function", "create_procedure", "create_trigger"})


def _sql(node: Node) -> Shape | None:
    inner = node.named_children[0] if node.named_children else None
    if inner is None:
        return None
    if inner.type in _SQL_CLASSES:
        kind = "class"
    elif inner.type in _SQL_FUNCTIONS:
        kind = "function"
    else:
        return None
    reference = _first_named(inner, "object_reference", "identifier")
    return _dotted(_text(reference).replace('"', "").replace("`", ""), kind)


def _hcl(node: Node) -> Shape | None:
    body = node.parent
    if body is None or body.parent is None or body.parent.type != "config_file":
        return None  # nested blocks (`ingress {}`) belong to their resource
    labels = [
        _text(child).strip('"')
        for child in node.named_children
        if child.type in ("identifier", "string_lit")
    ]
    labels = [label for label in labels if label]
    return ("section", labels[-1], labels[:-1]) if labels else None


_RULES: dict[str, Callable[[Node], Shape | None]] = {
    "haskell": _haskell,
    "zig": _zig,
    "ocaml": _ocaml,
    "dart": _dart,
    "erlang": _erlang,
    "clojure": _clojure,
    "julia": _julia,
    "r": _r,
    "sql": _sql,
    "hcl": _hcl,
}


def shape(node: Node, language: str) -> Shape | None:
    """Say what a `shaped` node defines: (kind, name, qualifiers), or None."""
    rule = _RULES.get(language)
    return rule(node) if rule is not None else None
