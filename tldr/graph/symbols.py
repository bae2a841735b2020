"""The project-wide symbol table a resolver looks names up in.

Built from every file's definitions in one pass: ids, names, parents,
class members (by nesting, or by qualified-name prefix for Go methods and
Rust `impl` blocks, whose methods sit outside the type), and modules.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict

from tldr.graph.model import Def, FileRecord
from tldr.graph.modules import ModuleIndex

__all__ = ["CLASS_KINDS", "FUNCTION_KINDS", "Symbols"]

CLASS_KINDS = frozenset({"class"})
FUNCTION_KINDS = frozenset({"function", "method"})
# Languages whose methods are declared outside their type (`func (s *S) M()`, `impl S {}`).
_DETACHED_METHODS = frozenset({"go", "rust", "cpp", "c", "objc", "swift", "julia"})


class Symbols:
    """Every definition of a graph by id, with the lookups resolution needs."""

    def __init__(self, files: list[FileRecord]) -> None:
        """Index the definitions of `files` (ids follow the files' order)."""
        self.files = files
        self.offsets: list[int] = []
        self.defs: list[Def] = []
        self.file_of: list[int] = []
        self.parent: list[int] = []
        total = 0
        for index, record in enumerate(files):
            self.offsets.append(total)
            for local in record.defs:
                self.defs.append(local)
                self.file_of.append(index)
                self.parent.append(total + local.parent if local.parent >= 0 else -1)
            total += len(record.defs)
        self.modules = ModuleIndex([(f.path, f.language) for f in files])
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.children: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.owner: dict[int, int] = {}  # method id -> class id
        classes_by_qualified: dict[tuple[str, str], list[int]] = defaultdict(list)
        for gid, definition in enumerate(self.defs):
            if definition.kind == "module":
                continue
            self.by_name[definition.name].append(gid)
            parent = self.parent[gid]
            if parent >= 0:
                self.children[parent][definition.name].append(gid)
                if self.defs[parent].kind in CLASS_KINDS:
                    self.owner[gid] = parent
            if definition.kind in CLASS_KINDS:
                scope = self._scope_key(gid)
                classes_by_qualified[(scope, definition.qualified)].append(gid)
        for gid, definition in enumerate(self.defs):
            if gid in self.owner or definition.kind not in FUNCTION_KINDS:
                continue
            owner_name = definition.qualified.rpartition(".")[0]
            if not owner_name:
                continue
            owners = classes_by_qualified.get((self._scope_key(gid), owner_name))
            if owners and self.defs[self.parent[gid]].kind == "module":
                self.owner[gid] = owners[0]
                self.children[owners[0]][definition.name].append(gid)

    def _scope_key(self, gid: int) -> str:
        """Where a detached method finds its type: its directory (Go, Rust) or file."""
        record = self.files[self.file_of[gid]]
        if record.language in _DETACHED_METHODS:
            return posixpath.dirname(record.path) if record.language in ("go", "rust") \
                else record.path
        return record.path

    def module_def(self, file_index: int) -> int:
        """The id of a file's module definition."""
        return self.offsets[file_index]

    def top_level(self, file_index: int, name: str) -> list[int]:
        """A file's top-level definitions named `name`."""
        return self.children.get(self.offsets[file_index], {}).get(name, [])

    def members(self, class_id: int, name: str) -> list[int]:
        """The class's own members named `name`."""
        return self.children.get(class_id, {}).get(name, [])

    def ancestors(self, gid: int) -> list[int]:
        """`gid` and its enclosing definitions, innermost first, the module last."""
        chain = []
        while gid >= 0:
            chain.append(gid)
            gid = self.parent[gid]
        return chain

    def enclosing_class(self, gid: int) -> int:
        """The class a definition's code runs in (through nesting or its owner); -1 if none."""
        while gid >= 0:
            if self.defs[gid].kind in CLASS_KINDS:
                return gid
            owner = self.owner.get(gid)
            if owner is not None:
                return owner
            gid = self.parent[gid]
        return -1

    def language(self, gid: int) -> str:
        """The language of the file a definition is in."""
        return self.files[self.file_of[gid]].language
