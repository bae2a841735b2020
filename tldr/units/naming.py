"""What a definition node is, what it is called, and what it takes.

Grammars disagree on where a name lives (a `name` field, a C declarator
chain, a Go receiver, an Elixir `def` call's first argument); these rules
hide that from the extraction engine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tldr.units.languages import LanguageSpec

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "IDENTIFIER_TYPES",
    "assigned_names",
    "classify",
    "conditional_of",
    "declared_functions",
    "definition_name",
    "elixir_call_name",
    "function_value",
    "last_identifier",
    "parameter_names",
]

IDENTIFIER_TYPES = frozenset(
    {
        "identifier",
        "simple_identifier",
        "type_identifier",
        "field_identifier",
        "property_identifier",
        "private_property_identifier",
        "shorthand_property_identifier_pattern",
        "name",
        "word",
        "constant",
        "variable_name",
        "instance_variable",
        "class_variable",
        "global_variable",
        "namespace_identifier",
        "package_identifier",
    }
)

# Nodes that hold several targets or parameters: look inside each element.
_LIST_TYPES = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "expression_list",
        "variable_list",
        "tuple",
        "array_pattern",
        "left_assignment_list",
        "tuple_expression",
        "parenthesized_expression",
    }
)

_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_VALUE_HOLDERS = frozenset(
    {
        "variable_declarator",
        "pair",
        "assignment_expression",
        "public_field_definition",
        "field_definition",
    }
)
_NAME_FIELDS = ("name", "pattern", "declarator", "left", "key")
_MEMBER_FIELDS = ("attribute", "property", "field", "name", "suffix")
_ELIXIR_FUNCTIONS = frozenset({"def", "defp", "defmacro", "defmacrop", "defguard", "defdelegate"})
_ELIXIR_CLASSES = frozenset({"defmodule", "defprotocol", "defimpl"})
_C_LIKE = frozenset({"c", "cpp", "objc"})
_C_SPECIFIERS = frozenset(
    {"struct_specifier", "class_specifier", "union_specifier", "enum_specifier"}
)
_GENERICS = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w]*[?!]?")
_MAX_NAME_TEXT = 300


def _text(node: Node) -> str:
    data = node.text or b""
    return data[:_MAX_NAME_TEXT].decode("utf-8", "replace")


def last_identifier(text: str) -> str:
    """Return the last identifier of an expression such as `os.path.join`.

    Generic arguments are dropped first (`foo::<T>` -> `foo`), and anything
    before the last closing bracket is ignored, so `a(b).c` gives `c` while
    `(function () {...})` gives "".
    """
    for _ in range(3):
        stripped = _GENERICS.sub("", text)
        if stripped == text:
            break
        text = stripped
    cut = max(text.rfind(")"), text.rfind("]"), text.rfind("}"))
    if cut >= 0:
        text = text[cut + 1 :]
    found = _IDENTIFIER.findall(text)
    return found[-1] if found else ""


def elixir_call_name(node: Node) -> str:
    """Return the target name of an Elixir `call` (`def`, `if`, `Repo.get`)."""
    target = node.child_by_field_name("target")
    if target is None:
        return ""
    if target.type == "identifier":
        return _text(target)
    return last_identifier(_text(target))


def classify(node: Node, spec: LanguageSpec) -> str | None:
    """Say whether a node opens a definition, and of which kind.

    Returns:
        "function", "class", "type_scope" (qualifies methods, emits nothing),
        "namespace" (qualifies names, emits nothing) or None.
    """
    kind = node.type
    if spec.name == "elixir":
        if kind != "call":
            return None
        target = elixir_call_name(node)
        if target in _ELIXIR_FUNCTIONS:
            return "function"
        if target in _ELIXIR_CLASSES:
            return "class"
        return None
    if kind in spec.functions:
        if kind in _VALUE_HOLDERS:
            value = node.child_by_field_name("value") or node.child_by_field_name("right")
            return "function" if value is not None and value.type in _FUNCTION_VALUES else None
        return "function"
    if kind in spec.classes:
        if kind == "module" and spec.name == "ruby" and _wraps_one_definition(node):
            return "namespace"
        if spec.name in _C_LIKE and kind in _C_SPECIFIERS:
            if node.child_by_field_name("body") is None:
                return None  # a type use such as `struct point *p`, not a definition
            parent = node.parent
            if parent is not None and parent.type == "type_definition":
                return None  # `typedef struct {...} name_t;` is one unit, the typedef
        return "class"
    if kind in spec.type_scopes:
        return "type_scope"
    if kind in spec.namespaces:
        return "namespace" if node.child_by_field_name("body") is not None else None
    return None


# A C preprocessor conditional (`#if`/`#ifdef`) and the branches chained to it.
_PREPROC_CONDITIONALS = frozenset({"preproc_if", "preproc_ifdef"})
_PREPROC_BRANCHES = frozenset({"preproc_else", "preproc_elif", "preproc_elifdef"})


def conditional_of(node: Node) -> Node | None:
    """The `#if`/`#ifdef` with an `#else`/`#elif` branch whose branch holds `node`.

    Include guards (`#ifndef X_H` with no other branch) do not count.
    """
    parent = node.parent
    while parent is not None and parent.type in _PREPROC_BRANCHES:
        parent = parent.parent
    if parent is None or parent.type not in _PREPROC_CONDITIONALS:
        return None
    return parent if parent.child_by_field_name("alternative") is not None else None


def declared_functions(node: Node) -> frozenset[str]:
    """Names of the C/C++ functions declared or defined anywhere under `node`."""
    names: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if current.type == "function_declarator":
            name = current.child_by_field_name("declarator")
            if name is not None and name.type in IDENTIFIER_TYPES:
                names.add((name.text or b"").decode("utf-8", "replace"))
        pending.extend(current.named_children)
    return frozenset(names)


# Ruby has no namespace construct: a `module` whose body is one class or
# module (`module Rails; class Engine ... end; end`, in nearly every file of a
# gem) only qualifies names, like a C++ namespace. As a unit it repeats its
# inner definition's text over the whole file.
_RUBY_DEFINITIONS = frozenset({"class", "module"})


def _wraps_one_definition(module: Node) -> bool:
    body = module.child_by_field_name("body")
    if body is None:
        return False
    inner = [child for child in body.named_children if child.type != "comment"]
    return len(inner) == 1 and inner[0].type in _RUBY_DEFINITIONS


def function_value(node: Node) -> Node | None:
    """Return the function a JS/TS declarator, pair or assignment holds."""
    if node.type in _VALUE_HOLDERS:
        return node.child_by_field_name("value") or node.child_by_field_name("right")
    return None


def _split_qualified(text: str) -> tuple[str, list[str]]:
    text = _GENERICS.sub("", text).strip()
    parts = [part.strip() for part in re.split(r"::|\.|:|\\", text) if part.strip()]
    if not parts:
        return "", []
    return parts[-1], parts[:-1]


def _c_declarator_name(node: Node) -> Node | None:
    declarator = node.child_by_field_name("declarator")
    for _ in range(8):
        if declarator is None:
            return None
        if declarator.type == "function_declarator":
            return declarator.child_by_field_name("declarator")
        declarator = declarator.child_by_field_name("declarator")
    return None


def _first_identifier_child(node: Node) -> Node | None:
    for child in node.named_children:
        if child.type in IDENTIFIER_TYPES or child.type in ("user_type", "scope_resolution"):
            return child
        if child.type.endswith("_name"):  # protobuf `message_name`, Perl `rpc_name`
            return child
    return None


def definition_name(node: Node, spec: LanguageSpec) -> tuple[str, list[str]] | None:
    """Return a definition's name and any qualifiers its own text carries.

    `int Foo::bar()` gives ("bar", ["Foo"]); `func (s *Server) Serve()` gives
    ("Serve", ["Server"]); `defmodule MyApp.Accounts` gives ("Accounts",
    ["MyApp"]). None means an anonymous definition (not a unit).
    """
    language = spec.name
    name_node: Node | None = None
    if language == "elixir":
        arguments = next((c for c in node.named_children if c.type == "arguments"), None)
        head = arguments.named_children[0] if arguments and arguments.named_children else None
        if head is not None and head.type == "binary_operator":  # `def f(x) when x > 0`
            head = head.child_by_field_name("left")
        if head is None:
            return None
        text = elixir_call_name(head) if head.type == "call" else _text(head)
        return _split_qualified(text) if text else None
    if language in _C_LIKE and node.type == "function_definition":
        name_node = _c_declarator_name(node)
    elif node.type in _VALUE_HOLDERS:
        name_node = (
            node.child_by_field_name("name")
            or node.child_by_field_name("key")
            or node.child_by_field_name("left")
            or node.child_by_field_name("property")
        )
        if name_node is None:
            return None
        name = last_identifier(_text(name_node))
        return (name, []) if name else None
    elif node.type == "impl_item":
        name_node = node.child_by_field_name("type")
    else:
        name_node = node.child_by_field_name("name") or _first_identifier_child(node)
    if name_node is None:
        default = spec.default_names.get(node.type)
        return (default, []) if default else None
    qualifiers: list[str]
    if not spec.split_names:
        name, qualifiers = _text(name_node).strip(), []
    else:
        name, qualifiers = _split_qualified(_text(name_node))
    if not name:
        return None
    if node.type == "method_declaration" and language == "go":
        receiver_type = _go_receiver_type(node)
        if receiver_type:
            qualifiers = [receiver_type]
    return name, qualifiers


def _go_receiver_type(node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return ""
    for parameter in receiver.named_children:
        type_node = parameter.child_by_field_name("type")
        if type_node is not None:
            return last_identifier(_text(type_node).replace("*", ""))
    return ""


def _binding_names(node: Node, out: list[str], depth: int = 0) -> None:
    if depth > 6:
        return
    if node.type in IDENTIFIER_TYPES:
        out.append(_text(node).lstrip("$@"))
        return
    if node.type in _LIST_TYPES:
        for child in node.named_children:
            _binding_names(child, out, depth + 1)
        return
    for field in _NAME_FIELDS:
        children = node.children_by_field_name(field)
        if len(children) > 1 and node.type != "parameter_declaration":
            children = children[:1]  # Swift names a parameter's type `name` too; Go lists names
        if children:
            for child in children:
                _binding_names(child, out, depth + 1)
            return
    for child in node.named_children:
        if child.type in IDENTIFIER_TYPES or child.named_child_count:
            if "type" in child.type and child.type not in IDENTIFIER_TYPES:
                continue
            before = len(out)
            _binding_names(child, out, depth + 1)
            if len(out) > before:
                return


_PARAMETER_LISTS = frozenset(
    {
        "parameters",
        "formal_parameters",
        "parameter_list",
        "method_parameters",
        "function_value_parameters",
        "lambda_parameters",
        "class_parameters",
    }
)


def parameter_names(node: Node, spec: LanguageSpec) -> list[str]:
    """Return the parameter names of a function definition node."""
    if spec.name == "elixir":
        arguments = next((c for c in node.named_children if c.type == "arguments"), None)
        head = arguments.named_children[0] if arguments and arguments.named_children else None
        if head is not None and head.type == "binary_operator":
            head = head.child_by_field_name("left")
        plist = (
            next((c for c in head.named_children if c.type == "arguments"), None)
            if head is not None and head.type == "call"
            else None
        )
    else:
        holder = function_value(node) or node
        plist = holder.child_by_field_name("parameters")
        if plist is None:
            plist = next((c for c in holder.named_children if c.type in _PARAMETER_LISTS), None)
        if plist is None and spec.name in _C_LIKE:
            declarator = _c_declarator_name(node)
            parent = declarator.parent if declarator is not None else None
            plist = parent.child_by_field_name("parameters") if parent is not None else None
        if plist is None:
            # Swift puts its parameters straight under the declaration.
            plist = holder if any(c.type == "parameter" for c in holder.named_children) else None
    if plist is None:
        return []
    names: list[str] = []
    for parameter in plist.named_children:
        if parameter.type in spec.comments:
            continue
        if plist is node and parameter.type != "parameter":
            continue
        _binding_names(parameter, names)
    if spec.name == "python":
        names = [name for name in names if name not in ("self", "cls")]
    return names


def assigned_names(target: Node, out: list[str], depth: int = 0) -> None:
    """Append the names an assignment target binds (`self.x` -> `x`)."""
    if depth > 6:
        return
    kind = target.type
    if kind in IDENTIFIER_TYPES:
        out.append(_text(target).lstrip("$@"))
        return
    if kind in _LIST_TYPES or kind in ("variable_declaration", "directly_assignable_expression"):
        for child in target.named_children:
            assigned_names(child, out, depth + 1)
        return
    for field in _MEMBER_FIELDS + _NAME_FIELDS:
        member = target.child_by_field_name(field)
        if member is not None:
            assigned_names(member, out, depth + 1)
            return
    name = last_identifier(_text(target).split("[", 1)[0])
    if name:
        out.append(name)
