"""`tldrf warm` and `tldrf daemon ...` handlers, called with explicit args."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

from tldr.cli.daemon import NOT_RUNNING, add_commands
from tldr.daemon.lifecycle import wait_ready
from tldr.paths import daemon_files


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tldrf")
    add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["daemon", "status", "--help"], ["warm", "--help"], ["daemon", "--help"]):
        with pytest.raises(SystemExit):
            _run(argv)
        assert "examples:" in capsys.readouterr().out


def test_status_when_not_running(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["daemon", "status", "--path", str(built), "--json"]) == NOT_RUNNING
    assert json.loads(capsys.readouterr().out)["running"] is False


def test_warm_start_status_stop(built: Path, stop_after: list[Path],
                                capsys: pytest.CaptureFixture[str]) -> None:
    stop_after.append(built)
    started = time.perf_counter()
    assert _run(["warm", str(built), "--json"]) == 0
    assert time.perf_counter() - started < 0.3
    assert json.loads(capsys.readouterr().out)["started"] is True
    wait_ready(daemon_files(built), timeout=20)
    assert _run(["warm", str(built)]) == 0
    assert "update scheduled" in capsys.readouterr().out
    assert _run(["daemon", "start", "--path", str(built)]) == 0
    assert "already running" in capsys.readouterr().out
    assert _run(["daemon", "status", "--path", str(built)]) == 0
    text = capsys.readouterr().out
    assert "watcher:" in text and "build:" in text
    assert _run(["daemon", "status", "--path", str(built), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["running"] is True and status["rss_bytes"] > 0
    assert _run(["daemon", "restart", "--path", str(built)]) == 0
    assert "started" in capsys.readouterr().out
    assert _run(["daemon", "logs", "--path", str(built), "-n", "200"]) == 0
    assert f"serving {built}" in capsys.readouterr().out
    assert _run(["daemon", "stop", "--path", str(built)]) == 0
    assert "stopped" in capsys.readouterr().out
    assert _run(["daemon", "stop", "--path", str(built)]) == 0
    assert "no daemon running" in capsys.readouterr().out


def test_status_during_a_first_build_does_not_ask_for_a_build() -> None:
    from tldr.cli.daemon import _format_status

    status = {
        "state": "starting", "root": "/p", "pid": 1, "version": "0", "uptime_s": 1.0,
        "rss_bytes": None, "index": None,
        "index_error": "no semantic index for /p; run: tldrf semantic index /p",
        "build": {"state": "running", "progress": {"stage": "embed", "done": 5, "total": 9},
                  "last": None, "last_error": None, "failures": 0, "retry_at": None,
                  "worker_pid": 2},
        "queue": {"pending_build": None, "changed_paths": 0},
        "stats": {"searches": 0, "builds": 0, "build_failures": 0, "notified_paths": 0,
                  "search_ms": None, "search_own_ms": None},
        "settings": {"debounce_ms": 2000, "worker_idle_timeout_s": 120},
        "socket": "/run/x.sock", "in_flight": 0, "connections": 1,
        "watcher": {"state": "watching", "events": 0},
    }
    text = _format_status(status)
    assert "run: tldrf semantic index" not in text
    assert "the first build is running" in text and "embed 5/9" in text
