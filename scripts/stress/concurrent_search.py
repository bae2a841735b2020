#!/usr/bin/env python3
"""Searches during rebuilds: every answer from one complete build?

`--clients` threads search a live daemon without pause while the main
thread runs `--rebuilds` builds. Before each build, a marker function is
renamed in two files (`zzmarker_a_<n>`, `zzmarker_b_<n>`); an answer is a
mixed read when its marker rows disagree with each other or with the build
id the daemon says it answered from.

    scripts/stress/concurrent_search.py [--clients 8] [--rebuilds 50] [--units 1300]

Prints one line: `concurrent_search: searches=... errors=0 mixed_reads=0 p50_ms=... p99_ms=...`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import alive, daemon_usage, make_project, scratch, verdict

_MARKER = re.compile(r"zzmarker_([ab])_(\d+)")


def write_markers(root: Path, number: int) -> None:
    for side in "ab":
        (root / f"marker_{side}.py").write_text(
            f"def zzmarker_{side}_{number}():\n    \"\"\"zzmarker sentinel {side}\"\"\"\n"
            f"    return {number}\n"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rebuilds", type=int, default=50)
    parser.add_argument("--units", type=int, default=1300)
    args = parser.parse_args()
    os.environ["TLDR_DEBOUNCE_MS"] = "600000"  # only our explicit builds: no half-edited trees
    with scratch("concurrent") as work:
        make_project(work.root, args.units)
        write_markers(work.root, 0)
        work.build()
        pid = work.start_daemon()
        rss_before, fds_before = daemon_usage(pid)
        stop = threading.Event()
        answers: list[tuple[str, set[int], int]] = []  # build id, marker numbers, rows
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client() -> None:
            sock = work.connect()
            try:
                while not stop.is_set():
                    started = time.perf_counter()
                    reply = sock.call("search", {"query": "zzmarker sentinel", "k": 10,
                                                 "mode": "hybrid"})
                    took = (time.perf_counter() - started) * 1000
                    with lock:
                        latencies.append(took)
                        if "error" in reply:
                            errors.append(reply["error"]["message"])
                            continue
                        result = reply["result"]
                        found = [_MARKER.search(row["name"]) for row in result["results"]]
                        numbers = {int(m.group(2)) for m in found if m}
                        sides = {m.group(1) for m in found if m}
                        answers.append((result["build_id"], numbers, len(sides)))
            except Exception as exc:  # a dropped connection is an error, not a crash here
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                sock.close()

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        marker_of_build: dict[str, int] = {}
        control = work.connect(timeout=600)
        started = time.monotonic()
        for number in range(1, args.rebuilds + 1):
            write_markers(work.root, number)
            reply = control.call("index", {"wait": True, "timeout": 300,
                                           "rebuild": number % 10 == 0})
            if "error" in reply:
                errors.append(f"index: {reply['error']['message']}")
                continue
            marker_of_build[reply["result"]["build_id"]] = number
        elapsed = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join()
        control.close()
        marker_of_build.setdefault("", 0)
        rss_after, fds_after = daemon_usage(pid)
        survived = alive(pid)
        tracebacks = work.log_tracebacks()
    mixed = 0
    for build_id, numbers, sides in answers:
        expected = marker_of_build.get(build_id)
        if len(numbers) != 1 or sides != 2 or (expected is not None and numbers != {expected}):
            mixed += 1
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    ok = survived and not errors and mixed == 0 and tracebacks == 0
    return verdict("concurrent_search", {
        "clients": args.clients, "rebuilds": args.rebuilds,
        "builds_seen": len({a[0] for a in answers}), "searches": len(answers),
        "errors": len(errors), "mixed_reads": mixed, "p50_ms": f"{pct(0.5):.1f}",
        "p99_ms": f"{pct(0.99):.1f}", "rebuild_s": f"{elapsed:.0f}",
        "rss_mib": f"{rss_before:.0f}->{rss_after:.0f}", "fds": f"{fds_before}->{fds_after}",
        "daemon_alive": survived, "log_tracebacks": tracebacks,
    }, ok, errors)


if __name__ == "__main__":
    sys.exit(main())
