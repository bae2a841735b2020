"""Which language a file is: by name, neighbours, shebang and content."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.units import detect, detect_language, extract_units, walk_project
from tldr.units.detect import directory_extensions


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/Data/Aeson.hs", "haskell"),
        ("clap.zig", "zig"),
        ("lib/a.ml", "ocaml"),
        ("main.dart", "dart"),
        ("calc.erl", "erlang"),
        ("core.clj", "clojure"),
        ("geo.jl", "julia"),
        ("stats.R", "r"),
        ("Calc.pm", "perl"),
        ("View.m", "objc"),
        ("schema.sql", "sql"),
        ("api.proto", "proto"),
        ("main.tf", "hcl"),
        ("README.md", "markdown"),
        ("ci.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("tsconfig.json", "json"),
        ("setup.cfg", "ini"),
        ("Dockerfile", "dockerfile"),
        ("docker/Dockerfile.dev", "dockerfile"),
        ("Makefile", "make"),
        ("CMakeLists.txt", "cmake"),
        ("Gemfile", "ruby"),
        ("notes.txt", "text"),
        ("bin/tool", "text"),
    ],
)
def test_by_name(path: str, language: str) -> None:
    assert detect_language(path) == language


@pytest.mark.parametrize(
    "path",
    ["logo.png", "app.min.js", "package-lock.json", "Cargo.lock", "lib.so", "LICENSE",
     ".gitignore", "bundle.js.map", "icon.svg", "app.py~", ".app.py.swp", "#app.py#",
     ".#app.py", "server.log"],
)
def test_binary_generated_and_boilerplate_files_are_left_out(path: str) -> None:
    assert detect_language(path) is None


@pytest.mark.parametrize(
    ("head", "language"),
    [
        (b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        (b"#!/bin/bash\nset -e\n", "bash"),
        (b"#!/bin/sh\n", "bash"),
        (b"#!/usr/bin/env node\nconsole.log(1)\n", "javascript"),
        (b"#!/usr/bin/env -S ruby -w\nputs 1\n", "ruby"),
        (b"#!/usr/bin/perl -w\n", "perl"),
        (b"#!/usr/bin/env Rscript\n", "r"),
        (b"<?php\necho 1;\n", "php"),
        (b"just some words\n", "text"),
    ],
)
def test_shebang_and_content_decide_files_without_an_extension(head: bytes, language: str) -> None:
    assert detect_language("scripts/run", head) == language


CPP_HEADER = b"""#pragma once
namespace absl {
template <typename T>
class Span {
 public:
  T* data() const;
};
}  // namespace absl
"""
C_HEADER = b"""#ifndef POINT_H
#define POINT_H
struct point { int x; int y; };
int add(int a, int b);
#endif
"""


def test_header_content_decides_cpp() -> None:
    assert detect_language("span.h", CPP_HEADER) == "cpp"
    assert detect_language("point.h", C_HEADER) == "c"
    objc_header = b"#import <UIKit/UIKit.h>\n@interface View : UIView\n@end\n"
    assert detect_language("View.h", objc_header) == "objc"


def test_header_neighbours_decide_when_content_does_not() -> None:
    def beside(*names: str) -> frozenset[str]:
        return directory_extensions(names)

    assert detect_language("point.h", C_HEADER, neighbour_extensions=beside("point.CC")) == "cpp"
    assert detect_language("point.h", neighbour_extensions=beside("point.c", "point.cc")) == "c"
    assert detect_language("point.h", neighbour_extensions=beside("point.c")) == "c"
    assert detect_language("table.inc", CPP_HEADER) == "cpp"
    assert detect_language("page.inc", b"<?php echo 1;") == "php"


def test_walk_reads_a_directorys_names_once_for_all_its_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work counted, not timed: a directory of n headers costs O(n) name lookups.

    Before the fix every header looked at every name beside it (n^2: 90,601
    extension lookups here; 49.7 million for a directory of 7,048 headers).
    """
    headers = 300
    for number in range(headers):
        (tmp_path / f"h{number}.h").write_bytes(b"int f(void);\n")
    (tmp_path / "impl.cc").write_bytes(b"int f(void) { return 0; }\n")
    calls = 0
    real = detect._extension

    def counted(name: str) -> str:
        nonlocal calls
        calls += 1
        return real(name)

    monkeypatch.setattr(detect, "_extension", counted)
    files = walk_project(tmp_path).files
    assert {f.language for f in files if f.rel_path.endswith(".h")} == {"cpp"}
    assert len(files) == headers + 1
    assert calls <= 3 * (headers + 1)


def test_walk_and_extraction_agree_on_a_cpp_header(tmp_path: Path) -> None:
    (tmp_path / "span.h").write_bytes(CPP_HEADER)
    (tmp_path / "run").write_bytes(b"#!/usr/bin/env python3\ndef main():\n    pass\n")
    files = {f.rel_path: f for f in walk_project(tmp_path).files}
    assert {path: f.language for path, f in files.items()} == {"span.h": "c", "run": "text"}
    span = extract_units(CPP_HEADER, path="span.h", language=files["span.h"].language)
    assert [(u.qualified_name, u.unit_type, u.language) for u in span] == [
        ("span", "module", "cpp"),  # `#pragma once` is top-level code
        ("absl.Span", "class", "cpp"),
    ]
    run = extract_units(b"#!/usr/bin/env python3\ndef main():\n    pass\n", path="run",
                        language="text")
    assert [(u.name, u.unit_type, u.language, u.line, u.end_line) for u in run] == [
        ("main", "function", "python", 2, 3)
    ]


def test_lang_filter_keeps_only_that_language(tmp_path: Path) -> None:
    for name in ("a.py", "README.md", "Makefile", "b.hs"):
        (tmp_path / name).write_text("x\n")
    assert [f.rel_path for f in walk_project(tmp_path, languages={"python"}).files] == ["a.py"]
