"""Finding the source files of a project.

Honours `.gitignore` and `.tldrignore` at every directory level (patterns
are relative to the file's directory, deeper files win, `!` re-includes)
and `.git/info/exclude`; always skips VCS, cache, vendored and build
directories and symlinks that leave the root. Files are only stat'ed here;
reading happens once, later, through `tldr.units.source.load_source`.

The tree is untrusted: only regular files are kept (FIFOs, sockets and
devices are never opened), and whatever cannot be walked (a symlink loop, a
file gone since its directory was listed, an unlistable directory) is
counted and named, never fatal. Paths are stored escaped (`escape_path`) so
names that are not UTF-8 survive encoding.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tldr.units.detect import detect_language, directory_extensions
from tldr.units.source import (
    DEFAULT_MAX_FILE_BYTES,
    SkippedFile,
    escape_path,
    read_regular_file,
    skip_reason_for,
)

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

__all__ = [
    "IGNORE_FILES",
    "MAX_LISTED_SKIPS",
    "SKIPPED_DIRECTORIES",
    "SourceFile",
    "WalkResult",
    "read_ignore_rules",
    "skipped_directory",
    "walk_project",
]

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".tldr", ".hg", ".svn", "node_modules", "bower_components", "vendor",
        "third_party", "dist", "build", "target", "out", ".venv", "venv", "env",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".next",
        ".nuxt", "coverage", "site-packages",
    }
)
IGNORE_FILES = (".gitignore", ".tldrignore")


def skipped_directory(path: Path) -> bool:
    """Whether a directory is build output or tooling, left out of every walk.

    By name (`SKIPPED_DIRECTORIES`), except inside a Python package: a
    `build` directory that holds an `__init__.py`, or sits in a directory
    that does (`tldr/semantic/indexing/`), is source; output directories are
    never part of a package.
    """
    return path.name in SKIPPED_DIRECTORIES and not (
        (path / "__init__.py").is_file() or (path.parent / "__init__.py").is_file())
MAX_LISTED_SKIPS = 5000  # skipped paths named per build; the counts stay exact
_MAX_IGNORE_FILE_BYTES = 1_048_576


@dataclass(frozen=True)
class SourceFile:
    """One file to index.

    Attributes:
        rel_path: Project-relative path with `/` separators, escaped with
            `escape_path` (unchanged for ordinary names).
        abs_path: Absolute path to read: for a symlink, its target as
            resolved (and found inside the root) at walk time.
        language: Tree-sitter language name.
        size: Size in bytes at walk time.
        mtime_ns: Modification time at walk time.
    """

    rel_path: str
    abs_path: Path
    language: str
    size: int
    mtime_ns: int


@dataclass
class WalkResult:
    """The files found, and the ones skipped with their reasons.

    `skipped` counts failures by reason (`SKIP_REASONS`; the walk finds
    "too_large", "not_regular", "symlink_loop", "broken_symlink", "vanished"
    and "unreadable", the reader adds its own through `count_skip`);
    `skipped_paths` names the first `MAX_LISTED_SKIPS` of them. `replaced`
    lists files the reader decoded with replacement (indexed, not skipped).
    Unsupported extensions, ignored paths and linked directories are not
    skips.
    """

    files: list[SourceFile] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_paths: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    def count_skip(self, reason: str, rel_path: str) -> None:
        """Add one skipped file (escaped project-relative path) under `reason`."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.name_skip(reason, rel_path)

    def name_skip(self, reason: str, rel_path: str) -> None:
        """Name a skipped file counted elsewhere (up to `MAX_LISTED_SKIPS`)."""
        if len(self.skipped_paths) < MAX_LISTED_SKIPS:
            self.skipped_paths.append((rel_path, reason))


_Rules = tuple[tuple[str, "GitIgnoreSpec"], ...]  # (directory prefix, spec), shallow first


def read_ignore_rules(directory: Path, names: tuple[str, ...] | list[str]) -> list[GitIgnoreSpec]:
    """The gitignore specs of the ignore files `names` in `directory` that exist and say something.

    Read like sources (regular files only, never blocking), so a FIFO named
    `.gitignore` cannot hang a walk or the daemon's watcher.
    """
    from pathspec import GitIgnoreSpec

    specs = []
    for name in names:
        path = directory / name
        if os.path.islink(path):  # a linked ignore file still counts; it is only read
            path = Path(os.path.realpath(path))
        try:
            data = read_regular_file(path, max_bytes=_MAX_IGNORE_FILE_BYTES)
        except SkippedFile:  # missing, or a FIFO named .gitignore that must not hang us
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            specs.append(GitIgnoreSpec.from_lines(lines))
    return specs


def _ignored(rules: _Rules, rel_path: str, is_dir: bool) -> bool:
    verdict = False
    candidate = rel_path + "/" if is_dir else rel_path
    for prefix, spec in rules:
        local = candidate[len(prefix) :]
        result = spec.check_file(local)
        if result.include is not None:
            verdict = result.include
    return verdict


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_project(
    root: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    languages: set[str] | None = None,
) -> WalkResult:
    """List a project's indexable source files in sorted path order.

    Args:
        root: The project root.
        max_file_bytes: Larger files are skipped as "too_large".
        languages: Only files of these languages; None means all supported.

    Returns:
        The files, sorted by `rel_path`, and the skip counts.
    """
    root = Path(root).resolve()
    real_root = str(root)
    result = WalkResult()
    base_rules: _Rules = tuple(
        ("", spec) for spec in read_ignore_rules(root / ".git" / "info", ["exclude"])
    )
    pending: list[tuple[Path, str, _Rules]] = [(root, "", base_rules)]
    while pending:
        directory, prefix, rules = pending.pop()
        rules = rules + tuple((prefix, spec) for spec in read_ignore_rules(directory, IGNORE_FILES))
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError as error:
            if prefix:  # the root itself failing is the caller's error, not a skip
                result.count_skip(skip_reason_for(error), escape_path(prefix))
            continue
        # Once per directory: a header's language looks at its neighbours.
        extensions = directory_extensions(entry.name for entry in entries)
        for entry in entries:
            name = entry.name
            rel_path = prefix + name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as error:
                result.count_skip(skip_reason_for(error), escape_path(rel_path))
                continue
            if is_dir:
                if skipped_directory(Path(entry.path)) or _ignored(rules, rel_path, True):
                    continue
                pending.append((Path(entry.path), rel_path + "/", rules))
                continue
            language = detect_language(name, neighbour_extensions=extensions)
            if language is None or (languages is not None and language not in languages):
                continue
            if _ignored(rules, rel_path, False):
                continue
            abs_path = entry.path
            if is_link:
                # Linked directories are never followed (their targets inside the
                # root are walked anyway); linked files count only inside the root,
                # and are read through the target resolved now.
                abs_path = os.path.realpath(entry.path)
                if os.path.isdir(abs_path) or not _inside(abs_path, real_root):
                    continue
            try:
                status = entry.stat()
            except OSError as error:
                result.count_skip(skip_reason_for(error, is_link=is_link), escape_path(rel_path))
                continue
            if not stat.S_ISREG(status.st_mode):  # FIFO, socket, device: never opened
                result.count_skip("not_regular", escape_path(rel_path))
                continue
            if status.st_size > max_file_bytes:
                result.count_skip("too_large", escape_path(rel_path))
                continue
            result.files.append(
                SourceFile(
                    rel_path=escape_path(rel_path),
                    abs_path=Path(abs_path),
                    language=language,
                    size=status.st_size,
                    mtime_ns=status.st_mtime_ns,
                )
            )
    result.files.sort(key=lambda source_file: source_file.rel_path)
    return result
