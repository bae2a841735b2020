"""Extraction per language against small fixture files with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.units import SUPPORTED_LANGUAGES, Unit, extract_units, language_for_path

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
}

# (qualified_name, unit_type, line, end_line) for every unit, in order.
SPANS: dict[str, list[tuple[str, str, int, int]]] = {
    "bash": [
        ("bash.sample", "module", 1, 16),
        ("greet", "function", 5, 10),
        ("cleanup", "function", 12, 14),
    ],
    "c": [
        ("point", "class", 5, 8),
        ("add", "function", 11, 17),
        ("name_of", "function", 19, 21),
    ],
    "cpp": [
        ("app.Widget", "class", 7, 13),
        ("app.Widget.area", "method", 10, 10),
        ("app.Widget.compute", "method", 15, 19),
        ("main", "function", 23, 26),
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
        ("go.sample", "module", 1, 32),
        ("Server", "class", 10, 12),
        ("Server.Serve", "method", 15, 23),
        ("NewServer", "function", 25, 28),
        ("Handler", "class", 30, 32),
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
        ("Repo", "class", 7, 17),
        ("Repo.load", "method", 9, 12),
        ("Repo.Companion", "class", 14, 16),
        ("Repo.Companion.create", "method", 15, 15),
        ("Registry", "class", 19, 21),
        ("Registry.register", "method", 20, 20),
        ("Store", "class", 23, 23),
        ("Store.get", "method", 23, 23),
        ("main", "function", 25, 28),
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
        ("Util", "class", 5, 24),
        ("Util.Greeter", "class", 7, 23),
        ("Util.Greeter.initialize", "method", 8, 10),
        ("Util.Greeter.greet", "method", 13, 18),
        ("Util.Greeter.create", "method", 20, 22),
        ("top_level", "function", 26, 28),
    ],
    "rust": [
        ("Parser", "class", 6, 8),
        ("Parser.new", "method", 12, 15),
        ("Parser.peek", "method", 17, 22),
        ("Visitor", "class", 25, 27),
        ("Visitor.visit", "method", 26, 26),
        ("parse", "function", 29, 33),
        ("Kind", "class", 35, 35),
    ],
    "scala": [
        ("Shape", "class", 7, 9),
        ("Shape.area", "method", 8, 8),
        ("Circle", "class", 12, 14),
        ("Circle.area", "method", 13, 13),
        ("Main", "class", 16, 21),
        ("Main.main", "method", 17, 20),
    ],
    "swift": [
        ("Vehicle", "class", 5, 7),
        ("Vehicle.drive", "method", 6, 6),
        ("Car", "class", 10, 23),
        ("Car.init", "method", 13, 15),
        ("Car.drive", "method", 17, 22),
        ("Point", "class", 25, 27),
        ("distance", "function", 29, 31),
    ],
    "tsx": [
        ("Button", "function", 4, 7),
        ("App", "function", 9, 9),
    ],
    "typescript": [
        ("Shape", "class", 4, 6),
        ("Shape.area", "method", 5, 5),
        ("Circle", "class", 8, 14),
        ("Circle.constructor", "method", 9, 9),
        ("Circle.area", "method", 11, 13),
        ("total", "function", 16, 18),
        ("double", "function", 20, 20),
        ("Color", "class", 22, 22),
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
        "Util": ("module Util", "Utilities module.", ["puts", "format_greeting", "new"]),
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
}


def _units(language: str) -> list[Unit]:
    path = FIXTURES / language / f"sample.{EXTENSIONS[language]}"
    assert language_for_path(path.name) == language
    rel = f"{language}/{path.name}"
    return extract_units(path.read_bytes(), path=rel, language=language)


def test_every_language_has_a_fixture() -> None:
    assert set(SPANS) == set(SUPPORTED_LANGUAGES) == set(DETAILS) == set(IMPORTS)


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
