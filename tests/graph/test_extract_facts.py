"""Call sites, import bindings, evident types and bases come from the units' own walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.units import extract_file, extract_units, language_for_path
from tldr.units.bindings import ImportBinding

UNIT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "units"
# Grammars without calls worth resolving (docs/graph.md § Limits).
NO_CALL_TABLE = {"sql", "proto", "hcl"}
# Fixtures with no call in them (their grammars' sites are tested below).
CALL_FREE_FIXTURES = {"julia", "perl"}


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
    if language in CALL_FREE_FIXTURES:
        pytest.skip("the fixture makes no call (see test_julia_and_perl_sites)")
    _, facts = extract_file(sample.read_bytes(), path=sample.name, language=language)
    assert facts.sites, f"{language}: no call site found in {sample.name}"
    assert all(s.line >= 1 and s.col >= 0 and s.name for s in facts.sites)


def _sites(source: bytes, path: str, language: str) -> tuple[set[tuple[object, ...]], list]:
    units, facts = extract_file(source, path=path, language=language)
    names = [u.qualified_name for u in units]
    lines = source.split(b"\n")
    for site in facts.sites:  # the column points at the callee's name
        assert lines[site.line - 1][site.col:].startswith(site.name.encode())
    sites = {(s.line, s.receiver, s.name, names[s.caller] if s.caller >= 0 else "")
             for s in facts.sites}
    return sites, facts.imports


def test_zig_sites_and_imports() -> None:
    source = b"""const std = @import("std");
const m = @import("lib/m.zig");
const T = @import("t.zig").Thing;
usingnamespace @import("all.zig");
fn f(x: u32) u32 {
    const y = @intCast(x);
    std.debug.print("{}", .{g(y)});
    return m.h(1) + y;
}
"""
    sites, imports = _sites(source, "src/main.zig", "zig")
    assert imports == [
        ImportBinding("std", "std", "", 1),
        ImportBinding("m", "lib/m.zig", "", 2),
        ImportBinding("T", "t.zig", "Thing", 3),
        ImportBinding("*", "all.zig", "*", 4),
    ]
    assert sites == {
        (7, "std.debug", "print", "f"),
        (7, "", "g", "f"),
        (8, "m", "h", "f"),
    }


def test_dart_sites_and_imports() -> None:
    source = b"""import 'package:shop/net.dart' as net;
import 'src/util.dart';

class Cart {
  void add(Item item) {
    validate(item);
    item.price.round();
    this.save();
    net.Client.send(item);
  }
}

void main() {
  Cart().add(Item());
  print('done');
  final cart = new Cart()..add(const net.Item())..clear();
}
"""
    sites, imports = _sites(source, "lib/cart.dart", "dart")
    assert imports == [
        ImportBinding("net", "package:shop/net.dart", "", 1),
        ImportBinding("*", "src/util.dart", "*", 2),
    ]
    assert sites == {
        (6, "", "validate", "Cart.add"),
        (7, "item.price", "round", "Cart.add"),
        (8, "this", "save", "Cart.add"),
        (9, "net.Client", "send", "Cart.add"),
        (14, "", "Cart", "main"),
        (14, "Cart()", "add", "main"),
        (14, "", "Item", "main"),
        (15, "", "print", "main"),
        (16, "", "Cart", "main"),
        (16, "new Cart()", "add", "main"),
        (16, "net", "Item", "main"),
        (16, "new Cart()", "clear", "main"),
    }


def test_clojure_sites_and_requires() -> None:
    source = b"""(ns shop.cart
  (:require [clojure.string :as str]
            [shop.db :refer [save! load]]
            shop.util))
(require '[shop.net :as net])

(defn total [items]
  (let [prices (map :price items)]
    (if (empty? prices)
      0
      (apply + (str/trim "x") (save! prices) '(not a call)))))

(defn checkout [cart]
  (when (pos? (total cart))
    (net/send cart)
    (.close cart)))
"""
    sites, imports = _sites(source, "src/shop/cart.clj", "clojure")
    assert imports == [
        ImportBinding("str", "clojure.string", "", 2),
        ImportBinding("save!", "shop.db", "save!", 3),
        ImportBinding("load", "shop.db", "load", 3),
        ImportBinding("shop.db", "shop.db", "", 3),
        ImportBinding("shop.util", "shop.util", "", 4),
        ImportBinding("net", "shop.net", "", 5),
    ]
    assert sites == {
        (8, "", "map", "total"),
        (9, "", "empty?", "total"),
        (11, "", "apply", "total"),
        (11, "str", "trim", "total"),
        (11, "", "save!", "total"),
        (14, "", "pos?", "checkout"),
        (14, "", "total", "checkout"),
        (15, "net", "send", "checkout"),
    }


def test_julia_and_perl_sites() -> None:
    julia = b"function f(x)\n    g(x)\n    Base.h(x)\nend\nsquare(x) = k(x)\n"
    sites, _ = _sites(julia, "src/F.jl", "julia")
    assert sites == {(2, "", "g", "f"), (3, "Base", "h", "f"), (5, "", "k", "square")}
    perl = b"sub f {\n    my $x = g(1);\n    $x->m(2);\n    Foo::bar(3);\n}\n"
    sites, _ = _sites(perl, "lib/F.pm", "perl")
    assert sites == {(2, "", "g", "f"), (3, "$x", "m", "f"), (4, "Foo", "bar", "f")}


@pytest.mark.parametrize(
    ("language", "path"),
    [("zig", "zig/sample.zig"), ("dart", "dart/sample.dart"), ("clojure", "clojure/sample.clj")],
)
def test_shaped_sites_are_the_units_calls(language: str, path: str) -> None:
    source = (UNIT_FIXTURES / path).read_bytes()
    units, facts = extract_file(source, path=path, language=language)
    assert facts.sites
    assert units == extract_units(source, path=path, language=language)
    for site in facts.sites:  # what the graph resolves is what search sees called
        owner = units[site.caller] if site.caller >= 0 else units[0]  # -1: the module
        assert site.name in owner.calls


def test_erlang_imports_and_includes() -> None:
    source = b"""-module(a).
-import(lists, [map/2, foldl/3]).
-include("defs.hrl").
f(X) -> b:g(X), map(X, X).
"""
    sites, imports = _sites(source, "src/a.erl", "erlang")
    assert imports == [
        ImportBinding("map", "lists", "map", 2),
        ImportBinding("foldl", "lists", "foldl", 2),
        ImportBinding("*", "defs.hrl", "*", 3),
    ]
    assert sites == {(4, "b", "g", "f"), (4, "", "map", "f")}


def test_clojure_method_bodies_are_not_calls() -> None:
    """`(area [this] ...)` in a protocol, record, `reify` or `letfn` defines; it calls nothing."""
    source = b"""(defprotocol Shape (area [this]) (scale [this k]))
(defrecord Sq [s] Shape (area [this] (mul s s)))
(letfn [(twice [x] (add x x))] (twice 2) (g [1 2]))
(reify Shape (area [_] (compute)))
"""
    sites, _ = _sites(source, "src/shapes.clj", "clojure")
    assert sites == {
        (2, "", "mul", "Sq"),
        (3, "", "add", ""),
        (3, "", "twice", ""),
        (3, "", "g", ""),
        (4, "", "compute", ""),
    }
