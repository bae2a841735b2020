"""The query API on the Python fixture: lookups, trees, context, maps, analyses."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tldr._exceptions import AmbiguousNameError, UnknownNameError
from tldr.graph import (
    CodeGraph,
    GraphFile,
    arch,
    call_edges,
    callees,
    callers,
    change_impact,
    context,
    dead,
    extract,
    find_definition,
    importers,
    imports,
    structure,
)


@pytest.fixture
def graph(py_graph: GraphFile, pyproj: Path) -> CodeGraph:
    return CodeGraph(py_graph, root=pyproj)


def test_unknown_name_suggests(graph: CodeGraph) -> None:
    with pytest.raises(UnknownNameError, match="no definition named sendd; did you mean: send"):
        find_definition(graph, "sendd")


def test_ambiguous_name_lists_candidates(graph: CodeGraph) -> None:
    with pytest.raises(AmbiguousNameError) as info:
        find_definition(graph, "send")
    assert "4 definitions" in str(info.value)
    assert "HTTPAdapter.send (method, shop/net/adapters.py:10)" in info.value.candidates


def test_entry_forms(graph: CodeGraph) -> None:
    one = find_definition(graph, "Session.send")
    assert find_definition(graph, "shop/net/sessions.py:Session.send") == one
    with pytest.raises(AmbiguousNameError):  # Session.send and Retrying.send
        find_definition(graph, "send", file="sessions.py")
    assert find_definition(graph, "Retrying.send", file="sessions.py") != one


def test_callers_tree_marks_tests(graph: CodeGraph) -> None:
    found = callers(graph, "Session.request", depth=2)
    tree = msgspec.to_builtins(found)
    assert {(c["definition"]["qualified"], c["call_line"]) for c in tree["callers"]} == {
        ("fetch", 27), ("test_request", 5)}
    fetch = next(c for c in tree["callers"] if c["definition"]["qualified"] == "fetch")
    assert [c["definition"]["qualified"] for c in fetch["children"]] == ["main"]
    assert tree["tests"] == [{"file": "tests/test_sessions.py", "line": 4,
                              "name": "test_request"}]


def test_callers_lists_ambiguous_sites_apart(graph: CodeGraph) -> None:
    found = callers(graph, "HTTPAdapter.send")
    assert [c.definition.qualified for c in found["callers"]] == ["Session.send"]
    assert [m["caller"].qualified for m in found["maybe"]] == ["unknown"]


def test_callees_depth(graph: CodeGraph) -> None:
    found = callees(graph, "main", depth=2)
    first = {c.definition.qualified for c in found["callees"]}
    assert first == {"Session", "Session.__init__", "fetch", "slugify"}
    fetch = next(c for c in found["callees"] if c.definition.qualified == "fetch")
    assert [c.definition.qualified for c in fetch.children] == ["Session.request"]


def test_context_within_budget(graph: CodeGraph) -> None:
    found = context(graph, "Session.request", depth=2, budget_tokens=1000)
    assert found["signature"] == "def request(self, url)"
    names = [(c.definition.qualified, c.depth, c.called_at) for c in found["calls"]]
    assert names[:2] == [("Session.prepare", 1, "shop/net/sessions.py:14"),
                         ("Session.send", 1, "shop/net/sessions.py:15")]
    assert ("HTTPAdapter.send", 2, "shop/net/sessions.py:11") in names
    assert found["tokens"] <= 1000
    small = context(graph, "Session.request", depth=2, budget_tokens=60)
    assert small["omitted"] > 0 and small["tokens"] <= 60


def test_call_edges_structure_extract(graph: CodeGraph) -> None:
    rows = call_edges(graph, "shop/net")
    assert {r["file"] for r in rows} == {"shop/net/adapters.py", "shop/net/sessions.py"}
    assert {"caller": "Session.send", "file": "shop/net/sessions.py", "line": 11,
            "callee": "HTTPAdapter.send", "callee_file": "shop/net/adapters.py",
            "callee_line": 10, "kind": "via-receiver-type"} in rows
    files = structure(graph, "shop")
    util = next(f for f in files if f["file"] == "shop/util.py")
    assert util["doc"] == "Small helpers."
    assert util["definitions"][0]["signature"] == "def slugify(text)"
    assert util["definitions"][0]["doc"] == "Lower-case a title into a slug."
    adapters = next(f for f in files if f["file"] == "shop/net/adapters.py")
    assert [m["name"] for m in adapters["definitions"][1]["members"]] == ["send"]
    one = extract(graph, "shop/net/adapters.py", "HTTPAdapter")
    assert one["definitions"][0]["bases"] == ["BaseAdapter"]


def test_imports_and_importers(graph: CodeGraph) -> None:
    rows = imports(graph, "shop/net/sessions.py")
    assert [(r["name"], r["file"]) for r in rows] == [
        ("Adapter", "shop/net/adapters.py"), ("util", "shop/util.py"),
        ("shop.util", "shop/util.py")]
    assert {r["file"] for r in importers(graph, "shop.util")} == {
        "shop/__init__.py", "shop/net/sessions.py"}
    with pytest.raises(UnknownNameError):
        importers(graph, "nope.module")


def test_arch_dead_and_change_impact(graph: CodeGraph) -> None:
    layers = arch(graph)
    assert layers["cycles"] == [["shop", "shop/net"]]  # shop/net imports shop.util and back
    found = dead(graph)
    assert [d.qualified for d in found["dead"]] == []
    private = dead(graph, public_is_entry=False)
    assert "unused_helper" in [d.qualified for d in private["dead"]]
    assert "slugify" not in [d.qualified for d in private["dead"]]
    impact = change_impact(graph, ["shop/net/adapters.py"])
    assert [t["test"].qualified for t in impact["tests"]] == ["test_request"]
    assert impact["tests"][0]["calls_away"] == 3
