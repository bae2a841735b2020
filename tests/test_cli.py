from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tldr.cli import build_parser, main

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "projects" / "mini"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "mini"
    shutil.copytree(FIXTURE, root)
    return root


def test_index_search_info_round_trip(project: Path, capsys) -> None:
    assert main(["semantic", "index", str(project), "--model", "hash-256"]) == 0
    assert "built:" in capsys.readouterr().out
    assert main(["semantic", "index", str(project)]) == 0
    assert capsys.readouterr().out.startswith("up to date")

    assert (
        main(["semantic", "search", "retry with backoff", "--path", str(project), "-k", "3",
              "--no-daemon"]) == 0
    )
    table = capsys.readouterr().out
    assert "src/retry.py:4-11" in table and "retry_with_backoff" in table

    assert main(["semantic", "search", "merge", "--path", str(project), "--json",
                 "--no-daemon"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["qualified_name"] == "merge_settings"

    assert main(["semantic", "info", str(project), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"] == "hash-256"
    assert info["vector_store"]["backend"] == "usearch"
    assert info["vector_store"]["index_file"] in info["versions_on_disk"]

    assert main(["semantic", "info", str(project)]) == 0
    text = capsys.readouterr().out
    assert "backend:        usearch" in text and "skipped files:  none" in text


def test_rebuild_prints_a_new_build_id(project: Path, capsys) -> None:
    main(["semantic", "index", str(project), "--model", "hash-256", "--json"])
    first = json.loads(capsys.readouterr().out)["build_id"]
    main(["semantic", "index", "--rebuild", str(project), "--json"])
    second = json.loads(capsys.readouterr().out)["build_id"]
    assert first and second and first != second


def test_missing_index_is_one_line_and_exit_code_2(project: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tldr.cli", "semantic", "search", "x", "--path", str(project),
         "--no-daemon"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"tldrf: error: no semantic index for {project}; run: tldrf semantic index {project}"
    ]


def test_bad_language_is_a_clean_error(project: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:  # a usage error, as on `search` (issue 21)
        main(["semantic", "index", str(project), "--lang", "cobol"])
    assert exited.value.code == 2
    assert "unknown language(s): cobol" in capsys.readouterr().err


def test_help_lists_every_semantic_command() -> None:
    help_text = build_parser().format_help()
    assert "semantic" in help_text
    semantic_help = subprocess.run(
        [sys.executable, "-m", "tldr.cli", "semantic", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("index", "search", "info"):
        assert command in semantic_help


def test_cli_import_stays_light() -> None:
    code = (
        "import sys, tldr.cli\n"
        "heavy = [m for m in ('numpy', 'torch', 'usearch', 'tree_sitter', "
        "'sentence_transformers', 'tldr.semantic') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_semantic_import_loads_no_backend_library() -> None:
    code = (
        "import sys, tldr.semantic\n"
        "print(','.join(m for m in ('usearch', 'faiss', 'qdrant_client', 'torch', "
        "'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_reference_matches_help_output() -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_cli_docs.py"
    completed = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                               text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def _subcommand_paths(parser, path=()):  # type: ignore[no-untyped-def]
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _subcommand_paths(child, (*path, name))


def test_parser_built_for_argv_has_the_same_help() -> None:
    full = dict(_subcommand_paths(build_parser()))
    assert ("semantic", "search") in full and ("daemon", "status") in full
    for path, parser in full.items():
        pruned = dict(_subcommand_paths(build_parser([*path, "--help"])))
        assert pruned[path].format_help() == parser.format_help(), path
    assert len(dict(_subcommand_paths(build_parser(["semantic", "search", "q"])))) == 3
    assert len(dict(_subcommand_paths(build_parser(["impact", "force_str"])))) == 2


def test_wrong_subcommand_lists_every_choice(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["semantic", "serch", "q"])
    err = capsys.readouterr().err
    assert "invalid choice: 'serch'" in err and "'configure'" in err
    with pytest.raises(SystemExit):
        main(["semantik"])
    assert "'plugins'" in capsys.readouterr().err
