"""Extraction speed per corpus: files, units and units per second.

Walks each corpus like an index build does, reads every file once, then
times `extract_units` alone (best of `--repeat` passes), so the figure is
the extraction engine's own cost per unit, free of disk and embedding time.
The time is this process's CPU time, which other busy processes on the
machine disturb far less than wall time.

    .venv/bin/python scripts/bench_extract.py fastapi model2vec pydantic aiohttp express
    .venv/bin/python scripts/bench_extract.py --all --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

from tldr.units import SkippedFile, extract_units, load_source, walk_project

ORIGINAL_CORPORA = ("fastapi", "model2vec", "pydantic", "aiohttp", "express")


def _corpus_dir() -> Path:
    return Path(os.environ.get("TLDR_BENCH_CACHE", Path.home() / ".cache" / "tldrf-bench"))


def measure(root: Path, repeat: int) -> dict[str, object]:
    """Time extraction over one corpus; return counts and rates."""
    files = []
    for source_file in walk_project(root).files:
        try:
            files.append((source_file, load_source(source_file.abs_path).data))
        except SkippedFile:
            continue
    best = float("inf")
    units: list = []
    for _ in range(repeat):
        started = time.process_time()
        units = []
        for source_file, data in files:
            units.extend(
                extract_units(data, path=source_file.rel_path, language=source_file.language)
            )
        best = min(best, time.process_time() - started)
    return {
        "files": len(files),
        "units": len(units),
        "seconds": round(best, 4),
        "units_per_s": round(len(units) / best, 1) if best else 0.0,
        "us_per_unit": round(best / max(1, len(units)) * 1e6, 1),
        "by_type": dict(Counter(u.unit_type for u in units)),
        "by_language": dict(Counter(u.language for u in units)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", default=list(ORIGINAL_CORPORA))
    parser.add_argument("--all", action="store_true", help="every corpus in the cache")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    base = _corpus_dir()
    names = sorted(p.name for p in base.iterdir() if p.is_dir()) if args.all else args.corpora
    results = {}
    for name in names:
        results[name] = figures = measure(base / name, args.repeat)
        print(
            f"{name:16} files {figures['files']:5}  units {figures['units']:6}  "
            f"{figures['seconds']:7.3f}s  {figures['units_per_s']:9.1f} units/s  "
            f"{figures['us_per_unit']:6.1f} us/unit"
        )
    total_units = sum(int(r["units"]) for r in results.values())  # type: ignore[call-overload]
    total_s = sum(float(r["seconds"]) for r in results.values())  # type: ignore[arg-type]
    print(f"{'total':16} units {total_units:6}  {total_s:.3f}s  "
          f"{total_s / max(1, total_units) * 1e6:.1f} us/unit")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
