"""Build reports say what is there and what was done (issue 12, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tldr.cli import main
from tldr.semantic import build_semantic_index


def test_up_to_date_report_names_the_active_build(project: Path) -> None:
    built = build_semantic_index(project, model="hash-256")
    again = build_semantic_index(project)
    assert again.status == "up_to_date"
    assert again.build_id == built.build_id and again.build_id
    assert (again.units, again.files) == (built.units, built.files) and again.units > 0


def test_embedded_counts_what_the_model_embedded(project: Path) -> None:
    built = build_semantic_index(project, model="hash-256")
    assert built.embedded == built.units
    rebuilt = build_semantic_index(project, rebuild=True)  # every vector is in the cache
    assert rebuilt.status == "built" and rebuilt.units == built.units
    assert rebuilt.embedded == 0
    (project / "src" / "fresh.py").write_text("def brand_new_helper():\n    return 1\n")
    updated = build_semantic_index(project)
    assert updated.embedded == 1


def test_cli_json_of_an_up_to_date_index(project: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["semantic", "index", "-p", str(project), "--model", "hash-256", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["semantic", "index", "-p", str(project), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "up_to_date" and report["build_id"] == first["build_id"]
    assert report["units"] == first["units"] and report["files"] == first["files"]
    assert main(["semantic", "index", "-p", str(project)]) == 0
    assert f"build {first['build_id']}, {first['units']} units" in capsys.readouterr().out
