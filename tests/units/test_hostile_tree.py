"""Walking and reading a tree someone else wrote: FIFOs, sockets, links, bad names.

Every test that could hang on a FIFO runs under `no_hang`, so a regression
fails in seconds instead of stopping the suite.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tldr.units import (
    MAX_LINE_BYTES,
    SkippedFile,
    escape_path,
    extract_units,
    load_source,
    read_regular_file,
    unescape_path,
    walk_project,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")


class Hung(Exception):
    """Raised by the alarm; not an OSError, so no `except OSError` swallows it."""


@contextmanager
def no_hang(seconds: int = 10) -> Iterator[None]:
    """Fail (instead of blocking forever) when the body takes longer than `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise Hung(f"hung for {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _write(root: Path, rel: str | bytes, data: bytes = b"x = 1\n") -> None:
    path = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


@posix_only
def test_fifo_socket_and_links_are_skipped_and_named(tmp_path: Path) -> None:
    _write(tmp_path, "app/main.py")
    os.mkfifo(tmp_path / "app" / "pipe.py")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "app" / "sock.py"))
    (tmp_path / "app" / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "app" / "loop_b.py").symlink_to("loop_a.py")
    (tmp_path / "app" / "dangling.py").symlink_to("missing.py")
    (tmp_path / "app" / "pipe_link.py").symlink_to("pipe.py")
    try:
        with no_hang():
            result = walk_project(tmp_path)
    finally:
        server.close()
    assert [f.rel_path for f in result.files] == ["app/main.py"]
    assert sorted(result.skipped_paths) == [
        ("app/dangling.py", "broken_symlink"),
        ("app/loop_a.py", "symlink_loop"),
        ("app/loop_b.py", "symlink_loop"),
        ("app/pipe.py", "not_regular"),
        ("app/pipe_link.py", "not_regular"),
        ("app/sock.py", "not_regular"),
    ]
    assert result.skipped == {
        "broken_symlink": 1,
        "symlink_loop": 2,
        "not_regular": 3,
    }


@posix_only
def test_fifo_swapped_in_after_the_walk_is_refused_without_blocking(tmp_path: Path) -> None:
    _write(tmp_path, "app/pipe.py")
    [walked] = walk_project(tmp_path).files
    os.unlink(walked.abs_path)
    os.mkfifo(walked.abs_path)
    with no_hang(), pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "not_regular"


@posix_only
def test_symlink_swapped_in_after_the_walk_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("password = 'hunter2'\n")
    _write(tmp_path, "project/app.py")
    [walked] = walk_project(tmp_path / "project").files
    os.unlink(walked.abs_path)
    os.symlink(outside, walked.abs_path)
    with pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "not_regular"


def test_linked_file_inside_the_root_is_read_through_its_target(tmp_path: Path) -> None:
    _write(tmp_path, "real.py", b"def real():\n    pass\n")
    (tmp_path / "alias.py").symlink_to("real.py")
    files = {f.rel_path: f for f in walk_project(tmp_path).files}
    assert files["alias.py"].abs_path == tmp_path.resolve() / "real.py"
    assert load_source(files["alias.py"].abs_path).data.startswith(b"def real")


@posix_only
def test_fifo_named_gitignore_does_not_hang_the_walk(tmp_path: Path) -> None:
    _write(tmp_path, "sub/a.py")
    os.mkfifo(tmp_path / ".gitignore")
    os.mkfifo(tmp_path / "sub" / ".tldrignore")
    with no_hang():
        assert [f.rel_path for f in walk_project(tmp_path).files] == ["sub/a.py"]


@posix_only
def test_fifo_named_gitignore_does_not_hang_the_watcher(tmp_path: Path) -> None:
    from tldr.daemon.watcher import ChangeFilter

    os.mkfifo(tmp_path / ".gitignore")
    _write(tmp_path, ".tldrignore", b"gen.py\n")
    with no_hang():
        change_filter = ChangeFilter(tmp_path)
    assert change_filter.classify("gen.py") is None
    assert change_filter.classify("main.py") == "source"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="mknod needs root")
def test_device_node_is_never_opened(tmp_path: Path) -> None:
    os.mknod(tmp_path / "null.py", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    result = walk_project(tmp_path)
    assert result.files == []
    assert result.skipped_paths == [("null.py", "not_regular")]
    with pytest.raises(SkippedFile) as caught:
        load_source(tmp_path / "null.py")
    assert caught.value.reason == "not_regular"


def test_linked_gitignore_still_applies(tmp_path: Path) -> None:
    _write(tmp_path, "shared-ignore", b"gen.py\n")
    (tmp_path / ".gitignore").symlink_to("shared-ignore")
    _write(tmp_path, "gen.py")
    _write(tmp_path, "main.py")
    indexed = [f.rel_path for f in walk_project(tmp_path).files]
    assert "main.py" in indexed and "gen.py" not in indexed


def test_directory_named_like_a_source_file_is_walked(tmp_path: Path) -> None:
    _write(tmp_path, "pkg.py/inner.py")
    (tmp_path / "empty.go").mkdir()
    result = walk_project(tmp_path)
    assert [f.rel_path for f in result.files] == ["pkg.py/inner.py"]
    assert result.skipped == {}


def test_directory_swapped_in_after_the_walk_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.py")
    [walked] = walk_project(tmp_path).files
    os.unlink(walked.abs_path)
    os.mkdir(walked.abs_path)
    with pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "not_regular"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root lists anything")
def test_unlistable_directory_is_counted(tmp_path: Path) -> None:
    _write(tmp_path, "locked/a.py")
    _write(tmp_path, "ok.py")
    (tmp_path / "locked").chmod(0)
    try:
        result = walk_project(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.rel_path for f in result.files] == ["ok.py"]
    assert result.skipped_paths == [("locked/", "unreadable")]


@pytest.mark.skipif(os.name != "posix", reason="bytes names")
def test_name_that_is_not_utf8_is_walked_escaped_and_readable(tmp_path: Path) -> None:
    _write(tmp_path, b"app/bad\xff.py", b"def bad_name():\n    return 1\n")
    _write(tmp_path, "app/back\\slash.py")
    _write(tmp_path, b"app/new\nline.py")
    files = walk_project(tmp_path).files
    assert [f.rel_path for f in files] == [
        "app/back\\\\slash.py",
        "app/bad\\xff.py",
        "app/new\\x0aline.py",
    ]
    for walked in files:
        walked.rel_path.encode("utf-8")  # storable as it is
        assert (tmp_path.resolve() / unescape_path(walked.rel_path)) == walked.abs_path
        assert load_source(walked.abs_path).data


def test_escape_path_round_trips_every_name() -> None:
    rng = random.Random(11)
    alphabet = [b"a", b"/", b"\\", b"x", b"ff", b"\xff", b"\x80", b"\xc3\xa9", b"\xe2\x82", b"u",
                b"\n", b"\t", b"\x7f", b"0a"]
    for _ in range(5000):
        raw = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12)))
        name = os.fsdecode(raw) if os.name == "posix" else raw.decode("utf-8", "replace")
        escaped = escape_path(name)
        escaped.encode("utf-8")
        assert unescape_path(escaped) == name
    assert escape_path("src/app.py") == "src/app.py"
    assert escape_path("bad\udcff.py") == "bad\\xff.py"
    assert escape_path("half\ud800.py") == "half\\ud800.py"
    assert unescape_path("half\\ud800.py") == "half\ud800.py"
    assert escape_path("new\nline.py") == "new\\x0aline.py"


def test_read_regular_file_bounds_what_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, max_bytes=100) == b"x" * 100
    with pytest.raises(SkippedFile) as caught:
        read_regular_file(path, max_bytes=99)
    assert caught.value.reason == "too_large"


def test_binary_file_with_a_text_extension_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "image.py", bytes(range(256)) * 64)
    [walked] = walk_project(tmp_path).files
    with pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "binary"


def test_minified_file_is_skipped_quickly(tmp_path: Path) -> None:
    bundle = b"function a(b){return b};" + b"var c=function(d){return d};" * 30_000
    _write(tmp_path, "bundle.js", bundle)
    [walked] = walk_project(tmp_path).files
    started = time.perf_counter()
    with pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "minified"
    assert time.perf_counter() - started < 1


def test_long_line_is_blanked_and_the_rest_indexed(tmp_path: Path) -> None:
    blob = b"BLOB = '" + b"QUJD" * (MAX_LINE_BYTES // 4) + b"'\n"
    source = b"def before():\n    return 1\n" + blob + b"def after():\n    return 2\n"
    _write(tmp_path, "mixed.py", source + b"# padding comment\n" * (len(blob) // 18 + 1))
    [walked] = walk_project(tmp_path).files
    loaded = load_source(walked.abs_path)
    assert loaded.blanked_lines == 1
    assert len(loaded.data) == len(walked.abs_path.read_bytes())
    units = extract_units(loaded.data, path="mixed.py", language="python")
    lines = {unit.name: unit.line for unit in units}
    assert (lines["before"], lines["after"]) == (1, 4)
    assert all(len(unit.code) <= 4000 for unit in units)


def test_deep_nesting_is_walked_without_recursion(tmp_path: Path) -> None:
    rel = "/".join(["d"] * 300) + "/deep.py"
    _write(tmp_path, rel)
    assert [f.rel_path for f in walk_project(tmp_path).files] == [rel]


@pytest.mark.stress
def test_hundred_thousand_empty_files_walk_fast(tmp_path: Path) -> None:
    for directory in range(100):
        folder = tmp_path / f"pkg{directory}"
        folder.mkdir()
        for index in range(1000):
            (folder / f"m{index}.py").touch()
    started = time.perf_counter()
    result = walk_project(tmp_path)
    seconds = time.perf_counter() - started
    assert len(result.files) == 100_000
    assert seconds < 30, f"walk of 100k files took {seconds:.1f}s"
