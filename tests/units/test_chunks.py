"""The fallback for text without a grammar: sections by heading or key, else windows."""

from __future__ import annotations

from tldr.units import UNIT_TYPES, extract_units
from tldr.units.chunks import MAX_UNITS_PER_FILE, WINDOW_LINES

README = b"""[![build](https://ci/badge.svg)](https://ci)

# tldrf

Local semantic code search.

## Install

```bash
# not a heading: fenced code
pip install tldrf
```

## Usage
Run it.

### Daemon

Starts by itself.

Old style
---------
Setext heading.
"""


def _spans(units: list) -> list[tuple[str, str, int, int]]:
    return [(u.qualified_name, u.unit_type, u.line, u.end_line) for u in units]


def test_unit_types_are_declared() -> None:
    assert {"section", "chunk"} <= set(UNIT_TYPES)


def test_markdown_sections_follow_headings_outside_fences() -> None:
    units = extract_units(README, path="docs/README.md", language="markdown")
    assert _spans(units) == [
        ("docs.README", "module", 1, 23),
        ("docs.README.tldrf", "section", 3, 5),
        ("docs.README.tldrf.Install", "section", 7, 12),
        ("docs.README.tldrf.Usage", "section", 14, 15),
        ("docs.README.tldrf.Usage.Daemon", "section", 17, 19),
        ("docs.README.tldrf.Old style", "section", 21, 23),
    ]
    install = units[2]
    assert (install.name, install.signature) == ("Install", "## Install")
    assert install.language == "markdown"
    assert "pip install tldrf" in install.code
    assert units[0].code.startswith("[![build]")


YAML = b"""# CI workflow.
name: ci

# When it runs.
on:
  push:
    branches: [main]

jobs:
  test:
    runs-on: ubuntu-latest
---
second: doc
"""


def test_yaml_sections_are_top_level_keys_with_their_comments() -> None:
    units = extract_units(YAML, path=".github/workflows/ci.yml", language="yaml")
    assert _spans(units) == [
        (".github.workflows.ci.name", "section", 1, 2),
        (".github.workflows.ci.on", "section", 4, 7),
        (".github.workflows.ci.jobs", "section", 9, 11),
        (".github.workflows.ci.second", "section", 13, 13),
    ]
    assert [u.docstring for u in units[:2]] == ["CI workflow.", "When it runs."]


TOML = b"""name = "demo"

[project]
version = "1"
dependencies = [
  "a",
]

[[tool.items]]
x = 1
"""


def test_toml_sections_are_keys_and_tables() -> None:
    units = extract_units(TOML, path="pyproject.toml", language="toml")
    assert [(u.name, u.line, u.end_line) for u in units] == [
        ("name", 1, 1),
        ("project", 3, 7),
        ("tool.items", 9, 10),
    ]


def test_json_sections_are_top_level_keys() -> None:
    data = b'{\n  "name": "x",\n  "scripts": {\n    "test": "jest"\n  }\n}\n'
    units = extract_units(data, path="package.json", language="json")
    assert [(u.name, u.unit_type, u.line, u.end_line) for u in units] == [
        ("name", "section", 2, 2),
        ("scripts", "section", 3, 5),
    ]


def test_ini_sections() -> None:
    data = b"; top\nroot = true\n\n[flake8]\nmax-line-length = 99\n\n[mypy]\nstrict = 1\n"
    units = extract_units(data, path="setup.cfg", language="ini")
    assert [(u.name, u.unit_type, u.line, u.end_line) for u in units] == [
        ("setup", "module", 1, 8),
        ("flake8", "section", 4, 5),
        ("mypy", "section", 7, 8),
    ]


def test_other_text_is_cut_into_windows_at_blank_lines() -> None:
    lines = [f"RUN step {i}" if i % 10 else "" for i in range(1, 96)]
    data = ("\n".join(lines) + "\n").encode()
    units = extract_units(data, path="docker/Dockerfile", language="dockerfile")
    spans = [(u.line, u.end_line) for u in units]
    assert spans == [(1, 39), (41, 79), (81, 95)]
    assert all(u.unit_type == "chunk" and u.name == "Dockerfile" for u in units)
    assert all(end - start < WINDOW_LINES for start, end in spans)
    assert units[0].code.startswith("RUN step 1\n")


def test_huge_files_get_wider_windows_not_more_units() -> None:
    data = b"".join(b"line %d\n" % i for i in range(40 * MAX_UNITS_PER_FILE * 2))
    units = extract_units(data, path="data.txt", language="text")
    assert len(units) <= MAX_UNITS_PER_FILE
    assert units[-1].end_line == 40 * MAX_UNITS_PER_FILE * 2


def test_empty_and_structureless_files() -> None:
    assert extract_units(b"\n\n", path="a.md", language="markdown") == []
    units = extract_units(b"just text\nmore\n", path="a.md", language="markdown")
    assert [(u.unit_type, u.line, u.end_line) for u in units] == [("chunk", 1, 2)]
