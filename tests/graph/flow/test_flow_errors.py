"""Bad input answers with one clear line; results serialise; text respects a budget."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tldr._exceptions import TldrError
from tldr.graph.flow import (
    FLOW_LANGUAGES,
    AmbiguousFunctionError,
    FlowError,
    FlowInputError,
    FunctionNotFoundError,
    LineOutsideFunctionError,
    UnsupportedLanguageError,
    cfg,
    cfg_file,
    dfg,
    dfg_file,
    program_slice,
    render_text,
    slice_file,
)

PY = b"""\
import os


def helper(value):
    total = value + 1
    return total


class Box:
    @property
    def size(self):
        return self._size

    @size.setter
    def size(self, value):
        self._size = value

    def grow(self, by):
        self.size = self.size + by

        return self.size
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_bytes(PY)
    return tmp_path


def test_flow_languages() -> None:
    assert {"python", "javascript", "typescript", "tsx", "go", "java", "rust"} <= FLOW_LANGUAGES


def test_unsupported_language_says_so_with_exit_code_2() -> None:
    source = b"def hello\n  puts 1\nend\n"
    for call in (
        lambda: cfg(source, "ruby", "hello"),
        lambda: dfg(source, "ruby", "hello"),
        lambda: program_slice(source, "ruby", "hello", 2),
    ):
        with pytest.raises(UnsupportedLanguageError) as caught:
            call()
        assert caught.value.exit_code == 2
        assert str(caught.value).endswith("is not supported for ruby yet")
        assert isinstance(caught.value, TldrError)


def test_unknown_function_suggests_close_names() -> None:
    with pytest.raises(FunctionNotFoundError) as caught:
        cfg(PY, "python", "helpr", path="pkg/mod.py")
    assert str(caught.value) == "no function named helpr in pkg/mod.py; did you mean: helper?"
    assert caught.value.exit_code == 1
    with pytest.raises(FunctionNotFoundError, match=r"Box\.grow"):
        cfg(PY, "python", "Box.grwo")


def test_ambiguous_function_lists_the_candidates() -> None:
    with pytest.raises(AmbiguousFunctionError) as caught:
        cfg(PY, "python", "Box.size")
    assert "Box.size (line 11)" in str(caught.value)
    assert "Box.size (line 15)" in str(caught.value)
    # A line picks one.
    assert cfg(PY, "python", 16).function.line == 15


def test_method_by_short_and_qualified_name() -> None:
    assert cfg(PY, "python", "grow").function.qualified_name == "Box.grow"
    assert cfg(PY, "python", "Box.grow").function.qualified_name == "Box.grow"
    assert cfg(PY, "python", "19").function.qualified_name == "Box.grow"


def test_lines_outside_the_function_or_without_a_statement() -> None:
    with pytest.raises(
        LineOutsideFunctionError, match=r"line 2 is outside Box.grow \(lines 18-21\)"
    ):
        program_slice(PY, "python", "Box.grow", 2)
    with pytest.raises(LineOutsideFunctionError, match="holds no statement"):
        program_slice(PY, "python", "Box.grow", 20)
    with pytest.raises(LineOutsideFunctionError, match="not inside a function"):
        cfg(PY, "python", 1)
    with pytest.raises(LineOutsideFunctionError):
        cfg(PY, "python", 999)


def test_bad_direction() -> None:
    with pytest.raises(FlowError, match="direction must be backward or forward"):
        program_slice(PY, "python", "helper", 5, direction="sideways")  # type: ignore[arg-type]


def test_unknown_variable() -> None:
    with pytest.raises(FlowError, match=r"no variable named totl in helper; did you mean: total\?"):
        program_slice(PY, "python", "helper", 6, var="totl")


def test_declaration_without_body() -> None:
    source = b"abstract class A {\n  abstract go(): void;\n}\n"
    with pytest.raises(FlowError):
        cfg(source, "typescript", "A.go")


def test_file_api_reads_inside_the_project(project: Path) -> None:
    result = slice_file(project, "pkg/mod.py", "helper", 6, var="total")
    assert result.lines == [4, 5, 6]
    assert result.code == ["def helper(value):", "    total = value + 1", "    return total"]
    assert result.function.file == "pkg/mod.py"
    assert dfg_file(project, "pkg/mod.py", "helper").chains[0].var == "value"
    absolute = project / "pkg" / "mod.py"
    assert cfg_file(project, absolute, "helper").function.file == "pkg/mod.py"


def test_file_api_refuses_hostile_files(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (project / "blob.py").write_bytes(b"def f():\n    return 1\n\0\0\0")
    with pytest.raises(FlowInputError, match=r"^blob.py: cannot analyse \(binary\)$"):
        cfg_file(project, "blob.py", "f")
    (project / "big.py").write_bytes(b"x = 1\n" * 1000)
    with pytest.raises(FlowInputError, match=r"too large, over 100 bytes"):
        cfg_file(project, "big.py", "f", max_file_bytes=100)
    with pytest.raises(FlowInputError, match="outside the project"):
        cfg_file(project, "../elsewhere.py", "f")
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_bytes(b"def f():\n    return 1\n")
    (project / "link.py").symlink_to(outside)
    with pytest.raises(FlowInputError, match=r"link\.py is outside the project"):
        cfg_file(project, "link.py", "f")
    with pytest.raises(FlowInputError, match="no such file"):
        cfg_file(project, "missing.py", "f")
    with pytest.raises(FlowInputError, match="not regular"):
        cfg_file(project, "pkg", "f")
    (project / "notes.rb").write_bytes(b"def hello\nend\n")
    with pytest.raises(UnsupportedLanguageError, match="not supported for ruby yet"):
        cfg_file(project, "notes.rb", "hello")
    (project / "data.txt").write_bytes(b"plain words\n")
    with pytest.raises(FlowInputError, match="not a source file"):
        dfg_file(project, "data.txt", "x")
    if hasattr(os, "mkfifo"):
        os.mkfifo(project / "pipe.py")
        with pytest.raises(FlowInputError, match="not regular"):
            cfg_file(project, "pipe.py", "f")


def test_undecodable_bytes_are_replaced_not_fatal(project: Path) -> None:
    (project / "latin.py").write_bytes(b"def f(a):\n    s = '\xe9t\xe9'\n    return s + a\n")
    assert slice_file(project, "latin.py", "f", 3).lines == [1, 2, 3]


def test_results_serialise_to_json() -> None:
    graph = cfg(PY, "python", "helper", path="pkg/mod.py")
    built = graph.to_dict()
    assert built["complexity"] == 1
    assert built["function"]["qualified_name"] == "helper"
    json.dumps(built)
    chains = dfg(PY, "python", "helper").to_dict()
    assert chains["chains"] == [
        {"var": "value", "def_line": 4, "use_lines": [5]},
        {"var": "total", "def_line": 5, "use_lines": [6]},
    ]
    sliced = program_slice(PY, "python", "helper", 6).to_dict()
    assert sliced["lines"] == [4, 5, 6] and sliced["direction"] == "backward"


def test_text_rendering_and_budget() -> None:
    text = render_text(cfg(PY, "python", "Box.grow", path="pkg/mod.py"))
    assert text.splitlines() == [
        "cfg pkg/mod.py:Box.grow (python) lines 18-21: 2 blocks, 1 edges, complexity 1",
        "B0 entry L18-21 -> B1 return",
        "B1 exit",
    ]
    sliced = render_text(program_slice(PY, "python", "helper", 6))
    assert sliced.splitlines()[1:] == [
        "4 | def helper(value):",
        "5 |     total = value + 1",
        "6 |     return total",
    ]
    short = render_text(program_slice(PY, "python", "helper", 6), budget_tokens=25)
    assert short.splitlines()[-1] == "... 2 more (raise --budget-tokens)"
    assert render_text(dfg(PY, "python", "helper")).splitlines()[1:] == [
        "value  L4 -> 5",
        "total  L5 -> 6",
    ]


def test_syntax_errors_do_not_crash() -> None:
    broken = b"def f(a):\n    if a:\n        return (\n    x = 1\n"
    result = cfg(broken, "python", "f")
    assert result.blocks[-1].kind == "exit"


def test_a_line_of_a_decorator_or_an_export_finds_its_function() -> None:
    # Units start at the decorator or the `export`; their line must find the function.
    assert cfg(PY, "python", 10).function.qualified_name == "Box.size"
    assert cfg(PY, "python", 10).function.line == 11
    source = b"export async function load(a: number) {\n  return a;\n}\n"
    assert cfg(source, "typescript", 1).function.qualified_name == "load"
    arrow = b"export const f = (x) => {\n  const y = x + 1;\n  return y;\n};\n"
    assert cfg(arrow, "javascript", 1).function.qualified_name == "f"
    assert program_slice(arrow, "javascript", "f", 3).lines == [1, 2, 3]


def test_statements_nested_too_deeply_are_refused_in_one_line() -> None:
    depth = 400
    opening = "".join("  " * i + "if (a) {\n" for i in range(depth))
    source = "function f(a) {\n" + opening + "x = 1;\n" + "}\n" * depth + "}\n"
    with pytest.raises(FlowError, match="f nests statements too deeply to analyse"):
        cfg(source.encode(), "javascript", "f")
