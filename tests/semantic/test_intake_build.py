"""Full builds of hostile trees: nothing hangs or fails, every skip is named.

Covers issue 11 items 2-3 and issue 12 item 5 end to end: build, search,
`unit` (in-process and through the daemon) and `semantic info --skipped`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldr.cli import main
from tldr.daemon.client import stop_daemon
from tldr.paths import daemon_files
from tldr.semantic import Searcher, build_semantic_index, index_info

MODEL = "hash-256"
BAD_NAME = b"app/bad\xff.py"
BAD_NAME_SHOWN = "app/bad\\xff.py"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX names and file types")


def _write(root: Path, rel: str | bytes, data: bytes) -> None:
    path = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Path]:
    """A project holding one of each thing an untrusted tree can throw at the indexer."""
    root = tmp_path / "hostile"
    _write(root, "app/main.py", b"def main_entry():\n    return 'ok'\n")
    _write(root, BAD_NAME, b"def oddly_named_helper():\n    return 1\n")
    _write(root, "app/latin1.py", b"# caf\xe9 au lait\ndef brew_coffee():\n    return 2\n")
    _write(root, "app/image.py", bytes(range(256)) * 8)
    _write(root, "app/minified.js", b"function tiny(){return 1};" + b"var a=1;" * 100_000)
    os.mkfifo(root / "app" / "pipe.py")
    (root / "app" / "loop.py").symlink_to("loop.py")
    (root / ".tldr").mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "app" / "sock.py"))
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.alarm(60)  # a hang fails the test instead of the suite
    try:
        yield root
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        server.close()
        stop_daemon(daemon_files(root), timeout=5.0)


class Hung(Exception):
    """Raised by the alarm; not an OSError, so no `except OSError` swallows it."""


def _expire(signum: int, frame: object) -> None:
    raise Hung("the build hung")


def test_hostile_tree_builds_and_names_every_skip(hostile: Path) -> None:
    report = build_semantic_index(hostile, model=MODEL)
    assert report.status == "built"
    assert report.skipped == {"binary": 1, "minified": 1, "not_regular": 2, "symlink_loop": 1}
    assert report.replaced == 1
    info = index_info(hostile, skipped=True)
    assert sorted((e["path"], e["reason"]) for e in info["skipped_files"]) == [
        ("app/image.py", "binary"),
        ("app/loop.py", "symlink_loop"),
        ("app/minified.js", "minified"),
        ("app/pipe.py", "not_regular"),
        ("app/sock.py", "not_regular"),
    ]
    assert info["replaced_files"] == ["app/latin1.py"]
    assert info["files_replaced"] == 1
    assert "skipped_files" not in index_info(hostile)

    searcher = Searcher(hostile)
    files = {row["file"] for row in searcher.search("brew coffee", k=20)}
    assert {"app/latin1.py", BAD_NAME_SHOWN} <= files

    # An incremental build reuses the unchanged files unread and keeps the notes.
    _write(hostile, "app/main.py", b"def main_entry():\n    return 'changed'\n")
    again = build_semantic_index(hostile, model=MODEL)
    assert again.status == "updated" and again.replaced == 1
    assert index_info(hostile, skipped=True)["replaced_files"] == ["app/latin1.py"]


def test_unit_of_a_badly_named_file_reads_its_current_lines(hostile: Path, capsys) -> None:
    build_semantic_index(hostile, model=MODEL)
    # Same lines, new text: `unit` must read the file itself, not the indexed preview.
    _write(hostile, BAD_NAME, b"def oddly_named_helper():\n    return 'from disk'\n")
    unit = Searcher(hostile).get_unit(qualified_name="oddly_named_helper")
    assert unit["file"] == BAD_NAME_SHOWN
    assert "from disk" in unit["source"]

    request = json.dumps({"file": BAD_NAME_SHOWN, "line": 2})
    assert main(["daemon", "query", "unit", request, "--path", str(hostile)]) == 0
    through_daemon = json.loads(capsys.readouterr().out)
    assert through_daemon["file"] == BAD_NAME_SHOWN
    assert "from disk" in through_daemon["source"]


def test_info_skipped_lists_paths_with_reasons(hostile: Path, capsys) -> None:
    build_semantic_index(hostile, model=MODEL)
    assert main(["semantic", "info", str(hostile), "--skipped"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "not_regular\tapp/pipe.py" in lines
    assert "binary\tapp/image.py" in lines
    assert "decoded_with_replacement\tapp/latin1.py" in lines
    assert main(["semantic", "info", str(hostile), "--skipped", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"path": "app/loop.py", "reason": "symlink_loop"} in payload["skipped_files"]
    assert main(["semantic", "info", str(hostile)]) == 0
    assert "1 files decoded with replacement" in capsys.readouterr().out


def test_max_file_bytes_can_raise_the_limit(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "big"
    body = b"def big_function():\n" + b"    total = 1  # padding the function out\n" * 40_000
    assert len(body) > 1_048_576
    _write(root, "big.py", body)
    (root / ".tldr").mkdir()
    assert build_semantic_index(root, model=MODEL).skipped == {"too_large": 1}
    monkeypatch.setenv("TLDR_MAX_FILE_BYTES", str(4 * 1_048_576))
    report = build_semantic_index(root, model=MODEL, rebuild=True)
    assert report.skipped == {}
    assert report.files == 1 and report.units >= 1
