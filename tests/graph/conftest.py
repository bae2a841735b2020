from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tldr.graph import CodeGraph, GraphFile, graph_from_tree

FIXTURES = Path(__file__).resolve().parent / "fixtures"
collect_ignore_glob = ["fixtures/*"]  # the fixture projects have tests of their own


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """A copy of one fixture project, outside any git repository."""
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def edge_set(graph: GraphFile) -> set[tuple[str, int, str, str, str]]:
    """(caller, line, callee@file, kind, receiver.name) for every edge with one target."""
    loaded = CodeGraph(graph)
    symbols = loaded.symbols
    found = set()
    for file_index, (record, edges) in enumerate(zip(graph.files, graph.edges, strict=True)):
        for edge in edges:
            site = record.facts.sites[edge.site]
            caller = symbols.defs[symbols.offsets[file_index] + site.caller].qualified
            call = f"{site.receiver}.{site.name}" if site.receiver else site.name
            for target in edge.targets:
                callee = f"{symbols.defs[target].qualified}@{loaded.path_of(target)}"
                found.add((caller, site.line, callee, edge.kind, call))
    return found


@pytest.fixture
def pyproj(tmp_path: Path) -> Path:
    return copy_fixture("pyproj", tmp_path)


@pytest.fixture
def py_graph(pyproj: Path) -> GraphFile:
    return graph_from_tree(pyproj)
