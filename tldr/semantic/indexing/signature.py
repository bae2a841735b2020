"""The project signature: a cheap fingerprint of the indexed tree.

In a git work tree it hashes the repo root, HEAD, `git status --porcelain`
and the size and mtime of every path that status lists (so editing an
already-modified file again still changes it). Elsewhere it hashes the walked
files' paths, sizes and mtimes. `.tldr/` never takes part.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tldr.semantic.storage import ProjectSignature

__all__ = ["fs_signature", "git_signature", "project_signature"]

_GIT_TIMEOUT_SECONDS = 10


def project_signature(
    root: Path, manifest: Iterable[tuple[str, int, int]] | None = None
) -> ProjectSignature:
    """The git signature when `root` is in a work tree, else the fs one.

    `manifest` is (path, size, mtime_ns) of the walked files; it is walked
    here when not given and git is not available.
    """
    signature = git_signature(root)
    if signature is not None:
        return signature
    if manifest is None:
        from tldr.settings import default_max_file_bytes
        from tldr.units import walk_project

        walked = walk_project(root, max_file_bytes=default_max_file_bytes())
        manifest = [(f.rel_path, f.size, f.mtime_ns) for f in walked.files]
    return fs_signature(manifest)


def fs_signature(manifest: Iterable[tuple[str, int, int]]) -> ProjectSignature:
    """Hash of sorted (path, size, mtime_ns) triples."""
    digest = hashlib.sha256()
    for path, size, mtime_ns in sorted(manifest):
        digest.update(f"{path}\0{size}\0{mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return ProjectSignature(kind="fs", value=digest.hexdigest())


def git_signature(root: Path) -> ProjectSignature | None:
    """The git signature, or None when `root` is not in a git work tree."""
    if not _inside_git(root):
        return None
    head = _git(root, "rev-parse", "HEAD")
    status = _git(
        root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".", ":!.tldr"
    )
    if status is None:
        return None
    top = _git(root, "rev-parse", "--show-toplevel") or str(root)
    digest = hashlib.sha256()
    digest.update(f"{top.strip()}\0{(head or 'no-head').strip()}\0".encode())
    digest.update(status.encode("utf-8", "surrogateescape"))
    base = Path(top.strip())
    for entry in status.split("\0"):
        if len(entry) < 4:
            continue
        try:
            info = os.stat(base / entry[3:])
        except OSError:
            continue
        digest.update(
            f"{entry[3:]}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogateescape")
        )
    return ProjectSignature(kind="git", value=digest.hexdigest())


def _inside_git(root: Path) -> bool:
    return any((candidate / ".git").exists() for candidate in (root, *root.parents))


def _git(root: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            # A .git/config that came with the tree must not run commands.
            ["git", "-c", "core.fsmonitor=false", *args],
            cwd=root,
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout
