"""The extraction engine: one parse and one pre-order walk per file.

The walk keeps a stack of open definitions; every call, branch, loop,
boolean operator and assignment it meets is credited to each open unit
(so an outer function also counts what its nested functions do), or to the
file's module unit when no unit is open. Docstrings and the module unit are
resolved after the walk from what it collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldr.units.bindings import call_binding, import_bindings
from tldr.units.chunks import text_units
from tldr.units.detect import CONTENT_DECIDED, detect_language
from tldr.units.facts import (
    ALIAS_PREFIX,
    TYPE_NODES,
    CallSite,
    FileFacts,
    ImportBinding,
    VarType,
    base_names,
    call_receiver,
    declared_types,
)
from tldr.units.finish import MAX_ASSIGNS, MAX_CALLS, MAX_IMPORTS, Collected
from tldr.units.imports import IMPORT_CALLS, call_import, statement_imports
from tldr.units.languages import FALLBACK_LANGUAGES, SPECS, LanguageSpec
from tldr.units.model import Unit
from tldr.units.naming import (
    IDENTIFIER_TYPES,
    assigned_names,
    classify,
    conditional_of,
    declared_functions,
    definition_name,
    elixir_call_name,
    last_identifier,
)
from tldr.units.parsing import OpenUnit, Scope, end_row, parse
from tldr.units.shapes import Shape, shape
from tldr.units.sites import (
    SITE_NODES,
    clojure_bindings,
    dart_bindings,
    erlang_bindings,
    r_source,
    shaped_site,
    zig_import,
)
from tldr.units.text import clean_string_literal

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["MAX_ASSIGNS", "MAX_CALLS", "MAX_IMPORTS", "extract_file", "extract_units"]

# Dart wraps the operator in a node of its own.
_BOOLEAN_TOKENS = frozenset(
    {"&&", "||", "and", "or", "logical_and_operator", "logical_or_operator"}
)
_ELIXIR_BRANCHES = frozenset({"if", "unless", "case", "cond", "with"})
_ELIXIR_LOOPS = frozenset({"for"})
_UNIT_KINDS = frozenset({"function", "class", "section"})
# Nodes that may sit between two clauses of one definition.
_BETWEEN_CLAUSES = frozenset({"comment", "haddock", "pragma"})

class _Extractor(Collected):
    def __init__(self, source: bytes, path: str, spec: LanguageSpec) -> None:
        super().__init__(source, path, spec)
        self.by_node: dict[int, OpenUnit] = {}  # node id -> unit, for merging clauses
        # An attached body (Dart) is its parent's child, met after its signature's
        # subtree: it is walked then, inside the signature's scope and units.
        self.body_owners: dict[int, tuple[Scope, tuple[OpenUnit, ...], bool]] = {}
        self.conditional_functions: dict[int, frozenset[str]] = {}  # see _stands_in
        self.import_calls = IMPORT_CALLS.get(spec.name, frozenset())
        # What the code graph needs (facts.py), gathered by the same walk.
        self.sites: list[CallSite] = []
        self.bindings: list[ImportBinding] = []
        self.typed: list[tuple[OpenUnit | None, str, str]] = []  # (scope, name, type)
        self.bases: dict[int, list[str]] = {}
        self.type_nodes = TYPE_NODES.get(spec.name, frozenset())
        self.site_types = SITE_NODES.get(spec.name, frozenset())
        self.site_memo: dict[int, str] = {}  # sites.py's scratch space for this tree
        self.definition_types = (
            frozenset({"call"})
            if spec.name == "elixir"
            else spec.functions | spec.classes | spec.type_scopes | spec.namespaces | spec.shaped
        )
        self.feature_types = (
            frozenset(spec.calls)
            | spec.branches
            | spec.loops
            | spec.boolean_parents
            | frozenset(spec.assignments)
            | spec.imports
            | self.type_nodes
        )

    # -- the walk ---------------------------------------------------------

    def walk(self, root: Node) -> None:
        top_nodes = root.named_children
        root_scope = Scope((), "root")
        stack: list[tuple[Node, Scope, tuple[OpenUnit, ...], int]] = [
            (child, root_scope, (), index) for index, child in enumerate(top_nodes)
        ]
        stack.reverse()
        spec = self.spec
        comments = spec.comments
        definition_types = self.definition_types
        feature_types = self.feature_types
        is_elixir = self.language == "elixir"
        shaped = spec.shaped
        attached_bodies = spec.attached_bodies
        site_types = self.site_types
        while stack:
            node, scope, open_units, top = stack.pop()
            kind = node.type
            if kind in comments:
                self._record_comment(node)
                continue
            if attached_bodies and kind in attached_bodies:
                owner = self.body_owners.pop(node.id, None)
                if owner is not None:
                    scope, open_units, top_level = owner
                    if top_level:  # the body is part of a top-level definition, not module code
                        self.definition_tops.add(top)
            children = node.named_children
            if kind in definition_types:
                found: Shape | None = None
                if kind in shaped:
                    found = shape(node, self.language)
                    definition_kind = found[0] if found is not None else None
                else:
                    definition_kind = classify(node, spec)
                    if kind == "preproc_function_def" and self._stands_in(node):
                        definition_kind = None
                if definition_kind is not None:
                    scope, open_units = self._open(
                        node, definition_kind, scope, open_units, top, found
                    )
                    if is_elixir:
                        children = [c for c in children if c.type == "do_block"]
                    if attached_bodies:
                        body = node.next_named_sibling
                        if body is not None and body.type in attached_bodies:
                            self.body_owners[body.id] = (scope, open_units,
                                                         top in self.definition_tops)
                            if open_units and open_units[-1].node is node:
                                open_units[-1].last = body
                    for child in reversed(children):
                        stack.append((child, scope, open_units, top))
                    continue
            if is_elixir and not self._elixir_node(node, open_units):
                continue
            if kind == "attribute_item":
                self.attribute_rows[end_row(node)] = node.start_point[0]
            if kind in feature_types:
                self._features(node, kind, open_units or (self.module,), top)
            if kind in site_types:
                self._shaped_site(node, open_units or (self.module,))
            for child in reversed(children):
                stack.append((child, scope, open_units, top))
        self._top_level_nodes = top_nodes

    def _open(
        self,
        node: Node,
        definition_kind: str,
        scope: Scope,
        open_units: tuple[OpenUnit, ...],
        top: int,
        found: Shape | None = None,
    ) -> tuple[Scope, tuple[OpenUnit, ...]]:
        resolved = (found[1], found[2]) if found is not None else definition_name(node, self.spec)
        if resolved is None:
            return scope, open_units
        name, qualifiers = resolved
        names = (*scope.names, *qualifiers, name)
        outer, sig_start = self._outer(node)
        if outer.parent is not None and outer.parent.parent is None:
            self.definition_tops.add(top)
        if self.spec.merge_clauses:
            earlier = self._earlier_clause(node, name)
            if earlier is not None:
                earlier.last = node
                self.by_node[node.id] = earlier
                return Scope(names, definition_kind), (*open_units, earlier)
        if definition_kind in _UNIT_KINDS:
            unit = OpenUnit(node, definition_kind, name, ".".join(names))
            unit.outer = outer
            unit.sig_start = sig_start
            unit.parent_kind = scope.kind
            unit.qualifiers = qualifiers
            unit.index = len(self.units)
            unit.parent = open_units[-1].index if open_units else -1
            if definition_kind == "class":
                bases = base_names(node, self.language)
                if bases:
                    self.bases[unit.index] = bases
            self.units.append(unit)
            if self.spec.merge_clauses:
                self.by_node[node.id] = unit
            open_units = (*open_units, unit)
        return Scope(names, definition_kind), open_units

    def _stands_in(self, macro: Node) -> bool:
        """Whether a C macro stands in for a function another branch declares.

        `#ifdef USE_X int f(int a); #else #define f(a) 0 #endif`: the macro
        is what `f` becomes when the feature is compiled out, not a second
        definition of it (curl has 120 of them, each a one-line twin of a
        real function that crowds search results).
        """
        conditional = conditional_of(macro)
        if conditional is None:
            return False
        names = self.conditional_functions.get(conditional.id)
        if names is None:
            names = self.conditional_functions[conditional.id] = declared_functions(conditional)
        name = macro.child_by_field_name("name")
        return name is not None and (name.text or b"").decode("utf-8", "replace") in names

    def _earlier_clause(self, node: Node, name: str) -> OpenUnit | None:
        """The unit a clause continues: the previous definition, same name."""
        previous = node.prev_named_sibling
        while previous is not None and previous.type in _BETWEEN_CLAUSES:
            previous = previous.prev_named_sibling
        if previous is None:
            return None
        unit = self.by_node.get(previous.id)
        return unit if unit is not None and unit.name == name else None

    def _outer(self, node: Node) -> tuple[Node, int]:
        """Climb wrappers that belong to the unit (decorators, `export`, `const`)."""
        wrappers = self.spec.wrappers
        outer = node
        sig_start = node.start_byte
        while True:
            parent = outer.parent
            if parent is None or parent.type not in wrappers:
                break
            if sum(1 for c in parent.named_children if c.type == outer.type) != 1:
                break
            outer = parent
            if wrappers[parent.type]:
                sig_start = parent.start_byte
        return outer, sig_start

    def _record_comment(self, node: Node) -> None:
        start = node.start_byte
        line_start = self.source.rfind(b"\n", 0, start) + 1
        if self.source[line_start:start].strip():
            return  # a trailing comment documents its own line, not the next one
        text = node.text or b""
        # Some grammars (Zig doc comments) swallow the indentation after them.
        last_row = node.start_point[0] + text.rstrip().count(b"\n")
        self.comments[last_row] = (node.start_point[0], text)

    def _features(self, node: Node, kind: str, targets: tuple[OpenUnit, ...], top: int) -> None:
        spec = self.spec
        if kind in spec.calls:
            self._call(node, kind, targets, top)
        if kind in spec.branches:
            for unit in targets:
                unit.branches += 1
        elif kind in spec.loops:
            for unit in targets:
                unit.loops += 1
        if kind in spec.boolean_parents:
            count = 0
            for child in node.children:
                child_type = child.type
                if child_type in _BOOLEAN_TOKENS or (
                    child_type == "operator_identifier" and child.text in (b"&&", b"||")
                ):
                    count += 1
            if count:
                for unit in targets:
                    unit.bools += count
        if kind in spec.assignments or kind in self.type_nodes:
            self._types(node, targets)
        if kind in spec.assignments:
            field = spec.assignments[kind]
            target = (
                node.child_by_field_name(field)
                if field
                else (node.named_children[0] if node.named_child_count else None)
            )
            if target is not None:
                names: list[str] = []
                assigned_names(target, names)
                for unit in targets:
                    unit.assigns.extend(names)
        if kind in spec.imports:
            self.imports.extend(statement_imports(node, self.language))
            if self.language == "dart":
                self.bindings.extend(dart_bindings(node))
            else:
                self.bindings.extend(import_bindings(node, self.language))
            self.import_tops.add(top)

    def _types(self, node: Node, targets: tuple[OpenUnit, ...]) -> None:
        """Record the names whose type a declaration or assignment makes evident."""
        for name, type_text, is_field in declared_types(node, self.language):
            scope: OpenUnit | None = targets[-1] if targets[-1].index >= 0 else None
            if type_text.startswith(ALIAS_PREFIX):  # the type of a name typed earlier here
                alias = type_text[len(ALIAS_PREFIX):]
                type_text = next((t for s, n, t in reversed(self.typed)
                                  if s is scope and n == alias), "")
                if not type_text:
                    continue
            if is_field:
                scope = next((u for u in reversed(targets) if u.kind == "class"), None)
                if scope is None:
                    continue
            self.typed.append((scope, name, type_text))

    def _call(self, node: Node, kind: str, targets: tuple[OpenUnit, ...], top: int) -> None:
        field = self.spec.calls[kind]
        callee: Node | None = None
        text: str | None = None
        if self.language == "elixir":
            name = elixir_call_name(node)
            callee = node.child_by_field_name("target")
        else:
            callee = (
                node.child_by_field_name(field)
                if field
                else (node.named_children[0] if node.named_child_count else None)
            )
            if callee is None or callee.type == kind:
                return  # `f a b` is `(f a) b`: the inner application names f
            if self.language == "julia" and node.parent is not None and (
                node.parent.type == "signature"
                or (node.parent.type == "assignment" and node.prev_named_sibling is None)
            ):
                return  # the head of a definition, not a call
            text = (callee.text or b"")[:300].decode("utf-8", "replace")
            if callee.type in IDENTIFIER_TYPES or self.language == "bash":
                name = text.strip()
            else:
                name = last_identifier(text)
        if not name:
            return
        if self.language == "elixir" and (name in _ELIXIR_BRANCHES or name in _ELIXIR_LOOPS):
            return
        if name in self.import_calls:
            imported = call_import(node, self.language)
            if imported:
                self.imports.append(imported)
                self.bindings.extend(call_binding(node, imported))
                self.import_tops.add(top)
            return
        for unit in targets:
            unit.calls.append(name)
        if callee is not None:
            receiver, column = call_receiver(node, callee, name, self.source, text)
            self.sites.append(
                CallSite(node.start_point[0] + 1, column, targets[-1].index, name, receiver)
            )
            if name == "source" and self.language == "r":  # graph facts only
                self.bindings.extend(r_source(node))

    def _shaped_site(self, node: Node, targets: tuple[OpenUnit, ...]) -> None:
        """A call or import of a grammar without a call table (sites.py)."""
        language = self.language
        if language == "zig":
            imported = zig_import(node)
            if imported is not None:
                self.bindings.append(imported)
                return
        elif language == "erlang":
            self.bindings.extend(erlang_bindings(node))
            return
        elif language == "clojure":
            found = clojure_bindings(node)
            if found:
                self.bindings.extend(found)
                return
        site = shaped_site(node, language, self.site_memo)
        if site is None:
            return
        name_node, name, receiver = site
        for unit in targets:
            unit.calls.append(name)
        start = name_node.start_byte
        line_start = self.source.rfind(b"\n", 0, start) + 1
        prefix = self.source[line_start:start]
        column = len(prefix) if prefix.isascii() else len(prefix.decode("utf-8", "replace"))
        self.sites.append(
            CallSite(name_node.start_point[0] + 1, column, targets[-1].index, name, receiver)
        )

    def facts(self, units: list[Unit]) -> FileFacts:
        """The graph's facts, indexes shifted to `units` (the module unit may lead it)."""
        shift = 1 if len(units) > len(self.units) else 0

        def at(index: int) -> int:
            return index + shift if index >= 0 else -1

        return FileFacts(
            sites=[
                CallSite(s.line, s.col, at(s.caller), s.name, s.receiver) if shift else s
                for s in self.sites
            ],
            imports=self.bindings,
            types=[
                VarType(at(scope.index) if scope is not None else -1, name, type_text)
                for scope, name, type_text in self.typed
            ],
            parents=[-1] * shift + [at(u.parent) for u in self.units],
            bases={at(index): bases for index, bases in self.bases.items()},
        )

    def _elixir_node(self, node: Node, open_units: tuple[OpenUnit, ...]) -> bool:
        """Handle Elixir's call-shaped keywords; False means skip the subtree."""
        kind = node.type
        if kind == "unary_operator":
            operand = node.child_by_field_name("operand")
            if operand is None or operand.type != "call":
                return True
            attribute = elixir_call_name(operand)
            if attribute not in ("doc", "moduledoc"):
                return True
            arguments = [c for c in operand.named_children if c.type == "arguments"]
            literal = next(iter(arguments[0].named_children), None) if arguments else None
            text = ""
            if literal is not None and literal.type == "string":
                text = clean_string_literal((literal.text or b"").decode("utf-8", "replace"))
            if attribute == "moduledoc":
                if open_units and open_units[-1].kind == "class":
                    open_units[-1].docstring = text
            else:
                self.elixir_docs[end_row(node)] = text
            return False
        if kind == "call":
            target = elixir_call_name(node)
            targets = open_units or (self.module,)
            if target in _ELIXIR_BRANCHES:
                for unit in targets:
                    unit.branches += 1
            elif target in _ELIXIR_LOOPS:
                for unit in targets:
                    unit.loops += 1
        return True


def extract_file(source: bytes, *, path: str, language: str) -> tuple[list[Unit], FileFacts]:
    """Split one source file into code units, and say what the code graph needs of it.

    One parse and one walk make both (specs/016-code-graph.md). Never raises
    on bad input: tree-sitter recovers from syntax errors and every unit it
    recovered is returned (partial units included).

    Args:
        source: The file's bytes (UTF-8).
        path: The project-relative POSIX path; becomes `Unit.file`.
        language: A name from `SUPPORTED_LANGUAGES`, usually the walk's
            `detect_language` guess; a guess only content settles (a `.h`
            header, a file without a known extension) is checked again here.

    Returns:
        The units in source order, the module unit (if any) first ([] for an
        unsupported language or a file that cannot be parsed), and the file's
        call sites, import bindings, evident types and class bases, whose
        indexes point into those units.
    """
    if language in CONTENT_DECIDED:
        language = detect_language(path, source[:8192]) or language
    if language in FALLBACK_LANGUAGES:
        return text_units(source, path=path, language=language), FileFacts()
    spec = SPECS.get(language)
    if spec is None:
        return [], FileFacts()
    try:
        source, tree = parse(source, language)
    except Exception:  # a grammar failing to load or parse must not stop an index build
        return [], FileFacts()
    extractor = _Extractor(source, path, spec)
    extractor.walk(tree.root_node)
    units = extractor.results()
    return units, extractor.facts(units)


def extract_units(source: bytes, *, path: str, language: str) -> list[Unit]:
    """Split one source file into code units (`extract_file` without the graph facts).

    Returns:
        The units in source order, the module unit (if any) first; [] for an
        unsupported language or a file that cannot be parsed.
    """
    return extract_file(source, path=path, language=language)[0]
