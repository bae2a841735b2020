"""Damaged artifacts, the build lock's holder, and `unit` reads (issue 11: 4, 6, 10, 11)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tldr import IndexBusyError, IndexCorruptError
from tldr.paths import IndexPaths
from tldr.semantic import Searcher, build_semantic_index, is_up_to_date, semantic_search
from tldr.semantic.indexing.lock import BuildLock, lock_holder
from tldr.semantic.storage import read_metadata

MODEL = "hash-256"


def _built(project: Path) -> tuple[IndexPaths, object]:
    build_semantic_index(project, model=MODEL)
    paths = IndexPaths(project)
    metadata = read_metadata(paths)
    assert metadata is not None
    return paths, metadata


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":  # same size, other bytes: only the checksum tells
        path.write_bytes(bytes((b + 1) % 256 for b in data))
    else:
        raise ValueError(how)


def _artifact(metadata, kind: str) -> str:
    return {
        "units": metadata.units_file,
        "lexical": metadata.lexical_file,
        "index": metadata.vector_store.index_file,
    }[kind]


def test_commit_records_size_and_checksum_of_every_artifact(project: Path) -> None:
    paths, metadata = _built(project)
    for kind in ("units", "lexical", "index"):
        name = _artifact(metadata, kind)
        assert metadata.artifacts[name].size == (paths.semantic_dir / name).stat().st_size


@pytest.mark.parametrize(
    ("kind", "how"),
    [("lexical", "truncate"), ("index", "truncate"), ("index", "garbage"),
     ("units", "garbage"), ("lexical", "garbage")],
)
def test_damage_is_named_not_up_to_date_and_rebuilt(
    project: Path, kind: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    paths, metadata = _built(project)
    name = _artifact(metadata, kind)
    _damage(paths.semantic_dir / name, how)
    with pytest.raises(IndexCorruptError, match=rf"{name}.*damaged.*tldrf semantic index"):
        semantic_search(project, "parse configuration")
    with caplog.at_level(logging.WARNING):
        assert not is_up_to_date(project)
    assert any(name in record.getMessage() for record in caplog.records)
    report = build_semantic_index(project)  # no --rebuild needed
    assert report.status == "built"  # from scratch: the damaged build is not reused
    assert semantic_search(project, "parse configuration", k=1)
    assert is_up_to_date(project)


def _fails_cleanly_in_a_child(code: str) -> None:
    """Run `code` in a child: SIGBUS would kill it (reported here), not the suite."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    assert "changed on disk" in done.stdout


def test_truncated_mapped_index_fails_cleanly_not_sigbus(project: Path) -> None:
    # In a child process: if the mapping were read past its end, SIGBUS would
    # kill the interpreter, and this test, not the suite, reports it.
    _built(project)
    code = textwrap.dedent(f"""
        import os, sys
        from tldr import IndexCorruptError
        from tldr.semantic import Searcher
        searcher = Searcher({str(project)!r}, view=True)
        build = searcher.build
        path = {str(project)!r} + "/.tldr/cache/semantic/" + build.metadata.vector_store.index_file
        os.truncate(path, 64)
        try:
            build.vector_index.search([0.1] * build.vector_index.dimension, 3)
        except IndexCorruptError as exc:
            print("clean:", exc)
            sys.exit(0)
        print("searched a truncated mapping without noticing")
        sys.exit(1)
    """)
    _fails_cleanly_in_a_child(code)


@pytest.mark.parametrize(("file", "read"), [
    ("units_file", "build.units[0]"),
    ("lexical_file", "build.lexical_index.search('parse configuration', 3)"),
])
def test_truncated_mapped_records_fail_cleanly_not_sigbus(project: Path, file: str,
                                                          read: str) -> None:
    """The unit records and the lexical index are maps too (specs/019)."""
    _built(project)
    code = textwrap.dedent(f"""
        import os, sys
        from tldr import IndexCorruptError
        from tldr.semantic import Searcher
        build = Searcher({str(project)!r}, view=True).build
        os.truncate({str(project)!r} + "/.tldr/cache/semantic/" + build.metadata.{file}, 64)
        try:
            {read}
        except IndexCorruptError as exc:
            print("clean:", exc)
            sys.exit(0)
        print("read a truncated mapping without noticing")
        sys.exit(1)
    """)
    _fails_cleanly_in_a_child(code)


def test_a_truncated_mapped_exact_index_fails_cleanly(tmp_path: Path) -> None:
    """The fast tier's exact index, read as the daemon reads it (a view)."""
    code = textwrap.dedent(f"""
        import os, sys
        import numpy as np
        from tldr import IndexCorruptError
        from tldr.vector_store._exact import ExactIndex, read_exact_file, write_exact_file
        path = {str(tmp_path / "fast.exact.npy")!r}
        matrix = np.random.default_rng(0).random((5000, 64), dtype=np.float32)
        write_exact_file(ExactIndex(np.arange(5000, dtype=np.uint64), matrix), path)
        index = read_exact_file(path, view=True)
        assert len(index.search(matrix[0], 3)[0]) == 3
        os.truncate(path, 64)
        try:
            index.search(matrix[0], 3)
        except IndexCorruptError as exc:
            print("clean:", exc)
            sys.exit(0)
        sys.exit(1)
    """)
    _fails_cleanly_in_a_child(code)


def test_lock_holder_is_named_and_timeout_honoured(project: Path) -> None:
    paths, _ = _built(project)
    holder = BuildLock(paths)
    holder.acquire()
    try:
        assert f"pid {os.getpid()}" in lock_holder(paths)
        code = (f"from tldr.semantic import build_semantic_index\n"
                f"build_semantic_index({str(project)!r}, rebuild=True, lock_timeout=1.5)\n")
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
        waited = time.monotonic() - started
    finally:
        holder.release()
    assert done.returncode != 0
    assert "waiting for the build lock" in done.stderr  # said while it waited
    assert f"held by pid {os.getpid()}" in done.stderr
    assert waited < 60
    assert not (paths.semantic_dir / ".lock.info").exists()
    with pytest.raises(IndexBusyError, match="held by"):
        other = BuildLock(paths)
        holder.acquire()
        try:
            other.acquire(timeout=0)
        finally:
            holder.release()


def test_cli_lock_timeout_option(project: Path) -> None:
    paths, _ = _built(project)
    holder = BuildLock(paths)
    holder.acquire()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tldr.cli", "semantic", "index", "--rebuild",
             "--lock-timeout", "0", str(project)],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        holder.release()
    assert done.returncode == 2
    assert "held by pid" in done.stderr and "Traceback" not in done.stderr


def test_unit_read_does_not_follow_a_symlink_swapped_in(project: Path, tmp_path: Path) -> None:
    build_semantic_index(project, model=MODEL)
    searcher = Searcher(project)
    unit = searcher.build.units[0]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n" * 500)
    target = project / unit.file
    target.unlink()
    target.symlink_to(secret)
    row = searcher.get_unit(qualified_name=unit.qualified_name, file=unit.file)
    assert "TOP SECRET" not in row["source"]
