"""Extraction per language against small fixture files with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.units import SUPPORTED_LANGUAGES, Unit, extract_units, language_for_path
from tldr.units.languages import FALLBACK_LANGUAGES, SPECS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "units"

EXTENSIONS = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "tsx": "tsx",
    "go": "go",
    "rust": "rs",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "csharp": "cs",
    "ruby": "rb",
    "php": "php",
    "kotlin": "kt",
    "scala": "scala",
    "swift": "swift",
    "lua": "lua",
    "elixir": "ex",
    "bash": "sh",
    "haskell": "hs",
    "zig": "zig",
    "ocaml": "ml",
    "dart": "dart",
    "erlang": "erl",
    "clojure": "clj",
    "julia": "jl",
    "r": "R",
    "perl": "pl",
    "objc": "m",
    "sql": "sql",
    "proto": "proto",
    "hcl": "tf",
}

# (qualified_name, unit_type, line, end_line) for every unit, in order.
SPANS: dict[str, list[tuple[str, str, int, int]]] = {
    "bash": [
        ("bash.sample", "module", 1, 16),
        ("greet", "function", 5, 10),
        ("cleanup", "function", 12, 14),
    ],
    "c": [
        ('point', 'class', 5, 8),
        ('add', 'function', 11, 17),
        ('name_of', 'function', 19, 21),
        ('options_t', 'class', 24, 26),
        ('color', 'class', 28, 28),
        ('MAX', 'function', 30, 30),
    ],
    "cpp": [
        ('app.Widget', 'class', 7, 13),
        ('app.Widget.area', 'method', 10, 10),
        ('app.Widget.compute', 'method', 15, 19),
        ('main', 'function', 23, 26),
        ('Box', 'class', 28, 31),
        ('Name', 'class', 33, 33),
    ],
    "csharp": [
        ("Demo.Greeter", "class", 7, 16),
        ("Demo.Greeter.Greeter", "method", 9, 9),
        ("Demo.Greeter.Greet", "method", 12, 15),
        ("Demo.IGreeter", "class", 18, 18),
        ("Demo.IGreeter.Greet", "method", 18, 18),
        ("Demo.Point", "class", 20, 20),
        ("Demo.Pair", "class", 22, 22),
    ],
    "elixir": [
        ("MyApp.Accounts", "class", 1, 20),
        ("MyApp.Accounts.get_user", "function", 11, 13),
        ("MyApp.Accounts.normalize", "function", 15, 19),
    ],
    "go": [
        ('go.sample', 'module', 1, 37),
        ('Server', 'class', 10, 12),
        ('Server.Serve', 'method', 15, 23),
        ('NewServer', 'function', 25, 28),
        ('Handler', 'class', 30, 32),
        ('HandlerFunc', 'class', 35, 35),
        ('ID', 'class', 37, 37),
    ],
    "java": [
        ("Calculator", "class", 9, 26),
        ("Calculator.add", "method", 13, 15),
        ("Calculator.Calculator", "method", 17, 19),
        ("Calculator.Op", "class", 21, 23),
        ("Calculator.Op.apply", "method", 22, 22),
        ("Calculator.Mode", "class", 25, 25),
    ],
    "javascript": [
        ("javascript.sample", "module", 1, 34),
        ("add", "function", 8, 13),
        ("mul", "function", 16, 19),
        ("Widget", "class", 21, 30),
        ("Widget.constructor", "method", 22, 25),
        ("Widget.render", "method", 27, 29),
        ("get", "function", 33, 33),
    ],
    "kotlin": [
        ('Repo', 'class', 7, 17),
        ('Repo.load', 'method', 9, 12),
        ('Repo.Companion', 'class', 14, 16),
        ('Repo.Companion.create', 'method', 15, 15),
        ('Registry', 'class', 19, 21),
        ('Registry.register', 'method', 20, 20),
        ('Store', 'class', 23, 23),
        ('Store.get', 'method', 23, 23),
        ('main', 'function', 25, 28),
        ('Names', 'class', 30, 30),
        ('Config', 'class', 32, 32),
    ],
    "lua": [
        ("lua.sample", "module", 1, 23),
        ("M.add", "function", 6, 11),
        ("M.method", "method", 13, 15),
        ("private_helper", "function", 17, 21),
    ],
    "php": [
        ("find_user", "function", 9, 11),
        ("Repo", "class", 13, 15),
        ("Repo.all", "method", 14, 14),
        ("Loggable", "class", 17, 19),
        ("Loggable.log", "method", 18, 18),
        ("UserRepo", "class", 21, 27),
        ("UserRepo.all", "method", 23, 26),
    ],
    "python": [
        ("python.sample", "module", 1, 35),
        ("load", "function", 7, 18),
        ("Foo", "class", 21, 32),
        ("Foo.Inner", "class", 24, 27),
        ("Foo.Inner.method", "method", 25, 27),
        ("Foo.run", "method", 29, 32),
        ("Foo.run.inner", "function", 30, 31),
    ],
    "ruby": [
        # `module Util` only wraps `Greeter`: a namespace, not a unit.
        ("Util.Greeter", "class", 7, 23),
        ("Util.Greeter.initialize", "method", 8, 10),
        ("Util.Greeter.greet", "method", 13, 18),
        ("Util.Greeter.create", "method", 20, 22),
        ("top_level", "function", 26, 28),
    ],
    "rust": [
        ('Parser', 'class', 6, 8),
        ('Parser.new', 'method', 12, 15),
        ('Parser.peek', 'method', 17, 22),
        ('Visitor', 'class', 25, 27),
        ('Visitor.visit', 'method', 26, 26),
        ('parse', 'function', 29, 33),
        ('Kind', 'class', 35, 35),
        ('Res', 'class', 38, 38),
        ('square', 'class', 40, 42),
        ('LocalSet', 'class', 46, 48),  # inside `cfg_rt! { ... }`
        ('LocalSet.ticks', 'method', 52, 52),  # nested `cfg_metrics!` in an impl
    ],
    "scala": [
        ('Shape', 'class', 7, 9),
        ('Shape.area', 'method', 8, 8),
        ('Circle', 'class', 12, 14),
        ('Circle.area', 'method', 13, 13),
        ('Main', 'class', 16, 21),
        ('Main.main', 'method', 17, 20),
        ('Named', 'class', 23, 25),
        ('Named.Name', 'class', 24, 24),
    ],
    "swift": [
        ('Vehicle', 'class', 5, 7),
        ('Vehicle.drive', 'method', 6, 6),
        ('Car', 'class', 10, 23),
        ('Car.init', 'method', 13, 15),
        ('Car.drive', 'method', 17, 22),
        ('Point', 'class', 25, 27),
        ('distance', 'function', 29, 31),
        ('Point', 'class', 33, 35),
        ('Point.norm', 'method', 34, 34),
        ('Direction', 'class', 37, 37),
        ('Meters', 'class', 39, 39),
    ],
    "tsx": [
        ("Button", "function", 4, 7),
        ("App", "function", 9, 9),
    ],
    "typescript": [
        ('Shape', 'class', 4, 6),
        ('Shape.area', 'method', 5, 5),
        ('Circle', 'class', 8, 14),
        ('Circle.constructor', 'method', 9, 9),
        ('Circle.area', 'method', 11, 13),
        ('total', 'function', 16, 18),
        ('double', 'function', 20, 20),
        ('Color', 'class', 22, 22),
        ('Id', 'class', 25, 25),
    ],
    "haskell": [
        ('haskell.sample', 'module', 1, 33),
        ('parseEither', 'function', 7, 9),
        ('emptyArray', 'function', 12, 13),
        ('Value', 'class', 16, 18),
        ('Parser', 'class', 20, 20),
        ('Pair', 'class', 22, 22),
        ('FromJSON', 'class', 24, 26),
        ('FromJSON.parseJSON', 'method', 25, 26),
        ('Bool.parseJSON', 'method', 29, 30),
        ('isZero', 'function', 32, 33),
    ],
    "zig": [
        ('zig.sample', 'module', 1, 27),
        ('Names', 'class', 4, 12),
        ('Names.longest', 'method', 8, 11),
        ('Values', 'class', 14, 17),
        ('parseParam', 'function', 20, 23),
    ],
    "ocaml": [
        ('ocaml.sample', 'module', 1, 23),
        ('Stack', 'class', 2, 6),
        ('Stack.t', 'class', 3, 3),
        ('Stack.create', 'method', 4, 4),
        ('Stack.push', 'method', 5, 5),
        ('SHOW', 'class', 8, 10),
        ('color', 'class', 14, 14),
        ('add', 'function', 17, 17),
        ('fact', 'function', 19, 19),
        ('point', 'class', 21, 23),
    ],
    "dart": [
        # no module unit: imports and definitions only (bodies belong to their signatures)
        ('Counter', 'class', 4, 12),
        ('Counter.build', 'method', 9, 11),
        ('Logger', 'class', 14, 16),
        ('Logger.log', 'method', 15, 15),
        ('Color', 'class', 18, 18),
        ('String.twice', 'method', 21, 21),
        ('Callback', 'class', 24, 24),
        ('add', 'function', 26, 28),
    ],
    "erlang": [
        ('erlang.sample', 'module', 1, 15),
        ('state', 'class', 4, 4),
        ('result', 'class', 5, 5),
        ('add', 'function', 8, 9),
        ('fact', 'function', 11, 13),
    ],
    "clojure": [
        ('clojure.sample', 'module', 1, 15),
        ('add', 'function', 4, 7),
        ('unless', 'function', 9, 9),
        ('Shape', 'class', 11, 11),
        ('Circle', 'class', 13, 13),
    ],
    "julia": [
        ('julia.sample', 'module', 1, 20),
        ('add', 'function', 4, 6),
        ('square', 'function', 8, 8),
        ('twice', 'function', 16, 18),
    ],
    "r": [
        ('r.sample', 'module', 1, 10),
        ('add', 'function', 4, 6),
        ('square', 'function', 8, 8),
    ],
    "perl": [
        ('perl.sample', 'module', 1, 12),
        ('add', 'function', 5, 8),
        ('mul', 'function', 10, 10),
    ],
    "objc": [
        ('Person', 'class', 4, 7),
        ('Person.greet', 'method', 6, 6),
        ('Person', 'class', 9, 13),
        ('Person.greet', 'method', 10, 12),
        ('Greeter', 'class', 15, 17),
        ('Greeter.hello', 'method', 16, 16),
        ('add', 'function', 19, 19),
    ],
    "sql": [
        ('sql.sample', 'module', 1, 13),
        ('users', 'class', 2, 5),
        ('active', 'class', 7, 7),
        ('add', 'function', 9, 11),
    ],
    "proto": [
        ('User', 'class', 6, 9),
        ('User.Address', 'class', 8, 8),
        ('Role', 'class', 11, 11),
        ('Users', 'class', 13, 15),
        ('Users.Get', 'method', 14, 14),
    ],
    "hcl": [
        ('hcl.sample', 'module', 1, 16),
        ('resource.aws_s3_bucket.logs', 'section', 2, 4),
        ('variable.region', 'section', 6, 8),
        ('module.vpc', 'section', 10, 12),
        ('locals', 'section', 14, 16),
    ],
}

# qualified_name -> (signature, docstring, calls) for one or two units per language.
DETAILS: dict[str, dict[str, tuple[str, str, list[str]]]] = {
    "python": {
        "load": (
            "def load(path: str, *, strict=False) -> Config",
            "Load a config.\n\nSecond paragraph.",
            ["join", "parse", "helper"],
        ),
        "Foo.run": ("async def run(self, *args, **kwargs)", "", ["inner"]),
        "Foo": ("class Foo(Base)", "A foo.", ["inner"]),
    },
    "javascript": {
        "add": ("function add(a, b)", "Adds two numbers.\n@param a first", ["readFileSync"]),
        "mul": ("const mul = (a, b)", "Multiplies.", ["helper"]),
        "Widget.render": ("render()", "", ["Element"]),
    },
    "typescript": {
        "total": (
            "export function total(shapes: Shape[], scale = 1): number",
            "",
            ["reduce", "area"],
        ),
        "Shape": ("export interface Shape", "A shape.", []),
    },
    "tsx": {
        "Button": (
            "export function Button({ label }: { label: string })",
            "Renders a button.",
            ["useState", "setCount"],
        ),
    },
    "go": {
        "Server.Serve": (
            "func (s *Server) Serve(l net.Listener) error",
            "Serve accepts connections.",
            ["Accept", "handle"],
        ),
        "Server": ("type Server struct", "Server holds state.", []),
    },
    "rust": {
        "parse": ("pub fn parse(input: &str) -> Result<Ast>", "", ["new", "println", "Ok", "run"]),
        "Parser": ("pub struct Parser", "A parser.", []),
        "Parser.new": ("pub fn new(input: &str) -> Self", "Creates a parser.", ["tokenize"]),
    },
    "java": {
        "Calculator.add": ("public static int add(int a, int b)", "Adds numbers.", ["addExact"]),
        "Calculator": ("public class Calculator", "A calculator.", ["addExact"]),
    },
    "c": {
        "add": ("int add(int a, int b)", "Adds two ints.", ["printf"]),
        "name_of": ("static char *name_of(const struct point *p)", "", ["format_name"]),
    },
    "cpp": {
        "app.Widget.compute": ("int Widget::compute(int x)", "", ["push_back", "helper"]),
        "app.Widget": ("class Widget : public Base", "A widget.", []),
        "main": ("int main(int argc, char **argv)", "", ["Widget", "area"]),
    },
    "csharp": {
        "Demo.Greeter.Greet": ("public string Greet(string other)", "Says hello.", ["Format"]),
        "Demo.Greeter": ("public class Greeter : IGreeter", "A greeter.", ["Format"]),
    },
    "ruby": {
        "Util.Greeter.greet": ("def greet(other = nil)", "Greets.", ["puts", "format_greeting"]),
        "Util.Greeter": ("class Greeter < Base", "A greeter.", ["puts", "format_greeting", "new"]),
    },
    "php": {
        "find_user": ("function find_user($id)", "Finds users.", ["find"]),
        "UserRepo.all": ("public function all()", "Returns all.", ["query", "array_map"]),
    },
    "kotlin": {
        "Repo.load": (
            "fun load(path: String): List<String>",
            "Loads things.",
            ["readText", "File", "lines"],
        ),
        "Repo": (
            "class Repo(val name: String)",
            "A repository.",
            ["readText", "File", "lines", "Repo"],
        ),
    },
    "scala": {
        "Main.main": ("def main(args: Array[String]): Unit", "", ["Circle", "println"]),
        "Circle": ("case class Circle(r: Double) extends Shape", "A circle.", []),
    },
    "swift": {
        "Car.drive": ("func drive(speed: Int) -> Bool", "", ["start"]),
        "Vehicle": ("protocol Vehicle", "A vehicle.", []),
    },
    "lua": {
        "M.add": ("function M.add(a, b)", "Adds numbers.", ["helper"]),
        "private_helper": ("local function private_helper(n)", "", ["print"]),
    },
    "elixir": {
        "MyApp.Accounts.get_user": ("def get_user(id, opts \\\\ [])", "Gets a user.", ["get"]),
        "MyApp.Accounts": ("defmodule MyApp.Accounts", "Account management.", ["get", "downcase"]),
    },
    "bash": {
        "greet": ("greet()", "Prints a greeting.", ["true", "echo"]),
        "cleanup": ("function cleanup", "", ["rm"]),
    },
    "haskell": {
        "parseEither": (
            "parseEither :: (a -> Parser b) -> a -> Either String b",
            "Run a parser.",
            ["runParser", "m", "Left", "formatError"],
        ),
        "Value": ("data Value = Object !Object", "A JSON value.", []),
    },
    "zig": {
        "Names": ("const Names = struct", "The names a `Param` can have.", []),
        "Names.longest": (
            "fn longest(names: *const Names) []const u8", "The longest of the names.", []
        ),
    },
    "ocaml": {
        "Stack": ("module Stack = struct", "Stack module.", []),
        "fact": ("let rec fact n = if n = 0 then 1 else n * fact (n - 1)", "", ["fact"]),
    },
    "dart": {
        "Counter": ("class Counter extends StatelessWidget", "A counter.", ["Text"]),
        "Counter.build": ("Widget build(BuildContext context)", "", ["Text"]),
    },
    "erlang": {
        "add": ("add(A, B) ->", "Adds numbers.", []),
        "fact": ("fact(0) -> 1", "", ["fact"]),
    },
    "clojure": {"add": ("(defn add", "Adds numbers.", ["+"])},
    "julia": {
        "add": ("function add(a, b)", "Adds numbers.", []),
        "square": ("square(x) = x * x", "", []),
    },
    "r": {"add": ("add <- function(a, b)", "Adds numbers.", [])},
    "perl": {"add": ("sub add", "Adds numbers.", [])},
    "objc": {
        "Greeter": ("@protocol Greeter", "", []),
        "add": ("int add(int a, int b)", "", []),
    },
    "sql": {"users": ("CREATE TABLE users (", "Users table.", [])},
    "proto": {"User": ("message User", "A user.", [])},
    "hcl": {"resource.aws_s3_bucket.logs": ('resource "aws_s3_bucket" "logs"', "The bucket.", [])},
}

IMPORTS = {
    "python": ["os", "a.b.c", "a.b.d"],
    "javascript": ["fs", "path"],
    "typescript": ["./thing"],
    "tsx": ["react"],
    "go": ["fmt", "net"],
    "rust": ["std::collections::HashMap", "crate::ast::{Ast, Node}"],
    "java": ["java.util.List", "java.io.*"],
    "c": ["stdio.h", "util.h"],
    "cpp": ["vector", "widget.hpp"],
    "csharp": ["System", "System.Collections.Generic"],
    "ruby": ["json", "lib/helper"],
    "php": ["App\\Models\\User"],
    "kotlin": ["kotlin.math.max", "java.io.File"],
    "scala": ["scala.collection.mutable", "java.io.File"],
    "swift": ["Foundation", "UIKit"],
    "lua": ["json"],
    "elixir": ["MyApp.Repo", "Ecto.Query"],
    "bash": ["./lib.sh"],
    "haskell": ["Data.Map", "Data.Text"],
    "zig": [],
    "ocaml": [],
    "dart": ["package:flutter/material.dart"],
    "erlang": [],
    "clojure": [],
    "julia": [],
    "r": [],
    "perl": ["strict"],
    "objc": ["Foundation/Foundation.h"],
    "sql": [],
    "proto": ["google/protobuf/empty.proto"],
    "hcl": [],
}


def _units(language: str) -> list[Unit]:
    path = FIXTURES / language / f"sample.{EXTENSIONS[language]}"
    assert language_for_path(path.name) == language
    rel = f"{language}/{path.name}"
    return extract_units(path.read_bytes(), path=rel, language=language)


def test_every_language_has_a_fixture() -> None:
    assert set(SPANS) == set(SPECS) == set(DETAILS) == set(IMPORTS)
    assert set(SUPPORTED_LANGUAGES) == set(SPECS) | set(FALLBACK_LANGUAGES)


@pytest.mark.parametrize("language", sorted(SPANS))
def test_unit_names_types_and_spans(language: str) -> None:
    units = _units(language)
    assert [(u.qualified_name, u.unit_type, u.line, u.end_line) for u in units] == SPANS[language]
    for unit in units:
        assert unit.language == language
        assert unit.file == f"{language}/sample.{EXTENSIONS[language]}"
        assert unit.qualified_name.endswith(unit.name)
        assert len(unit.content_hash) == 16


@pytest.mark.parametrize("language", sorted(DETAILS))
def test_signatures_docstrings_and_calls(language: str) -> None:
    by_name = {u.qualified_name: u for u in _units(language)}
    for qualified_name, (signature, docstring, calls) in DETAILS[language].items():
        unit = by_name[qualified_name]
        assert (unit.signature, unit.docstring, unit.calls) == (signature, docstring, calls)


@pytest.mark.parametrize("language", sorted(IMPORTS))
def test_every_unit_carries_the_file_imports(language: str) -> None:
    units = _units(language)
    assert units
    assert all(u.imports == IMPORTS[language] for u in units)


def test_dart_bodies_belong_to_their_units() -> None:
    """A Dart body follows its signature as a sibling; the unit walks it all the same."""
    source = b"""import 'cart.dart' as c;

class Shop {
  int total(List<int> xs) {
    var sum = 0;
    for (final x in xs) {
      if (x > 0 && x < 100) {
        sum += helper(x);
      }
    }
    return sum;
  }
}

int helper(int v) {
  int twice(int w) => w * 2;
  final shop = Shop();
  return shop.total([twice(v)]);
}
"""
    units = {u.qualified_name: u for u in extract_units(source, path="lib/shop.dart",
                                                         language="dart")}
    assert list(units) == ["Shop", "Shop.total", "helper", "helper.twice"]  # no module code
    total = units["Shop.total"]
    assert (total.calls, total.branches, total.loops, total.complexity) == (["helper"], 1, 1, 4)
    assert units["helper"].calls == ["Shop", "total", "twice"]
    assert units["helper.twice"].code == "  int twice(int w) => w * 2;"
