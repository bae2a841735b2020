#!/usr/bin/env python3
"""Code-graph queries through a warm daemon: round trip, whole command, memory, freshness.

Copies a project (default: this repository's HEAD), indexes it with the
deterministic hash-256 model, starts its daemon from this interpreter (so
the code under test is this checkout's), then measures:

- the daemon's RSS before and after the first graph query (the graph's
  load, and the modules it imports);
- the protocol round trip of `impact`, `context`, `calls` and a lexical
  `search` (p50 and p99 of 2N calls on one connection);
- the whole thin-client command (`tldrf impact NAME`, `tldrf context NAME`,
  `tldrf calls FILE` with FILE the one defining NAME) beside `tldrf
  semantic search` and `python -c pass` (interpreter start), p50 and p99
  of N runs;
- after a one-file edit that adds a caller of NAME, how long until
  `impact` lists it, and the daemon's RSS then.

The load average is printed before and after: on a shared machine the
whole-command figures move with it.

python scripts/bench_graph_queries.py [--project DIR --name NAME] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _stats_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
            f"(min {ordered[0] * 1000:.1f}, n={len(ordered)})")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _copy(project: Path | None, into: Path) -> Path:
    root = into / "project"
    if project is None:
        root.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    else:
        shutil.copytree(project, root, ignore=shutil.ignore_patterns(".tldr", ".git"))
    (root / ".tldr").mkdir(exist_ok=True)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="project to copy (default: this repo)")
    parser.add_argument("--name", default="build_semantic_index",
                        help="the definition impact and context ask about (one definition)")
    parser.add_argument("--runs", type=int, default=9, help="whole-command runs per command")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    sys.path.insert(0, str(REPO))
    from tldr.daemon.client import DaemonClient, stop_daemon
    from tldr.paths import daemon_files
    from tldr.semantic import build_semantic_index

    print(f"load average at the start: {_load()}")
    with tempfile.TemporaryDirectory() as scratch:
        root = _copy(args.project, Path(scratch))
        report = build_semantic_index(root, model="hash-256")
        print(f"project: {report.units} units in {report.files} files")
        env["TLDR_RUNTIME_DIR"] = os.path.join(scratch, "run")
        os.environ["TLDR_RUNTIME_DIR"] = env["TLDR_RUNTIME_DIR"]
        daemon = subprocess.Popen([sys.executable, "-m", "tldr.daemon", "--project", str(root)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        files = daemon_files(root)
        name = args.name
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(files.socket) and time.monotonic() < deadline:
                time.sleep(0.1)
            with DaemonClient(root, autostart=False, timeout=120) as client:
                client.call("search", {"query": "index", "mode": "lexical"})
                time.sleep(1)
                before = _rss_mib(daemon.pid)
                found = client.call("impact", {"name": name, "depth": 1})
                print(f"daemon RSS: {before:.1f} MiB before the graph, "
                      f"{_rss_mib(daemon.pid):.1f} MiB after")
                defined_in = found["definition"]["file"]
                for method, params in (
                    ("impact", {"name": name, "depth": 1}),
                    ("context", {"entry": name}),
                    ("calls", {"path": defined_in}),
                    ("search", {"query": "build the index", "mode": "lexical"}),
                ):
                    samples = []
                    for _ in range(args.runs * 2):
                        started = time.perf_counter()
                        client.call(method, params)
                        samples.append(time.perf_counter() - started)
                    print(f"round trip {method}: {_stats_ms(samples)}")
            cli = [sys.executable, "-m", "tldr.cli"]
            for label, command in (
                ("python -c pass", [sys.executable, "-c", "pass"]),
                ("tldrf impact", [*cli, "impact", name, "--depth", "1", "-p", str(root)]),
                ("tldrf context", [*cli, "context", name, "-p", str(root)]),
                ("tldrf calls", [*cli, "calls", defined_in, "-p", str(root)]),
                ("tldrf semantic search", [*cli, "semantic", "search", "build the index",
                                           "--mode", "lexical", "-p", str(root)]),
            ):
                samples = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
                    samples.append(time.perf_counter() - started)
                print(f"whole command {label}: {_stats_ms(samples)}")
            bare = name.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
            with (root / defined_in).open("a") as handle:
                handle.write(f"\n\ndef fresh_caller_for_bench():\n    return {bare}(None)\n")
            started = time.perf_counter()
            with DaemonClient(root, autostart=False, timeout=60) as client:
                while time.perf_counter() - started < 60:
                    found = client.call("impact", {"name": f"{defined_in}:{name}", "depth": 1})
                    if any(node["definition"]["qualified"] == "fresh_caller_for_bench"
                           for node in found["callers"]):
                        break
                    time.sleep(0.05)
            print(f"one-file edit to impact seeing it: {time.perf_counter() - started:.2f} s "
                  f"(TLDR_DEBOUNCE_MS={os.environ.get('TLDR_DEBOUNCE_MS', '2000 (default)')}); "
                  f"daemon RSS then {_rss_mib(daemon.pid):.1f} MiB")
        finally:
            stop_daemon(files, timeout=10)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
    print(f"load average at the end: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
