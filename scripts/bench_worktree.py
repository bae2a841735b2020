#!/usr/bin/env python3
"""Second-worktree benchmark: how long a git worktree of an indexed repository takes.

A copy of a real corpus becomes a git repository with two commits (the
second changes one file); a second `git worktree` is checked out at the
first commit. Both are indexed with `tldrf semantic index` (a fresh process
each, the real model, index mode under a temp cache root, one fresh shared
embedding cache): the first build embeds everything, the second finds all
but the changed file's vectors in the shared cache. Target (issue 13): the
second build takes at most 15 % of the first.

    python scripts/bench_worktree.py                    # tokio, bundled MiniLM
    python scripts/bench_worktree.py --corpus fastapi --model hash-256
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_index import corpus_dir

__all__ = ["main"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                    *args], cwd=cwd, check=True, capture_output=True)


def make_worktrees(corpus: Path, work: Path) -> tuple[Path, Path, str]:
    """Repository `work/main` (two commits) and worktree `work/second` at the first."""
    main = work / "main"
    shutil.copytree(corpus, main, ignore=shutil.ignore_patterns(".tldr", ".git"))
    _git(main, "init", "-q")
    _git(main, "add", "-A")
    _git(main, "commit", "-q", "-m", "corpus")
    changed = max((path for path in main.rglob("*") if path.is_file()
                   and path.suffix in {".py", ".rs", ".c", ".go", ".ts", ".js", ".rb", ".java"}),
                  key=lambda path: path.stat().st_size)
    with changed.open("a", encoding="utf-8") as out:
        out.write("\n// bench: one more commit\n" if changed.suffix != ".py"
                  else "\n\ndef bench_one_more_commit(value):\n    return value * 2\n")
    _git(main, "commit", "-q", "-am", "one more commit")
    second = work / "second"
    _git(main, "worktree", "add", "-q", "--detach", str(second), "HEAD~1")
    return main, second, str(changed.relative_to(main))


def timed_build(root: Path, model: str, env: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "tldr.cli", "semantic", "index", str(root), "--model", model,
         "--json"], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"build of {root} failed:\n{completed.stderr}")
    return seconds, json.loads(completed.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="tokio")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    corpus = corpus_dir(args.corpus)
    with tempfile.TemporaryDirectory(prefix="tldr-bench-worktree-") as temp:
        work = Path(temp)
        main_tree, second_tree, changed = make_worktrees(corpus, work)
        env = {key: value for key, value in os.environ.items() if not key.startswith("TLDR_")}
        env.update(TLDR_CACHE_ROOT=str(work / "cache-root"),
                   TLDR_EMBEDDING_CACHE=str(work / "embeddings"),
                   TLDR_STATE_DIR=str(work / "state"),
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        first_s, first = timed_build(main_tree, args.model, env)
        second_s, second = timed_build(second_tree, args.model, env)
        copy = work / "copy"
        shutil.copytree(main_tree, copy, ignore=shutil.ignore_patterns(".git"))
        copy_s, _ = timed_build(copy, args.model, env)
        figures = {
            "corpus": args.corpus, "model": args.model, "changed_file": changed,
            "units": first["units"], "files": first["files"],
            "first_build_s": round(first_s, 2),
            "second_worktree_build_s": round(second_s, 2),
            "second_worktree_ratio": round(second_s / first_s, 3),
            "second_worktree_timings": second.get("timings"),
            "plain_copy_build_s": round(copy_s, 2),
            "plain_copy_ratio": round(copy_s / first_s, 3),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
        }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
