"""Benchmark every available vector store backend.

Build time (create + add + save), query latency p50/p99 (k=10, one query at a
time, index opened with view=True as the daemon does) and recall@10 against
exact search, on random clustered unit vectors (d=384).

    .venv/bin/python scripts/bench_backends.py            # 10k and 100k
    .venv/bin/python scripts/bench_backends.py --sizes 10000 --queries 100
    .venv/bin/python scripts/bench_backends.py --sizes 30000 --dtypes f32,f16,i8  # precision

`--dtypes` runs only usearch, HNSW forced, once per stored precision, each
against the exact f32 top 10 (specs/019-compact-index.md). `--cache-vectors`
takes real vectors instead: those of the shared embedding cache for the
bundled model (code units embedded by earlier builds), queries drawn from
them with the same noise.

Embedded qdrant commits each point to SQLite separately (~100 points/s), so
it is capped at --qdrant-cap vectors (default 1000) and reported as such.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

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
    parser.add_argument("--cache-vectors", action="store_true",
                        help="real vectors from the shared embedding cache (bundled model)")
    args = parser.parse_args(argv)
    k = 10
    runs = [("usearch", {}), ("usearch", {"exact_threshold": 0}), ("exact", {}), ("faiss", {})]
    runs.append(("qdrant", {}))
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


if __name__ == "__main__":
    main()
