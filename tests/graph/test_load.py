"""The loaded graph's call indexes: the edges as decoded, held as arrays."""

from __future__ import annotations

import tracemalloc

import msgspec
import pytest

from tldr._exceptions import GraphCorruptError
from tldr.graph import CodeGraph, Def, Edge, FileRecord, GraphFile
from tldr.graph.model import AMBIGUOUS, RESOLVED_KINDS
from tldr.units.facts import CallSite, FileFacts


def _by_end(graph: GraphFile, *, resolved: bool, up: bool) -> dict[int, list[tuple]]:
    """The calls grouped by callee (up) or caller, straight from the edges, in graph order."""
    loaded = CodeGraph(graph)
    found: dict[int, list[tuple]] = {}
    for file_index, (record, edges) in enumerate(zip(graph.files, graph.edges, strict=True)):
        for edge in edges:
            if (edge.kind in RESOLVED_KINDS) != resolved or (
                    not resolved and edge.kind != AMBIGUOUS):
                continue
            caller = loaded.symbols.offsets[file_index] + record.facts.sites[edge.site].caller
            for target in edge.targets:
                found.setdefault(target if up else caller, []).append(
                    (caller, target, file_index, edge.site, edge.kind))
    return found


def test_call_indexes_match_the_edges(py_graph: GraphFile) -> None:
    graph = CodeGraph(py_graph)
    for index, resolved, up in ((graph.callers, True, True), (graph.callees, True, False),
                                (graph.maybe_callers, False, True),
                                (graph.maybe_callees, False, False)):
        expected = _by_end(py_graph, resolved=resolved, up=up)
        assert expected, "the fixture has calls of each kind"
        assert list(index) == sorted(expected) and len(index) == len(expected)
        for gid in range(len(graph.symbols.defs)):
            refs = [(r.caller, r.callee, r.file, r.site, r.kind) for r in index.get(gid, [])]
            assert refs == expected.get(gid, [])
            assert (gid in index) == (gid in expected)
    assert graph.callers.get(-1) is None and graph.callers.get(len(graph.symbols.defs)) is None
    with pytest.raises(KeyError):
        graph.callers[-1]
    assert graph.edge_count == sum(len(refs) for refs in graph.callees.values())


def _fan_out(files: int, sites: int, targets: int) -> GraphFile:
    """A graph whose every call site is ambiguous between `targets` definitions."""
    records, edges = [], []
    for number in range(files):
        defs = [Def(f"m{number}", f"m{number}", "module", 1, 99, -1),
                *(Def(f"f{i}", f"f{i}", "function", i + 2, i + 2, 0) for i in range(targets))]
        records.append(FileRecord(path=f"m{number}.py", language="python", module=f"m{number}",
                                  defs=defs, facts=FileFacts(sites=[CallSite(
                                      i + 2, 4, 1 + i % targets, "f", "x") for i in range(sites)])))
        edges.append([Edge(i, AMBIGUOUS, list(range(targets))) for i in range(sites)])
    return GraphFile(build_id="fan", files=records, edges=edges)


def test_call_indexes_hold_a_few_bytes_per_call() -> None:
    graph = _fan_out(files=20, sites=100, targets=16)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loaded = CodeGraph(graph)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    calls = 20 * 100 * 16
    assert len(loaded.maybe_callers[1]) == 20 * 100
    assert held < 40 * calls, f"{held / calls:.0f} bytes a call"  # an object per call: ~150


def test_a_target_outside_the_graph_is_corrupt(py_graph: GraphFile) -> None:
    size = sum(len(record.defs) for record in py_graph.files)
    index = next(i for i, edges in enumerate(py_graph.edges) if edges)
    edges = [list(e) for e in py_graph.edges]
    edges[index] = [msgspec.structs.replace(edges[index][0], targets=[size]), *edges[index][1:]]
    with pytest.raises(GraphCorruptError, match="names definitions"):
        CodeGraph(msgspec.structs.replace(py_graph, edges=edges))
