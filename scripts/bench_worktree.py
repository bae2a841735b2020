#!/usr/bin/env python3
"""Second-worktree benchmark: how long a git worktree of an indexed repository takes.

A copy of a real corpus becomes a git repository; a second `git worktree`
is one commit ahead (a function added to one file). Both are indexed with
`tldrf semantic index` (a fresh process each, the real model, index mode
under a temp cache root, one fresh shared embedding cache): the first build
embeds everything, the second finds all but the new function's vector in
the shared cache. A plain copy of the first tree is built last. Target
(issue 13): the second build takes at most 15 % of the first.

    python scripts/bench_worktree.py                    # tokio, bundled MiniLM
    python scripts/bench_worktree.py --corpus fastapi --model hash-256
    python scripts/bench_worktree.py --cache-writers 4   # shared-cache write throughput only
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


# A new function per language: the second worktree has a unit the first lacks.
_NEW_FUNCTION = {
    ".py": "\n\ndef bench_one_more_commit(value):\n    return value * 2\n",
    ".rs": "\nfn bench_one_more_commit(value: u32) -> u32 {\n    value * 2\n}\n",
    ".go": "\nfunc benchOneMoreCommit(value int) int {\n\treturn value * 2\n}\n",
    ".c": "\nint bench_one_more_commit(int value) {\n    return value * 2;\n}\n",
    ".ts": "\nexport function benchOneMoreCommit(value: number) {\n  return value * 2;\n}\n",
    ".js": "\nfunction benchOneMoreCommit(value) {\n  return value * 2;\n}\n",
}


def make_worktrees(corpus: Path, work: Path) -> tuple[Path, Path, str]:
    """Repository `work/main`, and worktree `work/second` one commit ahead of it.

    The commit adds a function to the largest source file, as an agent's task
    branch would.
    """
    main = work / "main"
    shutil.copytree(corpus, main, ignore=shutil.ignore_patterns(".tldr", ".git"))
    _git(main, "init", "-q")
    _git(main, "add", "-A")
    _git(main, "commit", "-q", "-m", "corpus")
    second = work / "second"
    _git(main, "worktree", "add", "-q", "-b", "task", str(second))
    changed = max((path for path in second.rglob("*")
                   if path.is_file() and path.suffix in _NEW_FUNCTION and ".git" not in path.parts),
                  key=lambda path: path.stat().st_size)
    with changed.open("a", encoding="utf-8") as out:
        out.write(_NEW_FUNCTION[changed.suffix])
    _git(second, "commit", "-q", "-am", "one more commit")
    return main, second, str(changed.relative_to(second))


def cached_vectors(work: Path) -> int:
    import sqlite3

    db = sqlite3.connect(work / "embeddings" / "embeddings.sqlite", timeout=60)
    try:
        return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
    finally:
        db.close()


def timed_build(root: Path, model: str, env: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "tldr.cli", "semantic", "index", str(root), "--model", model,
         "--json"], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"build of {root} failed:\n{completed.stderr}")
    return seconds, json.loads(completed.stdout)


def _write_vectors(path: str, writer: int, count: int) -> None:
    import numpy as np

    from tldr.semantic.indexing.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(Path(path), model_id="bench", text_format="1", dimension=384)
    vectors = np.random.default_rng(writer).random((64, 384), dtype=np.float32)
    for start in range(0, count, 64):  # the build's batch size; half the keys are shared
        digests = [f"{'shared' if n % 2 else writer}-{n}" for n in range(start, start + 64)]
        cache.get_many(digests)
        cache.put_many(zip(digests, vectors, strict=True))
    cache.close()


def cache_writers(writers: int, count: int = 20_480) -> dict[str, float]:
    """Vectors/s into one shared cache from 1 and from `writers` processes at once."""
    import multiprocessing
    import sqlite3

    context = multiprocessing.get_context("spawn")
    figures: dict[str, float] = {}
    for processes in (1, writers):
        with tempfile.TemporaryDirectory() as temp:
            path = str(Path(temp) / "embeddings.sqlite")
            _write_vectors(path, 99, 64)  # create it, outside the clock
            jobs = [context.Process(target=_write_vectors, args=(path, n, count))
                    for n in range(processes)]
            started = time.perf_counter()
            for job in jobs:
                job.start()
            for job in jobs:
                job.join()
            seconds = time.perf_counter() - started
            assert all(job.exitcode == 0 for job in jobs)
            db = sqlite3.connect(path)
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            db.close()
            expected = 32 + count // 2 + processes * count // 2  # count: a multiple of 64
            assert rows == expected, (rows, expected)
            figures[f"{processes}_writers_vectors_per_s"] = round(processes * count / seconds)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="tokio")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cache-writers", type=int, metavar="N",
                        help="only measure N processes writing the shared cache at once")
    args = parser.parse_args()
    if args.cache_writers:
        print(json.dumps(cache_writers(args.cache_writers), indent=2))
        return 0

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
        before = cached_vectors(work)
        second_s, second = timed_build(second_tree, args.model, env)
        embedded_by_second = cached_vectors(work) - before
        copy = work / "copy"
        shutil.copytree(main_tree, copy, ignore=shutil.ignore_patterns(".git"))
        copy_s, _ = timed_build(copy, args.model, env)
        figures = {
            "corpus": args.corpus, "model": args.model, "changed_file": changed,
            "units": first["units"], "files": first["files"],
            "first_build_s": round(first_s, 2),
            "second_worktree_build_s": round(second_s, 2),
            "second_worktree_ratio": round(second_s / first_s, 3),
            "second_worktree_new_vectors": embedded_by_second,
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
