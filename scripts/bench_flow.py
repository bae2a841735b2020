"""Time cfg, dfg and slices per call on the largest functions of a real project.

Each call is what `tldrf cfg|dfg|slice FILE FUNC` costs in-process: read
the file, parse it, find the function by name, build and analyse. The
functions are the `--top` largest (by lines) the units layer finds in the
tree; a slice is taken backward from the function's last statement line
and forward from its first body line. Wall time (perf_counter) and CPU
time (process_time, which other busy processes disturb far less) per call,
p50 and p99 over all calls of one kind, best of `--repeat` passes per call.

    pip download django==5.1.13 --no-deps -d /tmp/dj && unzip -q /tmp/dj/*.whl -d /tmp/dj/src
    .venv/bin/python scripts/bench_flow.py /tmp/dj/src --top 50
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tldr.graph.flow import (
    FLOW_LANGUAGES,
    FlowError,
    cfg_file,
    dfg_file,
    slice_file,
)
from tldr.units import SkippedFile, Unit, extract_units, load_source, walk_project


def _largest(root: Path, top: int) -> list[Unit]:
    units: list[Unit] = []
    for source_file in walk_project(root).files:
        if source_file.language not in FLOW_LANGUAGES:
            continue
        try:
            data = load_source(source_file.abs_path).data
        except SkippedFile:
            continue
        units += [
            u
            for u in extract_units(data, path=source_file.rel_path, language=source_file.language)
            if u.unit_type in ("function", "method")
        ]
    units.sort(key=lambda u: u.end_line - u.line, reverse=True)
    return units[:top]


def _time(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and best CPU milliseconds of `repeat` calls."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    return wall * 1000, cpu * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--top", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    units = _largest(args.root, args.top)
    kinds = ("cfg", "dfg", "slice_back", "slice_fwd")
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu_timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    failures: list[str] = []
    slowest: tuple[float, str] = (0.0, "")
    for unit in units:
        root, path, name = args.root, unit.file, str(unit.line)
        try:
            graph = cfg_file(root, path, name)
            body = [b for b in graph.blocks if b.kind == "body"] or graph.blocks[:1]
            last = max(b.end_line for b in body)
            first = min(b.start_line for b in body)
            calls: dict[str, Callable[[], object]] = {
                "cfg": partial(cfg_file, root, path, name),
                "dfg": partial(dfg_file, root, path, name),
                "slice_back": partial(slice_file, root, path, name, last),
                "slice_fwd": partial(slice_file, root, path, name, first, direction="forward"),
            }
            for kind, call in calls.items():
                spent, cpu = _time(call, args.repeat)
                timings[kind].append(spent)
                cpu_timings[kind].append(cpu)
                if spent > slowest[0]:
                    size = unit.end_line - unit.line + 1
                    slowest = (spent, f"{kind} {path}:{unit.qualified_name} ({size} lines)")
        except FlowError as error:
            failures.append(f"{path}:{unit.qualified_name}: {error}")
    report: dict[str, object] = {
        "functions": len(units),
        "lines": [units[-1].end_line - units[-1].line + 1, units[0].end_line - units[0].line + 1]
        if units
        else [],
        "failures": failures,
        "slowest": slowest[1],
    }
    for kind, values in timings.items():
        if values:
            cpu_values = cpu_timings[kind]
            report[kind] = {
                "wall_p50_ms": round(statistics.median(values), 2),
                "wall_p99_ms": round(_percentile(values, 0.99), 2),
                "cpu_p50_ms": round(statistics.median(cpu_values), 2),
                "cpu_p99_ms": round(_percentile(cpu_values, 0.99), 2),
            }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
