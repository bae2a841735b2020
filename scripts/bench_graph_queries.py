#!/usr/bin/env python3
"""Code-graph queries through a warm daemon: round trip, whole command, memory, freshness.

Copies a project (default: this repository's HEAD), indexes it with the
deterministic hash-256 model, starts its daemon from this interpreter (so
the code under test is this checkout's), then measures:

- the protocol round trip of `impact`, `context`, `calls` and a lexical
  `search` (p50 of N calls on one connection);
- the whole thin-client command (`tldrf impact ...`) beside `tldrf semantic
  search` and `python -c pass` (interpreter start), p50 of N runs;
- the daemon's RSS before and after the first graph query;
- after a one-file edit that adds a caller, how long until `impact` lists it.

python scripts/bench_graph_queries.py [--project DIR] [--runs 9]
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


def _p50_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (min {min(samples) * 1000:.1f})"


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
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    sys.path.insert(0, str(REPO))
    from tldr.daemon.client import DaemonClient, stop_daemon
    from tldr.paths import daemon_files
    from tldr.semantic import build_semantic_index

    with tempfile.TemporaryDirectory() as scratch:
        root = _copy(args.project, Path(scratch))
        report = build_semantic_index(root, model="hash-256")
        print(f"project: {report.units} units in {report.files} files")
        env["TLDR_RUNTIME_DIR"] = os.path.join(scratch, "run")
        os.environ["TLDR_RUNTIME_DIR"] = env["TLDR_RUNTIME_DIR"]
        daemon = subprocess.Popen([sys.executable, "-m", "tldr.daemon", "--project", str(root)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        files = daemon_files(root)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(files.socket) and time.monotonic() < deadline:
                time.sleep(0.1)
            with DaemonClient(root, autostart=False, timeout=60) as client:
                client.call("search", {"query": "index", "mode": "lexical"})
                before = _rss_mib(daemon.pid)
                client.call("impact", {"name": "build_semantic_index"})
                print(f"daemon RSS: {before:.0f} MiB before the graph, "
                      f"{_rss_mib(daemon.pid):.0f} MiB after")
                for method, params in (
                    ("impact", {"name": "build_semantic_index", "depth": 1}),
                    ("context", {"entry": "build_semantic_index"}),
                    ("calls", {"path": "tldr/daemon"}),
                    ("search", {"query": "build the index", "mode": "lexical"}),
                ):
                    samples = []
                    for _ in range(args.runs * 2):
                        started = time.perf_counter()
                        client.call(method, params)
                        samples.append(time.perf_counter() - started)
                    print(f"round trip {method}: {_p50_ms(samples)}")
            for label, command in (
                ("python -c pass", [sys.executable, "-c", "pass"]),
                ("tldrf impact", [sys.executable, "-m", "tldr.cli", "impact",
                                  "build_semantic_index", "--depth", "1", "-p", str(root)]),
                ("tldrf context", [sys.executable, "-m", "tldr.cli", "context",
                                   "build_semantic_index", "-p", str(root)]),
                ("tldrf semantic search", [sys.executable, "-m", "tldr.cli", "semantic",
                                           "search", "build the index", "--mode", "lexical",
                                           "-p", str(root)]),
            ):
                samples = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
                    samples.append(time.perf_counter() - started)
                print(f"whole command {label}: {_p50_ms(samples)}")
            target = root / "tldr" / "graph" / "answer.py"
            with target.open("a") as handle:
                handle.write("\n\ndef fresh_caller_for_bench():\n    return answer(None)\n")
            started = time.perf_counter()
            with DaemonClient(root, autostart=False, timeout=60) as client:
                while time.perf_counter() - started < 60:
                    found = client.call("impact", {"name": "tldr/graph/answer.py:answer",
                                                   "depth": 1})
                    if any(node["definition"]["qualified"] == "fresh_caller_for_bench"
                           for node in found["callers"]):
                        break
                    time.sleep(0.05)
            print(f"one-file edit to impact seeing it: {time.perf_counter() - started:.2f} s "
                  f"(TLDR_DEBOUNCE_MS={os.environ.get('TLDR_DEBOUNCE_MS', '2000 (default)')})")
        finally:
            stop_daemon(files, timeout=10)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
