#!/usr/bin/env python3
"""Index-build benchmark: extraction, embedding and whole-build throughput.

Measured in one run on a copy of a real corpus (from
../shared/bench/fetch_corpora.py): extraction units/s, the raw model's
embedding units/s on the very texts the build embeds, the full build (fresh
caches) and its pipeline overhead over the raw model time, a no-op build, and
a one-file incremental rebuild.

    python scripts/bench_index.py                       # fastapi, bundled model
    python scripts/bench_index.py --corpus pydantic --model hash-256
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

SHARED_BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"


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
            data = load_source(source_file.abs_path)
        except SkippedFile:
            continue
        units += len(extract_units(data, path=source_file.rel_path, language=source_file.language))
    return len(walked.files), units, time.perf_counter() - started


def raw_embedding_seconds(root: Path, model: str) -> tuple[int, float]:
    """The model alone, on the texts of the committed build, same batching."""
    from tldr.paths import IndexPaths
    from tldr.semantic.build import _EMBED_BATCH
    from tldr.semantic.embedders import get_embedder
    from tldr.semantic.storage import read_metadata, read_units_file
    from tldr.semantic.text import build_called_by, embedding_text

    paths = IndexPaths(root)
    metadata = read_metadata(paths)
    assert metadata is not None
    units = read_units_file(paths, metadata).units
    texts = [embedding_text(u, c) for u, c in zip(units, build_called_by(units), strict=True)]
    embedder = get_embedder(model)
    embedder.embed_documents(texts[:8])  # warm-up: lazy load and first-call costs
    started = time.perf_counter()
    for start in range(0, len(texts), _EMBED_BATCH):
        embedder.embed_documents(texts[start : start + _EMBED_BATCH])
    return len(texts), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="fastapi")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from tldr.semantic import build_semantic_index
    from tldr.semantic.embedders import get_embedder

    source = corpus_dir(args.corpus)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / args.corpus
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".tldr"))

        files, units, extract_seconds = extraction(root)
        embedder = get_embedder(args.model)
        embedder.embed_documents(["warm up"])  # model load is not build time

        full = build_semantic_index(root, model=args.model, embedder=embedder)
        raw_units, raw_seconds = raw_embedding_seconds(root, args.model)
        noop = build_semantic_index(root)

        target = next(p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 2000)
        with target.open("a") as handle:
            handle.write("\n\ndef bench_added_function(value):\n    return value * 2\n")
        one_file = build_semantic_index(root, embedder=embedder)

    build_overhead = full.seconds - raw_seconds
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "corpus": args.corpus,
        "model": args.model,
        "files": files,
        "units": units,
        "extract_units_per_s": round(units / extract_seconds, 1),
        "raw_model_units_per_s": round(raw_units / raw_seconds, 2),
        "full_build_s": round(full.seconds, 2),
        "full_build_units_per_s": round(full.units / full.seconds, 2),
        "pipeline_overhead_pct": round(100 * build_overhead / raw_seconds, 1),
        "full_build_timings": full.timings,
        "noop_s": round(noop.seconds, 3),
        "one_file_rebuild_s": round(one_file.seconds, 3),
        "one_file_embedded": one_file.embedded,
        "one_file_timings": one_file.timings,
    }
    assert noop.status == "up_to_date" and one_file.status == "updated"
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
