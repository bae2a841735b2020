"""Call sites and imports of grammars whose calls are not one node with a callee field.

Zig, Dart and Clojure shape a call as a suffix after its callee (Zig
`FnCallArguments`, Dart's `selector` holding an `argument_part`) or as a
list in call position (Clojure). The units walk hands those nodes here; the
names called are the search units' `Unit.calls` as well as the graph's sites.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldr.units.bindings import ImportBinding

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "SITE_NODES",
    "Site",
    "clojure_bindings",
    "dart_bindings",
    "erlang_bindings",
    "r_source",
    "shaped_site",
    "zig_import",
]

SITE_NODES: dict[str, frozenset[str]] = {
    "zig": frozenset({"FnCallArguments"}),
    "dart": frozenset({"selector", "cascade_section", "new_expression", "const_object_expression"}),
    "clojure": frozenset({"list_lit"}),
    "erlang": frozenset({"import_attribute", "pp_include", "pp_include_lib"}),
}
"""Per language, the node types read here (calls, or imports the units' tables skip)."""

Site = tuple["Node", str, str]
"""(the node holding the callee's last name, that name, the receiver text)."""

# Special forms and core macros: a list headed by one is syntax, not a call.
_CLOJURE_FORMS = frozenset(
    {
        "def", "defonce", "defn", "defn-", "defmacro", "defmulti", "defmethod", "defprotocol",
        "defrecord", "deftype", "definterface", "defstruct", "deftest", "declare", "ns",
        "in-ns", "let", "letfn", "if", "if-not", "if-let", "if-some", "when", "when-not",
        "when-let", "when-some", "when-first", "cond", "condp", "cond->", "cond->>", "case",
        "do", "fn", "fn*", "loop", "recur", "quote", "var", "throw", "try", "catch",
        "finally", "new", "set!", "monitor-enter", "monitor-exit", "and", "or", "->", "->>",
        "some->", "some->>", "as->", "doto", "..", "for", "doseq", "dotimes", "while",
        "binding", "with-open", "with-redefs", "with-meta", "lazy-seq", "delay", "future",
        "locking", "reify", "proxy", "extend-type", "extend-protocol", "import", "require",
        "use", "refer", "comment", "assert", "time", "is", "testing", "are",
    }
)
_CLOJURE_LOADERS = frozenset({"require", "use"})
# Forms whose inner `(name [args] body)` lists define methods or local functions.
_CLOJURE_METHOD_FORMS = frozenset(
    {"defprotocol", "defrecord", "deftype", "definterface", "reify", "extend-type",
     "extend-protocol", "extend", "proxy", "letfn"}
)


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text[:300].decode("utf-8", "replace")


_MAX_RECEIVER = 300


def _receiver(text: bytes) -> str:
    """Receiver text as the call tables record it: stripped, at most 300 characters."""
    return text.decode("utf-8", "replace").strip()[:_MAX_RECEIVER]


def _zig(node: Node) -> Site | None:
    previous = node.prev_sibling
    parent = node.parent
    if previous is None or parent is None:
        return None
    if parent.type == "FieldOrFnCall" and previous.type == "IDENTIFIER":  # `a.b.f(x)`
        owner = parent.parent
        if owner is None:
            return None
        receiver = owner.text[: parent.start_byte - owner.start_byte] if owner.text else b""
        return previous, _text(previous), _receiver(receiver)
    if parent.type == "SuffixExpr" and previous.type == "IDENTIFIER" and (
        previous.prev_sibling is None
    ):
        return previous, _text(previous), ""
    return None


def _dart_new(node: Node) -> Site | None:
    """`new Foo(x)`, `const p.Key()`, `new Point.origin()`: a call of the class."""
    types = [c for c in node.named_children if c.type == "type_identifier"]
    if not types:
        return None
    named = next((c for c in node.named_children if c.type == "identifier"), None)
    if named is not None and _text(named)[:1].isupper():  # `const net.Item()`: a prefix
        types.append(named)  # (`new Point.origin()` names a constructor of Point)
    receiver = ".".join(_text(c) for c in types[:-1])
    return types[-1], _text(types[-1]), receiver


def _dart_cascade(node: Node, memo: dict[int, str]) -> Site | None:
    """`c..add(1)..remove(2)`: each section with arguments calls a method of `c`.

    `memo` keeps each cascade's receiver by its parent's id, so a long
    cascade is not walked back once per section.
    """
    if not any(c.type == "argument_part" for c in node.named_children):
        return None
    selector = next((c for c in node.named_children if c.type == "cascade_selector"), None)
    name = next((c for c in selector.named_children if c.type == "identifier"), None) if (
        selector is not None) else None
    parent = node.parent
    if name is None or parent is None:
        return None
    known = memo.get(parent.id)
    if known is not None:
        return name, _text(name), known
    target = node.prev_named_sibling
    while target is not None and target.type == "cascade_section":
        target = target.prev_named_sibling
    end = target
    while target is not None and target.type == "selector":  # `a.b..f()`: back to `a`
        target = target.prev_named_sibling
    if target is None or end is None or parent.text is None:
        return None
    receiver = parent.text[target.start_byte - parent.start_byte:end.end_byte - parent.start_byte]
    memo[parent.id] = _receiver(receiver)
    return name, _text(name), memo[parent.id]


def _dart(node: Node, memo: dict[int, str]) -> Site | None:
    if node.type in ("new_expression", "const_object_expression"):
        return _dart_new(node)
    if node.type == "cascade_section":
        return _dart_cascade(node, memo)
    if not node.named_children or node.named_children[0].type != "argument_part":
        return None
    previous = node.prev_named_sibling
    parent = node.parent
    if previous is None or parent is None:
        return None
    # A postfix chain is flat: `a.b(x)` is `a`, `.b`, `(x)` among whatever else its
    # parent holds (`sum += f(x)`, `final s = Shop()`, `return s.total()`).
    if previous.type == "identifier":
        return previous, _text(previous), ""
    if previous.type == "selector" and previous.named_children:
        access = previous.named_children[0]
        if access.type not in ("unconditional_assignable_selector",
                               "conditional_assignable_selector"):
            return None
        name = next((c for c in access.named_children if c.type == "identifier"), None)
        primary = previous.prev_named_sibling
        while primary is not None and primary.type == "selector":
            primary = primary.prev_named_sibling
        if name is None or primary is None or parent.text is None:
            return None
        receiver = parent.text[primary.start_byte - parent.start_byte:
                               previous.start_byte - parent.start_byte]
        return name, _text(name), _receiver(receiver)
    return None


def _clojure_head(node: Node) -> Node | None:
    """The symbol in call position of a list, or None (`(f x)` -> `f`)."""
    values = node.children_by_field_name("value")
    head = values[0] if values else None
    return head if head is not None and head.type == "sym_lit" else None


def _clojure_method(node: Node) -> bool:
    """`(m [this] ...)` in `defprotocol`/`reify`/`letfn [...]`...: a definition, not a call."""
    values = node.children_by_field_name("value")
    if len(values) < 2 or values[1].type not in ("vec_lit", "list_lit"):
        return False
    holder = node.parent
    in_vector = holder is not None and holder.type == "vec_lit"
    if in_vector and holder is not None:  # `(letfn [(f [x] ...)] ...)`
        holder = holder.parent
    if holder is None or holder.type != "list_lit":
        return False
    head = _clojure_head(holder)
    form = _text(head.child_by_field_name("name")) if head is not None else ""
    return form == "letfn" if in_vector else form in _CLOJURE_METHOD_FORMS - {"letfn"}


def _clojure(node: Node) -> Site | None:
    parent = node.parent
    if parent is not None and parent.type in ("quoting_lit", "syn_quoting_lit"):
        return None  # `'(a b)` is data
    head = _clojure_head(node)
    if head is None:
        return None
    name_node = head.child_by_field_name("name")
    name = _text(name_node)
    receiver = _text(head.child_by_field_name("namespace"))
    if name_node is None or not name or name.startswith(".") or name.endswith("."):
        return None  # Java interop: `(.m x)`, `(Foo. x)`
    if not receiver and name in _CLOJURE_FORMS:
        return None
    if _clojure_method(node):
        return None
    if receiver in ("clojure.core", "core") and name in _CLOJURE_FORMS:
        return None
    return name_node, name, receiver


def shaped_site(node: Node, language: str, memo: dict[int, str] | None = None) -> Site | None:
    """The call a node of `SITE_NODES[language]` makes, or None when it makes none.

    `memo` is one tree's scratch space (pass the same dict for every node of a tree).
    """
    if language == "zig":
        return _zig(node)
    if language == "dart":
        return _dart(node, memo if memo is not None else {})
    if language == "clojure":
        return _clojure(node)
    return None


def zig_import(node: Node) -> ImportBinding | None:
    """`const std = @import("std");` binds `std` (`@import("m.zig").T` binds `T`)."""
    previous = node.prev_sibling
    if previous is None or previous.type != "BUILTINIDENTIFIER" or _text(previous) != "@import":
        return None
    argument = next((c for c in node.named_children), None)
    module = _text(argument).strip().strip('"')
    if not module:
        return None
    line = node.start_point[0] + 1
    suffix = node.parent
    symbol = ""
    if suffix is not None:
        after = node.next_named_sibling
        if after is not None:
            if after.type != "FieldOrFnCall" or after.next_named_sibling is not None:
                return ImportBinding("", module, "", line)
            field = after.child_by_field_name("field_access")
            if field is None:
                return ImportBinding("", module, "", line)
            symbol = _text(field)
    holder = suffix
    for _ in range(3):  # SuffixExpr > ErrorUnionExpr > VarDecl (or Decl)
        if holder is None or holder.type in ("VarDecl", "Decl"):
            break
        holder = holder.parent
    if holder is not None and holder.type == "Decl" and not symbol and any(
        c.type == "usingnamespace" for c in holder.children
    ):
        return ImportBinding("*", module, "*", line)  # `usingnamespace @import("m.zig");`
    if holder is None or holder.type != "VarDecl":
        return ImportBinding("", module, symbol, line)
    local = _text(holder.child_by_field_name("variable_type_function"))
    return ImportBinding(local, module, symbol, line)


def dart_bindings(node: Node) -> list[ImportBinding]:
    """`import 'm.dart' as p;` binds `p`; a plain import makes every public name visible."""
    line = node.start_point[0] + 1
    found: list[ImportBinding] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "import_specification":
            uri = next((c for c in current.named_children if c.type == "configurable_uri"), None)
            module = _text(uri).strip().strip("'\"")
            if not module:
                continue
            alias = next((c for c in current.named_children if c.type == "identifier"), None)
            if alias is not None:
                found.append(ImportBinding(_text(alias), module, "", line))
            else:
                found.append(ImportBinding("*", module, "*", line))
        else:
            stack.extend(reversed(current.named_children))
    return found


def _clojure_libspec(spec: Node, found: list[ImportBinding]) -> None:
    """`a.b`, `[a.b :as c]`, `[a.b :refer [d e]]`, `[a.b :refer :all]`."""
    line = spec.start_point[0] + 1
    if spec.type == "sym_lit":
        module = _text(spec)
        found.append(ImportBinding(module, module, "", line))
        return
    if spec.type != "vec_lit":
        return
    values = spec.children_by_field_name("value")
    if not values or values[0].type != "sym_lit":
        return
    module = _text(values[0])
    aliased = False
    index = 1
    while index + 1 < len(values):
        key, value = _text(values[index]), values[index + 1]
        if key == ":as":
            found.append(ImportBinding(_text(value), module, "", line))
            aliased = True
        elif key == ":refer" and value.type == "vec_lit":
            for name in value.children_by_field_name("value"):
                if name.type == "sym_lit":
                    found.append(ImportBinding(_text(name), module, _text(name), line))
        elif key == ":refer" and _text(value) == ":all":
            found.append(ImportBinding("*", module, "*", line))
        index += 2
    if not aliased:
        found.append(ImportBinding(module, module, "", line))


def clojure_bindings(node: Node) -> list[ImportBinding]:
    """What `(ns x (:require [a.b :as c] [d :refer [e]]))` or `(require '[a.b :as c])` binds."""
    head = _clojure_head(node)
    if head is None:
        return []
    name = _text(head)
    values = node.children_by_field_name("value")
    found: list[ImportBinding] = []
    if name == "ns":
        for clause in values[2:]:
            if clause.type != "list_lit":
                continue
            parts = clause.children_by_field_name("value")
            if parts and _text(parts[0]) in (":require", ":use"):
                for spec in parts[1:]:
                    _clojure_libspec(spec, found)
    elif name in _CLOJURE_LOADERS:
        for spec in values[1:]:
            if spec.type == "quoting_lit" and spec.named_children:
                spec = spec.named_children[-1]
            _clojure_libspec(spec, found)
    return found


def erlang_bindings(node: Node) -> list[ImportBinding]:
    """`-import(lists, [map/2]).` binds `map`; `-include("x.hrl").` makes x.hrl's names visible."""
    line = node.start_point[0] + 1
    if node.type == "import_attribute":
        module = _text(node.child_by_field_name("module"))
        found: list[ImportBinding] = []
        for function in node.children_by_field_name("funs"):
            name = _text(function.child_by_field_name("fun"))
            if module and name:
                found.append(ImportBinding(name, module, name, line))
        return found
    path = _text(node.child_by_field_name("file")).strip('"')
    return [ImportBinding("*", path, "*", line)] if path else []


def r_source(call: Node) -> list[ImportBinding]:
    """`source("R/util.R")` defines util.R's names here: a wildcard import of that file."""
    arguments = call.child_by_field_name("arguments")
    first = next(iter(arguments.children_by_field_name("argument")), None) if (
        arguments is not None) else None
    value = first.child_by_field_name("value") if first is not None else None
    if value is None or value.type != "string" or first is None or first.child_by_field_name(
        "name"
    ) is not None:
        return []
    path = "".join(_text(c) for c in value.named_children if c.type == "string_content")
    return [ImportBinding("*", path, "*", call.start_point[0] + 1)] if path else []
