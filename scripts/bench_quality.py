#!/usr/bin/env python3
"""Retrieval-quality benchmark: NDCG@10, MRR and recall@10 on the development set.

The development set is ../shared/bench: 19 public corpora in 16 languages
(corpora.json, annotations/<name>.json), materialized by its fetch_corpora.py
into $TLDR_BENCH_CACHE (default ~/.cache/tldrf-bench). Each corpus is indexed
with `tldr.semantic.build_semantic_index` and every annotated query runs
through `tldr.semantic.Searcher.search` (what `semantic_search` and the
daemon call); the top 10 are scored with exactly the metric of
../shared/bench/README.md.

Usage:
    scripts/bench_quality.py [--corpus NAME ...] [--language LANG ...] [--quick]
                             [--mode hybrid|dense|lexical] [--model MODEL] [--tier fast]
                             [--rebuild] [--json OUT] [--compare PREVIOUS.json]
                             [--sweep CONSTANT=V1,V2 ...] [--dtypes f16,i8] [--verbose]

Prints NDCG@10, MRR and recall@10 per corpus (with the published semble
figure beside ours), per language, per category and overall, plus index time
per unit and the query p50. `--compare` adds the change against an earlier
`--json` output. `--dtypes f16,i8` scores every corpus again with its
vectors stored at each USearch precision (the very vectors of the build, put
into a new index of that dtype in memory) and prints the change per language
(specs/019-compact-index.md). `--sweep` re-ranks every query with a ranking constant
(`tldr.semantic.query.ranking.NAME`, `file_kinds.NAME` or `lexical.NAME`; a
lexical constant rebuilds each corpus's BM25 index in memory, since its
weights are computed at build time) set to each value and reports the
change of the mean over corpora with each language held out in turn
(leave-one-language-out): a value is taken only when it helps with every
language held out, so a gain that comes from one language does not count.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PUBLISHED",
    "QUICK",
    "covers",
    "leave_one_language_out",
    "main",
    "score_query",
    "summarize",
]

K = 10
_REPO = Path(__file__).resolve().parent.parent
# ../shared/bench of the checkout; a worktree under <repo>/wt/<name> finds its parent's.
_DEFAULT_BENCH = next(
    (p for p in (_REPO.parent / "shared" / "bench", _REPO.parent.parent / "shared" / "bench")
     if p.is_dir()),
    _REPO.parent / "shared" / "bench",
)

# Published NDCG@10 of semble hybrid (potion-code-16M) per corpus, from
# ../shared/bench/README.md: its table for the git corpora, its last
# paragraph for the five package corpora (at their source revisions).
PUBLISHED = {
    "fastapi": 0.787,
    "model2vec": 0.693,
    "pydantic": 0.792,
    "aiohttp": 0.852,
    "express": 0.910,
    "tokio": 0.953,
    "rails": 0.881,
    "vitest": 0.691,
    "abseil-cpp": 0.949,
    "ktor": 0.843,
    "newtonsoft-json": 0.891,
    "cats": 0.911,
    "alamofire": 0.964,
    "telescope.nvim": 0.805,
    "bats-core": 0.841,
    "aeson": 0.762,
    "zig-clap": 0.910,
    "curl": 0.726,
    "monolog": 0.901,
    "ecto": 0.927,
    "exposed": 0.712,
    "kotlinx-coroutines": 0.907,
}

# `--quick`: small corpora in nine languages (about 700 files in all), so a
# cross-language check fits in a few minutes once the embeddings are cached.
QUICK = (
    "model2vec",
    "express",
    "alamofire",
    "ktor",
    "telescope.nvim",
    "bats-core",
    "aeson",
    "zig-clap",
    "monolog",
)

_METRICS = ("ndcg", "mrr", "recall")


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


def summarize(
    per_query: Mapping[str, Sequence[Mapping[str, Any]]],
    languages: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Aggregate per-query scores: per corpus, language, category and overall.

    Args:
        per_query: corpus name -> list of `{"category", "ndcg", "mrr", "recall"}`.
        languages: corpus name -> language (omitted: no per-language figures).

    Returns:
        `{"corpora": {name: metrics}, "languages": {lang: metrics},
        "categories": {cat: metrics}, "overall": metrics}`; overall is the
        mean over corpora (README), a language or a category is the mean over
        corpora of that language, or of that category's per-corpus mean.
    """
    corpora = {
        name: {m: _mean(q[m] for q in rows) for m in _METRICS} | {"queries": len(rows)}
        for name, rows in per_query.items()
    }
    by_cat: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rows in per_query.values():
        cats: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for q in rows:
            cats[q["category"]].append(q)
        for cat, qs in cats.items():
            for m in _METRICS:
                by_cat[cat][m].append(_mean(q[m] for q in qs))
    categories = {cat: {m: _mean(v[m]) for m in _METRICS} for cat, v in sorted(by_cat.items())}
    by_lang: dict[str, list[str]] = defaultdict(list)
    for name in corpora:
        if languages and name in languages:
            by_lang[languages[name]].append(name)
    langs = {
        lang: {m: _mean(corpora[n][m] for n in names) for m in _METRICS}
        for lang, names in sorted(by_lang.items())
    }
    overall = {m: _mean(c[m] for c in corpora.values()) for m in _METRICS}
    return {"corpora": corpora, "languages": langs, "categories": categories, "overall": overall}


def leave_one_language_out(
    base: Mapping[str, float], changed: Mapping[str, float], languages: Mapping[str, str]
) -> dict[str, float]:
    """Change of the mean NDCG over corpora with each language held out.

    Args:
        base: corpus -> NDCG@10 with the current constants.
        changed: corpus -> NDCG@10 with one constant changed.
        languages: corpus -> language.

    Returns:
        held-out language -> mean over the other languages' corpora of
        `changed - base`. A change that helps only one language shows ~0 (or
        a loss) with that language held out.
    """
    held: dict[str, float] = {}
    for lang in sorted(set(languages[n] for n in base)):
        rest = [n for n in base if languages[n] != lang]
        held[lang] = _mean(changed[n] - base[n] for n in rest)
    return held


def _fetch(bench_dir: Path, names: Sequence[str]) -> dict[str, Path]:
    cmd = [sys.executable, str(bench_dir / "fetch_corpora.py"), *names]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    dirs: dict[str, Path] = {}
    for line in proc.stdout.splitlines():
        name, _, path = line.partition(" ")
        if path:
            dirs[name] = Path(path)
    for line in proc.stderr.splitlines():
        print(f"fetch: {line}", file=sys.stderr)
    return dirs


_Ranker = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class _Opened:
    """One indexed corpus held open for sweeps."""

    run: _Ranker
    queries: Sequence[Mapping[str, Any]]
    reindex_lexical: Callable[[], None]


def _open_corpus(
    root: Path, args: argparse.Namespace
) -> tuple[_Ranker, dict[str, float], Callable[[], None], Callable[[str], Callable[[], None]]]:
    """Index `root` (incrementally); its query function, build timing, BM25 rebuild and
    vector precision swap (installs an index of a dtype, returns the undo)."""
    from tldr.semantic import Searcher, build_semantic_index
    from tldr.semantic.lexical import LexicalIndex, TokenCache

    t0 = time.perf_counter()
    build_semantic_index(root, model=args.model, rebuild=args.rebuild)
    index_s = time.perf_counter() - t0
    # One long-lived searcher, as the daemon holds: the model and the build are
    # loaded once, so the p50 is the per-query cost users see through the daemon.
    searcher = Searcher(root)
    searcher.search("warm up", k=K, mode=args.mode)
    units = len(searcher.build.units)
    timing = {"index_s": index_s, "units": units}

    if args.sweep and args.mode != "lexical":
        # Sweeps re-rank the same queries: each vector is computed once (the
        # first pass, which the p50 measures, still embeds every query).
        embedder = searcher.embedder(searcher.build.metadata)
        embedder.embed_query = functools.lru_cache(maxsize=None)(embedder.embed_query)

    def run(query: str) -> list[dict[str, Any]]:
        return searcher.search(query, k=K, mode=args.mode)

    def reindex_lexical() -> None:
        # In memory only: the committed index on disk is left as built.
        build = searcher.build
        units = [build.full_unit(position) for position in range(len(build.units))]
        build.lexical_index = LexicalIndex.build(units, token_cache=TokenCache())

    def with_dtype(dtype: str) -> Callable[[], None]:
        from tldr.vector_store import get_backend

        build = searcher.build
        original = build.vector_index
        keys = original.keys()
        vectors = original.raw.get(keys, "f32")
        store = get_backend("usearch")(store_dir=root, settings={"dtype": dtype})
        index = store.create(original.dimension)
        index.add(keys, vectors)
        build.vector_index = index

        def undo() -> None:
            build.vector_index = original

        return undo

    return run, timing, reindex_lexical, with_dtype


def _score_all(
    run: _Ranker, queries: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], float]:
    rows: list[dict[str, Any]] = []
    times: list[float] = []
    for entry in queries:
        t0 = time.perf_counter()
        results = run(entry["query"])
        times.append((time.perf_counter() - t0) * 1000)
        rows.append(
            {
                "query": entry["query"],
                "category": entry["category"],
                **score_query(results, entry),
                "top": [f"{r['file']}:{r['line']}" for r in results[:K]],
            }
        )
    return rows, statistics.median(times) if times else 0.0


def _parse_sweeps(specs: Sequence[str]) -> list[tuple[str, list[Any]]]:
    sweeps = []
    for spec in specs:
        name, _, values = spec.partition("=")
        if not values:
            raise SystemExit(f"--sweep wants NAME=V1,V2..., got {spec!r}")
        sweeps.append((name.strip(), json.loads(f"[{values}]")))
    return sweeps


def _constant_owner(name: str) -> Any:
    from tldr.semantic import lexical
    from tldr.semantic.query import file_kinds, ranking, tiers

    module_name, _, attr = name.rpartition(".")
    modules = {"ranking": ranking, "file_kinds": file_kinds, "lexical": lexical, "tiers": tiers}
    for mod_name, module in modules.items():
        if module_name in ("", mod_name) and hasattr(module, attr):
            return module, attr
    raise SystemExit(f"no ranking constant {name!r}")


def _select(spec: Sequence[Mapping[str, Any]], args: argparse.Namespace) -> list[str]:
    names = [c["name"] for c in spec]
    if args.quick:
        names = [n for n in names if n in QUICK]
    if args.corpus:
        unknown = set(args.corpus) - set(names)
        if unknown:
            raise SystemExit(f"unknown corpus: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in args.corpus]
    if args.language:
        lang_of = {c["name"]: c["language"] for c in spec}
        names = [n for n in names if lang_of[n] in args.language]
    return names


def _fmt(m: Mapping[str, float]) -> str:
    return f"{m['ndcg']:.3f}  {m['mrr']:.3f}  {m['recall']:.3f}"


def _delta(now: float, before: Mapping[str, Any] | None) -> str:
    if not before or "ndcg" not in before:
        return ""
    return f"  {now - before['ndcg']:+.3f}"


def _report(
    summary: Mapping[str, Any],
    timing: Mapping[str, Mapping[str, float]],
    languages: Mapping[str, str],
    previous: Mapping[str, Any] | None,
) -> None:
    prev = previous or {}
    cmp = "  vs-prev" if previous else ""
    print(
        f"{'corpus':<16} {'lang':<11} {'n':>3}  ndcg   mrr    rec@10  semble  "
        f"index_s  ms/unit  p50_ms{cmp}"
    )
    for name, m in summary["corpora"].items():
        t = timing[name]
        pub = PUBLISHED.get(name)
        per_unit = 1000 * t["index_s"] / t["units"] if t.get("units") else 0.0
        print(
            f"{name:<16} {languages[name]:<11} {m['queries']:>3}  {_fmt(m)}  "
            f"{pub if pub is not None else float('nan'):6.3f}  {t['index_s']:7.1f}  "
            f"{per_unit:7.2f}  {t['query_p50_ms']:6.1f}"
            f"{_delta(m['ndcg'], prev.get('corpora', {}).get(name))}"
        )
    for lang, m in summary["languages"].items():
        pubs = [PUBLISHED[n] for n in summary["corpora"] if languages[n] == lang and n in PUBLISHED]
        print(
            f"{'<' + lang + '>':<32}  {_fmt(m)}  {_mean(pubs):6.3f}"
            f"{_delta(m['ndcg'], prev.get('languages', {}).get(lang))}"
        )
    for cat, m in summary["categories"].items():
        print(
            f"{'[' + cat + ']':<32}  {_fmt(m)}        "
            f"{_delta(m['ndcg'], prev.get('categories', {}).get(cat))}"
        )
    pubs = [PUBLISHED[n] for n in summary["corpora"] if n in PUBLISHED]
    print(
        f"{'OVERALL':<32}  {_fmt(summary['overall'])}  {_mean(pubs):6.3f}"
        f"{_delta(summary['overall']['ndcg'], prev.get('overall'))}"
    )


def _report_dtype(dtype: str, base: Mapping[str, Any], other: Mapping[str, Any]) -> None:
    """NDCG@10 per language and overall with vectors stored as `dtype`, against the run's own."""
    print(f"vectors stored as {dtype} (NDCG@10, change against the run's dtype):")
    for lang, m in other["languages"].items():
        print(f"  {lang:<12} {m['ndcg']:.3f}  {m['ndcg'] - base['languages'][lang]['ndcg']:+.4f}")
    overall = other["overall"]["ndcg"]
    print(f"  {'OVERALL':<12} {overall:.3f}  {overall - base['overall']['ndcg']:+.4f}")


def _sweep(
    sweeps: Sequence[tuple[str, list[Any]]],
    opened: Mapping[str, _Opened],
    base: Mapping[str, float],
    languages: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Re-rank every query per constant value; print overall, per language and held-out changes."""
    from tldr.semantic import lexical

    out = []
    for name, values in sweeps:
        module, attr = _constant_owner(name)
        original = getattr(module, attr)
        reindex = module is lexical
        for value in values:
            setattr(module, attr, value)
            try:
                if reindex:
                    for corpus in opened.values():
                        corpus.reindex_lexical()
                changed = {
                    name_: _mean(r["ndcg"] for r in _score_all(c.run, c.queries)[0])
                    for name_, c in opened.items()
                }
            finally:
                setattr(module, attr, original)
                if reindex:
                    for corpus in opened.values():
                        corpus.reindex_lexical()
            held = leave_one_language_out(base, changed, languages)
            per_lang = {
                lang: _mean(changed[n] - base[n] for n in base if languages[n] == lang)
                for lang in sorted(set(languages[n] for n in base))
            }
            overall = _mean(changed[n] - base[n] for n in base)
            worst = min(held.values()) if held else 0.0
            verdict = "generalizes" if worst > 0 else "does not generalize"
            print(
                f"sweep {attr}={value!r} (now {original!r}): overall {overall:+.4f}, "
                f"worst held-out {worst:+.4f} ({verdict})"
            )
            print("   per language: " + ", ".join(f"{k} {v:+.3f}" for k, v in per_lang.items()))
            print("   held out:     " + ", ".join(f"{k} {v:+.4f}" for k, v in held.items()))
            out.append(
                {
                    "constant": attr,
                    "value": value,
                    "current": original,
                    "overall": overall,
                    "per_language": per_lang,
                    "held_out": held,
                    "corpora": changed,
                }
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    parser.add_argument("--corpus", action="append", default=[], help="repeatable")
    parser.add_argument("--language", action="append", default=[], help="repeatable")
    parser.add_argument("--quick", action="store_true", help="small cross-language sample")
    parser.add_argument("--model", default=None, help="embedding model (default: bundled)")
    parser.add_argument(
        "--tier",
        choices=("full", "fast"),
        default="full",
        help="full: the model itself; fast: the static model of its fast tier alone "
        "(specs/020-fast-tier-and-scale.md), each corpus built with it",
    )
    parser.add_argument("--rebuild", action="store_true", help="force a full index rebuild")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    parser.add_argument("--compare", type=Path, default=None, help="an earlier --json output")
    parser.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="CONSTANT=V1,V2",
        help="re-rank with a ranking constant set to each value (repeatable)",
    )
    parser.add_argument("--dtypes", default="", metavar="f16,i8",
                        help="also score with the vectors stored at these USearch dtypes")
    parser.add_argument("--bench-dir", type=Path, default=_DEFAULT_BENCH)
    parser.add_argument("--verbose", action="store_true", help="print every query")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.tier == "fast":
        from tldr.semantic.fast_tier import fast_model_for
        from tldr.settings import DEFAULT_MODEL

        fast = fast_model_for(args.model or DEFAULT_MODEL)
        if fast is None:
            raise SystemExit(f"{args.model or DEFAULT_MODEL} has no fast tier")
        args.model = fast

    spec = json.loads((args.bench_dir / "corpora.json").read_text())["corpora"]
    languages = {c["name"]: c["language"] for c in spec}
    sweeps = _parse_sweeps(args.sweep)
    previous = json.loads(args.compare.read_text()) if args.compare else None
    names = _select(spec, args)
    dirs = _fetch(args.bench_dir, names)
    per_query: dict[str, list[dict[str, Any]]] = {}
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()] if args.dtypes else []
    per_dtype: dict[str, dict[str, list[dict[str, Any]]]] = {d: {} for d in dtypes}
    timing: dict[str, dict[str, float]] = {}
    opened: dict[str, _Opened] = {}
    for name in names:
        if name not in dirs:
            continue
        queries = json.loads((args.bench_dir / "annotations" / f"{name}.json").read_text())
        run, timing[name], reindex_lexical, with_dtype = _open_corpus(dirs[name], args)
        per_query[name], timing[name]["query_p50_ms"] = _score_all(run, queries)
        print(f"# {name}: {_mean(q['ndcg'] for q in per_query[name]):.3f}", flush=True)
        for dtype in dtypes:
            undo = with_dtype(dtype)
            try:
                per_dtype[dtype][name] = _score_all(run, queries)[0]
            finally:
                undo()
            print(f"#   {dtype}: {_mean(q['ndcg'] for q in per_dtype[dtype][name]):.3f}",
                  flush=True)
        if args.verbose:
            for q in per_query[name]:
                print(f"  {q['ndcg']:.2f} {q['category'][:4]} {q['query']!r}: {q['top'][:3]}")
        if sweeps:
            opened[name] = _Opened(run, queries, reindex_lexical)
    summary = summarize(per_query, languages)
    if previous and previous.get("queries"):
        # Compare like with like: the earlier run over this run's corpora only.
        prev_per = {n: rows for n, rows in previous["queries"].items() if n in per_query}
        previous = summarize(prev_per, languages)

    print(
        f"mode={args.mode} model={args.model or 'default'} tier={args.tier} "
        f"machine={platform.machine()} cpus={os.cpu_count()}"
    )
    _report(summary, timing, languages, previous)
    by_dtype = {d: summarize(rows, languages) for d, rows in per_dtype.items()}
    for dtype, other in by_dtype.items():
        _report_dtype(dtype, summary, other)
    base = {n: summary["corpora"][n]["ndcg"] for n in opened}
    swept = _sweep(sweeps, opened, base, languages) if sweeps else []
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
                    "mode": args.mode,
                    "model": args.model,
                    "tier": args.tier,
                    "published": {n: PUBLISHED.get(n) for n in per_query},
                    "language_of": {n: languages[n] for n in per_query},
                    **summary,
                    "timing": timing,
                    "sweeps": swept,
                    "dtypes": by_dtype,
                    "queries": per_query,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
