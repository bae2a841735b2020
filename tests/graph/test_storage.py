"""The graph under the index's commit point: written, updated per file, never half-read."""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec
import pytest

from tests.graph.conftest import edge_set
from tldr.graph import GraphFile, encode_graph, graph_from_tree, load_graph
from tldr.graph.build import records_from_tree, update_graph
from tldr.graph.store import decode_graph
from tldr.semantic import build_semantic_index


def _metadata(root: Path) -> dict:
    return json.loads((root / ".tldr" / "cache" / "semantic" / "metadata.json").read_text())


def _indexed(pyproj: Path) -> Path:
    (pyproj / ".tldr").mkdir()
    build_semantic_index(pyproj, model="hash-256")
    return pyproj


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    stat = path.stat()  # a new mtime even within the file system's time granularity
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_build_commits_a_graph_beside_the_units(pyproj: Path) -> None:
    root = _indexed(pyproj)
    metadata = _metadata(root)
    name = metadata["graph_file"]
    assert name == f"graph.{metadata['vector_store']['build_id']}.msgpack"
    assert name in metadata["artifacts"]
    graph = load_graph(root, build_missing=False)
    assert graph.source == name
    assert edge_set(graph.graph) == edge_set(graph_from_tree(root))


def test_incremental_update_equals_full_build(pyproj: Path) -> None:
    root = _indexed(pyproj)
    _edit(root / "shop" / "net" / "sessions.py", "return util.slugify(url)",
          "return util.slugify(url.strip())")
    _edit(root / "shop" / "util.py", "def unused_helper():", "def renamed_helper():")
    (root / "shop" / "extra.py").write_text("from shop.util import slugify\n\n"
                                           "def go():\n    return slugify('x')\n")
    report = build_semantic_index(root, model="hash-256")
    assert report.status == "updated" and report.extracted_files == 3
    updated = load_graph(root, build_missing=False)
    full = graph_from_tree(root)
    assert [f.path for f in updated.graph.files] == [f.path for f in full.files]
    assert updated.graph.files == full.files
    assert edge_set(updated.graph) == edge_set(full)
    assert ("go", 4, "slugify@shop/util.py", "via-import", "slugify") in edge_set(updated.graph)


def test_update_reresolves_only_what_a_change_touches(pyproj: Path) -> None:
    records = records_from_tree(pyproj)
    from tldr.graph import build_graph

    graph = build_graph(records)
    path = "shop/net/adapters.py"
    target = next(r for r in records if r.path == path)
    result = update_graph(graph, {path: target})
    # the same definitions (a body edit): only the file itself is resolved again
    assert result.reresolved == 1
    assert edge_set(result.graph) == edge_set(graph)
    from tldr.graph.model import Def

    grown = msgspec.structs.replace(target, defs=[*target.defs, Def("extra", "extra", "function",
                                                                      20, 21, 0)])
    result = update_graph(graph, {path: grown})
    # ... a new definition: the file, and the files that name it (none here)
    assert result.reresolved == 1
    assert edge_set(result.graph) == edge_set(build_graph(
        [grown if r.path == path else r for r in records]))
    # A new name another file calls: that file too.
    called = msgspec.structs.replace(target, defs=[*target.defs, Def(
        "slugify", "slugify", "function", 20, 21, 0)])
    result = update_graph(graph, {path: called})
    assert 1 < result.reresolved < len(records)
    removed = update_graph(graph, {"shop/util.py": None})
    assert not any("shop/util.py" in e[2] for e in edge_set(removed.graph))


def _ids(graph: GraphFile) -> list[list[tuple[int, str, tuple[int, ...]]]]:
    """Each file's edges by site, kind and target ids (what a query follows)."""
    return [sorted((e.site, e.kind, tuple(sorted(e.targets))) for e in edges)
            for edges in graph.edges]


ADAPTERS_EDITS = {
    "a function inserted before the classes": lambda text: "def first():\n    pass\n\n\n" + text,
    "a function appended": lambda text: text + "\n\ndef last():\n    return 1\n",
    "a method removed": lambda text: text.replace(
        "    def close(self):\n        pass\n", ""),
    "a method renamed": lambda text: text.replace("def close(self):", "def shut(self):"),
    "two methods reordered": lambda text: text.replace(
        "    def send(self, request):\n        raise NotImplementedError\n\n"
        "    def close(self):\n        pass\n",
        "    def close(self):\n        pass\n\n"
        "    def send(self, request):\n        raise NotImplementedError\n"),
    "a twin of a called name": lambda text: text + "\n\nclass Other:\n"
                                                  "    def send(self, request):\n        pass\n",
    "an import added": lambda text: "from shop import util\n\n" + text,
}


@pytest.mark.parametrize("edit", list(ADAPTERS_EDITS))
def test_a_reshaped_file_updates_as_a_full_build_would(pyproj: Path, edit: str) -> None:
    from tldr.graph import build_graph
    from tldr.graph.build import record_from_disk

    graph = build_graph(records_from_tree(pyproj))
    path = "shop/net/adapters.py"
    source = pyproj / path
    edited = ADAPTERS_EDITS[edit](source.read_text())
    assert edited != source.read_text()
    source.write_text(edited)
    update = update_graph(graph, {path: record_from_disk(pyproj, path)})
    full = build_graph(records_from_tree(pyproj))
    assert update.graph.files == full.files
    assert _ids(update.graph) == _ids(full)
    assert edge_set(update.graph) == edge_set(full)


def test_appending_a_function_resolves_only_its_file_and_its_callers(pyproj: Path) -> None:
    from tldr.graph import build_graph
    from tldr.graph.build import record_from_disk

    graph = build_graph(records_from_tree(pyproj))
    source = pyproj / "shop" / "util.py"
    source.write_text(source.read_text() + "\n\ndef brand_new():\n    return slugify('x')\n")
    update = update_graph(graph, {"shop/util.py": record_from_disk(pyproj, "shop/util.py")})
    assert update.reresolved == 1  # util.py defines slugify too, called by other files
    caller = pyproj / "shop" / "main.py"
    caller.write_text(caller.read_text() + "\n\ndef use():\n    return brand_new()\n")
    again = update_graph(update.graph, {"shop/main.py": record_from_disk(pyproj, "shop/main.py")})
    assert _ids(again.graph) == _ids(build_graph(records_from_tree(pyproj)))


def test_damaged_graph_is_rebuilt_not_half_read(pyproj: Path) -> None:
    root = _indexed(pyproj)
    semantic = root / ".tldr" / "cache" / "semantic"
    graph_path = semantic / _metadata(root)["graph_file"]
    data = bytearray(graph_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph_path.write_bytes(bytes(data))
    from tldr._exceptions import GraphCorruptError

    with pytest.raises(GraphCorruptError, match="damaged"):
        load_graph(root, build_missing=False)
    answered = load_graph(root)  # from the tree, whole
    assert answered.source == "tree"
    assert edge_set(answered.graph) == edge_set(graph_from_tree(root))
    assert (semantic / ".dirty").exists()
    report = build_semantic_index(root, model="hash-256")
    assert report.status in ("built", "updated")
    assert load_graph(root, build_missing=False).source == _metadata(root)["graph_file"]


def test_killed_build_leaves_the_previous_graph(pyproj: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = _indexed(pyproj)
    before = _metadata(root)["graph_file"]
    edges_before = edge_set(load_graph(root, build_missing=False).graph)
    _edit(root / "shop" / "util.py", "def slugify(text):", "def slugify2(text):")
    time.sleep(0.01)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tldr.semantic.indexing.commit.write_metadata", killed)
    with pytest.raises(KeyboardInterrupt):
        build_semantic_index(root, model="hash-256")
    monkeypatch.undo()
    assert _metadata(root)["graph_file"] == before
    graph = load_graph(root, build_missing=False)
    assert edge_set(graph.graph) == edges_before


def test_read_holds_repeated_values_once(py_graph: GraphFile) -> None:
    decoded = decode_graph(encode_graph(py_graph))
    assert decoded == py_graph  # the same graph, field by field
    sites = [site for record in decoded.files for site in record.facts.sites]
    for attribute in ("name", "receiver"):
        values = [getattr(site, attribute) for site in sites]
        assert len({id(v) for v in values}) == len(set(values)) < len(values)
    kinds = [edge.kind for edges in decoded.edges for edge in edges]
    targets = [t for edges in decoded.edges for edge in edges for t in edge.targets]
    assert len({id(k) for k in kinds}) == len(set(kinds))
    assert len({id(t) for t in targets}) == len(set(targets)) < len(targets)
    defs = [d for record in decoded.files for d in record.defs]
    assert len({id(d.kind) for d in defs}) == len({d.kind for d in defs})


def test_a_body_edit_keeps_the_other_files_edges(pyproj: Path) -> None:
    from tldr.graph import build_graph

    graph = build_graph(records_from_tree(pyproj))
    path = "shop/net/adapters.py"
    record = next(r for r in graph.files if r.path == path)
    updated = update_graph(graph, {path: record}).graph
    assert all(new is old for new, old, f in zip(updated.edges, graph.edges, graph.files,
                                                 strict=True) if f.path != path)


def test_an_update_hands_over_the_new_graphs_symbols(pyproj: Path) -> None:
    from tldr.graph import CodeGraph, build_graph
    from tldr.graph.model import Def

    graph = build_graph(records_from_tree(pyproj))
    path = "shop/net/adapters.py"
    record = next(r for r in graph.files if r.path == path)
    grown = msgspec.structs.replace(record, defs=[*record.defs, Def("extra", "extra", "function",
                                                                   20, 21, 0)])
    for changed in ({path: record}, {path: grown}, {"shop/util.py": None}):
        update = update_graph(graph, changed)
        handed, fresh = CodeGraph(update.graph, symbols=update.symbols), CodeGraph(update.graph)
        assert handed.symbols is update.symbols
        for attribute in ("offsets", "defs", "file_of", "parent", "by_name", "children", "owner"):
            assert getattr(handed.symbols, attribute) == getattr(fresh.symbols, attribute)
        assert edge_set(update.graph) == edge_set(build_graph(
            [r for r in (changed.get(f.path, f) for f in graph.files) if r is not None]))


def test_a_graph_file_of_format_4_uncompressed_is_read_as_damaged(py_graph: GraphFile) -> None:
    """Format 5 compresses the file: an older build's plain msgpack is refused, then rebuilt."""
    import zlib

    from tldr._exceptions import GraphCorruptError

    stored = encode_graph(py_graph)
    plain = zlib.decompress(stored)
    assert len(stored) < len(plain)
    with pytest.raises(GraphCorruptError, match="cannot decode"):
        decode_graph(plain)
