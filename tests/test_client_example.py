"""scripts/tldrf_client_example.py against a live daemon on the mini project."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tldr.daemon.client import ensure_daemon
from tldr.paths import daemon_files

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "scripts" / "tldrf_client_example.py"
# `tldrf daemon ...` through the daemon's own argparse handlers, so the test does not
# depend on how the CLI is installed.
_TLDRF = shlex.join(
    [
        sys.executable,
        "-c",
        (
            "import argparse, sys; from tldr.cli.daemon import add_commands; "
            "p = argparse.ArgumentParser(); add_commands(p.add_subparsers()); "
            "a = p.parse_args(); sys.exit(a.handler(a))"
        ),
    ]
)


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tldrf_client_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_search_over_the_socket(
    example: ModuleType, indexed_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = daemon_files(indexed_project)
    ensure_daemon(files)
    query = "retry with exponential backoff"
    assert example.main(["--socket", files.socket, query, "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        f"{indexed_project / 'src' / 'retry.py'}:4:1: retry_with_backoff  def "
    )
    assert example.main(["--socket", files.socket, "--json", "--lang", "go", "server"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {row["language"] for row in rows} == {"go"}
    assert example.main(["--socket", files.socket, "--notify", "src/config.py", "x.bin"]) == 0
    assert json.loads(capsys.readouterr().out) == {"accepted": 1, "ignored": 1}


def test_bad_request_reports_the_daemon_error(
    example: ModuleType, indexed_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = daemon_files(indexed_project)
    ensure_daemon(files)
    assert example.main(["--socket", files.socket, "-k", "0", "anything"]) == 1
    assert "code -32602" in capsys.readouterr().err
    with example.Client(files.socket) as client:
        with pytest.raises(example.DaemonRpcError) as caught:
            client.call("no_such_method")
        assert caught.value.code == -32601
        assert client.call("ping")["root"] == str(indexed_project)  # the connection stays usable


def test_starts_the_daemon_and_runs_as_a_script(indexed_project: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--project",
            str(indexed_project),
            "--tldrf",
            _TLDRF,
            "parse the configuration file",
            "-k",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith(str(indexed_project / "src" / "config.py") + ":")


def test_no_daemon_and_no_query(
    example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert example.main(["--socket", str(tmp_path / "none.sock"), "query"]) == 1
    assert "tldrf: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        example.main([])
    assert exited.value.code == 2
