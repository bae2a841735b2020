"""A search whose connection drops before the answer is repeated once."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from tldr._exceptions import DaemonError
from tldr.daemon.client import search_via_daemon
from tldr.paths import daemon_files


def _serve(path: str, answers: list[bytes | None]) -> threading.Thread:
    """Accept one connection per answer: None closes it unanswered."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def run() -> None:
        with server:
            for answer in answers:
                connection, _ = server.accept()
                with connection, connection.makefile("rwb") as stream:
                    request = json.loads(stream.readline())
                    if answer is not None:
                        reply = {
                            "jsonrpc": "2.0",
                            "id": request["id"],
                            "result": json.loads(answer),
                        }
                        stream.write(json.dumps(reply).encode() + b"\n")
                        stream.flush()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_dropped_search_is_retried_once(tmp_path: Path) -> None:
    files = daemon_files(tmp_path)
    result = {
        "results": [{"name": "f"}],
        "build_id": "b",
        "took_ms": 1.0,
        "embed_ms": 0.0,
        "stale": False,
    }
    thread = _serve(files.socket, [None, json.dumps(result).encode()])
    assert search_via_daemon(tmp_path, "query", timeout=5) == [{"name": "f"}]
    thread.join(timeout=5)


def test_a_second_drop_is_reported(tmp_path: Path) -> None:
    files = daemon_files(tmp_path)
    thread = _serve(files.socket, [None, None])
    with pytest.raises(DaemonError, match="closed the connection"):
        search_via_daemon(tmp_path, "query", timeout=5)
    thread.join(timeout=5)
