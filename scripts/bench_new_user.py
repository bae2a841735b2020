#!/usr/bin/env python3
"""Issue 21's new-user figures, items 1 and 5, measured with the real command.

1. `--rerank` when the cross-encoder is not on the machine (an empty
   Hugging Face cache, `HF_HUB_OFFLINE` unset, as a new user has it): wall
   time of each `tldrf semantic search --rerank` through the daemon, the
   warning it prints, and the daemon's RSS before and after.
2. `tldrf cache prune --max-mb N` on a cache of `--vectors` vectors: the
   file's size before and after, and the bytes the command reports freed.

Everything runs in a scratch dir with its own runtime, cache and state dirs.

Usage:
    scripts/bench_new_user.py [--model hash-256] [--searches 3]
                              [--vectors 20000] [--max-mb 1] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

MINI = _REPO / "tests" / "fixtures" / "projects" / "mini"


def _tldrf() -> list[str]:
    script = Path(sys.executable).with_name("tldrf")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tldr.cli"]


def _rss_mib(pid: int) -> int:
    import psutil

    return round(psutil.Process(pid).memory_info().rss / 2**20)


def rerank_offline(work: Path, env: dict[str, str], *, model: str, searches: int) -> dict[str, Any]:
    """Searches with `--rerank` through the daemon while the reranker is absent."""
    root = Path(shutil.copytree(MINI, work / "mini"))
    (root / ".tldr").mkdir()
    tldrf = _tldrf()
    subprocess.run([*tldrf, "semantic", "index", str(root), "--model", model, "-q"],
                   check=True, env=env, timeout=600)
    subprocess.run([*tldrf, "semantic", "search", "retry", "-p", str(root)], check=True,
                   env=env, stdout=subprocess.DEVNULL, timeout=120)  # the daemon is up, warm
    status = json.loads(subprocess.run([*tldrf, "daemon", "status", "-p", str(root), "--json"],
                                       check=True, env=env, capture_output=True,
                                       text=True).stdout)
    pid = int(status["pid"])
    figures: dict[str, Any] = {"daemon_rss_before_mib": _rss_mib(pid), "searches": []}
    for _ in range(searches):
        started = time.perf_counter()
        done = subprocess.run([*tldrf, "semantic", "search", "retry with backoff", "--rerank",
                               "-p", str(root)], env=env, capture_output=True, text=True,
                              timeout=300)
        figures["searches"].append({
            "seconds": round(time.perf_counter() - started, 2), "exit": done.returncode,
            "stderr": done.stderr.strip().splitlines()})
    figures["daemon_rss_after_mib"] = _rss_mib(pid)
    subprocess.run([*tldrf, "daemon", "stop", "-p", str(root)], env=env,
                   stdout=subprocess.DEVNULL, timeout=60)
    return figures


def prune_figures(env: dict[str, str], *, vectors: int, max_mb: float) -> dict[str, Any]:
    """A cache of `vectors` 384-d vectors, pruned to `max_mb` by the command."""
    import numpy as np

    os.environ.update(env)  # the cache file is where the command will look
    from tldr.paths import embedding_cache_file
    from tldr.semantic.indexing.embedding_cache import EmbeddingCache

    path = embedding_cache_file()
    cache = EmbeddingCache(path, model_id="bench", text_format="t", dimension=384)
    for start in range(0, vectors, 1000):
        cache.put_many((f"h{i}", np.full(384, i, dtype=np.float32))
                       for i in range(start, min(start + 1000, vectors)))
    cache.close()
    before = path.stat().st_size
    done = subprocess.run([*_tldrf(), "cache", "prune", "--max-mb", f"{max_mb:g}", "--json"],
                          env=env, capture_output=True, text=True, check=True, timeout=300)
    reported = json.loads(done.stdout)
    rejected = subprocess.run([*_tldrf(), "cache", "prune", "--max-mb", "-1"], env=env,
                              capture_output=True, text=True, timeout=60)
    return {"file_before_bytes": before, "file_after_bytes": path.stat().st_size,
            "reported": reported, "negative_bound": {"exit": rejected.returncode,
                                                     "stderr": rejected.stderr.strip()}}


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print (or write) the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hash-256")
    parser.add_argument("--searches", type=int, default=3)
    parser.add_argument("--vectors", type=int, default=20000)
    parser.add_argument("--max-mb", type=float, default=1.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tldrf-new-user-") as scratch:
        work = Path(scratch)
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700)
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("TLDR_", "HF_", "TRANSFORMERS_"))}
        env.update(TLDR_RUNTIME_DIR=str(runtime), TLDR_USER_CACHE_DIR=str(work / "cache"),
                   TLDR_STATE_DIR=str(work / "state"), HF_HOME=str(work / "hf-home"),
                   TLDR_USER_CONFIG=str(work / "no-config.toml"))
        onnx = Path(os.path.expanduser("~/.cache/tldrf/onnx"))
        if onnx.is_dir():  # the exported default model: not exported again
            (work / "cache").mkdir()
            (work / "cache" / "onnx").symlink_to(onnx, target_is_directory=True)
        figures = {"rerank_offline": rerank_offline(work, env, model=args.model,
                                                    searches=args.searches),
                   "cache_prune": prune_figures(env, vectors=args.vectors,
                                                max_mb=args.max_mb)}
    text = json.dumps(figures, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
