"""Call sites, import bindings, evident types and bases come from the units' own walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.units import extract_file, extract_units, language_for_path
from tldr.units.bindings import ImportBinding

UNIT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "units"
# Grammars whose call nodes the units layer does not table yet (docs/graph.md § Limits).
NO_CALL_TABLE = {"zig", "dart", "clojure", "sql", "proto", "hcl", "julia", "perl"}


def test_python_sites_bindings_types_and_bases() -> None:
    source = b"""import os.path as osp
from .models import Session as S, send
import a.b
from x import *


class A(Base, mixins.M, metaclass=Meta):
    def __init__(self, x: Foo):
        self.s = S()
        y = Bar(1)
        y.go()
        super().__init__()


def f():
    osp.join(1)
"""
    units, facts = extract_file(source, path="p/m.py", language="python")
    names = [u.qualified_name for u in units]
    assert names == ["A", "A.__init__", "f"]
    assert facts.imports == [
        ImportBinding("osp", "os.path", "", 1),
        ImportBinding("S", ".models", "Session", 2),
        ImportBinding("send", ".models", "send", 2),
        ImportBinding("a.b", "a.b", "", 3),
        ImportBinding("*", "x", "*", 4),
    ]
    calls = {(s.line, s.receiver, s.name, names[s.caller]) for s in facts.sites}
    assert calls == {
        (9, "", "S", "A.__init__"),
        (10, "", "Bar", "A.__init__"),
        (11, "y", "go", "A.__init__"),
        (12, "", "super", "A.__init__"),
        (12, "super()", "__init__", "A.__init__"),
        (16, "osp", "join", "f"),
    }
    join = next(s for s in facts.sites if s.name == "join")
    assert source.split(b"\n")[join.line - 1][join.col:].startswith(b"join(")
    assert facts.bases == {0: ["Base", "mixins.M"]}
    typed = {(names[t.scope], t.var, t.type) for t in facts.types}
    assert typed == {("A.__init__", "x", "Foo"), ("A", "s", "S"), ("A.__init__", "y", "Bar")}
    assert facts.parents == [-1, 0, -1]


def test_typescript_imports_aliases_require_and_heritage() -> None:
    source = b"""import Def, { a as b, c } from "./m";
import * as ns from "../ns";
const { x, y: z } = require("./r");
class K extends Base implements I {
  run(p: Foo) { this.go(); ns.f(); new Bar(); }
}
"""
    _units, facts = extract_file(source, path="src/k.ts", language="typescript")
    assert [(b.local, b.module, b.symbol) for b in facts.imports] == [
        ("Def", "./m", "default"), ("b", "./m", "a"), ("c", "./m", "c"),
        ("ns", "../ns", ""), ("x", "./r", "x"), ("z", "./r", "y"),
    ]
    assert {(s.receiver, s.name) for s in facts.sites} == {("this", "go"), ("ns", "f"),
                                                          ("", "Bar")}
    assert list(facts.bases.values()) == [["Base", "I"]]
    assert any(t.var == "p" and t.type == "Foo" for t in facts.types)


def test_go_rust_java_bindings() -> None:
    go = b'package main\nimport (\n\tst "example.com/x/store"\n\t"example.com/y/v2"\n)\n'
    _, facts = extract_file(go, path="main.go", language="go")
    assert [(b.local, b.module) for b in facts.imports] == [
        ("st", "example.com/x/store"), ("y", "example.com/y/v2")]
    rust = b"use crate::a::{b as c, d::e};\nuse std::io;\n"
    _, facts = extract_file(rust, path="src/lib.rs", language="rust")
    assert [(b.local, b.module, b.symbol) for b in facts.imports] == [
        ("c", "crate::a", "b"), ("e", "crate::a::d", "e"), ("io", "std", "io")]
    java = b"package p;\nimport com.shop.net.Session;\nimport com.shop.util.*;\n"
    _, facts = extract_file(java, path="A.java", language="java")
    assert [(b.local, b.module, b.symbol) for b in facts.imports] == [
        ("Session", "com.shop.net", "Session"), ("*", "com.shop.util", "*")]


def test_units_are_the_same_with_or_without_facts() -> None:
    source = (UNIT_FIXTURES / "python" / "sample.py").read_bytes()
    units, _ = extract_file(source, path="sample.py", language="python")
    assert units == extract_units(source, path="sample.py", language="python")


@pytest.mark.parametrize(
    "sample", sorted(p for d in UNIT_FIXTURES.iterdir() for p in d.iterdir()), ids=str
)
def test_every_grammar_language_yields_call_sites(sample: Path) -> None:
    language = language_for_path(str(sample))
    if language is None or language in NO_CALL_TABLE:
        pytest.skip("no call table for this grammar")
    _, facts = extract_file(sample.read_bytes(), path=sample.name, language=language)
    assert facts.sites, f"{language}: no call site found in {sample.name}"
    assert all(s.line >= 1 and s.col >= 0 and s.name for s in facts.sites)
