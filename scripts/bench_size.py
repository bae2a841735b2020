#!/usr/bin/env python3
"""Index size on disk per unit, and the memory a loaded build takes (issue 24).

For each project: build (or update) its index, then report the files of the
active build (vector index, unit records, lexical index, metadata.json) in
bytes and bytes per unit, and the whole index directory (with the builds GC
keeps). `--memory` also loads the build in a fresh process, as the daemon
does (`Searcher` with a memory-mapped view, one lexical search), and reports
that process's RSS growth and its Python heap (tracemalloc) for the build.

`--build-memory` first makes a cold first build in a fresh process (its own
temporary cache root and embedding cache, so the project's index is not
touched) and reports the process's peak RSS (`--trace`: and its peak Python
heap); `--build-seconds` stops it after that long (a full model embeds a
large project for hours on two cores: the first minutes show the memory of
parsing, the fast tier and the model's batches). `--daemon --cold` has the
daemon make such a build and samples the RSS of the daemon and its build
worker while it runs, then reports the daemon's idle RSS.

    TLDR_CACHE_ROOT=/tmp/idx .venv/bin/python scripts/bench_size.py \\
        --model all-MiniLM-L6-v2 --memory /tmp/django
    .venv/bin/python scripts/bench_size.py --corpora  # every corpus in $TLDR_BENCH_CACHE
    .venv/bin/python scripts/bench_size.py --model hash-384 --build-memory --daemon --cold \\
        /tmp/sympy

The files are written under the project (`--edits`): use a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["build_memory", "build_sizes", "daemon_rss", "loaded_memory", "main"]

_MEMORY_PROBE = """
import json, sys, tracemalloc
import psutil
from tldr.semantic import Searcher
from tldr.semantic.lexical import LexicalIndex  # imported before measuring
searcher = Searcher(sys.argv[1], view=True)
process = psutil.Process()
before = process.memory_info().rss
tracemalloc.start()
build = searcher.build
searcher.search("parse the configuration", k=10, mode="lexical")
heap, _ = tracemalloc.get_traced_memory()
print(json.dumps({"rss_growth_mib": round((process.memory_info().rss - before) / 2**20, 1),
                  "python_heap_mib": round(heap / 2**20, 1), "units": len(build.units)}))
"""


_BUILD_PROBE = """
import json, resource, sys, time, tracemalloc
from tldr.semantic import build_semantic_index
root, model, trace, seconds = sys.argv[1], sys.argv[2] or None, sys.argv[3] == "1", sys.argv[4]
seconds = float(seconds)
reached = {}
class Stop(Exception):
    pass
def progress(stage, done, total):
    reached.update(stage=stage, done=done, total=total)
    if seconds and time.perf_counter() - started > seconds:
        raise Stop
if trace:
    tracemalloc.start()
started = time.perf_counter()
figures = {}
try:
    report = build_semantic_index(root, model=model, progress=progress)
    figures.update(units=report.units, timings=report.timings)
except Stop:
    figures["stopped_at"] = reached
figures["seconds"] = round(time.perf_counter() - started, 1)
figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
if trace:
    figures["python_heap_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
print(json.dumps(figures))
"""


def build_memory(root: Path, model: str | None, *, trace: bool = False,
                 seconds: float = 0.0) -> dict[str, Any]:
    """Peak RSS of a cold first build of `root` in a fresh process (its index kept apart).

    The build writes to a temporary cache root with an empty embedding
    cache, so every unit is embedded and the project's own index is not
    touched. `trace`: also the peak Python heap (tracemalloc; slower);
    `seconds`: stop the build after that long (0: let it finish).
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tldr-build-memory-") as scratch:
        env = {**os.environ, "TLDR_CACHE_ROOT": f"{scratch}/indexes",
               "TLDR_EMBEDDING_CACHE": f"{scratch}/embeddings"}
        out = subprocess.run(
            [sys.executable, "-c", _BUILD_PROBE, str(root), model or "", "1" if trace else "0",
             str(seconds)], check=True, capture_output=True, text=True, env=env)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def build_sizes(root: Path, model: str | None, edits: int = 0) -> dict[str, Any]:
    """Build `root`'s index, then the sizes of its active build's files and of its directory.

    With `edits`, that many one-file edits follow, each with its incremental
    build, so the directory holds the builds GC keeps.
    """
    from tldr.paths import IndexPaths
    from tldr.semantic import build_semantic_index
    from tldr.semantic.storage import read_metadata

    report = build_semantic_index(root, model=model)
    for number in range(edits):
        (root / f"tldrf_bench_edit_{number}.py").write_text(
            f"def bench_edit_{number}(value):\n    return value + {number}\n")
        report = build_semantic_index(root, model=model)
    paths = IndexPaths(root)
    metadata = read_metadata(paths)
    assert metadata is not None
    units = max(1, metadata.count)
    files = {
        "index": metadata.vector_store.index_file,
        "units": metadata.units_file,
        "lexical": metadata.lexical_file,
        "graph": metadata.graph_file,
        "metadata": paths.metadata.name,
    }
    sizes = {kind: (paths.semantic_dir / name).stat().st_size for kind, name in files.items()
             if name}
    active = sum(sizes.values())
    # Partial commits of one build share their units and lexical files (hard links).
    inodes = {(s.st_dev, s.st_ino): s.st_size
              for s in (p.stat() for p in paths.semantic_dir.iterdir() if p.is_file())}
    directory = sum(inodes.values())
    return {
        "project": root.name,
        "units": metadata.count,
        "build": report.status,
        "dtype": metadata.vector_store.dtype,
        "bytes": sizes,
        "bytes_per_unit": {kind: round(size / units) for kind, size in sizes.items()},
        "active_mb": round(active / 1e6, 2),
        "active_kb_per_unit": round(active / units / 1e3, 3),
        "directory_mb": round(directory / 1e6, 2),
        "builds_in_directory": len(list(paths.semantic_dir.glob("units.*"))),
    }


def loaded_memory(root: Path) -> dict[str, Any]:
    """RSS growth and Python heap of loading `root`'s build in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(root)], check=True,
                         capture_output=True, text=True, env=dict(os.environ))
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def daemon_rss(root: Path, worker_idle: float = 5.0, *, cold: bool = False,
               model: str | None = None) -> dict[str, Any]:
    """Idle RSS of a real daemon serving `root`'s built index (after a search, worker gone).

    `cold`: the daemon builds the index first, in a temporary cache root with
    an empty embedding cache, and the peak RSS of the daemon and of its build
    worker during that build is reported too (sampled every 0.25 s).
    """
    import tempfile
    import time

    from bench_daemon import process_rss
    from bench_scale import RssSampler

    from tldr.daemon.client import DaemonClient, stop_daemon
    from tldr.paths import daemon_files

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="tldr-rt-") as runtime:
        os.chmod(runtime, 0o700)
        os.environ.update(TLDR_RUNTIME_DIR=runtime, TLDR_WORKER_IDLE_TIMEOUT=str(worker_idle))
        if model:
            os.environ["TLDR_MODEL"] = model
        if cold:
            os.environ.update(TLDR_CACHE_ROOT=f"{runtime}/indexes",
                              TLDR_EMBEDDING_CACHE=f"{runtime}/embeddings")
        files = daemon_files(root)
        figures: dict[str, Any] = {}
        try:
            subprocess.run([sys.executable, "-m", "tldr.cli", "warm", str(root)], check=True,
                           stdout=subprocess.DEVNULL, env=dict(os.environ))
            deadline = time.monotonic() + 120
            while not os.path.exists(files.socket) and time.monotonic() < deadline:
                time.sleep(0.5)
            with DaemonClient(files=files, timeout=120) as client:
                sampler = RssSampler(client.call("status")["pid"])
                started = time.monotonic()
                try:
                    while time.monotonic() < started + (7200 if cold else 600):
                        status = client.call("status")
                        if status["index"] and status["build"]["worker_pid"] is None:
                            break
                        time.sleep(0.5)
                finally:
                    peak = sampler.stop()
                if cold:
                    figures["build_peak_rss_mib"] = peak
                    figures["build_seconds"] = round(time.monotonic() - started - worker_idle)
                client.call("search", {"query": "parse the configuration", "k": 10})
                time.sleep(1)
                figures.update(process_rss(client.call("status")["pid"]))
                return figures
        finally:
            stop_daemon(files)
            os.environ.clear()  # the next measurements use the project's own index
            os.environ.update(saved)


def main() -> None:
    """Print one JSON line per project, then the totals over all of them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("projects", nargs="*", type=Path)
    parser.add_argument("--corpora", action="store_true",
                        help="every corpus directory in $TLDR_BENCH_CACHE")
    parser.add_argument("--model", default=None, help="embedding model (default: bundled)")
    parser.add_argument("--memory", action="store_true", help="also measure a loaded build")
    parser.add_argument("--daemon", action="store_true",
                        help="also measure a real daemon's idle RSS (own runtime dir)")
    parser.add_argument("--cold", action="store_true",
                        help="with --daemon: the daemon builds the index first (own cache root "
                             "and embedding cache); report its and its worker's peak RSS")
    parser.add_argument("--build-memory", action="store_true",
                        help="first measure a cold first build's peak RSS in a fresh process")
    parser.add_argument("--trace", action="store_true",
                        help="with --build-memory: also its peak Python heap (slower)")
    parser.add_argument("--build-seconds", type=float, default=0.0,
                        help="with --build-memory: stop that build after this many seconds")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold builds' figures (no build of the project's index)")
    parser.add_argument("--edits", type=int, default=0,
                        help="one-file edits (each with its build) after the first build")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    projects = list(args.projects)
    if args.corpora:
        cache = Path(os.environ.get("TLDR_BENCH_CACHE", Path.home() / ".cache" / "tldrf-bench"))
        projects += sorted(p for p in cache.iterdir() if p.is_dir())
    results = []
    for root in projects:
        cold: dict[str, Any] = {}
        if args.build_memory:
            cold["build_memory"] = build_memory(root.resolve(), args.model, trace=args.trace,
                                                seconds=args.build_seconds)
        if args.daemon and args.cold:
            cold["daemon_cold"] = daemon_rss(root.resolve(), cold=True, model=args.model)
        if args.cold_only:
            print(json.dumps({"project": root.name, **cold}), flush=True)
            continue
        figures = {**build_sizes(root.resolve(), args.model, args.edits), **cold}
        if args.memory:
            figures["loaded"] = loaded_memory(root.resolve())
        if args.daemon and not args.cold:
            figures["daemon_idle"] = daemon_rss(root.resolve())
        print(json.dumps(figures), flush=True)
        results.append(figures)
    if not results:
        return
    units = sum(r["units"] for r in results)
    active = sum(r["active_mb"] for r in results)
    total = {"projects": len(results), "units": units, "active_mb": round(active, 2),
             "active_kb_per_unit": round(active * 1e3 / max(1, units), 3),
             "directory_mb": round(sum(r["directory_mb"] for r in results), 2)}
    print(json.dumps({"total": total}))
    if args.json:
        args.json.write_text(json.dumps({"projects": results, "total": total}, indent=2))


if __name__ == "__main__":
    main()
