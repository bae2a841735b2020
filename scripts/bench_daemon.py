#!/usr/bin/env python3
"""Daemon benchmark: the DESIGN.md § Budgets figures for issue 4, in one run.

Generates a synthetic project of about `--units` code units (default 10k),
builds it in-process, starts a real daemon (own runtime dir) and measures:

1. whole-command wall time, p50/p95, of the real command: `tldrf semantic
   search` through the warm daemon vs `tldrf semantic search --no-daemon`
   (in-process), next to a bare `python -c pass`; with bytecode cached in a
   scratch dir as an installed package has it (PYTHONDONTWRITEBYTECODE would
   otherwise recompile every tldr module on every command);
2. daemon search latency seen by a connected client (p50/p99) and the
   daemon's own time, total and excluding query embedding (p50/p99);
3. search p99 while the daemon rebuilds continuously, vs idle p99;
4. edit-to-searchable for a one-file change: write a file, poll search until
   the new function is returned; reported with and without the debounce;
5. memory: RSS (psutil) of the daemon and of every tldrf process of the
   project (daemon + build worker) after a search, with the worker alive
   and after it left (`TLDR_WORKER_IDLE_TIMEOUT`, here `--worker-idle`).

`--first-minute DIR` measures issue 10's new-project experience instead, on
a copy of DIR without its index (e.g. a corpus in ~/.cache/tldrf-bench):
`tldrf warm`, then the real `tldrf semantic search` command (which waits for
the first commit), timed from before `warm`; then the dense coverage as
embedding goes on, the full build's timings (pipeline overhead = build time
not spent embedding), and the memory figures of 5.

Usage:
    scripts/bench_daemon.py [--units 10000] [--model hash-256|all-MiniLM-L6-v2]
                            [--debounce-ms 2000] [--runs 30] [--json OUT]
                            [--project DIR]   # reuse a generated, built project
    scripts/bench_daemon.py --first-minute ~/.cache/tldrf-bench/abseil-cpp
                            [--model all-MiniLM-L6-v2] [--worker-idle 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

WORDS = ("parse config retry backoff http handler cache token user session query index "
         "vector search stream buffer socket render template schedule queue worker").split()


def make_project(root: Path, units: int, per_file: int = 20) -> None:
    files = max(1, units // per_file)
    for number in range(files):
        package = root / f"pkg{number % 25}"
        package.mkdir(parents=True, exist_ok=True)
        lines = []
        for index in range(per_file):
            a = WORDS[(number + index) % len(WORDS)]
            b = WORDS[(number * 7 + index * 3) % len(WORDS)]
            lines.append(
                f"def {a}_{b}_{number}_{index}(value, limit=10):\n"
                f'    """{a.title()} the {b} for item {number}.{index}."""\n'
                f"    total = value + {index}\n"
                f"    return {a}_helper(total, limit)\n\n"
            )
        (package / f"mod{number}.py").write_text("".join(lines))
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2),
            "n": len(ordered)}


def command_wall(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)  # bytecode written
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def _tldrf_command() -> list[str]:
    """The installed console script next to this Python, else `python -m tldr.cli`."""
    script = Path(sys.executable).with_name("tldrf")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tldr.cli"]


def daemon_latency(client: Any, queries: list[str], runs: int) -> dict[str, Any]:
    wall, took, own = [], [], []
    for number in range(runs):
        started = time.perf_counter()
        result = client.call("search", {"query": queries[number % len(queries)], "k": 10})
        wall.append((time.perf_counter() - started) * 1000)
        took.append(result["took_ms"])
        own.append(result["took_ms"] - result["embed_ms"])
    return {"client_ms": percentiles(wall), "daemon_ms": percentiles(took),
            "daemon_excl_embed_ms": percentiles(own)}


def process_rss(daemon_pid: int) -> dict[str, Any]:
    """RSS in MiB of the daemon and of each process under it (the build worker)."""
    import psutil

    daemon = psutil.Process(daemon_pid)
    processes = {"daemon": daemon.memory_info().rss}
    for child in daemon.children(recursive=True):
        try:
            processes[f"child {child.pid} ({' '.join(child.cmdline()[1:3])})"] = (
                child.memory_info().rss)
        except psutil.Error:
            continue
    mib = {name: round(rss / 2**20) for name, rss in processes.items()}
    return {"processes_mib": mib, "daemon_mib": mib["daemon"],
            "all_mib": round(sum(processes.values()) / 2**20)}


def memory_figures(client: Any, *, worker_idle: float, label: str = "memory") -> dict[str, Any]:
    """RSS after a search with the worker alive, then after it left; printed as `label`."""
    figures: dict[str, Any] = {}
    client.call("search", {"query": "parse the config file", "k": 10})
    status = client.call("status")
    figures["worker_alive"] = process_rss(status["pid"])
    deadline = time.monotonic() + worker_idle + 60
    while client.call("status")["build"]["worker_pid"] is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    if client.call("status")["build"]["worker_pid"] is not None:
        figures["worker_gone"] = "the worker did not leave"
    else:
        client.call("search", {"query": "retry with backoff", "k": 10})
        figures["worker_gone"] = process_rss(status["pid"])
    print(f"{label}: {figures}", flush=True)
    return figures


def first_minute(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """warm -> first search with results -> full dense coverage, on an unindexed copy."""
    import shutil

    from tldr.daemon.client import DaemonClient, stop_daemon
    from tldr.paths import daemon_files

    source = Path(args.first_minute).expanduser().resolve()
    root = work / source.name
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".tldr", ".git"))
    env = dict(env, TLDR_MODEL=args.model, TLDR_WORKER_IDLE_TIMEOUT=str(args.worker_idle))
    command = _tldrf_command()
    figures: dict[str, Any] = {"project": source.name, "model": args.model,
                               "cpus": os.cpu_count(), "worker_idle_s": args.worker_idle}
    files = daemon_files(root)
    try:
        started = time.perf_counter()
        subprocess.run([*command, "warm", str(root)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        figures["warm_returned_s"] = round(time.perf_counter() - started, 2)
        search = subprocess.run(
            [*command, "semantic", "search", "parse the configuration", "--path", str(root),
             "--json", "-k", "5"], capture_output=True, text=True, env=env, check=True)
        figures["first_search_s"] = round(time.perf_counter() - started, 2)
        figures["first_search_rows"] = len(json.loads(search.stdout))
        figures["first_search_note"] = search.stderr.strip()
        print(f"first minute on {source.name} ({args.model}): warm returned in "
              f"{figures['warm_returned_s']}s; first search with "
              f"{figures['first_search_rows']} results at {figures['first_search_s']}s "
              f"[{figures['first_search_note']}]", flush=True)
        timeline: list[tuple[float, Any, Any]] = []
        with DaemonClient(files=files, timeout=120) as client:
            while True:
                status = client.call("status")
                elapsed = round(time.perf_counter() - started, 1)
                dense = (status.get("index") or {}).get("dense")
                if status["index"] and dense is None and status["build"]["state"] == "idle":
                    break
                if dense and (not timeline or timeline[-1][1] != dense["percent"]):
                    timeline.append((elapsed, dense["percent"], dense["eta_s"]))
                if elapsed > 3600:
                    raise SystemExit("the first build did not finish in an hour")
                time.sleep(0.5)
            figures["dense_complete_s"] = round(time.perf_counter() - started, 1)
            figures["dense_timeline"] = timeline
            last = status["build"]["last"]
            timings = last.get("timings", {})
            embed = timings.get("embed", 0.0)
            figures["build"] = {"units": last["units"], "seconds": last["seconds"],
                                "partial_commits": last.get("partial_commits"),
                                "timings": timings}
            if embed:
                figures["pipeline_overhead_pct"] = round(
                    100 * (last["seconds"] - embed) / last["seconds"], 1)
            print(f"dense complete at {figures['dense_complete_s']}s: {last['units']} units, "
                  f"build {last['seconds']:.1f}s, {last.get('partial_commits')} partial "
                  f"commits, overhead {figures.get('pipeline_overhead_pct')}% "
                  f"(timings {timings}); coverage {timeline}", flush=True)
            figures["memory"] = memory_figures(client, worker_idle=args.worker_idle)
    finally:
        stop_daemon(files)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--model", default="hash-256")
    parser.add_argument("--debounce-ms", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30, help="whole-command runs per variant")
    parser.add_argument("--searches", type=int, default=500, help="in-daemon searches")
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--project", help="reuse this generated project (already built)")
    parser.add_argument("--first-minute", metavar="DIR",
                        help="measure warm -> first search on an unindexed copy of DIR")
    parser.add_argument("--worker-idle", type=float, default=10.0,
                        help="TLDR_WORKER_IDLE_TIMEOUT for the memory figures (default 10)")
    args = parser.parse_args(argv)

    from tldr.daemon.client import DaemonClient, ensure_daemon, stop_daemon
    from tldr.paths import daemon_files
    from tldr.semantic import build_semantic_index

    work = Path(tempfile.mkdtemp(prefix="tldrf-bench-"))
    runtime = work / "rt"
    runtime.mkdir(mode=0o700)
    os.environ["TLDR_RUNTIME_DIR"] = str(runtime)
    os.environ["TLDR_DEBOUNCE_MS"] = str(args.debounce_ms)
    os.environ["TLDR_IDLE_TIMEOUT"] = "0"
    os.environ["TLDR_WORKER_IDLE_TIMEOUT"] = str(args.worker_idle)
    env = dict(os.environ)
    if args.first_minute:
        minute = first_minute(args, work, env)
        if args.json:
            Path(args.json).write_text(json.dumps(minute, indent=2))
        return 0
    root = Path(args.project).resolve() if args.project else work / "proj"
    if not args.project:
        make_project(root, args.units)
    started = time.perf_counter()
    report = build_semantic_index(root, model=args.model)
    figures: dict[str, Any] = {"units": report.units, "files": report.files, "model": args.model,
                               "build_s": round(time.perf_counter() - started, 2),
                               "cpus": os.cpu_count()}
    print(f"project: {report.units} units in {report.files} files; built in "
          f"{figures['build_s']}s with {args.model}", flush=True)

    files = daemon_files(root)
    ensure_daemon(files, timeout=120)
    queries = ["parse the config", "retry with backoff", "http handler for the session",
               "render template", "socket buffer stream", "cache token for user"]
    try:
        with DaemonClient(files=files, timeout=120) as client:
            client.call("search", {"query": "warm up"})  # model and build loaded
            # 1. whole command
            query = "retry with backoff"
            command = _tldrf_command()
            search = ["semantic", "search", query, "--path", str(root)]
            cmd_env = dict(env, PYTHONPYCACHEPREFIX=str(work / "pycache"))
            cmd_env.pop("PYTHONDONTWRITEBYTECODE", None)
            figures["command"] = " ".join([*command, "semantic", "search"])
            figures["python_startup_ms"] = command_wall([sys.executable, "-c", "pass"],
                                                        args.runs, cmd_env)
            figures["cli_in_process_ms"] = command_wall([*command, *search, "--no-daemon"],
                                                        max(5, args.runs // 3), cmd_env)
            figures["cli_daemon_ms"] = command_wall([*command, *search], args.runs, cmd_env)
            imports = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import tldr.cli, tldr.daemon.client"],
                capture_output=True, text=True, env=cmd_env).stderr.splitlines()
            figures["cli_import_ms"] = round(sum(
                int(line.split("|")[1]) for line in imports
                if line.split("|")[-1].strip() in ("tldr.cli", "tldr.daemon.client")
                and not line.split("|")[-1].startswith("   ")) / 1000, 2)
            print(f"1. whole command ({figures['command']}): through the daemon "
                  f"{figures['cli_daemon_ms']}, in-process {figures['cli_in_process_ms']}; "
                  f"python -c pass {figures['python_startup_ms']}; "
                  f"imports {figures['cli_import_ms']} ms", flush=True)

            # 2. idle daemon latency
            idle = daemon_latency(client, queries, args.searches)
            figures["idle"] = idle
            print(f"2. idle: client {idle['client_ms']}, daemon {idle['daemon_ms']}, "
                  f"excl. embedding {idle['daemon_excl_embed_ms']}", flush=True)

            # 3. during continuous rebuilds
            stop = threading.Event()
            builds = [0]

            def rebuild_loop() -> None:
                with DaemonClient(files=files, timeout=600) as builder:
                    while not stop.is_set():
                        builder.call("index", {"wait": True, "rebuild": True, "timeout": 600})
                        builds[0] += 1

            thread = threading.Thread(target=rebuild_loop)
            thread.start()
            time.sleep(0.2)
            busy = daemon_latency(client, queries, args.searches)
            stop.set()
            thread.join()
            figures["during_rebuild"] = busy
            figures["rebuilds_during_measure"] = builds[0]
            ratio = busy["client_ms"]["p99"] / idle["client_ms"]["p99"]
            figures["p99_ratio_rebuild_vs_idle"] = round(ratio, 2)
            print(f"3. during {builds[0]} full rebuilds: client {busy['client_ms']} "
                  f"(p99 {ratio:.2f}x idle), daemon {busy['daemon_ms']}", flush=True)

            # 4. edit to searchable
            edits = []
            for number in range(args.edits):
                name = f"zebra_quantum_flux_{number}"
                target = root / "pkg0" / "mod0.py"
                wrote = time.perf_counter()
                with target.open("a") as handle:
                    handle.write(f"\ndef {name}(x):\n    return x\n")
                while True:
                    rows = client.call("search", {"query": name.replace("_", " "), "k": 3,
                                                  "mode": "lexical"})["results"]
                    if any(row["name"] == name for row in rows):
                        break
                    if time.perf_counter() - wrote > 120:
                        raise SystemExit("edit never became searchable")
                    time.sleep(0.02)
                edits.append((time.perf_counter() - wrote) * 1000)
            last = client.call("status")["build"]["last"]
            figures["edit_to_searchable_ms"] = [round(x) for x in edits]
            figures["edit_minus_debounce_ms"] = [round(x - args.debounce_ms) for x in edits]
            figures["last_incremental_build"] = last
            print(f"4. edit to searchable: {figures['edit_to_searchable_ms']} ms "
                  f"(debounce {args.debounce_ms} ms -> {figures['edit_minus_debounce_ms']} ms "
                  f"beyond it); last build {last['seconds']}s, {last['extracted_files']} "
                  f"file(s) parsed, {last['embedded']} embedded", flush=True)
            figures["memory"] = memory_figures(client, worker_idle=args.worker_idle,
                                               label="5. memory")
    finally:
        stop_daemon(files)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
