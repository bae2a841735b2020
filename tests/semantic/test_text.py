from __future__ import annotations

from unit_factory import make_unit

from tldr.semantic.text import TEXT_FORMAT, build_called_by, embedding_text, text_hash
from tldr.units import Unit


def _unit(name: str, **fields) -> Unit:
    return make_unit(name, **{"end_line": 3, "content_hash": "", **fields})


def test_text_has_every_layer_in_order() -> None:
    unit = _unit(
        "load",
        qualified_name="Loader.load",
        unit_type="method",
        signature="def load(self, path)",
        docstring="Load a file.\n\nMore details here.",
        calls=["open", "parse"],
        imports=["json"],
        params=["self", "path"],
        assigns=["text"],
        branches=2,
        loops=1,
        complexity=4,
        code="def load(self, path):\n    ...",
    )
    text = embedding_text(unit, ["main"])
    lines = text.splitlines()
    assert lines[0] == "method Loader.load in pkg/mod.py"
    assert lines[1] == "def load(self, path) / Load a file."
    assert lines[2] == "calls: open, parse; called by: main"
    assert lines[3] == "control flow: 2 branches, 1 loops, complexity 4"
    assert lines[4] == "data flow: params self, path; assigns text"
    assert lines[5] == "depends on: json"
    assert lines[6] == "def load(self, path):"
    assert "More details" not in text


def test_empty_layers_are_left_out() -> None:
    assert embedding_text(_unit("f")) == "function f in pkg/mod.py"


def test_called_by_resolves_by_name_across_files() -> None:
    callee = _unit("parse", file="a.py")
    caller = _unit("main", file="b.py", calls=["parse", "print"])
    recursive = _unit("walk", calls=["walk"])
    module = _unit("b", unit_type="module", file="b.py")
    assert build_called_by([callee, caller, recursive, module]) == [["main"], [], [], []]


def test_text_hash_is_stable_and_format_is_versioned() -> None:
    assert text_hash("abc") == text_hash("abc") != text_hash("abd")
    assert TEXT_FORMAT.startswith("tldr-text-v")
