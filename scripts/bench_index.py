#!/usr/bin/env python3
"""Index-build benchmark: each model variant side by side, speed and quality.

For every variant (the first is the baseline, fp32 torch by default), in one
run on fresh copies of real corpora (from ../shared/bench/fetch_corpora.py):
the full cold build's units/s (fresh embedding cache), the raw model's
embedding units/s on the very texts the build embeds, the pipeline overhead,
query-embedding p50, a no-op build and a one-file incremental rebuild; then
NDCG@10 of each variant on the quality benchmark (scripts/bench_quality.py,
hybrid mode; each variant on its own copy of the corpora, the runs in
parallel once the speed figures are taken). Extraction units/s is measured
once.

    python scripts/bench_index.py                      # fastapi; torch, onnx-fp32, onnx-int8
    python scripts/bench_index.py --corpus pydantic --corpus aiohttp --no-quality
    python scripts/bench_index.py --variant hash-256 --variant hash-512
    python scripts/bench_index.py --stock --variant all-MiniLM-L6-v2:torch \
        --variant all-MiniLM-L6-v2:onnx-int8 --no-quality   # also stock sentence-transformers
    TLDR_BENCH_CACHE=/work/bench-x python scripts/bench_index.py \\
        --quality-corpus fastapi --quality-corpus tokio
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_SCRIPTS = Path(__file__).resolve().parent
# ../shared/bench of the checkout; a worktree under <repo>/wt/<name> finds its parent's.
SHARED_BENCH = next(
    (p for p in (_SCRIPTS.parents[1] / "shared" / "bench", _SCRIPTS.parents[2] / "shared" / "bench")
     if p.is_dir()),
    _SCRIPTS.parents[1] / "shared" / "bench",
)
DEFAULT_VARIANTS = (
    "all-MiniLM-L6-v2:torch",
    "all-MiniLM-L6-v2:onnx-fp32",
    "all-MiniLM-L6-v2:onnx-int8",
)
QUALITY_CORPORA = ("fastapi", "model2vec", "pydantic", "aiohttp", "express")


def corpus_dir(name: str) -> Path:
    cache = Path(os.environ.get("TLDR_BENCH_CACHE", Path.home() / ".cache" / "tldrf-bench"))
    if not (cache / name).is_dir():
        subprocess.run(
            [sys.executable, str(SHARED_BENCH / "fetch_corpora.py"), "--dest", str(cache), name],
            check=True,
        )
    return cache / name


def extraction(root: Path) -> tuple[int, int, float]:
    from tldr.units import SkippedFile, extract_units, load_source, walk_project

    started = time.perf_counter()
    walked = walk_project(root)
    units = 0
    for source_file in walked.files:
        try:
            data = load_source(source_file.abs_path).data
        except SkippedFile:
            continue
        units += len(extract_units(data, path=source_file.rel_path, language=source_file.language))
    return len(walked.files), units, time.perf_counter() - started


def build_texts(root: Path) -> list[str]:
    """The embedding texts of the committed build."""
    from tldr.paths import IndexPaths
    from tldr.semantic.storage import read_metadata, read_units_file
    from tldr.semantic.text import build_called_by, embedding_text

    paths = IndexPaths(root)
    metadata = read_metadata(paths)
    assert metadata is not None
    units = read_units_file(paths, metadata).units
    return [embedding_text(u, c) for u, c in zip(units, build_called_by(units), strict=True)]


def raw_embedding_seconds(embedder: Any, texts: list[str]) -> float:
    """The model alone on `texts`, in the build's batches."""
    from tldr.semantic.indexing.pipeline import _EMBED_BATCH

    started = time.perf_counter()
    for start in range(0, len(texts), _EMBED_BATCH):
        embedder.embed_documents(texts[start : start + _EMBED_BATCH])
    return time.perf_counter() - started


def stock_embedding_seconds(texts: list[str]) -> tuple[float, int]:
    """sentence-transformers as shipped (fp32, the model's own length, batch 32) on `texts`.

    The baseline a user gets from `SentenceTransformer(...).encode(texts)`;
    the torch variant above runs the same weights at tldrf's length.
    """
    from sentence_transformers import SentenceTransformer

    from tldr.semantic.models.embedders import MODEL_REGISTRY, skip_hub_kernels
    from tldr.semantic.models.onnx_export import bundled_model_dir

    skip_hub_kernels()
    model = SentenceTransformer(str(bundled_model_dir(MODEL_REGISTRY["all-MiniLM-L6-v2"])),
                                device="cpu")
    model.encode(["warm up"])
    started = time.perf_counter()
    model.encode(texts, batch_size=32)
    return time.perf_counter() - started, int(model.max_seq_length)


def query_p50_ms(embedder: Any, queries: list[str]) -> float:
    times = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def annotated_queries(corpus: str) -> list[str]:
    path = SHARED_BENCH / "annotations" / f"{corpus}.json"
    if not path.exists():
        path = SHARED_BENCH / "annotations" / "fastapi.json"
    return [entry["query"] for entry in json.loads(path.read_text())]


# A function appended to one file: what the one-file rebuild embeds.
_ADDED_FUNCTION = {
    ".py": "\n\ndef bench_added_function(value):\n    return value * 2\n",
    ".js": "\n\nfunction benchAddedFunction(value) {\n  return value * 2;\n}\n",
}


def measure_variant(model: str, source: Path, queries: list[str],
                    *, stock: bool = False) -> dict[str, Any]:
    """Speed figures of one variant on a fresh copy of the corpus."""
    from tldr.semantic import build_semantic_index
    from tldr.semantic.models.embedders import get_embedder

    started = time.perf_counter()
    embedder = get_embedder(model)
    embedder.embed_documents(["warm up"])  # model load (and first export) is not build time
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / source.name
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".tldr"))
        # A cold build: the shared embedding cache must not hold this corpus's vectors.
        os.environ["TLDR_EMBEDDING_CACHE"] = str(Path(scratch) / "embeddings")
        full = build_semantic_index(root, model=model, embedder=embedder)
        texts = build_texts(root)
        raw_s = raw_embedding_seconds(embedder, texts)
        stock_s, stock_length = stock_embedding_seconds(texts) if stock else (0.0, 0)
        noop = build_semantic_index(root)
        target = next(
            p for p in sorted(root.rglob("*")) if p.suffix in _ADDED_FUNCTION
            and p.is_file() and p.stat().st_size > 2000
        )
        with target.open("a") as handle:
            handle.write(_ADDED_FUNCTION[target.suffix])
        one_file = build_semantic_index(root, embedder=embedder)
    assert noop.status == "up_to_date" and one_file.status == "updated"
    return {
        "model_id": embedder.model_id,
        "load_s": round(load_s, 2),
        "units": full.units,
        "full_build_s": round(full.seconds, 2),
        "raw_model_s": round(raw_s, 2),
        "raw_units": len(texts),
        "stock_raw_model_s": round(stock_s, 2),
        "stock_max_seq_length": stock_length,
        "query_embed_p50_ms": round(query_p50_ms(embedder, queries), 2),
        "full_build_timings": full.timings,
        "noop_s": round(noop.seconds, 3),
        "one_file_rebuild_s": round(one_file.seconds, 3),
        "one_file_embedded": one_file.embedded,
    }


def combined(per_corpus: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One variant's figures over all corpora: units and seconds add up."""
    rows = list(per_corpus.values())
    units = sum(r["units"] for r in rows)
    build_s = sum(r["full_build_s"] for r in rows)
    raw_s = sum(r["raw_model_s"] for r in rows)
    return {
        "model_id": rows[0]["model_id"],
        "load_s": rows[0]["load_s"],
        "full_build_s": round(build_s, 2),
        "full_build_units_per_s": round(units / build_s, 2),
        "raw_model_units_per_s": round(sum(r["raw_units"] for r in rows) / raw_s, 2),
        "pipeline_overhead_pct": round(100 * (build_s - raw_s) / raw_s, 1),
        "stock_raw_units_per_s": round(sum(r["raw_units"] for r in rows)
                                       / max(sum(r["stock_raw_model_s"] for r in rows), 1e-9), 2),
        "stock_max_seq_length": rows[0]["stock_max_seq_length"],
        "query_embed_p50_ms": rows[0]["query_embed_p50_ms"],
        "one_file_rebuild_s": rows[0]["one_file_rebuild_s"],
        "per_corpus": per_corpus,
    }


def quality_runs(models: list[str], corpora: list[str], jobs: int) -> dict[str, dict[str, Any]]:
    """NDCG@10 of each model (hybrid) from bench_quality.py, overall and per corpus.

    Each model gets its own copy of the corpora (kept next to the bench cache,
    so a rerun reuses its embedding cache) and up to `jobs` run at once.
    """
    cache = Path(os.environ.get("TLDR_BENCH_CACHE", Path.home() / ".cache" / "tldrf-bench"))
    for name in corpora:
        corpus_dir(name)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        pending = list(models)
        running: dict[str, tuple[subprocess.Popen, Path]] = {}
        while pending or running:
            while pending and len(running) < jobs:
                model = pending.pop(0)
                copies = cache.parent / f"{cache.name}-quality" / model.replace(":", "_")
                for name in corpora:
                    if not (copies / name).is_dir():
                        shutil.copytree(cache / name, copies / name,
                                        ignore=shutil.ignore_patterns(".tldr"))
                out = Path(scratch) / f"{model.replace(':', '_')}.json"
                command = [sys.executable, str(_SCRIPTS / "bench_quality.py"), "--model", model,
                           "--json", str(out)]
                for name in corpora:
                    command += ["--corpus", name]
                # Each model's own embedding cache: vectors another run left in
                # the shared cache must not stand in for this variant's.
                env = {**os.environ, "TLDR_BENCH_CACHE": str(copies),
                       "TLDR_EMBEDDING_CACHE": str(copies / ".embeddings")}
                running[model] = (
                    subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL), out
                )
            time.sleep(1)
            for model, (child, out) in list(running.items()):
                if child.poll() is None:
                    continue
                del running[model]
                if child.returncode != 0:
                    raise SystemExit(f"bench_quality.py --model {model} failed")
                result = json.loads(out.read_text())
                results[model] = {
                    "ndcg": round(result["overall"]["ndcg"], 4),
                    "corpora": {n: round(m["ndcg"], 3) for n, m in result["corpora"].items()},
                    "index_s": round(sum(t["index_s"] for t in result["timing"].values()), 1),
                }
                print(f"{model} quality: {json.dumps(results[model])}", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", default=[],
                        help="a corpus the speed is measured on, repeatable; units and seconds "
                             "add up over them (default: fastapi)")
    parser.add_argument("--variant", action="append", default=[],
                        help="model to compare, repeatable; the first is the baseline "
                             f"(default: {', '.join(DEFAULT_VARIANTS)})")
    parser.add_argument("--quality-corpus", action="append", default=[],
                        help=f"repeatable (default: {', '.join(QUALITY_CORPORA)})")
    parser.add_argument("--no-quality", action="store_true", help="speed only")
    parser.add_argument("--quality-jobs", type=int, default=0,
                        help="quality runs at once (default: one per variant)")
    parser.add_argument("--stock", action="store_true",
                        help="also time sentence-transformers as shipped (fp32, its own "
                             "max_seq_length, batch 32) on the first variant's texts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    variants = args.variant or list(DEFAULT_VARIANTS)

    corpora = args.corpus or ["fastapi"]
    sources = {name: corpus_dir(name) for name in corpora}
    files = units = 0
    extract_s = 0.0
    for source in sources.values():
        corpus_files, corpus_units, seconds = extraction(source)
        files, units, extract_s = files + corpus_files, units + corpus_units, extract_s + seconds
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores, "
                   f"Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "corpus": "+".join(corpora),
        "files": files,
        "units": units,
        "extract_units_per_s": round(units / extract_s, 1),
        "variants": {},
    }
    for model in variants:
        per_corpus = {}
        for name, source in sources.items():
            print(f"measuring {model} on {name} ...", file=sys.stderr)
            per_corpus[name] = measure_variant(model, source, annotated_queries(name),
                                               stock=args.stock and model == variants[0])
        figures["variants"][model] = combined(per_corpus)
        print(f"{model}: {json.dumps(figures['variants'][model])}", file=sys.stderr)
    # Speed first, alone; the quality runs may then share the machine.
    if not args.no_quality:
        corpora = args.quality_corpus or list(QUALITY_CORPORA)
        print(f"quality on {', '.join(corpora)} ...", file=sys.stderr)
        scores = quality_runs(variants, corpora, args.quality_jobs or len(variants))
        for model, score in scores.items():
            figures["variants"][model]["quality"] = score
    figures["load_average_after"] = os.getloadavg()
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def print_table(figures: dict[str, Any]) -> None:
    print(f"{figures['corpus']}: {figures['files']} files, {figures['units']} units; "
          f"extraction {figures['extract_units_per_s']} units/s; {figures['machine']}; "
          f"load {figures['load_average'][0]:.1f} -> {figures['load_average_after'][0]:.1f}")
    rows = list(figures["variants"].items())
    base = rows[0][1]
    header = (f"{'variant':<30} {'build u/s':>9} {'x base':>6} {'raw u/s':>8} {'x base':>6} "
              f"{'overhead':>8} {'query p50':>9} {'1-file s':>8} {'NDCG@10':>8} {'delta':>7}")
    print(header)
    for model, v in rows:
        q = v.get("quality")
        ndcg = f"{q['ndcg']:.4f}" if q else "-"
        delta = f"{q['ndcg'] - base['quality']['ndcg']:+.4f}" if q and "quality" in base else "-"
        print(f"{model:<30} {v['full_build_units_per_s']:>9.1f} "
              f"{v['full_build_units_per_s'] / base['full_build_units_per_s']:>6.2f} "
              f"{v['raw_model_units_per_s']:>8.1f} "
              f"{v['raw_model_units_per_s'] / base['raw_model_units_per_s']:>6.2f} "
              f"{v['pipeline_overhead_pct']:>7.1f}% {v['query_embed_p50_ms']:>7.2f}ms "
              f"{v['one_file_rebuild_s']:>8.3f} {ndcg:>8} {delta:>7}")
    if base["stock_max_seq_length"]:
        stock = base["stock_raw_units_per_s"]
        print(f"sentence-transformers as shipped (fp32, {base['stock_max_seq_length']} pieces, "
              f"batch 32), raw: {stock:.1f} u/s; build u/s of each variant / that: "
              + ", ".join(f"{model} {v['full_build_units_per_s'] / stock:.2f}x"
                          for model, v in rows))
    for model, v in rows:
        if "quality" in v:
            print(f"  {model}: NDCG@10 per corpus {v['quality']['corpora']}")


if __name__ == "__main__":
    sys.exit(main())
