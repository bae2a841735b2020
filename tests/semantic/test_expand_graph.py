"""`expand` links hits through the code graph: aliases resolved, same names kept apart."""

from __future__ import annotations

from pathlib import Path

from tldr.semantic import Searcher, build_semantic_index

SOURCES = {
    "a.py": "def helper():\n    return 1\n",
    "b.py": "def helper():\n    return 2\n",
    "c.py": "from a import helper as h\n\n\ndef compute_total():\n    return h() + 1\n",
}


def test_expand_follows_the_graph(tmp_path: Path) -> None:
    for name, text in SOURCES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".tldr").mkdir()
    build_semantic_index(tmp_path, model="hash-256")
    searcher = Searcher(tmp_path)
    row = searcher.search("compute_total", k=1, mode="lexical", expand=True)[0]
    assert row["qualified_name"] == "compute_total"
    # By name, `h()` matches nothing; through the import it is a.py's helper only.
    assert row["callees"] == [{"qualified_name": "helper", "file": "a.py", "line": 1}]
    rows = searcher.search("helper", k=5, mode="lexical", expand=True)
    by_file = {r["file"]: r for r in rows if r["name"] == "helper"}
    assert [c["qualified_name"] for c in by_file["a.py"]["callers"]] == ["compute_total"]
    assert by_file["b.py"]["callers"] == []
