"""Metrics, module units, previews, hashes and broken input."""

from __future__ import annotations

import threading

from tldr.units import CODE_PREVIEW_LINES, extract_units, language_for_path

PYTHON = b'''"""Doc."""
import os


def load(path, *, strict=False):
    data = os.path.join(path, "x")
    if strict and data:
        return parse(data)
    for item in [x for x in data]:
        helper(item)


class Foo:
    def method(self, a, b=1):
        self.value = a
        return a if b else None
'''


def _by_name(source: bytes, language: str = "python", path: str = "pkg/mod.py") -> dict:
    return {u.qualified_name: u for u in extract_units(source, path=path, language=language)}


def test_params_assigns_and_control_flow() -> None:
    units = _by_name(PYTHON)
    load = units["load"]
    assert load.params == ["path", "strict"]
    assert load.assigns == ["data"]
    assert (load.branches, load.loops, load.complexity) == (1, 2, 5)
    method = units["Foo.method"]
    assert method.params == ["a", "b"]
    assert method.assigns == ["value"]
    assert (method.branches, method.complexity) == (1, 2)


def test_module_unit_holds_top_level_code_only() -> None:
    module = _by_name(PYTHON)["pkg.mod"]
    assert (module.name, module.unit_type, module.line, module.end_line) == ("mod", "module", 1, 16)
    assert module.docstring == "Doc."
    assert "import os" in module.code
    assert "def load" not in module.code
    assert module.imports == ["os"]


def test_no_module_unit_for_a_file_of_definitions() -> None:
    units = extract_units(b"def f():\n    return 1\n", path="a.py", language="python")
    assert [u.unit_type for u in units] == ["function"]


def test_module_unit_for_a_script_without_definitions() -> None:
    units = extract_units(b"print('hi')\n", path="s.py", language="python")
    assert [(u.unit_type, u.calls) for u in units] == [("module", ["print"])]


def test_content_hash_changes_with_source_and_name_only() -> None:
    first = _by_name(PYTHON)["load"].content_hash
    assert _by_name(PYTHON)["load"].content_hash == first
    edited = PYTHON.replace(b'"x"', b'"y"')
    assert _by_name(edited)["load"].content_hash != first
    assert (
        _by_name(edited)["Foo.method"].content_hash == _by_name(PYTHON)["Foo.method"].content_hash
    )


def test_code_preview_is_capped() -> None:
    body = b"".join(b"    x%d = %d\n" % (i, i) for i in range(200))
    unit = extract_units(b"def big():\n" + body, path="b.py", language="python")[0]
    assert unit.end_line == 201
    assert len(unit.code.splitlines()) == CODE_PREVIEW_LINES
    assert len(unit.assigns) == 32


def test_syntax_error_keeps_units_before_and_after() -> None:
    source = (
        b"def before():\n    return 1\n\ndef broken(:\n    return (\n\ndef after():\n    return 2\n"
    )
    names = [u.name for u in extract_units(source, path="e.py", language="python")]
    assert "before" in names
    assert "after" in names


def test_js_syntax_error_keeps_other_functions() -> None:
    source = b"function a() { return 1; }\nfunction b( { \nfunction c() { return 3; }\n"
    names = [u.name for u in extract_units(source, path="e.js", language="javascript")]
    assert "a" in names
    assert "c" in names


def test_garbage_and_unknown_language_never_raise() -> None:
    assert extract_units(b"x", path="a.xyz", language="cobol") == []
    for language in ("python", "rust", "elixir", "cpp"):
        extract_units(bytes(range(1, 256)) * 4, path="g", language=language)
    assert extract_units(b"", path="empty.py", language="python") == []


def test_language_for_path() -> None:
    assert language_for_path("a/b.py") == "python"
    assert language_for_path("x.MJS") == "javascript"
    assert language_for_path("x.hpp") == "cpp"
    assert language_for_path("x.h") == "c"
    assert language_for_path("app.min.js") is None
    assert language_for_path("Makefile") == "make"
    assert language_for_path(".bashrc") == "bash"


def test_parsers_are_usable_from_threads() -> None:
    results: list[int] = []

    def work() -> None:
        results.append(len(extract_units(PYTHON, path="t.py", language="python")))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [4, 4, 4, 4]


def test_cpp_out_of_line_method_and_go_receiver() -> None:
    cpp = _by_name(b"int Foo::bar(int x) { return x; }\n", "cpp", "a.cpp")
    assert cpp["Foo.bar"].unit_type == "method"
    go = _by_name(b"package p\n\nfunc (s Srv[T]) Run() {}\n", "go", "a.go")
    assert go["Srv.Run"].unit_type == "method"
