"""Exact edges on small real projects in Python, TypeScript, Go and Java."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.graph.conftest import copy_fixture, edge_set
from tldr.graph import CodeGraph, GraphFile, graph_from_tree

SESSIONS = "shop/net/sessions.py"
ADAPTERS = "shop/net/adapters.py"


def test_python_edges(py_graph: GraphFile) -> None:
    edges = edge_set(py_graph)
    expected = {
        ("main", 6, f"Session@{SESSIONS}", "constructor", "Session"),
        ("main", 6, f"Session.__init__@{SESSIONS}", "constructor", "Session"),
        ("main", 7, f"fetch@{SESSIONS}", "via-import", "fetch"),
        # `from shop import slugify as make_slug`, re-exported by shop/__init__.py
        ("main", 7, "slugify@shop/util.py", "via-import", "make_slug"),
        ("shop.main", 12, "main@shop/main.py", "exact", "main"),
        ("HTTPAdapter.send", 11, f"BaseAdapter.close@{ADAPTERS}", "via-self", "self.close"),
        ("Session.__init__", 8, f"HTTPAdapter@{ADAPTERS}", "constructor", "Adapter"),
        ("Session.send", 11, f"HTTPAdapter.send@{ADAPTERS}", "via-receiver-type",
         "self.adapter.send"),
        ("Session.request", 14, f"Session.prepare@{SESSIONS}", "via-self", "self.prepare"),
        ("Session.request", 15, f"Session.send@{SESSIONS}", "via-self", "self.send"),
        ("Session.prepare", 18, "slugify@shop/util.py", "via-import", "util.slugify"),
        ("Session.prepare", 18, "slugify@shop/util.py", "via-import", "shop.util.slugify"),
        ("Retrying.send", 23, f"Session.send@{SESSIONS}", "via-self", "super().send"),
        ("fetch", 27, f"Session.request@{SESSIONS}", "via-receiver-type", "session.request"),
        ("test_request", 5, f"Session.request@{SESSIONS}", "via-receiver-type",
         "Session().request"),
        ("test_request", 5, f"Session@{SESSIONS}", "constructor", "Session"),
        ("test_request", 5, f"Session.__init__@{SESSIONS}", "constructor", "Session"),
    }
    resolved = {e for e in edges if e[3] != "ambiguous"}
    assert resolved == expected


def test_same_name_methods_are_never_merged(py_graph: GraphFile) -> None:
    """`thing.send()` with an unknown receiver lists every `send`, picks none."""
    ambiguous = {e[2] for e in edge_set(py_graph) if e[3] == "ambiguous" and e[0] == "unknown"}
    assert ambiguous == {
        f"BaseAdapter.send@{ADAPTERS}", f"HTTPAdapter.send@{ADAPTERS}",
        f"Session.send@{SESSIONS}", f"Retrying.send@{SESSIONS}",
    }
    # and Session.send resolves to HTTPAdapter.send only, not to every `send`
    sends = {e[2] for e in edge_set(py_graph) if e[0] == "Session.send"}
    assert sends == {f"HTTPAdapter.send@{ADAPTERS}"}


def test_typescript_edges(tmp_path: Path) -> None:
    edges = edge_set(graph_from_tree(copy_fixture("tsproj", tmp_path)))
    session, adapter = "src/net/session.ts", "src/net/adapter.ts"
    assert edges == {
        ("main", 5, f"Session@{session}", "constructor", "Session"),
        ("main", 5, f"Session.constructor@{session}", "constructor", "Session"),
        ("main", 6, f"fetchUrl@{session}", "via-import", "fetchUrl"),
        ("main", 6, "slugify@src/util.ts", "via-import", "slugify"),
        ("src.main", 9, "main@src/main.ts", "exact", "main"),
        ("HttpAdapter.send", 10, f"BaseAdapter.close@{adapter}", "via-self", "this.close"),
        ("Session.constructor", 8, f"HttpAdapter@{adapter}", "constructor", "Adapter"),
        ("Session.send", 12, f"HttpAdapter.send@{adapter}", "via-receiver-type",
         "this.adapter.send"),
        ("Session.request", 16, "slugify@src/util.ts", "via-import", "util.slugify"),
        ("Session.request", 17, f"Session.send@{session}", "via-self", "this.send"),
        ("fetchUrl", 22, f"Session.request@{session}", "via-receiver-type", "session.request"),
    }


def test_object_literal_members_are_not_names_in_scope(tmp_path: Path) -> None:
    """`{ isMock(fn) { return isMock(fn) } }` calls the import, not itself (vitest's `vi`)."""
    root = tmp_path / "objproj"
    (root / "src").mkdir(parents=True)
    (root / "src/spy.ts").write_text("export function isMock(fn: unknown): boolean {\n"
                                     "  return false\n}\n")
    (root / "src/api.ts").write_text(
        "import { isMock } from './spy'\n"
        "export function create() {\n"
        "  const state = () => 1\n"
        "  const api = {\n"
        "    isMock(fn: unknown) { return isMock(fn) },\n"
        "    run: () => state(),\n"
        "    again: () => run(),\n"
        "  }\n"
        "  return api\n"
        "}\n"
        "@Injectable()\n"
        "class Service {}\n"
        "export function make() { return new Service() }\n")
    edges = edge_set(graph_from_tree(root))
    assert {e for e in edges if e[0].startswith(("create", "make"))} == {
        ("create.isMock", 5, "isMock@src/spy.ts", "via-import", "isMock"),
        ("create.run", 6, "create.state@src/api.ts", "exact", "state"),
        ("make", 13, "Service@src/api.ts", "constructor", "Service"),
    }  # `run()` names no variable in scope: no edge to the member `run`


def test_go_edges(tmp_path: Path) -> None:
    edges = edge_set(graph_from_tree(copy_fixture("goproj", tmp_path)))
    assert edges == {
        ("main", 6, "NewServer@server/server.go", "via-import", "server.NewServer"),
        # `s := server.NewServer()`: its signature returns *Server
        ("main", 7, "Server.Handle@server/server.go", "via-receiver-type", "s.Handle"),
        ("NewServer", 12, "New@store/store.go", "via-import", "st.New"),
        ("Server.Handle", 16, "Server.render@server/server.go", "via-receiver-type",
         "srv.render"),
        # a struct field `store *st.Store`
        ("Server.Handle", 16, "Store.Get@store/store.go", "via-receiver-type", "srv.store.Get"),
        # same package, another file
        ("Server.render", 20, "helper@server/helpers.go", "exact", "helper"),
        ("Store.Get", 15, "Store.lookup@store/store.go", "via-receiver-type", "s.lookup"),
    }


def test_java_edges(tmp_path: Path) -> None:
    edges = edge_set(graph_from_tree(copy_fixture("javaproj", tmp_path)))
    net = "src/main/java/com/shop/net"
    assert edges == {
        ("Main.main", 7, f"Session@{net}/Session.java", "constructor", "Session"),
        ("Main.main", 8, f"Session.request@{net}/Session.java", "via-receiver-type",
         "session.request"),
        ("HttpAdapter.send", 6, f"BaseAdapter.close@{net}/BaseAdapter.java", "via-self", "close"),
        ("Session", 4, f"HttpAdapter@{net}/HttpAdapter.java", "constructor", "HttpAdapter"),
        ("Session.send", 7, f"HttpAdapter.send@{net}/HttpAdapter.java", "via-receiver-type",
         "adapter.send"),
        ("Session.request", 11, f"Util.slugify@{net}/Util.java", "via-receiver-type",
         "Util.slugify"),
        ("Session.request", 12, f"Session.send@{net}/Session.java", "via-self", "this.send"),
    }


# Per language: files, then (caller, call) -> kind. `ambiguous` rows are controls: a
# parameter or local named like the import, a project value, a receiver of stated type.
_LIBRARY_CASES = {
    "python": ({
        "shop/__init__.py": "",
        "shop/util.py": "def slugify(text):\n    return text\n",
        "shop/model.py": """import copy
import numpy as np
import os.path
from flask import g
from collections import OrderedDict
from shop import util


class Model:
    def array(self): ...
    def join(self): ...
    def save(self): ...
    def fromkeys(self): ...
    def slugify(self): ...


def run(rows):
    np.array(rows)
    np.linalg.array()
    os.path.join("a")
    g.save()
    g.user.save()
    OrderedDict.fromkeys()
    rows.array()
    util.slugify("x")


def shadowed(np):
    np.array()


class Jar:
    def copy(self): ...

    def update(self, other):
        copy.copy(other)
""",
    }, {
        ("run", "np.array"): "unresolved",
        ("run", "np.linalg.array"): "unresolved",
        ("run", "os.path.join"): "unresolved",
        ("run", "g.save"): "unresolved",
        ("run", "g.user.save"): "ambiguous",  # an object's attribute may hold a project value
        ("run", "OrderedDict.fromkeys"): "unresolved",
        ("run", "rows.array"): "ambiguous",
        ("run", "util.slugify"): "via-import",
        ("shadowed", "np.array"): "ambiguous",
        ("Jar.update", "copy.copy"): "unresolved",  # a class body is no scope of its methods
    }),
    "typescript": ({
        "src/helper.ts": "export const helper = { map() { return 1 } }\n",
        "src/model.ts": """import _ from 'lodash'
import * as path from 'path'
import { z } from 'zod'
import { helper } from './helper'
const fs = require('fs')

export class Model { map() {} join() {} object() {} readFileSync() {} }

export function run(items: any) {
  _.map(items)
  path.join('a')
  z.object()
  fs.readFileSync('x')
  helper.map()
  items.map()
}
""",
    }, {
        ("run", "_.map"): "unresolved",
        ("run", "path.join"): "unresolved",
        ("run", "z.object"): "unresolved",
        ("run", "fs.readFileSync"): "unresolved",
        ("run", "helper.map"): "ambiguous",
        ("run", "items.map"): "ambiguous",
    }),
    "go": ({
        "shop/model_test.go": """package shop

import (
\t"net/http"
\t"testing"

\t"github.com/stretchr/testify/assert"
\t"github.com/stretchr/testify/require"
)

type Model struct{}

func (m *Model) Error() string { return "" }
func (m *Model) Equal() {}
func (m *Model) ServeHTTP(w http.ResponseWriter, r *http.Request) {}

func TestModel(t *testing.T) {
\trequire.Error(t, nil)
}

func TestLocal(t *testing.T) {
\tassert := assert.New(t)
\tassert.Equal(1, 1)
}

func Serve(h http.Handler) {
\th.ServeHTTP(nil, nil)
}
""",
    }, {
        ("TestModel", "require.Error"): "unresolved",
        ("TestLocal", "assert.Equal"): "ambiguous",  # the local, not the package
        ("Serve", "h.ServeHTTP"): "ambiguous",  # an interface the project may implement
    }),
    "java": ({
        "src/main/java/com/shop/ModelTest.java": """package com.shop;

import java.util.List;
import org.junit.Assert;

public class ModelTest {
  void assertEquals(int a, int b) {}
  void sort(Object c) {}

  void test(List<String> items) {
    Assert.assertEquals(1, 1);
    items.sort(null);
  }
}
""",
    }, {
        ("ModelTest.test", "Assert.assertEquals"): "unresolved",
        ("ModelTest.test", "items.sort"): "ambiguous",
    }),
    "kotlin": ({
        "src/shop/Model.kt": """package shop

import org.junit.Assert

class Model {
    fun assertEquals(a: Int, b: Int) {}
    fun check() { Assert.assertEquals(1, 1) }
}
""",
    }, {("Model.check", "Assert.assertEquals"): "unresolved"}),
    "scala": ({
        "src/shop/Model.scala": """package shop

import scala.util.Random

class Model {
  def nextInt(): Int = 1
  def roll(): Int = Random.nextInt()
}
""",
    }, {("Model.roll", "Random.nextInt"): "unresolved"}),
    "rust": ({
        "src/lib.rs": """use std::collections::HashMap;
use serde_json::Value;
mod util;

struct Store;

impl Store {
    fn new() -> Store { Store }
    fn from(v: u8) -> Store { Store }
    fn swap(&self) {}
}

fn run() {
    let m = HashMap::new();
    Value::from(1);
    util::sub::swap();
    Store::new();
}
""",
        "src/util/mod.rs": "pub mod sub;\n",
        "src/util/sub.rs": "pub fn swap() {}\n",
    }, {
        ("run", "HashMap.new"): "unresolved",
        ("run", "Value.from"): "unresolved",
        ("run", "util::sub.swap"): "ambiguous",  # a project module
        ("run", "Store.new"): "via-receiver-type",
    }),
    "dart": ({
        "lib/shop.dart": """import 'package:http/http.dart' as http;

class Shop {
  void get(int x) {}
}

void fetch() {
  http.get(1);
}
""",
    }, {("fetch", "http.get"): "unresolved"}),
    "clojure": ({
        "src/shop/core.clj": """(ns shop.core
  (:require [clojure.string :as str]))

(defn join [x] x)

(defn render [xs] (str/join "," xs))
""",
    }, {("render", "str.join"): "unresolved"}),
    "zig": ({
        "src/main.zig": """const std = @import("std");

const Shop = struct {
    fn print() void {}
};

pub fn main() void {
    std.debug.print("x", .{});
}
""",
    }, {("main", "std.debug.print"): "unresolved"}),
    "erlang": ({
        "src/shop.erl": """-module(shop).
-export([run/1, map/2]).

map(F, L) -> L.

run(L) -> lists:map(fun(X) -> X end, L).
""",
    }, {("run", "lists.map"): "unresolved"}),  # `m:f()` names a module: lists is no file here
}


def _kinds(graph: GraphFile) -> dict[tuple[str, str], str]:
    """(caller, receiver.name) -> the kind of its call site, unresolved ones included."""
    symbols = CodeGraph(graph).symbols
    found = {}
    for file_index, (record, edges) in enumerate(zip(graph.files, graph.edges, strict=True)):
        kinds = {edge.site: edge.kind for edge in edges}
        for number, site in enumerate(record.facts.sites):
            caller = symbols.defs[symbols.offsets[file_index] + site.caller].qualified
            call = f"{site.receiver}.{site.name}" if site.receiver else site.name
            found[(caller, call)] = kinds.get(number, "unresolved")
    return found


@pytest.mark.parametrize("language", sorted(_LIBRARY_CASES))
def test_calls_through_a_library_import_are_unresolved(language: str, tmp_path: Path) -> None:
    """`require.Error(...)`, `np.array(...)`: a library's, never the project's `Error`/`array`."""
    files, expected = _LIBRARY_CASES[language]
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    kinds = _kinds(graph_from_tree(tmp_path))
    assert {key: kinds.get(key) for key in expected} == expected
