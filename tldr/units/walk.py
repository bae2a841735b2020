"""Finding the source files of a project.

Honours `.gitignore` and `.tldrignore` at every directory level (patterns
are relative to the file's directory, deeper files win, `!` re-includes)
and `.git/info/exclude`; always skips VCS, cache, vendored and build
directories and symlinks that leave the root. Files are only stat'ed here;
reading happens once, later, through `tldr.units.source.load_source`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tldr.units.detect import detect_language
from tldr.units.source import DEFAULT_MAX_FILE_BYTES

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

__all__ = ["IGNORE_FILES", "SKIPPED_DIRECTORIES", "SourceFile", "WalkResult", "walk_project"]

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".tldr", ".hg", ".svn", "node_modules", "bower_components", "vendor",
        "third_party", "dist", "build", "target", "out", ".venv", "venv", "env",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".next",
        ".nuxt", "coverage", "site-packages",
    }
)
IGNORE_FILES = (".gitignore", ".tldrignore")


@dataclass(frozen=True)
class SourceFile:
    """One file to index.

    Attributes:
        rel_path: Project-relative path with `/` separators.
        abs_path: Absolute path to read.
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
    """The files found and how many were skipped, by reason.

    `skipped` holds only failures ("too_large", "unreadable" here; the
    reader adds "binary", "undecodable" and "unreadable" through
    `count_skip`). Unsupported extensions and ignored paths are not counted.
    """

    files: list[SourceFile] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def count_skip(self, reason: str) -> None:
        """Add one skipped file under `reason`."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


_Rules = tuple[tuple[str, "GitIgnoreSpec"], ...]  # (directory prefix, spec), shallow first


def _read_rules(directory: Path, names: tuple[str, ...] | list[str]) -> list[GitIgnoreSpec]:
    from pathspec import GitIgnoreSpec

    specs = []
    for name in names:
        try:
            lines = (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
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
        ("", spec) for spec in _read_rules(root / ".git" / "info", ["exclude"])
    )
    pending: list[tuple[Path, str, _Rules]] = [(root, "", base_rules)]
    while pending:
        directory, prefix, rules = pending.pop()
        rules = rules + tuple((prefix, spec) for spec in _read_rules(directory, IGNORE_FILES))
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError:
            result.count_skip("unreadable")
            continue
        names = [entry.name for entry in entries]
        for entry in entries:
            name = entry.name
            rel_path = prefix + name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                result.count_skip("unreadable")
                continue
            if is_dir:
                if name in SKIPPED_DIRECTORIES or _ignored(rules, rel_path, True):
                    continue
                pending.append((Path(entry.path), rel_path + "/", rules))
                continue
            language = detect_language(name, neighbours=names)
            if language is None or (languages is not None and language not in languages):
                continue
            if _ignored(rules, rel_path, False):
                continue
            if is_link:
                # Linked directories are never followed (their targets inside the
                # root are walked anyway); linked files count only inside the root.
                target = os.path.realpath(entry.path)
                if os.path.isdir(target) or not _inside(target, real_root):
                    continue
            try:
                stat = entry.stat()
            except OSError:
                result.count_skip("unreadable")
                continue
            if stat.st_size > max_file_bytes:
                result.count_skip("too_large")
                continue
            result.files.append(
                SourceFile(
                    rel_path=rel_path,
                    abs_path=Path(entry.path),
                    language=language,
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                )
            )
    result.files.sort(key=lambda source_file: source_file.rel_path)
    return result
