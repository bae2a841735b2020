"""Tier 1: the built-in resolver for every language (specs/016-code-graph.md).

It settles what the syntax makes evident (scopes, imports and aliases,
`self`/`this`/`super`, constructors, receivers of stated or constructed
type, class bases) and answers *ambiguous* with the candidates, or
*unresolved*, for the rest: it never picks one of several definitions by
guessing, so `Session.send` and `HTTPAdapter.send` stay apart.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque

from tldr.graph.model import (
    AMBIGUOUS,
    BY_NAME,
    CONSTRUCTOR,
    EXACT,
    UNRESOLVED,
    VIA_IMPORT,
    VIA_RECEIVER_TYPE,
    VIA_SELF,
    Edge,
)
from tldr.graph.returns import return_type
from tldr.graph.scopes import FileScope, ImportResolver
from tldr.graph.symbols import CLASS_KINDS, FUNCTION_KINDS, Symbols
from tldr.units.bindings import ImportBinding

__all__ = ["BUILTIN_RESOLVER_ID", "MAX_CANDIDATES", "Tier1Resolver"]

BUILTIN_RESOLVER_ID = "tier1"
MAX_CANDIDATES = 16

_SELF_NAMES = frozenset({"self", "this", "$this", "cls", "@", "Self"})
_SUPER = frozenset({"super()", "super", "parent"})
# Languages whose bare names are only what scoping and imports bring in.
_SCOPED = frozenset({"python", "javascript", "typescript", "tsx", "go", "java", "rust", "kotlin",
                     "scala", "csharp", "dart", "swift"})
# A bare call inside a class may call a method of that class (implicit this).
_IMPLICIT_THIS = frozenset({"java", "csharp", "cpp", "kotlin", "scala", "swift", "dart", "ruby",
                            "php", "objc"})
# Definitions a whole package (the directory) sees without imports.
_PACKAGE_SCOPE = frozenset({"go", "java", "kotlin", "scala", "csharp", "swift"})
_CONSTRUCTORS = {
    "python": ("__init__", "__new__"),
    "javascript": ("constructor",),
    "typescript": ("constructor",),
    "tsx": ("constructor",),
    "ruby": ("initialize",),
    "php": ("__construct",),
    "dart": ("",),
}
_MAX_HOPS = 4  # return types followed, at most
_CONSTRUCTED = re.compile(r"^(?:new\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\([^()]*\)$")
_SELF_TYPES = frozenset({"Self", "self", "this", "static"})
_IDENT = re.compile(r"[A-Za-z_$@][\w$]*")
_MODULE_RECEIVERS = frozenset({"python", "javascript", "typescript", "tsx", "go", "zig", "dart",
                               "clojure", "erlang"})
# JS/TS functions nested in a function or module are units whether they are declared there
# (a scope's name) or are members of an object literal (`{ run() {}, stop: () => {} }`,
# reached only through the object): the signature says which (a class is declared, its
# signature may start with a decorator).
_JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
_JS_DECLARATION = re.compile(r"(?:(?:export|default|declare|abstract)\s+)*(?:async\s+)?"
                             r"(?:function|class|const|let|var|interface|type|enum|namespace|"
                             r"module)\b")


class Tier1Resolver(ImportResolver):
    """Resolves every call site of the files it is asked about against `symbols`."""

    id = BUILTIN_RESOLVER_ID

    def __init__(self, symbols: Symbols) -> None:
        """Resolve against `symbols` (the whole project's definitions)."""
        super().__init__(symbols)
        self._bases: dict[int, list[int]] = {}
        self._local_sets: dict[int, frozenset[str]] = {}

    # -- entry point --------------------------------------------------------

    def resolve_file(self, file_index: int) -> list[Edge]:
        """The edges of one file's call sites (unresolved ones left out)."""
        scope = self._scope(file_index)
        edges: list[Edge] = []
        for number, site in enumerate(scope.record.facts.sites):
            caller = scope.offset + site.caller if site.caller >= 0 else scope.offset
            kind, targets = self.resolve_site(scope, caller, site.name, site.receiver)
            if kind != UNRESOLVED:
                edges.append(Edge(number, kind, targets[:MAX_CANDIDATES]))
        return edges

    def resolve_site(
        self, scope: FileScope, caller: int, name: str, receiver: str
    ) -> tuple[str, list[int]]:
        """(kind, targets) for a call of `name` through `receiver` from `caller`."""
        language = scope.record.language
        if not receiver:
            kind, found = self._bare(scope, caller, name)
            if found:
                return self._maybe_constructor(kind, found)
            return self._unknown(language, name, methods=False)
        if receiver in _SELF_NAMES:
            owner = self.symbols.enclosing_class(caller)
            if owner < 0:  # `def wrapper(self: Scaffold)` outside the class
                owner = self._var_class(scope, caller, receiver)
            if owner >= 0:
                found = self._member(owner, name)
                if found:
                    return VIA_SELF, found
                overrides = self._overrides(owner, name)
                if overrides:
                    return AMBIGUOUS, overrides
                return UNRESOLVED, []
        if receiver in _SUPER or receiver.startswith("super("):
            owner = self.symbols.enclosing_class(caller)
            if owner >= 0:
                for base in self._class_bases(owner):
                    found = self._member(base, name)
                    if found:
                        return VIA_SELF, found
                return UNRESOLVED, []
        kind, target = self._receiver(scope, caller, receiver)
        if kind == "class":
            found = self._member(target[0], name)
            if found:
                return VIA_RECEIVER_TYPE, found
            return UNRESOLVED, []
        if kind == "module":
            found = [gid for f in target for gid in self.symbols.top_level(f, name)]
            if not found and language == "python":
                for f in target:  # `pkg.sub()` where `sub` is a name `pkg/__init__` imports
                    found = self._exported(f, name, 0)
                    if found:
                        break
            if found:
                return self._maybe_constructor(VIA_IMPORT, found)
            return UNRESOLVED, []
        if self._library(scope, caller, receiver):
            return UNRESOLVED, []  # a library's function, or a method of a library's value
        return self._unknown(language, name, methods=True)

    # -- bare names -----------------------------------------------------------

    def _bare(self, scope: FileScope, caller: int, name: str) -> tuple[str, list[int]]:
        symbols = self.symbols
        language = scope.record.language
        for gid in symbols.ancestors(caller):
            definition = symbols.defs[gid]
            if definition.kind in CLASS_KINDS:
                if language in _IMPLICIT_THIS:
                    found = self._member(gid, name)
                    if found:
                        return VIA_SELF, found
                continue  # a Python class body is not a scope of its methods
            local = symbols.children.get(gid, {}).get(name)
            if local and language in _JS_FAMILY:
                local = [g for g in local if symbols.defs[g].kind in CLASS_KINDS
                         or _JS_DECLARATION.match(symbols.defs[g].signature)]
            if local:
                return EXACT, list(local)
            if definition.local_names and name in self._locals(gid):
                return UNRESOLVED, []  # a parameter or variable: whatever was passed in
        if language in _IMPLICIT_THIS:
            owner = symbols.enclosing_class(caller)
            if owner >= 0:
                found = self._member(owner, name)
                if found:
                    return VIA_SELF, found
        bindings = scope.bindings.get(name)
        if bindings:
            for binding in reversed(bindings):
                found = self._binding_defs(scope, binding)
                if found:
                    return VIA_IMPORT, found
            return UNRESOLVED, []  # imported from a library
        if language in _PACKAGE_SCOPE:
            directory = posixpath.dirname(scope.record.path)
            found = [
                gid
                for f in symbols.modules.directory_files(directory)
                if symbols.files[f].language == language
                for gid in symbols.top_level(f, name)
            ]
            if found:
                return EXACT, found
        for binding in scope.wildcards:
            files = self._binding_module(scope, binding.module)
            found = [gid for f in files for gid in symbols.top_level(f, name)]
            if found:
                return VIA_IMPORT, found
        if language not in _SCOPED:
            return self._by_name(scope, name)
        return UNRESOLVED, []

    def _locals(self, gid: int) -> frozenset[str]:
        found = self._local_sets.get(gid)
        if found is None:
            found = self._local_sets[gid] = frozenset(self.symbols.defs[gid].local_names.split())
        return found

    def _by_name(self, scope: FileScope, name: str) -> tuple[str, list[int]]:
        """Unscoped languages: the one definition of that name, a header's first."""
        candidates = [
            gid
            for gid in self.symbols.by_name.get(name, ())
            if gid not in self.symbols.owner and self.symbols.defs[gid].kind in FUNCTION_KINDS
            | CLASS_KINDS
        ]
        if len(candidates) == 1:
            return BY_NAME, candidates
        return (AMBIGUOUS, candidates) if candidates else (UNRESOLVED, [])

    def _unknown(self, language: str, name: str, *, methods: bool) -> tuple[str, list[int]]:
        """No evidence: every definition that could be meant, as candidates."""
        if not methods:
            return UNRESOLVED, []
        candidates = [
            gid
            for gid in self.symbols.by_name.get(name, ())
            if gid in self.symbols.owner or self.symbols.defs[gid].kind == "method"
        ]
        if not candidates and language not in _SCOPED:
            candidates = list(self.symbols.by_name.get(name, ()))
        return (AMBIGUOUS, candidates) if candidates else (UNRESOLVED, [])

    def _maybe_constructor(self, kind: str, found: list[int]) -> tuple[str, list[int]]:
        """`Foo()` on a class: the class and the constructor that runs (inherited or not)."""
        defs = self.symbols.defs
        if not all(defs[gid].kind in CLASS_KINDS for gid in found):
            return kind, found
        if len(found) > 1:
            return AMBIGUOUS, found
        class_id = found[0]
        language = self.symbols.language(class_id)
        names = _CONSTRUCTORS.get(language, (defs[class_id].name,))
        for constructor in names:
            targets = self._member(class_id, constructor or defs[class_id].name)
            if targets:  # the class first: "who makes a Foo" finds this call too
                return CONSTRUCTOR, [class_id, *targets]
        return CONSTRUCTOR, [class_id]

    # -- libraries ------------------------------------------------------------

    def _library(self, scope: FileScope, caller: int, receiver: str) -> bool:
        """Whether `receiver` is a library: its first name is imported, from no project file.

        No project definition is then called, whichever shares the name
        (`require.Error`, `np.array`, `Assert.assertEquals`). A parameter, local or
        nested definition of that name is not the import; past the imported name only
        a module's attributes count (`np.linalg`): an imported object's (`g.user`) may
        hold a project value.
        """
        parts = _dotted(receiver).split(".")
        if not all(_IDENT.fullmatch(part) for part in parts):
            return False
        if self._shadowed(scope, caller, parts[0]):
            return False
        cut = len(parts)
        while cut and ".".join(parts[:cut]) not in scope.bindings:  # Python `import os.path`
            cut -= 1
        bindings = (scope.bindings[".".join(parts[:cut])] if cut
                    else self._implicit_import(scope, receiver))
        if not bindings:
            return False
        if cut < len(parts) and any(b.symbol not in ("", "*") for b in bindings):
            return False
        return not any(self.binding_files(scope.index, b) for b in bindings)

    @staticmethod
    def _implicit_import(scope: FileScope, receiver: str) -> list[ImportBinding]:
        """The module Erlang's `m:f()` names with no import statement (`m` an atom, lowercase)."""
        if scope.record.language == "erlang" and receiver[:1].islower():
            return [ImportBinding(receiver, receiver, "", 0)]
        return []

    def _shadowed(self, scope: FileScope, caller: int, name: str) -> bool:
        """Whether scoping finds `name` before the file's imports.

        That is a definition nested in the caller's chain, a parameter or local, or
        (where a bare name may mean `this.name`) a field or member of an enclosing class.
        """
        symbols = self.symbols
        for gid in symbols.ancestors(caller):
            definition = symbols.defs[gid]
            if definition.kind in CLASS_KINDS:
                if scope.record.language in _IMPLICIT_THIS and (
                        (gid, name) in scope.types or self._member(gid, name)):
                    return True
                continue  # a Python or JS class body is not a scope of its methods
            if name in symbols.children.get(gid, {}):
                return True
            if definition.kind != "module" and (  # `const fs = require('fs')` types the import
                    (gid, name) in scope.types
                    or (definition.local_names and name in self._locals(gid))):
                return True
        return False

    # -- receivers ------------------------------------------------------------

    def _receiver(self, scope: FileScope, caller: int, receiver: str) -> tuple[str, list[int]]:
        """What a receiver text denotes: ("class", [id]), ("module", files) or ("", [])."""
        language = scope.record.language
        receiver = _dotted(receiver)
        if language in _MODULE_RECEIVERS:
            files = self._module_receiver(scope, receiver)
            if files:
                return "module", files
        constructed = _CONSTRUCTED.match(receiver)
        if constructed:  # `Foo().m()`, `new Foo().m()`, `make_session().m()`
            return self._type(scope, caller, constructed.group(1), 0)
        parts = receiver.split(".")
        if not all(_IDENT.fullmatch(part) for part in parts):
            return "", []
        head = parts[0]
        if head in _SELF_NAMES:
            current = self.symbols.enclosing_class(caller)
            if current < 0:
                current = self._var_class(scope, caller, head)
        else:
            current = self._var_class(scope, caller, head)
            if current < 0:
                _, found = self._bare(scope, caller, head)
                classes = [g for g in found if self.symbols.defs[g].kind in CLASS_KINDS]
                current = classes[0] if len(classes) == 1 and len(found) == 1 else -1
        for part in parts[1:]:
            if current < 0:
                break
            current = self._field_class(current, part)
        if current >= 0:
            return "class", [current]
        if len(parts) > 1:
            return self._type(scope, caller, receiver, 0)
        return "", []

    def _var_class(self, scope: FileScope, caller: int, var: str) -> int:
        """The class of a local, parameter or (outside Python) field named `var`; -1 if unknown."""
        symbols = self.symbols
        for gid in symbols.ancestors(caller):
            found = scope.types.get((gid, var))
            if found:
                kind, target = self._type(scope, gid, found, 0)
                return target[0] if kind == "class" else -1
            if symbols.defs[gid].kind in CLASS_KINDS:
                break
        if scope.record.language != "python":
            owner = symbols.enclosing_class(caller)
            if owner >= 0:
                found_class = self._field_class(owner, var)
                if found_class >= 0:
                    return found_class
        for binding in scope.bindings.get(var, ()):  # `from .globals import current_app`
            if not binding.symbol:
                continue
            for file_index in self._binding_module(scope, binding.module):
                home = self._scope(file_index)
                module = symbols.module_def(file_index)
                declared = home.types.get((module, binding.symbol))
                if declared:
                    kind, target = self._type(home, module, declared, 0)
                    return target[0] if kind == "class" else -1
        return -1

    def _field_class(self, class_id: int, field: str) -> int:
        """The class of a field (`self.x = Foo()`, `Foo x;`) of a class or its bases."""
        for owner in [class_id, *self._class_bases(class_id)]:
            scope = self._scope(self.symbols.file_of[owner])
            found = scope.types.get((owner, field))
            if found:
                kind, target = self._type(scope, owner, found, 0)
                return target[0] if kind == "class" else -1
        return -1

    def _type(self, scope: FileScope, caller: int, type_text: str,
              depth: int) -> tuple[str, list[int]]:
        """A type name as written in `scope` -> ("class", [id]) or ("", []).

        A function's name stands for what it returns (`s := NewServer()`),
        when its signature says so.
        """
        if depth > _MAX_HOPS:
            return "", []
        if type_text in _SELF_TYPES:
            owner = self.symbols.enclosing_class(caller)
            return ("class", [owner]) if owner >= 0 else ("", [])
        head, _, rest = type_text.rpartition(".")
        if not head:
            _, found = self._bare(scope, caller, type_text)
        else:
            files = self._module_receiver(scope, head)
            found = [gid for f in files for gid in self.symbols.top_level(f, rest)]
            if not found and "." not in head:
                outer = self._type(scope, caller, head, depth + 1)
                if outer[0] == "class":
                    found = self._member(outer[1][0], rest)
        classes = [gid for gid in found if self.symbols.defs[gid].kind in CLASS_KINDS]
        if len(classes) == 1:
            return "class", classes
        functions = [gid for gid in found if self.symbols.defs[gid].kind in FUNCTION_KINDS]
        if len(functions) == 1 and not classes:
            function = functions[0]
            definition = self.symbols.defs[function]
            returned = return_type(definition.signature, definition.name,
                                   self.symbols.language(function))
            if returned:
                home = self._scope(self.symbols.file_of[function])
                return self._type(home, function, returned, depth + 1)
        return "", []

    def _class_bases(self, class_id: int) -> list[int]:
        """Project base classes of a class, breadth first, the class itself excluded."""
        cached = self._bases.get(class_id)
        if cached is not None:
            return cached
        self._bases[class_id] = []  # cuts cycles
        order: list[int] = []
        queue = deque([class_id])
        seen = {class_id}
        while queue:
            current = queue.popleft()
            for base in self._direct_bases(current):
                if base not in seen:
                    seen.add(base)
                    order.append(base)
                    queue.append(base)
        self._bases[class_id] = order
        return order

    def _direct_bases(self, class_id: int) -> list[int]:
        symbols = self.symbols
        file_index = symbols.file_of[class_id]
        record = symbols.files[file_index]
        local = class_id - symbols.offsets[file_index]
        texts = record.facts.bases.get(local, [])
        scope = self._scope(file_index)
        found: list[int] = []
        for text in texts:
            kind, target = self._type(scope, class_id, text, 0)
            if kind == "class" and target[0] != class_id:
                found.append(target[0])
        return found

    def direct_bases(self, class_id: int) -> list[int]:
        """The project classes a class names as its bases."""
        return self._direct_bases(class_id)

    def _member(self, class_id: int, name: str) -> list[int]:
        """`name` looked up in a class, then its bases (the first that defines it)."""
        found = self.symbols.members(class_id, name)
        if found:
            return list(found)
        for base in self._class_bases(class_id):
            found = self.symbols.members(base, name)
            if found:
                return list(found)
        return []

    def _overrides(self, class_id: int, name: str) -> list[int]:
        """Definitions of `name` in subclasses: what `self.name()` may reach at run time."""
        found = []
        for gid in self.symbols.by_name.get(name, ()):
            owner = self.symbols.owner.get(gid)
            if owner is not None and class_id in self._class_bases(owner):
                found.append(gid)
        return found


def _dotted(receiver: str) -> str:
    """A receiver with every language's member separator written as `.`."""
    return receiver.replace("::", ".").replace("->", ".").replace("?.", ".")
