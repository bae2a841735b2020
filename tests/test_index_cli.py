"""`tldrf index list|info|rm|gc` and `tldrf cache info|prune`, and the registry behind them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from processes import run_in_processes

from tldr.cli import main
from tldr.daemon.client import stop_daemon
from tldr.daemon.lifecycle import is_running
from tldr.paths import IndexPaths, daemon_files
from tldr.registry import read_registry, record_use, registry_file
from tldr.semantic import build_semantic_index

MINI = Path(__file__).parent / "fixtures" / "projects" / "mini"


@pytest.fixture
def two_indexes(tmp_path: Path) -> tuple[IndexPaths, IndexPaths]:
    """The mini project indexed in-tree, and a copy of it in index mode."""
    in_tree = Path(shutil.copytree(MINI, tmp_path / "intree")).resolve()
    (in_tree / ".tldr").mkdir()
    build_semantic_index(in_tree, model="hash-256")
    other = Path(shutil.copytree(MINI, tmp_path / "other")).resolve()
    index_mode = IndexPaths(other, tmp_path / "cr", "main")
    assert main(["semantic", "index", str(other), "--model", "hash-256", "-q",
                 "--cache-root", str(tmp_path / "cr"), "--index", "main"]) == 0
    return IndexPaths(in_tree, environ=False), index_mode


def _json(capsys, argv: list[str]):  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_list_shows_in_tree_and_index_mode_indexes(two_indexes, capsys) -> None:
    in_tree, index_mode = two_indexes
    rows = _json(capsys, ["index", "list", "--json"])
    by_dir = {row["semantic_dir"]: row for row in rows}
    assert set(by_dir) == {str(in_tree.semantic_dir), str(index_mode.semantic_dir)}
    row = by_dir[str(index_mode.semantic_dir)]
    assert row["key"] == index_mode.key and row["mode"] == "index"
    assert row["root"] == str(index_mode.root) and row["backend"] == "usearch"
    assert row["model"] == "hash-256" and row["units"] > 0 and row["size_bytes"] > 0
    assert row["build_id"] and row["last_used"] and row["daemon_pid"] is None
    assert by_dir[str(in_tree.semantic_dir)]["key"] == "in-tree"
    # The text table names both.
    assert main(["index", "list"]) == 0
    text = capsys.readouterr().out
    assert index_mode.key in text and str(in_tree.root) in text


def test_index_mode_dirs_are_found_without_the_registry(two_indexes, capsys) -> None:
    _, index_mode = two_indexes
    registry_file().unlink()
    rows = _json(capsys, ["index", "list", "--json", "--cache-root", str(index_mode.cache_root)])
    assert [row["key"] for row in rows] == [index_mode.key]


def test_info_by_key_and_by_path(two_indexes, capsys) -> None:
    in_tree, index_mode = two_indexes
    assert _json(capsys, ["index", "info", str(index_mode.key), "--json"])["root"] == \
        str(index_mode.root)
    row = _json(capsys, ["index", "info", str(index_mode.root), "--cache-root",
                         str(index_mode.cache_root), "--index", "main", "--json"])
    assert row["key"] == index_mode.key
    assert _json(capsys, ["index", "info", str(in_tree.root), "--json"])["mode"] == "in-tree"
    assert main(["index", "info", "no-such-key"]) != 0
    assert "no index known" in capsys.readouterr().err


def test_rm_stops_the_daemon_then_deletes(two_indexes, capsys) -> None:
    from tldr.daemon.client import ensure_daemon

    in_tree, _ = two_indexes
    files = daemon_files(in_tree.root, paths=in_tree)
    try:
        ensure_daemon(files)
        assert is_running(files)
        assert _json(capsys, ["index", "list", "--json"])[0]["daemon_pid"]
        result = _json(capsys, ["index", "rm", str(in_tree.root), "--json"])
        assert result["freed_bytes"] > 0
        assert not is_running(files)
        assert not in_tree.semantic_dir.exists()
        assert str(in_tree.semantic_dir) not in read_registry()
    finally:
        stop_daemon(files, timeout=5.0)


def test_rm_waits_for_the_build_lock(two_indexes, capsys) -> None:
    from filelock import FileLock

    _, index_mode = two_indexes
    with FileLock(str(index_mode.lock)):
        assert main(["index", "rm", str(index_mode.key), "--lock-timeout", "0.2"]) != 0
    assert "holds" in capsys.readouterr().err
    assert index_mode.metadata.exists()
    assert main(["index", "rm", str(index_mode.key)]) == 0
    assert not index_mode.index_dir.exists()


def test_gc_removes_vanished_projects_and_old_files(two_indexes, capsys) -> None:
    in_tree, index_mode = two_indexes
    legacy = in_tree.legacy_embeddings
    legacy.write_bytes(b"x" * 5000)
    for _ in range(4):  # more versions than a build keeps around
        build_semantic_index(in_tree.root, rebuild=True)
    shutil.rmtree(index_mode.root)
    result = _json(capsys, ["index", "gc", "--json"])
    removed = {(action["index"], action["removed"]) for action in result["actions"]}
    assert (index_mode.key, "the index (its project is gone)") in removed
    assert (str(in_tree.root), "embeddings.sqlite") in removed
    assert result["freed_bytes"] >= 5000
    assert not index_mode.index_dir.exists() and not legacy.exists()
    assert in_tree.metadata.exists()
    rows = _json(capsys, ["index", "list", "--json"])
    assert [row["root"] for row in rows] == [str(in_tree.root)]
    assert main(["semantic", "search", "merge", "--path", str(in_tree.root), "--no-daemon"]) == 0


def test_cache_info_and_prune(two_indexes, capsys) -> None:
    info = _json(capsys, ["cache", "info", "--json"])
    assert info["vectors"] > 0 and info["spaces"][0]["model"] == "hash-256"
    assert main(["cache", "info"]) == 0
    assert "hash-256" in capsys.readouterr().out
    pruned = _json(capsys, ["cache", "prune", "--max-mb", "0", "--json"])
    assert pruned["evicted"] == info["vectors"]
    assert _json(capsys, ["cache", "info", "--json"])["vectors"] == 0


def test_cache_prune_rejects_a_negative_bound_in_one_line(two_indexes, capsys) -> None:
    vectors = _json(capsys, ["cache", "info", "--json"])["vectors"]
    assert main(["cache", "prune", "--max-mb", "-1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "zero or more" in err
    assert _json(capsys, ["cache", "info", "--json"])["vectors"] == vectors


def _register(root: str, count: int) -> None:
    for n in range(count):
        record_use(IndexPaths(Path(root) / f"p{n}", environ=False))


def test_registry_keeps_every_entry_under_concurrent_writers(tmp_path: Path) -> None:
    run_in_processes(_register, [(str(tmp_path / f"w{w}"), 25) for w in range(4)], 60)
    assert len(read_registry()) == 100


def test_a_broken_registry_reads_as_empty_and_is_rewritten(tmp_path: Path) -> None:
    registry_file().parent.mkdir(parents=True, exist_ok=True)
    registry_file().write_text("{not json")
    assert read_registry() == {}
    record_use(IndexPaths(tmp_path, environ=False))
    assert list(read_registry()) == [str(IndexPaths(tmp_path, environ=False).semantic_dir)]


def test_sizes_count_a_hard_linked_file_once_and_free_only_what_is_unlinked(
        tmp_path: Path) -> None:
    from tldr.indexes import _size

    index = tmp_path / "index"
    index.mkdir()
    (index / "units.a.msgpack").write_bytes(b"x" * 100_000)
    os.link(index / "units.a.msgpack", index / "units.b.msgpack")  # a kept build, linked
    (index / "own.bin").write_bytes(b"y" * 50_000)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.link(index / "own.bin", elsewhere / "copy.bin")
    def blocks(path: Path) -> int:
        return os.stat(path).st_blocks * 512

    linked, own = blocks(index / "units.a.msgpack"), blocks(index / "own.bin")
    assert _size(index) == linked + own  # as `du` counts: the linked pair once
    assert _size(index, freed=True) == linked  # own.bin stays on disk through its other link


def test_the_in_tree_key_names_how_to_remove_such_an_index(capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    assert main(["index", "rm", "in-tree"]) == 1
    assert "tldrf index rm PATH" in capsys.readouterr().err
