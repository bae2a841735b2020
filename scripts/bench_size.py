#!/usr/bin/env python3
"""Index size on disk per unit, and the memory a loaded build takes (issue 24).

For each project: build (or update) its index, then report the files of the
active build (vector index, unit records, lexical index, metadata.json) in
bytes and bytes per unit, and the whole index directory (with the builds GC
keeps). `--memory` also loads the build in a fresh process, as the daemon
does (`Searcher` with a memory-mapped view, one lexical search), and reports
that process's RSS growth and its Python heap (tracemalloc) for the build.

    TLDR_CACHE_ROOT=/tmp/idx .venv/bin/python scripts/bench_size.py \\
        --model all-MiniLM-L6-v2 --memory /tmp/django
    .venv/bin/python scripts/bench_size.py --corpora  # every corpus in $TLDR_BENCH_CACHE

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

__all__ = ["build_sizes", "daemon_rss", "loaded_memory", "main"]

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


def daemon_rss(root: Path, worker_idle: float = 5.0) -> dict[str, Any]:
    """Idle RSS of a real daemon serving `root`'s built index (after a search, worker gone)."""
    import tempfile
    import time

    from bench_daemon import process_rss

    from tldr.daemon.client import DaemonClient, stop_daemon
    from tldr.paths import daemon_files

    with tempfile.TemporaryDirectory(prefix="tldr-rt-") as runtime:
        os.chmod(runtime, 0o700)
        os.environ.update(TLDR_RUNTIME_DIR=runtime, TLDR_WORKER_IDLE_TIMEOUT=str(worker_idle))
        files = daemon_files(root)
        try:
            subprocess.run([sys.executable, "-m", "tldr.cli", "warm", str(root)], check=True,
                           stdout=subprocess.DEVNULL, env=dict(os.environ))
            deadline = time.monotonic() + 120
            while not os.path.exists(files.socket) and time.monotonic() < deadline:
                time.sleep(0.5)
            with DaemonClient(files=files, timeout=120) as client:
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    status = client.call("status")
                    if status["index"] and status["build"]["worker_pid"] is None:
                        break
                    time.sleep(0.5)
                client.call("search", {"query": "parse the configuration", "k": 10})
                time.sleep(1)
                return process_rss(client.call("status")["pid"])
        finally:
            stop_daemon(files)


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
        figures = build_sizes(root.resolve(), args.model, args.edits)
        if args.memory:
            figures["loaded"] = loaded_memory(root.resolve())
        if args.daemon:
            figures["daemon_idle"] = daemon_rss(root.resolve())
        print(json.dumps(figures), flush=True)
        results.append(figures)
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
