"""`tldrf semantic search` through a real daemon subprocess (the default path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tldr.cli import main
from tldr.paths import daemon_files


def test_search_goes_through_an_autostarted_daemon(indexed_project: Path, capsys) -> None:
    assert (
        main(
            [
                "semantic",
                "search",
                "retry with backoff",
                "--path",
                str(indexed_project),
                "-k",
                "2",
                "--json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "retry_with_backoff"
    assert main(["daemon", "status", "--path", str(indexed_project), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["stats"]["searches"] >= 1
    assert status["index"]["backend_health"] == {"healthy": True, "detail": "ok"}
    assert main(["daemon", "status", "--path", str(indexed_project)]) == 0
    assert "backend:    health ok" in capsys.readouterr().out


def test_daemon_search_options_match_in_process(indexed_project: Path, capsys) -> None:
    common = [
        "semantic",
        "search",
        "parse config",
        "--path",
        str(indexed_project),
        "--format",
        "json",
        "--expand",
        "--budget-tokens",
        "3000",
        "--unit-type",
        "function",
    ]
    assert main(common) == 0
    through_daemon = json.loads(capsys.readouterr().out)
    assert main([*common, "--no-daemon"]) == 0
    in_process = json.loads(capsys.readouterr().out)
    assert through_daemon == in_process
    assert through_daemon[0]["callees"] and "snippet" in through_daemon[0]


def test_files_mode(indexed_project: Path, capsys) -> None:
    assert (
        main(["semantic", "search", "http server", "--path", str(indexed_project), "--files"]) == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("web/server.go")


def test_daemon_query_sends_raw_requests(indexed_project: Path, capsys) -> None:
    assert (
        main(
            [
                "daemon",
                "query",
                "unit",
                '{"qualified_name": "merge_settings"}',
                "--path",
                str(indexed_project),
            ]
        )
        == 0
    )
    unit = json.loads(capsys.readouterr().out)
    assert unit["source"].startswith("def merge_settings")
    assert (
        main(
            [
                "daemon",
                "query",
                "unit",
                '{"qualified_name": "nope"}',
                "--path",
                str(indexed_project),
            ]
        )
        == 1
    )
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == -32602 and "no unit" in error["message"]
    assert main(["daemon", "query", "ping", "[1]", "--path", str(indexed_project)]) == 1
    assert "JSON object" in capsys.readouterr().err


def test_thin_client_imports_nothing_heavy(indexed_project: Path) -> None:
    from tldr.daemon.client import ensure_daemon

    ensure_daemon(daemon_files(indexed_project))  # warm: the client need not start one
    code = (
        "import sys\n"
        "from tldr.cli import main\n"
        f"main(['semantic', 'search', 'retry', '--path', {str(indexed_project)!r}, '-k', '1'])\n"
        "heavy = [m for m in ('numpy', 'torch', 'usearch', 'tree_sitter', "
        "'sentence_transformers', 'tldr.semantic', 'tldr.mcp', 'platformdirs', "
        # slow to import, so kept off the path a warm search takes (it needs ~15 ms):
        "'msgspec', 'logging', 'inspect', 'dataclasses', 'tempfile', 'subprocess', 'shutil', "
        # progress display loads only while a search waits for a first build:
        "'tldr.progress') "
        "if m in sys.modules]\n"
        "print('HEAVY', ','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "retry_with_backoff" in out
    assert out.strip().splitlines()[-1] == "HEAVY"


def test_verbose_search_names_the_build_and_its_timing(indexed_project: Path, capsys) -> None:
    assert main(["semantic", "search", "retry", "-p", str(indexed_project), "-v", "-k", "1"]) == 0
    err = capsys.readouterr().err
    assert "tldrf: build " in err and "ms embedding the query" in err
    assert main(["-q", "semantic", "search", "retry", "-p", str(indexed_project), "-k", "1"]) == 0
    assert capsys.readouterr().err == ""
