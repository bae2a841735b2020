"""The code graph's records: definitions, per-file facts, resolved edges, the file.

Layout and meaning: specs/016-code-graph.md § Graph model. A definition's
global id is its file's offset plus its index in that file's `defs`; the
offsets follow `GraphFile.files` order, so ids are only meaningful within
one graph.
"""

from __future__ import annotations

import msgspec

from tldr.units.facts import FileFacts

__all__ = [
    "AMBIGUOUS",
    "BY_NAME",
    "CONSTRUCTOR",
    "EDGE_KINDS",
    "EXACT",
    "GRAPH_FORMAT",
    "RESOLVED_KINDS",
    "UNRESOLVED",
    "VIA_IMPORT",
    "VIA_RECEIVER_TYPE",
    "VIA_SELF",
    "Def",
    "Edge",
    "FileRecord",
    "GraphFile",
]

GRAPH_FORMAT = 5
"""3: Zig, Dart, Clojure, Erlang and R facts (issue 22); 4: Dart call sites and
locals from inside every body; 5: the file is zlib-compressed. A graph of
another format is read as damaged: queries build one from the tree and the
next build writes a whole graph, so unchanged files do not keep older facts."""

EXACT = "exact"
VIA_IMPORT = "via-import"
VIA_SELF = "via-self"
VIA_RECEIVER_TYPE = "via-receiver-type"
CONSTRUCTOR = "constructor"
BY_NAME = "by-name"
AMBIGUOUS = "ambiguous"
UNRESOLVED = "unresolved"
EDGE_KINDS = (EXACT, VIA_IMPORT, VIA_SELF, VIA_RECEIVER_TYPE, CONSTRUCTOR, BY_NAME, AMBIGUOUS,
              UNRESOLVED)
RESOLVED_KINDS = frozenset({EXACT, VIA_IMPORT, VIA_SELF, VIA_RECEIVER_TYPE, CONSTRUCTOR, BY_NAME})
"""Edge kinds that name one definition (or a constructor and its class)."""


class Def(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One definition of a file: function, method, class or the module itself.

    `parent` is the index (in the same file) of the enclosing definition;
    -1 only for the module, which is always index 0. `doc` is the
    docstring's first paragraph.
    """

    name: str
    qualified: str
    kind: str
    line: int
    end_line: int
    parent: int
    signature: str = ""
    doc: str = ""
    local_names: str = ""  # parameters and assigned names, space-separated: they shadow outer defs


class Edge(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """The resolution of one call site: its index in the file's sites, kind, targets (ids)."""

    site: int
    kind: str
    targets: list[int] = []


class FileRecord(msgspec.Struct, kw_only=True):
    """One file of the graph: its definitions and what its parse said (facts).

    The facts' unit indexes are translated to `defs` indexes (module = 0).
    """

    path: str
    language: str
    module: str
    defs: list[Def]
    facts: FileFacts


class GraphFile(msgspec.Struct, kw_only=True):
    """graph.<build_id>.msgpack: every file's record and its resolved edges."""

    format: int = GRAPH_FORMAT
    build_id: str
    files: list[FileRecord]
    edges: list[list[Edge]]  # parallel to files; only sites whose kind is not unresolved
    resolvers: dict[str, str] = {}  # language -> resolver id that resolved it
