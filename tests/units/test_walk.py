"""Walking a project tree: ignore files, skipped directories and skip reasons."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tldr.units import SkippedFile, WalkResult, load_source, walk_project
from tldr.units.walk import MAX_LISTED_SKIPS


def _write(root: Path, rel: str, data: bytes | str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _paths(root: Path, **kwargs: object) -> list[str]:
    return [f.rel_path for f in walk_project(root, **kwargs).files]  # type: ignore[arg-type]


def test_sorted_order_and_metadata(tmp_path: Path) -> None:
    for rel in ("b.py", "a/z.go", "a/b.rs", "README.md", "c.js"):
        _write(tmp_path, rel)
    result = walk_project(tmp_path)
    assert [f.rel_path for f in result.files] == ["README.md", "a/b.rs", "a/z.go", "b.py", "c.js"]
    first = result.files[1]
    assert (first.language, first.size) == ("rust", 6)
    assert first.abs_path == tmp_path.resolve() / "a" / "b.rs"
    assert first.mtime_ns > 0
    assert result.skipped == {}


def test_nested_gitignore_applies_relative_to_its_directory(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "*.gen.py\nlogs/\n")
    _write(tmp_path, "sub/.gitignore", "local.py\n!keep.gen.py\n")
    for rel in (
        "a.gen.py",
        "local.py",
        "sub/local.py",
        "sub/keep.gen.py",
        "sub/x.gen.py",
        "logs/a.py",
        "sub/logs/b.py",
        "ok.py",
    ):
        _write(tmp_path, rel)
    assert _paths(tmp_path) == ["local.py", "ok.py", "sub/keep.gen.py"]


def test_tldrignore_and_git_info_exclude(tmp_path: Path) -> None:
    _write(tmp_path, ".tldrignore", "generated/\n")
    _write(tmp_path, ".git/info/exclude", "secret.py\n")
    for rel in ("generated/a.py", "secret.py", "main.py", ".git/hooks/x.py"):
        _write(tmp_path, rel)
    assert _paths(tmp_path) == ["main.py"]


def test_vendored_and_build_directories_are_skipped(tmp_path: Path) -> None:
    for rel in (
        "node_modules/x/index.js",
        "vendor/a.go",
        ".venv/lib/a.py",
        "build/o.c",
        "__pycache__/m.py",
        "src/dist/bundle.js",
        "app.min.js",
        "src/app.js",
    ):
        _write(tmp_path, rel)
    assert _paths(tmp_path) == ["src/app.js"]


def test_a_build_package_inside_a_python_package_is_source(tmp_path: Path) -> None:
    for rel in (
        "build/lib/pkg/__init__.py",  # build output: skipped
        "pkg/__init__.py",
        "pkg/semantic/__init__.py",
        "pkg/semantic/indexing/pipeline.py",  # a namespace package named build in a package
        "pkg/dist/__init__.py",  # a regular package named dist
        "pkg/dist/wheel.py",
        "web/dist/bundle.js",  # not in a package: output
    ):
        _write(tmp_path, rel)
    assert _paths(tmp_path) == ["pkg/__init__.py", "pkg/dist/__init__.py", "pkg/dist/wheel.py",
                                "pkg/semantic/__init__.py", "pkg/semantic/indexing/pipeline.py"]
    from tldr.daemon.watcher import ChangeFilter

    changes = ChangeFilter(tmp_path)
    assert changes.classify(str(tmp_path / "pkg/semantic/indexing/pipeline.py")) == "source"
    assert changes.classify(str(tmp_path / "build/lib/pkg/__init__.py")) is None


def test_languages_filter(tmp_path: Path) -> None:
    _write(tmp_path, "a.py")
    _write(tmp_path, "b.go")
    assert _paths(tmp_path, languages={"go"}) == ["b.go"]


def test_huge_file_is_counted(tmp_path: Path) -> None:
    _write(tmp_path, "big.py", "x = 1\n" * 100)
    _write(tmp_path, "small.py")
    result = walk_project(tmp_path, max_file_bytes=100)
    assert [f.rel_path for f in result.files] == ["small.py"]
    assert result.skipped == {"too_large": 1}


def test_symlinks_outside_the_root_are_skipped(tmp_path: Path) -> None:
    outside = _write(tmp_path, "outside/lib.py")
    root = tmp_path / "project"
    _write(root, "main.py")
    (root / "link.py").symlink_to(outside)
    (root / "inner.py").symlink_to(root / "main.py")
    (root / "linkdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert _paths(root) == ["inner.py", "main.py"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\x00\x01binary", "binary"), (b"\xe9\xff\xfe = 1", "undecodable")],
)
def test_load_source_refuses_binary_and_undecodable(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    path = _write(tmp_path, "f.py", data)
    with pytest.raises(SkippedFile) as caught:
        load_source(path)
    assert caught.value.reason == reason


def test_one_invalid_byte_is_decoded_with_replacement(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.py", b"# caf\xe9\ndef greet():\n    return 1\n")
    loaded = load_source(path)
    assert loaded.decoded_with_replacement
    assert loaded.data == path.read_bytes()
    assert not load_source(_write(tmp_path, "ok.py", "x = 'é'\n")).decoded_with_replacement


def test_load_source_reads_text_and_refuses_growth(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.py", "x = 'é'\n")
    assert load_source(path).data == "x = 'é'\n".encode()
    with pytest.raises(SkippedFile) as caught:
        load_source(path, max_file_bytes=3)
    assert caught.value.reason == "too_large"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.py")
    path.chmod(0)
    try:
        result = walk_project(tmp_path)
        assert [f.rel_path for f in result.files] == ["locked.py"]
        with pytest.raises(SkippedFile) as caught:
            load_source(result.files[0].abs_path)
        result.count_skip(caught.value.reason, "locked.py")
        assert result.skipped == {"unreadable": 1}
        assert result.skipped_paths == [("locked.py", "unreadable")]
    finally:
        path.chmod(0o644)


def test_file_gone_since_the_walk_is_vanished(tmp_path: Path) -> None:
    path = _write(tmp_path, "gone.py")
    [walked] = walk_project(tmp_path).files
    path.unlink()
    with pytest.raises(SkippedFile) as caught:
        load_source(walked.abs_path)
    assert caught.value.reason == "vanished"


def test_many_files_walk_quickly(tmp_path: Path) -> None:
    for index in range(2000):
        _write(tmp_path, f"d{index % 20}/f{index}.py")
    assert len(walk_project(tmp_path).files) == 2000


def test_skipped_paths_are_bounded_and_counts_exact() -> None:
    result = WalkResult()
    for index in range(MAX_LISTED_SKIPS + 7):
        result.count_skip("binary", f"f{index}.py")
    assert result.skipped == {"binary": MAX_LISTED_SKIPS + 7}
    assert len(result.skipped_paths) == MAX_LISTED_SKIPS
