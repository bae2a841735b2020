"""Benchmark every available vector store backend, side by side in one run.

Default mode: build time (create + add + save), query latency p50/p99 (k=10,
one query at a time, index opened with view=True as the daemon does) and
recall@10 against exact search, on random clustered unit vectors (d=384).

`--daemon`: the same generated project (scripts/bench_daemon.py's, `--units`
units, the hash-256 model: the embedding is not under test) built with each
backend (builds niced) and searched through a real daemon (at the bench's
own priority: run the bench itself un-niced): client-side search p50/p99, the
daemon's own time excluding the query embedding, the daemon's RSS (plus the
Chroma server's for `chromadb (server)`) and the index size on disk. The
Chroma server is a real `chroma run` on 127.0.0.1 started here.

    .venv/bin/python scripts/bench_backends.py            # 10k and 100k
    .venv/bin/python scripts/bench_backends.py --sizes 10000 --queries 100
    .venv/bin/python scripts/bench_backends.py --sizes 30000 --dtypes f32,f16,i8  # precision
    .venv/bin/python scripts/bench_backends.py --daemon --units 5000

`--dtypes` runs only usearch, HNSW forced, once per stored precision, each
against the exact f32 top 10 (specs/019-compact-index.md). `--cache-vectors`
takes real vectors instead: those of the shared embedding cache for the
bundled model (code units embedded by earlier builds), queries drawn from
them with the same noise.

Embedded qdrant commits each point to SQLite separately (~100 points/s), so
it is capped at --qdrant-cap vectors (default 1000) and reported as such.
The 1M-vector engine comparison is scripts/bench_engines_scale.py.
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

import numpy as np

from tldr.vector_store import available_backends

__all__ = ["main"]


def clustered(n: int, d: int, *, seed: int, clusters: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, d)).astype(np.float32)
    x = centers[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _cached_vectors(n: int) -> np.ndarray:
    """Up to `n` vectors of the bundled model from the shared embedding cache (read-only)."""
    import sqlite3

    from tldr.paths import embedding_cache_file

    path = embedding_cache_file()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT vector FROM vectors WHERE space LIKE 'all-MiniLM-L6-v2%' LIMIT ?", (n,)
        ).fetchall()
    data = np.stack([np.frombuffer(blob, dtype=np.float32) for (blob,) in rows])
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def ground_truth(data: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    scores = queries @ data.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return [set(row.tolist()) for row in top]


def bench(backend: str, settings: dict, data: np.ndarray, queries: np.ndarray, truth, k: int):
    cls = available_backends()[backend]
    with tempfile.TemporaryDirectory(prefix="tldr-bench-") as tmp:
        store = cls(store_dir=Path(tmp), settings=settings or None)
        keys = np.arange(len(data), dtype=np.uint64)
        t0 = time.perf_counter()
        index = store.create(data.shape[1])
        index.add(keys, data)
        location = store.location_for("20240101T000000Z-bench000")
        store.save(index, location)
        build_s = time.perf_counter() - t0
        view = store.open(location, view=True)
        view.search(queries[0], k)  # warm (usearch's exact path caches vectors here)
        lat, hits = [], 0
        for q, want in zip(queries, truth, strict=True):
            t = time.perf_counter()
            found, _scores = view.search(q, k)
            lat.append(time.perf_counter() - t)
            hits += len(want & set(found.tolist()))
        store.close()
    lat_ms = np.array(lat) * 1e3
    return build_s, np.percentile(lat_ms, 50), np.percentile(lat_ms, 99), hits / (k * len(queries))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--qdrant-cap", type=int, default=1000)
    parser.add_argument("--dtypes", default="", help="usearch precisions to compare, e.g. f32,i8")
    parser.add_argument("--daemon", action="store_true",
                        help="every backend through a real daemon on one generated project")
    parser.add_argument("--units", type=int, default=5000, help="project size for --daemon")
    parser.add_argument("--searches", type=int, default=300, help="searches per backend")
    parser.add_argument("--model", default="hash-256",
                        help="embedding model for --daemon (hash-256: the engine dominates; "
                        "all-MiniLM-L6-v2: what a user runs)")

    parser.add_argument("--cache-vectors", action="store_true",
                        help="real vectors from the shared embedding cache (bundled model)")
    args = parser.parse_args(argv)
    if args.daemon:
        through_daemon(args.units, args.searches, args.model)
        return
    k = 10
    runs = [("usearch", {}), ("usearch", {"exact_threshold": 0}), ("exact", {}), ("faiss", {})]
    runs += [("qdrant", {}), ("chromadb", {}), ("milvus", {})]
    if args.dtypes:
        runs = [("usearch", {"exact_threshold": 0, "dtype": dtype})
                for dtype in args.dtypes.split(",")]
    threshold = 10_000  # tldr.vector_store._usearch.DEFAULT_EXACT_THRESHOLD
    print(f"d={args.dim}, k={k}, {args.queries} queries, clustered unit vectors")
    header = f"{'backend':<22}{'n':>8}{'build s':>10}{'p50 ms':>9}{'p99 ms':>9}{'recall@10':>11}"
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        full = _cached_vectors(n) if args.cache_vectors else clustered(n, args.dim, seed=n)
        n = len(full)
        rng = np.random.default_rng(1)
        picks = full[rng.integers(0, n, args.queries)]
        qs = picks + 0.3 * rng.standard_normal(picks.shape).astype(np.float32) / np.sqrt(args.dim)
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
        for backend, settings in runs:
            cls = available_backends().get(backend)
            forced = settings.get("exact_threshold") == 0
            if forced and n > threshold and not args.dtypes:
                continue  # the default already uses HNSW here
            label = backend + (" (hnsw forced)" if forced else "")
            if "dtype" in settings:
                label = f"usearch hnsw {settings['dtype']}"
            if cls is None or not cls.is_available()[0]:
                print(f"{label:<22}{n:>8}  unavailable")
                continue
            m = min(n, args.qdrant_cap) if backend == "qdrant" else n
            data = full[:m]
            truth = ground_truth(data, qs, k)
            build_s, p50, p99, recall = bench(backend, settings, data, qs, truth, k)
            note = f"  (capped at {m})" if m < n else ""
            row = f"{label:<22}{m:>8}{build_s:>10.2f}{p50:>9.3f}{p99:>9.3f}{recall:>11.3f}"
            print(row + note, flush=True)


DAEMON_RUNS: list[tuple[str, str, dict[str, Any]]] = [
    ("usearch", "usearch", {}),
    ("exact", "exact", {}),
    ("faiss", "faiss", {}),
    ("qdrant (embedded)", "qdrant", {}),
    ("chromadb (embedded)", "chromadb", {}),
    ("chromadb (server)", "chromadb", {"url": "CHROMA_URL"}),
    ("milvus (lite)", "milvus", {}),
]


def _build_niceness() -> None:
    """In a build's child: nice 10, as the daemon's build worker is.

    Only the builds: the daemons (and the engine processes they start) run
    at the bench's own priority, as a user's daemon does. A niced engine
    process is woken late on a loaded machine at every round trip (Milvus
    Lite's search: 8 ms at nice 0, 50 ms at nice 10, load average 18), which
    would measure the scheduler, not the engine.
    """
    os.nice(10)


def _load_line(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"{when}: {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def _disk_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def through_daemon(units: int, searches: int, model: str) -> None:
    """Build one project per backend, search them all through their daemons, print a table.

    Every daemon runs at once and the searches go round-robin over them, so
    the load of a shared machine weighs on every backend alike.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import psutil
    from bench_daemon import make_project, percentiles
    from engine_servers import ChromaServer

    from tldr.daemon.client import DaemonClient, ensure_daemon, stop_daemon
    from tldr.paths import IndexPaths, daemon_files

    work = Path(tempfile.mkdtemp(prefix="tldrf-bench-backends-"))
    runtime = work / "rt"
    runtime.mkdir(mode=0o700)
    os.environ.update(TLDR_RUNTIME_DIR=str(runtime), TLDR_IDLE_TIMEOUT="0",
                      TLDR_USER_CACHE_DIR=str(work / "cache"))
    template = work / "template"
    make_project(template, units)
    chroma = ChromaServer(work / "chroma-data").start()
    tldrf = Path(sys.executable).with_name("tldrf")
    queries = ["parse the config", "retry with backoff", "http handler for the session",
               "render template", "socket buffer stream", "cache token for user"]
    print(f"{units} units, {model}, {searches} searches per backend through the daemon, "
          "round-robin over all backends")
    print(_load_line("load average at start"), flush=True)
    runs: list[dict[str, Any]] = []
    try:
        for label, backend, settings in DAEMON_RUNS:
            if not available_backends()[backend].is_available()[0]:
                print(f"{label:<22}  unavailable", flush=True)
                continue
            root = work / label.replace(" ", "_").replace("(", "").replace(")", "")
            shutil.copytree(template, root)
            table = "\n".join(
                f"{key} = {json.dumps(chroma.url if value == 'CHROMA_URL' else value)}"
                for key, value in settings.items())
            (root / ".tldr").mkdir()
            (root / ".tldr" / "config.toml").write_text(
                f'[semantic]\nvector_backend = "{backend}"\nmodel = "{model}"\n\n'
                f"[vector_store.{backend}]\n{table}\n")
            started = time.perf_counter()
            subprocess.run([str(tldrf), "semantic", "index", str(root)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=_build_niceness)
            files = daemon_files(root)
            ensure_daemon(files, timeout=120)
            client = DaemonClient(files=files, timeout=120).__enter__()
            client.call("search", {"query": "warm up", "k": 10})
            runs.append({"label": label, "root": root, "files": files, "client": client,
                         "server": bool(settings.get("url")),
                         "build_s": time.perf_counter() - started,
                         "wall": [], "took": [], "own": []})
            print(f"built and started: {label}", flush=True)
        print(_load_line("load average before the searches"), flush=True)
        for number in range(searches):
            for run in runs:
                started = time.perf_counter()
                result = run["client"].call(
                    "search", {"query": queries[number % len(queries)], "k": 10})
                run["wall"].append((time.perf_counter() - started) * 1000)
                run["took"].append(result["took_ms"])
                run["own"].append(result["took_ms"] - result["embed_ms"])
        header = (f"{'backend':<22}{'build s':>9}{'p50 ms':>9}{'p99 ms':>9}{'daemon p50':>12}"
                  f"{'excl.emb':>10}{'RSS MiB':>9}{'disk MiB':>10}{'p50/usearch':>13}")
        print(header)
        print("-" * len(header), flush=True)
        base = percentiles(runs[0]["wall"])["p50"] if runs else 1.0
        for run in runs:
            daemon = psutil.Process(run["client"].call("status")["pid"])
            rss = daemon.memory_info().rss / 2**20
            for child in daemon.children(recursive=True):  # Milvus Lite's server
                if "milvus" in " ".join(child.cmdline()):
                    rss += child.memory_info().rss / 2**20
            disk = _disk_mib(IndexPaths(run["root"]).semantic_dir)
            if run["server"]:
                rss += psutil.Process(chroma.process.pid).memory_info().rss / 2**20
                disk += _disk_mib(chroma.path)
            wall, took, own = (percentiles(run[key]) for key in ("wall", "took", "own"))
            print(f"{run['label']:<22}{run['build_s']:>9.1f}{wall['p50']:>9}{wall['p99']:>9}"
                  f"{took['p50']:>12}{own['p50']:>10}{rss:>9.0f}{disk:>10.1f}"
                  f"{wall['p50'] / base:>12.2f}x", flush=True)
        print(_load_line("load average after the searches"), flush=True)
    finally:
        for run in runs:
            run["client"].__exit__(None, None, None)
            stop_daemon(run["files"], timeout=10)
        chroma.stop()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
