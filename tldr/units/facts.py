"""What one file's walk tells the code graph: call sites, bindings, types, bases.

Collected by the extraction walk (`extract`) as it meets call, import,
assignment and declaration nodes, so the graph costs no second parse and no
second walk. Indexes (`caller`, `scope`, `parents`, `bases`) point into the
unit list `extract_file` returns for the same file; -1 is module level.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from tldr.units.bindings import ImportBinding

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "ALIAS_PREFIX",
    "TYPE_NODES",
    "CallSite",
    "FileFacts",
    "ImportBinding",
    "VarType",
    "base_names",
    "call_receiver",
    "declared_types",
]


class CallSite(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One call: where, from which unit, the callee's last name and its receiver.

    `col` is the 0-based character column of `name` on `line` (1-based), so
    another tool can be asked about the same spot. `receiver` is the text
    before the last `.`, `->` or `::` (`self`, `os.path`, `super()`), ""
    for a bare call.
    """

    line: int
    col: int
    caller: int
    name: str
    receiver: str = ""


class VarType(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A name whose type the code states or makes evident.

    `scope` is the unit the name lives in (a function for locals and
    parameters, a class for fields: `self.x = Foo()` is `x` in the class).
    `type` is the type or constructor text as written (`Foo`, `pkg.Foo`).
    """

    scope: int
    var: str
    type: str


class FileFacts(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything one parse says about a file's calls, imports and classes.

    `parents[i]` is the enclosing unit of unit `i` (-1: none); `bases` maps
    a class unit's index to its base-class texts.
    """

    sites: list[CallSite] = []
    imports: list[ImportBinding] = []
    types: list[VarType] = []
    parents: list[int] = []
    bases: dict[int, list[str]] = {}


_RECEIVER_FIELDS = ("object", "receiver", "scope", "invocant")
_SEPARATORS = ".:->?&"
_TYPE_NOISE = re.compile(r"<[^<>]*>|[*&?!]|\b(?:const|mut|dyn|impl|readonly)\b|^\s*\[\]")
_PY_WRAPPED = re.compile(r"^(?:typing\.)?(?:Optional|Type|type|ClassVar|Final)\[(.+)\]$")
_NAMEISH = frozenset(
    {
        "identifier", "type_identifier", "scoped_identifier", "scoped_type_identifier",
        "attribute", "member_expression", "qualified_name", "name", "constant",
        "scope_resolution", "user_type", "nested_type_identifier", "qualified_identifier",
        "qualified_type", "simple_identifier", "generic_type", "field_expression",
    }
)
_BASE_CLAUSES = frozenset(
    {
        "class_heritage", "extends_clause", "implements_clause", "superclass",
        "super_interfaces", "extends_interfaces", "extends_type_clause", "base_list",
        "base_class_clause", "delegation_specifier", "delegation_specifiers", "base_clause",
        "class_interface_clause", "inheritance_specifier", "interfaces", "mixins",
    }
)
_MAX_BASES = 8
ALIAS_PREFIX = "="
"""A type recorded as `=name` means "the type of the variable `name`" (resolved at the walk)."""
_CALLEE_TYPES = frozenset({"identifier", "selector_expression", "member_expression",
                           "scoped_identifier", "field_expression"})

# Declaration nodes that state a name's type, per language (besides assignments).
TYPE_NODES: dict[str, frozenset[str]] = {
    "python": frozenset({"typed_parameter", "typed_default_parameter"}),
    "javascript": frozenset(),
    "typescript": frozenset({"required_parameter", "optional_parameter",
                             "public_field_definition"}),
    "tsx": frozenset({"required_parameter", "optional_parameter", "public_field_definition"}),
    "java": frozenset({"formal_parameter", "local_variable_declaration", "field_declaration"}),
    "csharp": frozenset({"parameter", "variable_declaration"}),
    "go": frozenset({"parameter_declaration", "field_declaration", "var_spec"}),
    "rust": frozenset({"parameter", "let_declaration"}),
    "kotlin": frozenset({"parameter", "property_declaration"}),
    "dart": frozenset({"formal_parameter", "declaration", "initialized_variable_definition"}),
}


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text[:300].decode("utf-8", "replace")


def call_receiver(
    call: Node, callee: Node, name: str, source: bytes, text: str | None = None
) -> tuple[str, int]:
    """The receiver text of a call and the character column where `name` starts.

    `text` is the callee's text when the caller has decoded it already.
    """
    if text is None:
        text = _text(callee)
    position = text.rfind(name) if name else -1
    if position <= 0:
        receiver = ""
        for field in _RECEIVER_FIELDS:
            holder = call.child_by_field_name(field)
            if holder is not None and holder.id != callee.id:
                receiver = _text(holder)
                break
        start = callee.start_byte + max(position, 0)
    else:
        receiver = text[:position].rstrip().rstrip(_SEPARATORS).rstrip()
        start = callee.start_byte + len(text[:position].encode("utf-8"))
    line_start = source.rfind(b"\n", 0, start) + 1
    prefix = source[line_start:start]
    column = len(prefix) if prefix.isascii() else len(prefix.decode("utf-8", "replace"))
    return receiver, column


def clean_type(text: str, language: str) -> str:
    """A type as a resolvable name: `*pkg.Server` -> `pkg.Server`, `Optional[Foo]` -> `Foo`."""
    text = text.strip().strip("\"'")
    if language == "python":
        wrapped = _PY_WRAPPED.match(text)
        if wrapped:
            text = wrapped.group(1)
        options = [t.strip() for t in text.split("|") if t.strip() not in ("None", "")]
        if len(options) == 1:  # `Foo | None`
            text = options[0]
        if "|" in text or "[" in text or "," in text:
            return ""
    for _ in range(3):
        stripped = _TYPE_NOISE.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = text.replace("::", ".").strip()
    return text if re.fullmatch(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*", text) else ""


def _value_type(value: Node | None, language: str) -> str:
    """The class a value evidently instantiates: `Foo(...)`, `new Foo()`, `&Foo{}`."""
    if value is None:
        return ""
    kind = value.type
    if kind == "unary_expression" and value.named_child_count == 1:
        value, kind = value.named_children[0], value.named_children[0].type
    if kind in ("call", "new_expression", "object_creation_expression"):
        field = {"call": "function", "new_expression": "constructor"}.get(kind, "type")
        callee = value.child_by_field_name(field)
        if callee is not None and callee.type in ("identifier", "attribute", "type_identifier",
                                                  "member_expression", "scoped_type_identifier"):
            return clean_type(_text(callee), language)
    elif kind == "composite_literal" or kind == "struct_expression":
        return clean_type(_text(value.child_by_field_name("type")
                                or value.child_by_field_name("name")), language)
    elif kind == "call_expression" and language == "rust":
        callee_text = _text(value.child_by_field_name("function"))
        owner, _, function = callee_text.rpartition("::")
        if owner and function in ("new", "default", "with_capacity", "builder"):
            return clean_type(owner, language)
        return clean_type(callee_text, language)
    elif kind == "call_expression":  # what the function returns: `s := NewServer()`
        callee = value.child_by_field_name("function")
        if callee is not None and callee.type in _CALLEE_TYPES:
            return clean_type(_text(callee), language)
    return ""


def _field_owner(target: Node) -> str:
    """`self.x` / `this.x` -> `x` (a field of the enclosing class); else ""."""
    if target.type not in ("attribute", "member_expression", "field_expression"):
        return ""
    owner = target.child_by_field_name("object") or target.child_by_field_name("argument")
    member = (
        target.child_by_field_name("attribute")
        or target.child_by_field_name("property")
        or target.child_by_field_name("field")
    )
    if owner is None or member is None or _text(owner) not in ("self", "this"):
        return ""
    return _text(member)


def declared_types(node: Node, language: str) -> list[tuple[str, str, bool]]:
    """(name, type, is_field) pairs a declaration or assignment states.

    `is_field` marks `self.x = ...`, `this.x = ...` and class fields: they
    belong to the enclosing class, not the function the walk is in.
    """
    kind = node.type
    found: list[tuple[str, str, bool]] = []
    if language == "dart":
        return _dart_types(node)
    if kind == "short_var_declaration":  # Go `a, b := x, y`
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return found
        for variable, value in zip(left.named_children, right.named_children, strict=False):
            type_text = _value_type(value, language)
            if variable.type == "identifier" and type_text:
                found.append((_text(variable), type_text, False))
        return found
    if kind in ("assignment", "assignment_expression", "variable_declarator"):
        target = node.child_by_field_name("left") or node.child_by_field_name("name")
        if target is None:
            return found
        declared = node.child_by_field_name("type")
        type_text = clean_type(_type_text(declared), language) if declared is not None else ""
        assigned = node.child_by_field_name("right") or node.child_by_field_name("value")
        if not type_text:
            type_text = _value_type(assigned, language)
        if not type_text and assigned is not None and assigned.type == "identifier":
            type_text = ALIAS_PREFIX + _text(assigned)  # `self.app = app`: whatever `app` is
        if not type_text:
            return found
        field = _field_owner(target)
        if field:
            found.append((field, type_text, True))
        elif target.type == "identifier":
            found.append((_text(target), type_text, False))
        return found
    if kind in ("typed_parameter", "typed_default_parameter"):
        name = node.child_by_field_name("name") or next(
            (c for c in node.named_children if c.type == "identifier"), None
        )
        type_text = clean_type(_text(node.child_by_field_name("type")), language)
        if name is not None and type_text:
            found.append((_text(name), type_text, False))
        return found
    type_node = node.child_by_field_name("type")
    type_text = clean_type(_type_text(type_node), language) if type_node is not None else ""
    if kind in ("local_variable_declaration", "field_declaration", "variable_declaration") and (
        language != "go"
    ):
        for declarator in node.named_children:
            if declarator.type != "variable_declarator":
                continue
            name = declarator.child_by_field_name("name") or next(
                (c for c in declarator.named_children if c.type == "identifier"), None
            )
            value_type = type_text if type_text not in ("var", "") else _value_type(
                declarator.child_by_field_name("value"), language
            )
            if name is not None and value_type:
                found.append((_text(name), value_type, kind == "field_declaration"))
        return found
    if kind == "let_declaration":
        pattern = node.child_by_field_name("pattern")
        if not type_text:
            type_text = _value_type(node.child_by_field_name("value"), language)
        if pattern is not None and pattern.type == "identifier" and type_text:
            found.append((_text(pattern), type_text, False))
        return found
    if kind == "public_field_definition":
        name = node.child_by_field_name("name")
        if not type_text:
            type_text = _value_type(node.child_by_field_name("value"), language)
        if name is not None and type_text:
            found.append((_text(name), type_text, True))
        return found
    if not type_text:
        return found
    names = node.children_by_field_name("name") or [
        c for c in (node.child_by_field_name("pattern"),) if c is not None
    ]
    for name in names:
        if name.type in ("identifier", "simple_identifier", "field_identifier"):
            found.append((_text(name), type_text, kind == "field_declaration"))
    return found


def _dart_types(node: Node) -> list[tuple[str, str, bool]]:
    """`Item item` (a parameter), `Item it;` / `final Item a, b;` (fields of a class), locals."""
    if node.type == "initialized_variable_definition":
        local = _dart_local_type(node)
        return [(*local, False)] if local is not None else []
    # `net.Item it;`: a prefixed type is two type identifiers in a row.
    type_text = clean_type(".".join(_text(c) for c in node.named_children
                                    if c.type == "type_identifier"), "dart")
    if not type_text:
        return []
    if node.type == "formal_parameter":
        name = node.child_by_field_name("name")
        return [(_text(name), type_text, False)] if name is not None else []
    found: list[tuple[str, str, bool]] = []
    for names in node.named_children:
        if names.type == "initialized_identifier_list":
            for item in names.named_children:
                name = next((c for c in item.named_children if c.type == "identifier"), None)
                if name is not None:
                    found.append((_text(name), type_text, True))
    return found


def _dart_local_type(node: Node) -> tuple[str, str] | None:
    """A Dart local's (name, type): `Item x = ...`, `var c = Cart()`, `final d = new p.Cart()`."""
    name = node.child_by_field_name("name")
    if name is None:
        return None
    declared = next((c for c in node.named_children if c.type == "type_identifier"), None)
    values = node.children_by_field_name("value")
    text = ""
    if declared is not None:
        text = _text(declared)
    elif len(values) == 1 and values[0].type in ("new_expression", "const_object_expression"):
        text = ".".join(_text(c) for c in values[0].named_children
                        if c.type == "type_identifier")
    elif len(values) == 2 and values[0].type == "identifier" and values[1].type == "selector" and (
        values[1].named_children and values[1].named_children[0].type == "argument_part"
    ):
        text = _text(values[0])  # `Cart()`: what the class (or function) makes
    type_text = clean_type(text, "dart")
    return (_text(name), type_text) if type_text else None


def _type_text(node: Node) -> str:
    if node.type == "type_annotation" and node.named_child_count:
        node = node.named_children[0]
    return _text(node)


def _collect_bases(node: Node, out: list[str], depth: int = 0) -> None:
    for child in node.named_children:
        if len(out) >= _MAX_BASES or depth > 4:
            return
        kind = child.type
        if kind in ("type_arguments", "keyword_argument", "comment", "type_parameters"):
            continue
        if kind == "generic_type" or kind == "subscript":
            child = child.named_children[0] if child.named_child_count else child
            kind = child.type
        if kind in _NAMEISH:
            out.append(_text(child))
        else:
            _collect_bases(child, out, depth + 1)


def base_names(node: Node, language: str) -> list[str]:
    """The base classes, interfaces and traits a class definition names, as written."""
    found: list[str] = []
    for field in ("superclasses", "superclass", "interfaces"):
        holder = node.child_by_field_name(field)
        if holder is not None:
            if holder.type in _NAMEISH:
                found.append(_text(holder))
            else:
                _collect_bases(holder, found)
    if not found:
        for child in node.named_children:
            if child.type in _BASE_CLAUSES:
                if child.type == "superclass" and child.named_child_count == 0:
                    continue
                _collect_bases(child, found) if child.named_child_count else None
    cleaned = [clean_type(text, language) for text in found]
    return [text for text in dict.fromkeys(cleaned) if text]
