"""Which names a piece of code reads, writes and may change, in evaluation order.

`AccessReader.read` walks an expression or a simple statement;
`AccessReader.bind` walks a target (parameters, a loop variable, a pattern)
whose identifiers are bound. Both return `Access` records in the order they
happen at run time (an assignment's value before its target), which the
data-flow pass relies on within one step.

A nested function, lambda, closure, class or comprehension is not entered as
code of the outer function: its free names are reads where it is written,
the names it assigns are may-writes (a closure can change an outer
variable), and its own parameters are neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldr.graph.flow._tables import FlowTables

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["DECL_BLOCK", "DECL_FUNCTION", "NO_DECL", "Access", "AccessReader"]

NO_DECL = 0
DECL_BLOCK = 1  # a declaration whose name lives in the enclosing block
DECL_FUNCTION = 2  # a declaration whose name lives in the whole function (`var`)

# Walk modes: read, write (kills), may-write, bind (declares).
_READ, _WRITE, _MAY, _BIND, _CALL = 0, 1, 2, 3, 4
_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)


class Access:
    """One access to a name: kind is "use", "def", "may" or "call" (a method call on it)."""

    __slots__ = ("byte", "closure", "decl", "key", "kind", "line", "name", "nested")

    def __init__(self, kind: str, name: str, line: int, byte: int, decl: int = NO_DECL) -> None:
        self.kind = kind
        self.name = name
        self.line = line
        self.byte = byte
        self.decl = decl
        self.nested = False  # made inside a nested function, lambda or class
        self.key = name  # the variable it names, once block scopes are resolved
        self.closure = False  # a def whose value is a function (it runs where it is used)

    def __repr__(self) -> str:
        return f"Access({self.kind} {self.name} L{self.line})"


def _imported_names(node: Node) -> list[Node]:
    """The identifiers a Python import binds: `import a.b` binds `a`, `from m import b as c` `c`."""
    found: list[Node] = []
    for name in node.children_by_field_name("name"):
        if name.type == "aliased_import":
            alias = name.child_by_field_name("alias")
            if alias is not None:
                found.append(alias)
        elif name.type == "dotted_name" and name.named_child_count:
            parts = name.named_children
            found.append(parts[0] if node.type == "import_statement" else parts[-1])
    return found


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


class AccessReader:
    """Reads accesses for one language's tables."""

    def __init__(self, tables: FlowTables) -> None:
        self.tables = tables
        skips: dict[str, list[str]] = {}
        for parent, field_name in tables.skip_fields:
            skips.setdefault(parent, []).append(field_name)
        self._skips = skips
        self._rust = tables.language == "rust"
        self._python = tables.language == "python"
        self._named_decl = NO_DECL if self._python else DECL_BLOCK
        self._blank = tables.language in ("go", "rust")  # `_` names no variable there
        self._closure_targets: list[tuple[int, int]] = []

    # -- public -------------------------------------------------------------

    def read(self, node: Node) -> list[Access]:
        """Accesses of evaluating `node` (an expression or a simple statement)."""
        self._closure_targets = []
        out: list[Access] = []
        self._walk(node, _READ, NO_DECL, out)
        return out

    def bind(self, node: Node, decl: int = DECL_BLOCK) -> list[Access]:
        """Accesses of binding the names in `node` (a parameter list, a pattern)."""
        out: list[Access] = []
        self._walk(node, _BIND, decl, out)
        return out

    def write(self, node: Node) -> list[Access]:
        """Accesses of assigning to the target `node` (no declaration)."""
        out: list[Access] = []
        self._walk(node, _WRITE, NO_DECL, out)
        return out

    # -- the walk -------------------------------------------------------------

    def _skipped_ids(self, node: Node) -> set[int]:
        fields = self._skips.get(node.type)
        if not fields:
            return set()
        ids: set[int] = set()
        for field_name in fields:
            if field_name:
                for child in node.children_by_field_name(field_name):
                    ids.add(child.id)
            elif node.named_child_count:
                first = node.named_children[0]
                ids.add(first.id)
        return ids

    def _walk(self, root: Node, mode: int, decl: int, out: list[Access]) -> None:
        tables = self.tables
        stack: list[tuple[Node, int, int]] = [(root, mode, decl)]
        while stack:
            node, mode, decl = stack.pop()
            kind = node.type
            if kind in tables.opaque or (kind in tables.skipped and kind != "ERROR"):
                continue
            if kind in tables.variables:
                self._name(node, mode, decl, out)
                continue
            if kind in tables.self_names:
                kind_name = {_READ: "use", _CALL: "call", _MAY: "may"}.get(mode, "def")
                out.append(self._access(kind_name, node, _text(node)))
                continue
            if kind in tables.scopes:
                self._nested(node, out)
                continue
            later: list[tuple[Node, int, int]] = []  # pushed reversed: run in this order
            if mode == _READ:
                self._read_node(node, kind, later)
            else:
                self._target_node(node, kind, mode, decl, later)
            stack.extend(reversed(later))

    def _name(self, node: Node, mode: int, decl: int, out: list[Access]) -> None:
        name = _text(node)
        if mode == _CALL:
            out.append(self._access("call", node, name))
        elif mode == _READ or (self._rust and name[:1].isupper()):
            out.append(self._access("use", node, name))  # Rust `None`, `MAX` in a pattern
        elif name == "_" and self._blank:
            return
        elif mode == _MAY:
            out.append(self._access("may", node, name))
        else:
            access = self._access("def", node, name, decl if mode == _BIND else NO_DECL)
            access.closure = any(
                start <= node.start_byte < end for start, end in self._closure_targets
            )
            out.append(access)

    @staticmethod
    def _access(kind: str, node: Node, name: str, decl: int = NO_DECL) -> Access:
        return Access(kind, name, node.start_point[0] + 1, node.start_byte, decl)

    def _children(self, node: Node) -> list[Node]:
        skipped = self._skipped_ids(node)
        if not skipped:
            return node.named_children
        return [child for child in node.named_children if child.id not in skipped]

    def _read_node(self, node: Node, kind: str, later: list[tuple[Node, int, int]]) -> None:
        tables = self.tables
        assignment = tables.assignments.get(kind)
        if assignment is not None:
            target_field, value_field, augmented = assignment
            target = node.child_by_field_name(target_field)
            value = node.child_by_field_name(value_field)
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type not in ("=", ":="):
                augmented = True  # Go and Java spell `x += 1` as an assignment
            if value is not None:
                later.append((value, _READ, NO_DECL))
                self._note_closure(value, target)
            if target is not None:
                if augmented:
                    later.append((target, _READ, NO_DECL))
                later.append((target, _WRITE, NO_DECL))
            return
        declaration = tables.declarations.get(kind)
        if declaration is not None:
            self._declaration(node, declaration, later)
            return
        if kind in tables.updates:
            for child in node.named_children:
                later.append((child, _READ, NO_DECL))
                later.append((child, _WRITE, NO_DECL))
            return
        if self._python and kind in ("import_statement", "import_from_statement"):
            later.extend((name, _WRITE, NO_DECL) for name in _imported_names(node))
            return
        if kind == "match_arm":  # Rust, inside an expression: the pattern binds
            pattern = node.child_by_field_name("pattern")
            for child in node.named_children:
                same = pattern is not None and child.id == pattern.id
                later.append((child, _BIND if same else _READ, DECL_BLOCK if same else NO_DECL))
            return
        if kind in tables.calls:
            self._call_receiver(node, tables.calls[kind], later)
        later.extend((child, _READ, NO_DECL) for child in self._children(node))

    def _declaration(
        self, node: Node, fields: tuple[str, str], later: list[tuple[Node, int, int]]
    ) -> None:
        target_field, value_field = fields
        parent = node.parent
        decl = (
            DECL_FUNCTION
            if parent is not None and parent.type in self.tables.function_scoped
            else DECL_BLOCK
        )
        if self._python:
            decl = NO_DECL
        value = node.child_by_field_name(value_field) if value_field else None
        targets = node.children_by_field_name(target_field) if target_field else []
        if value is not None:
            later.append((value, _READ, NO_DECL))
            for target in targets:
                self._note_closure(value, target)
        for target in targets:
            later.append((target, _BIND, decl))
        seen = {child.id for child in targets} | ({value.id} if value is not None else set())
        for child in node.named_children:  # a Rust let-else, a Go type: anything else is read
            if child.id not in seen and child.type != "block":
                later.append((child, _READ, NO_DECL))

    def _note_closure(self, value: Node, target: Node | None) -> None:
        """`f = lambda: ...`, `const f = () => ...`: the names bound here are closures."""
        while value.type == "parenthesized_expression" and value.named_child_count == 1:
            value = value.named_children[0]
        if (
            target is not None
            and value.type in self.tables.scopes
            and value.type not in _COMPREHENSIONS
        ):
            self._closure_targets.append((target.start_byte, target.end_byte))

    def _call_receiver(
        self, node: Node, field_name: str, later: list[tuple[Node, int, int]]
    ) -> None:
        callee = node.child_by_field_name(field_name)
        if callee is None:
            return
        if self.tables.language == "java":  # `object` is the receiver itself
            root = self._root(callee)
        elif callee.type in self.tables.writes:
            root = self._root(self._base(callee))
        else:
            return
        if root is not None:
            later.append((root, _CALL, NO_DECL))

    def _base(self, node: Node) -> Node | None:
        field_name = self.tables.writes.get(node.type, "")
        if field_name:
            return node.child_by_field_name(field_name)
        return node.named_children[0] if node.named_child_count else None

    def _root(self, node: Node | None) -> Node | None:
        for _ in range(64):
            if node is None:
                return None
            if node.type in self.tables.variables or node.type in self.tables.self_names:
                return node
            if node.type not in self.tables.writes and node.type != "parenthesized_expression":
                return None
            node = self._base(node)
        return None

    def _target_node(
        self, node: Node, kind: str, mode: int, decl: int, later: list[tuple[Node, int, int]]
    ) -> None:
        tables = self.tables
        if kind in tables.writes:
            root = self._root(node)
            later.append((node, _READ, NO_DECL))
            if root is not None:
                later.append((root, _MAY, NO_DECL))
            return
        if kind in ("assignment_pattern", "default_parameter", "typed_default_parameter"):
            left = node.child_by_field_name("left") or node.child_by_field_name("name")
            right = node.child_by_field_name("right") or node.child_by_field_name("value")
            if right is not None:
                later.append((right, _READ, NO_DECL))
            if left is not None:
                later.append((left, mode, decl))
            return
        declaration = tables.declarations.get(kind)
        if declaration is not None:
            self._declaration(node, declaration, later)
            return
        if kind == "match_pattern" or (kind == "case_pattern" and self._python):
            self._pattern_guard(node, mode, decl, later)
            return
        if self._python and kind == "dotted_name":
            if node.named_child_count == 1:
                later.append((node.named_children[0], mode, decl))
            else:
                later.append((node, _READ, NO_DECL))  # `case Color.RED`: a value
            return
        if self._python and kind == "class_pattern":
            for child in node.named_children:
                later.append((child, _READ if child.type == "dotted_name" else mode, decl))
            return
        if self._python and kind == "keyword_pattern":
            later.extend((child, mode, decl) for child in node.named_children[1:])
            return
        later.extend((child, mode, decl) for child in self._children(node))

    def _pattern_guard(
        self, node: Node, mode: int, decl: int, later: list[tuple[Node, int, int]]
    ) -> None:
        guard = node.child_by_field_name("condition")
        for child in node.named_children:
            if guard is None or child.id != guard.id:
                later.append((child, mode, decl))
        if guard is not None:
            later.append((guard, _READ, NO_DECL))

    def _nested(self, node: Node, out: list[Access]) -> None:
        """A nested function, closure, class or comprehension, seen from outside."""
        bound: set[str] = set()
        skip: set[int] = set()
        inner: list[Access] = []
        if node.type in _COMPREHENSIONS:
            for clause in node.named_children:
                if clause.type == "for_in_clause":
                    left = clause.child_by_field_name("left")
                    if left is not None:
                        bound.update(a.name for a in self.bind(left) if a.kind == "def")
                        skip.add(left.id)
        for field_name in self.tables.parameters:
            for parameters in node.children_by_field_name(field_name):
                for access in self.bind(parameters):
                    if access.kind == "def":
                        bound.add(access.name)
                    else:
                        inner.append(access)  # a default value, read where it is written
                skip.add(parameters.id)
        name_node = node.child_by_field_name("name")
        if name_node is not None:
            skip.add(name_node.id)
        for child in node.named_children:
            if child.id not in skip:
                self._walk(child, _READ, NO_DECL, inner)
        for access in inner:
            if access.name in bound or (access.decl != NO_DECL and access.kind == "def"):
                continue
            if access.kind == "def":
                access.kind = "may"
            access.nested = True
            out.append(access)
        if name_node is not None and name_node.type in self.tables.variables:
            named = self._access("def", name_node, _text(name_node), self._named_decl)
            named.closure = True
            out.append(named)
