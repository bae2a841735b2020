#!/usr/bin/env python3
"""Scale benchmark of the engines: usearch, Milvus Lite and ChromaDB at N vectors.

Synthetic clustered unit vectors (the embedding is not under test), d=384 by
default. For each engine, through its tldrf backend (`store.save` of one
build, then `store.open(...).search`):

- load: seconds and vectors/s of create + add + `save` (usearch indexes in
  `add`, the engines in `save`: upload + index build), and the CPU seconds
  the process spent on it (all three engines run inside it: usearch and
  embedded Chroma natively, Milvus Lite as Python threads behind a local
  gRPC port), which a loaded machine inflates far less than the wall time;
- query p50/p99 in ms at k=10, one query at a time;
- recall@10 against exact search (numpy) on `--queries` queries;
- RSS in MiB of the process (the engine's, the vectors having been freed)
  after the queries, and its peak (which includes the synthetic vectors);
- disk in MiB of the store directory;
- the load average when the engine started and ended.

Each engine runs in its own child process (`--engine NAME` internally), so
one engine's memory never counts for another and a timeout kills only it.
Settings are each backend's defaults except usearch's `exact_threshold = 0`
(HNSW at every size); `--set ENGINE.KEY=VALUE` changes one.

`--sweep ENGINE.KEY=V1,V2,...` measures query latency and recall again on the
same loaded build for each value of a search-time setting (usearch
`expansion_search`, chromadb `ef_search`): the speed/recall curve without
reloading a million vectors per point.

    .venv/bin/python scripts/bench_engines_scale.py --n 100000
    .venv/bin/python scripts/bench_engines_scale.py --n 1000000 --timeout 14400 --json out.json
    .venv/bin/python scripts/bench_engines_scale.py --engines usearch --set usearch.dtype=f32
    .venv/bin/python scripts/bench_engines_scale.py --engines chromadb \
        --sweep chromadb.ef_search=128,256
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

ENGINES = ("usearch", "milvus", "chromadb")
SEARCH_TIME = {("usearch", "expansion_search"), ("chromadb", "ef_search")}
_SETTINGS: dict[str, dict[str, Any]] = {
    "usearch": {"exact_threshold": 0},  # HNSW at every size: the engine is under test
    "milvus": {},
    "chromadb": {},
}


def clustered(n: int, d: int, *, seed: int, clusters: int = 256) -> np.ndarray:
    """`n` unit vectors around `clusters` random centres, made in blocks (bounded memory)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, d)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = centers[rng.integers(0, clusters, stop - start)]
        block += 0.6 * rng.standard_normal(block.shape).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def queries_for(data: np.ndarray, count: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    picks = data[rng.integers(0, len(data), count)]
    noise = rng.standard_normal(picks.shape).astype(np.float32) / np.sqrt(data.shape[1])
    qs = picks + 0.3 * noise
    return qs / np.linalg.norm(qs, axis=1, keepdims=True)


def ground_truth(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids per query, computed in blocks of the data."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(data), 50_000):
        scores = queries @ data[start : start + 50_000].T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        all_scores = np.concatenate([best_scores, scores], axis=1)
        all_ids = np.concatenate([best_ids, ids], axis=1)
        top = np.argpartition(-all_scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(all_scores, top, axis=1)
        best_ids = np.take_along_axis(all_ids, top, axis=1)
    return best_ids


def rss_mib(pid: int, *, children: bool) -> float:
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    if children:
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
    return total / 2**20


def disk_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def cpu_s() -> float:
    """User + system CPU seconds of this process, all its threads."""
    times = os.times()
    return times.user + times.system


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def parse_settings(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`ENGINE.KEY=VALUE` pairs (VALUE as JSON, else a string) over `_SETTINGS`."""
    settings = {engine: dict(values) for engine, values in _SETTINGS.items()}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        engine, _, key = name.partition(".")
        if engine not in settings or not key or not raw:
            raise SystemExit(f"--set {pair!r}: expected ENGINE.KEY=VALUE, ENGINE one of {ENGINES}")
        try:
            settings[engine][key] = json.loads(raw)
        except ValueError:
            settings[engine][key] = raw
    return settings


def parse_sweep(pairs: list[str]) -> dict[str, tuple[str, list[Any]]]:
    """`ENGINE.KEY=V1,V2` pairs: per engine, the search-time setting and its values."""
    sweeps: dict[str, tuple[str, list[Any]]] = {}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        engine, _, key = name.partition(".")
        if (engine, key) not in SEARCH_TIME or not raw:
            known = ", ".join(f"{e}.{k}" for e, k in SEARCH_TIME)
            raise SystemExit(f"--sweep {pair!r}: expected one of {known}, then =V1,V2,...")
        sweeps[engine] = (key, [json.loads(v) for v in raw.split(",")])
    return sweeps


def measure_queries(view: Any, qs: np.ndarray, truth: np.ndarray, k: int) -> dict[str, float]:
    """p50/p99 in ms, one query at a time, and recall@k against `truth`."""
    view.search(qs[0], k)
    latencies = []
    hits = 0
    for q, want in zip(qs, truth, strict=True):
        t = time.perf_counter()
        found, _scores = view.search(q, k)
        latencies.append((time.perf_counter() - t) * 1000)
        hits += len(set(want.tolist()) & set(found.astype(np.int64).tolist()))
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies, 99)), 3),
        "recall_at_10": round(hits / (k * len(qs)), 4),
    }


def reopen(engine: str, store: Any, location: str, key: str, value: Any) -> Any:
    """The saved build opened again with search-time setting `key` = `value`."""
    if engine == "usearch":  # read from the store's settings at every open
        store.settings[key] = value
    elif engine == "chromadb":
        # Kept in the collection's configuration, and read when the engine
        # loads the index: a client that has it loaded keeps the old value.
        store._collection(location).modify(configuration={"hnsw": {key: value}})
        store.close()
    return store.open(location, view=True)


def run_engine(engine: str, n: int, dim: int, queries: int, k: int,
               settings: dict[str, Any], sweep: tuple[str, list[Any]] | None) -> dict[str, Any]:
    """Measure one engine in this process; returns the figures."""
    import resource

    from tldr.vector_store import get_backend

    load_at_start = load_average()
    data = clustered(n, dim, seed=n)
    qs = queries_for(data, queries)
    truth = ground_truth(data, qs, k)
    cls = get_backend(engine)
    ok, reason = cls.is_available()
    if not ok:
        return {"engine": engine, "n": n, "error": reason}
    with tempfile.TemporaryDirectory(prefix=f"tldr-scale-{engine}-") as tmp:
        before = rss_mib(os.getpid(), children=True)
        store = cls(store_dir=Path(tmp), settings=settings or None)
        # usearch indexes in add(), the engines in save(): time both.
        started, cpu_started = time.perf_counter(), cpu_s()
        index = store.create(dim)
        index.add(np.arange(n, dtype=np.uint64), data)
        del data
        location = store.location_for("20240101T000000Z-5ca1e000")
        store.save(index, location)
        load_s = time.perf_counter() - started
        load_cpu_s = cpu_s() - cpu_started
        del index
        view = store.open(location, view=True)
        measured = measure_queries(view, qs, truth, k)
        after = rss_mib(os.getpid(), children=True)
        swept = []
        if sweep is not None:
            key, values = sweep
            for value in values:
                view = reopen(engine, store, location, key, value)
                swept.append({key: value, **measure_queries(view, qs, truth, k)})
        figures = {
            "engine": engine,
            "n": n,
            "dim": dim,
            "load_s": round(load_s, 1),
            "load_cpu_s": round(load_cpu_s, 1),
            "load_per_s": round(n / load_s),
            **measured,
            "sweep": swept,
            "rss_mib": round(after),
            "rss_growth_mib": round(after - before),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "disk_mib": round(disk_mib(Path(tmp))),
            "settings": settings,
            "load_average": [load_at_start, load_average()],
        }
        store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per engine run")
    parser.add_argument("--json", help="append each result as a JSON line here")
    parser.add_argument("--set", action="append", default=[], metavar="ENGINE.KEY=VALUE",
                        help="a backend setting for the run (repeatable)")
    parser.add_argument("--sweep", action="append", default=[], metavar="ENGINE.KEY=V1,V2",
                        help="after the load, measure again with each value of a "
                             "search-time setting (repeatable, one per engine)")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args(argv)
    k = 10
    settings = parse_settings(args.set)
    sweeps = parse_sweep(args.sweep)
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.n[0], args.dim, args.queries, k,
                                    settings[args.engine], sweeps.get(args.engine))))
        return 0
    header = (f"{'engine':<10}{'n':>10}{'load s':>9}{'cpu s':>8}{'vec/s':>9}{'p50 ms':>9}"
              f"{'p99 ms':>9}{'recall@10':>11}{'RSS MiB':>9}{'disk MiB':>10}{'  load avg'}")
    print(f"d={args.dim}, k={k}, {args.queries} queries, clustered unit vectors")
    print(header)
    print("-" * len(header), flush=True)
    for n in args.n:
        for engine in args.engines:
            command = [sys.executable, __file__, "--engine", engine, "--n", str(n),
                       "--dim", str(args.dim), "--queries", str(args.queries),
                       *(f"--set={pair}" for pair in args.set),
                       *(f"--sweep={pair}" for pair in args.sweep)]
            try:
                done = subprocess.run(command, capture_output=True, text=True,
                                      timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"{engine:<10}{n:>10}  did not finish within {args.timeout:.0f} s",
                      flush=True)
                figures: dict[str, Any] = {"engine": engine, "n": n, "timeout_s": args.timeout}
            else:
                lines = done.stdout.strip().splitlines()
                if done.returncode != 0 or not lines:
                    tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
                    print(f"{engine:<10}{n:>10}  failed: {tail[0]}", flush=True)
                    figures = {"engine": engine, "n": n, "error": tail[0]}
                else:
                    figures = json.loads(lines[-1])
                    if "error" in figures:
                        print(f"{engine:<10}{n:>10}  {figures['error']}", flush=True)
                    else:
                        start, end = figures["load_average"]
                        print(f"{engine:<10}{n:>10}{figures['load_s']:>9}"
                              f"{figures['load_cpu_s']:>8}{figures['load_per_s']:>9}"
                              f"{figures['p50_ms']:>9}{figures['p99_ms']:>9}"
                              f"{figures['recall_at_10']:>11}{figures['rss_mib']:>9}"
                              f"{figures['disk_mib']:>10}  {start}-{end}", flush=True)
                        for point in figures["sweep"]:
                            (key, value), *_ = point.items()
                            print(f"{'':<10}{f'{key}={value}':>44}{point['p50_ms']:>9}"
                                  f"{point['p99_ms']:>9}{point['recall_at_10']:>11}", flush=True)
            if args.json:
                with open(args.json, "a") as out:
                    out.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
