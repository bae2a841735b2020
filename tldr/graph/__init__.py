"""The code graph: definitions, calls, imports and classes across a project.

Build side: `file_record` (from one file's units and facts, which
`tldr.units.extract_file` makes in the units' own parse), `build_graph`,
`update_graph` (per changed file), `write_graph`/`read_graph` (the
versioned file the index build commits). Query side: `load_graph` once,
then any query on the `CodeGraph` it returns (specs/016-code-graph.md).
"""

from __future__ import annotations

from tldr.graph.analysis import arch, change_impact, changed_files, dead
from tldr.graph.build import (
    GraphUpdate,
    build_graph,
    file_record,
    graph_from_tree,
    update_graph,
)
from tldr.graph.load import CodeGraph, load_graph
from tldr.graph.model import EDGE_KINDS, RESOLVED_KINDS, Def, Edge, FileRecord, GraphFile
from tldr.graph.query import (
    DefRef,
    call_edges,
    callees,
    callers,
    context,
    extract,
    find_definition,
    importers,
    imports,
    structure,
)
from tldr.graph.store import SharedValues, encode_graph, read_graph, write_graph

__all__ = [
    "EDGE_KINDS",
    "RESOLVED_KINDS",
    "CodeGraph",
    "Def",
    "DefRef",
    "Edge",
    "FileRecord",
    "GraphFile",
    "GraphUpdate",
    "SharedValues",
    "arch",
    "build_graph",
    "call_edges",
    "callees",
    "callers",
    "change_impact",
    "changed_files",
    "context",
    "dead",
    "encode_graph",
    "extract",
    "file_record",
    "find_definition",
    "graph_from_tree",
    "importers",
    "imports",
    "load_graph",
    "read_graph",
    "structure",
    "update_graph",
    "write_graph",
]
