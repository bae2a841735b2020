#!/usr/bin/env python3
"""Retrieval-quality benchmark: NDCG@10, MRR and recall@10 on the public corpora.

Fetches the corpora listed in ../shared/bench/corpora.json (its
fetch_corpora.py; cache dir $TLDR_BENCH_CACHE, default ~/.cache/tldrf-bench),
indexes each with `tldr.semantic.build_semantic_index`, runs every annotated
query through `tldr.semantic.Searcher.search` (what `semantic_search` and the
daemon call) and scores the top 10 with exactly the metric of
../shared/bench/README.md.

Usage:
    scripts/bench_quality.py [--mode hybrid|dense|lexical] [--corpus NAME ...]
                             [--model MODEL] [--rebuild] [--json OUT]
                             [--bench-dir DIR] [--verbose]

Prints per corpus, per category and overall NDCG@10, MRR and recall@10, the
index time and the query p50; `--json` also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["covers", "main", "score_query", "summarize"]

K = 10
_REPO = Path(__file__).resolve().parent.parent
_DEFAULT_BENCH = _REPO.parent / "shared" / "bench"


def _target_path(target: str | Mapping[str, Any]) -> str:
    return target if isinstance(target, str) else str(target["path"])


def covers(result: Mapping[str, Any], target: str | Mapping[str, Any]) -> bool:
    """Whether a result row covers an annotation target (README's rule).

    The paths match when equal or when the result path ends with `/` + the
    target path; a target with a line span also needs `[line, end_line]` to
    overlap it.
    """
    path = str(result["file"])
    want = _target_path(target)
    if path != want and not path.endswith("/" + want):
        return False
    if isinstance(target, str) or "start_line" not in target:
        return True
    line = int(result["line"])
    end = int(result.get("end_line") or line)
    return line <= int(target["end_line"]) and end >= int(target["start_line"])


def score_query(
    results: Sequence[Mapping[str, Any]], entry: Mapping[str, Any], k: int = K
) -> dict[str, float]:
    """NDCG@k, reciprocal rank and recall@k of one query's results.

    Args:
        results: Result rows (`file`, `line`, `end_line`), best first.
        entry: The annotation (`relevant`, `secondary`).
        k: Cut-off.

    Returns:
        `{"ndcg": ..., "mrr": ..., "recall": ...}`. MRR uses the first result
        covering a `relevant` target; recall counts relevant and secondary
        targets covered in the top k.
    """
    top = list(results)[:k]
    relevant = list(entry.get("relevant", []))
    targets = relevant + list(entry.get("secondary", []))
    marked: set[int] = set()
    found = 0
    for target in targets:
        rank = next((r for r, row in enumerate(top, 1) if covers(row, target)), None)
        if rank is not None:
            found += 1
            marked.add(rank)
    dcg = sum(1.0 / math.log2(r + 1) for r in marked)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(targets)) + 1))
    first = next((r for r, row in enumerate(top, 1) if any(covers(row, t) for t in relevant)), None)
    return {
        "ndcg": dcg / ideal if ideal else 0.0,
        "mrr": 1.0 / first if first else 0.0,
        "recall": found / len(targets) if targets else 0.0,
    }


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def summarize(per_query: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Aggregate per-query scores: per corpus, per category and overall.

    Args:
        per_query: corpus name -> list of `{"category", "ndcg", "mrr", "recall"}`.

    Returns:
        `{"corpora": {name: metrics}, "categories": {cat: metrics},
        "overall": metrics}`; overall is the mean over corpora (README), a
        category is the mean over corpora of that category's per-corpus mean.
    """
    metrics = ("ndcg", "mrr", "recall")
    corpora = {
        name: {m: _mean(q[m] for q in rows) for m in metrics} | {"queries": len(rows)}
        for name, rows in per_query.items()
    }
    by_cat: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rows in per_query.values():
        cats: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for q in rows:
            cats[q["category"]].append(q)
        for cat, qs in cats.items():
            for m in metrics:
                by_cat[cat][m].append(_mean(q[m] for q in qs))
    categories = {cat: {m: _mean(v[m]) for m in metrics} for cat, v in sorted(by_cat.items())}
    overall = {m: _mean(c[m] for c in corpora.values()) for m in metrics}
    return {"corpora": corpora, "categories": categories, "overall": overall}


def _fetch(bench_dir: Path, names: Sequence[str]) -> dict[str, Path]:
    cmd = [sys.executable, str(bench_dir / "fetch_corpora.py"), *names]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    dirs: dict[str, Path] = {}
    for line in out.splitlines():
        name, _, path = line.partition(" ")
        if path:
            dirs[name] = Path(path)
    return dirs


def _run_corpus(
    name: str, root: Path, queries: Sequence[Mapping[str, Any]], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    from tldr.semantic import Searcher, build_semantic_index

    t0 = time.perf_counter()
    build_semantic_index(root, model=args.model, rebuild=args.rebuild)
    index_s = time.perf_counter() - t0
    # One long-lived searcher, as the daemon holds: the model and the build are
    # loaded once, so the p50 is the per-query cost users see through the daemon.
    searcher = Searcher(root)
    searcher.search("warm up", k=K, mode=args.mode)
    rows: list[dict[str, Any]] = []
    times: list[float] = []
    for entry in queries:
        t0 = time.perf_counter()
        results = searcher.search(entry["query"], k=K, mode=args.mode)
        times.append((time.perf_counter() - t0) * 1000)
        scored = score_query(results, entry)
        rows.append(
            {
                "query": entry["query"],
                "category": entry["category"],
                **scored,
                "top": [f"{r['file']}:{r['line']}" for r in results[:K]],
            }
        )
    return rows, {"index_s": index_s, "query_p50_ms": statistics.median(times)}


def _fmt(m: Mapping[str, float]) -> str:
    return f"{m['ndcg']:.3f}  {m['mrr']:.3f}  {m['recall']:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    parser.add_argument("--corpus", action="append", default=[], help="repeatable")
    parser.add_argument("--model", default=None, help="embedding model (default: bundled)")
    parser.add_argument("--rebuild", action="store_true", help="force a full index rebuild")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    parser.add_argument("--bench-dir", type=Path, default=_DEFAULT_BENCH)
    parser.add_argument("--verbose", action="store_true", help="print every query")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    spec = json.loads((args.bench_dir / "corpora.json").read_text())
    names = [c["name"] for c in spec["corpora"] if not args.corpus or c["name"] in args.corpus]
    dirs = _fetch(args.bench_dir, names)
    per_query: dict[str, list[dict[str, Any]]] = {}
    timing: dict[str, dict[str, float]] = {}
    for name in names:
        queries = json.loads((args.bench_dir / "annotations" / f"{name}.json").read_text())
        per_query[name], timing[name] = _run_corpus(name, dirs[name], queries, args)
        if args.verbose:
            for q in per_query[name]:
                print(f"  {q['ndcg']:.2f} {q['category'][:4]} {q['query']!r}: {q['top'][:3]}")
    summary = summarize(per_query)

    print(f"mode={args.mode} model={args.model or 'default'}")
    print(f"{'corpus':<12} {'n':>3}  ndcg   mrr    rec@10  index_s  p50_ms")
    for name, m in summary["corpora"].items():
        t = timing[name]
        print(
            f"{name:<12} {m['queries']:>3}  {_fmt(m)}  {t['index_s']:7.2f}  "
            f"{t['query_p50_ms']:6.1f}"
        )
    for cat, m in summary["categories"].items():
        print(f"{'[' + cat + ']':<16}  {_fmt(m)}")
    print(f"{'OVERALL':<16}  {_fmt(summary['overall'])}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "mode": args.mode,
                    "model": args.model,
                    **summary,
                    "timing": timing,
                    "queries": per_query,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
