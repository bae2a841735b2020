#!/usr/bin/env python3
"""Damage each artifact of a committed build: named, never a traceback, rebuilt by itself?

For every file of the index (metadata, unit records, lexical index, vector
index, embedding cache) and every kind of damage (truncated, same-size
garbage, emptied, deleted): damage it, run `tldrf semantic search` (thin
client, through a daemon that meets the damage when it starts) and check
the output has no traceback; then poll until the daemon has repaired the
index by itself and searches answer again (for the embedding cache, which
searches never read: until a rebuild through the daemon succeeds). The vector index is also
truncated under a live daemon that has it mapped.

    scripts/stress/corrupt_artifacts.py [--units 600] [--repair-timeout 60]

Prints one line: `corrupt_artifacts: cases=21 repaired=21 tracebacks=0 ...`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import alive, make_project, scratch, verdict, wait_until

DAMAGE = ("truncate", "garbage", "empty", "delete")


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: max(1, len(data) // 3)])
    elif how == "garbage":
        path.write_bytes(bytes((b * 7 + 13) % 256 for b in data))
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--repair-timeout", type=float, default=60.0)
    parser.add_argument("--kinds", default="metadata,units,lexical,index,embeddings",
                        help="comma-separated artifacts to damage")
    args = parser.parse_args()
    from tldr.daemon.client import DaemonClient, search_via_daemon
    from tldr.paths import IndexPaths
    from tldr.semantic.storage import read_metadata

    tldrf = [sys.executable, "-m", "tldr.cli"]
    results: list[tuple[str, bool, bool, float]] = []  # case, no traceback, repaired, seconds
    with scratch("corrupt") as work:
        make_project(work.root, args.units)
        paths = IndexPaths(work.root)
        kinds = args.kinds.split(",")
        cases = [(kind, how) for kind in kinds for how in DAMAGE]
        if "index" in kinds:
            cases.append(("index", "truncate-live"))
        for kind, how in cases:
            work.stop_daemon()
            try:
                work.build(rebuild=True)
            except Exception as exc:  # the damage of the case before outlived its repair
                print(f"  before {kind}/{how}: {type(exc).__name__}: {exc}; starting afresh",
                      file=sys.stderr)
                shutil.rmtree(paths.semantic_dir)
                work.build(rebuild=True)
            metadata = read_metadata(paths)
            assert metadata is not None
            target = {
                "metadata": paths.metadata,
                "units": paths.semantic_dir / metadata.units_file,
                "lexical": paths.semantic_dir / str(metadata.lexical_file),
                "index": paths.semantic_dir / metadata.vector_store.index_file,
                "embeddings": paths.embeddings,
            }[kind]
            pid = None
            if how == "truncate-live":
                pid = work.start_daemon()
                search_via_daemon(work.root, "retry backoff", k=3)
                os.truncate(target, 64)
            else:
                damage(target, how)
            started = time.monotonic()
            shown = subprocess.run([*tldrf, "semantic", "search", "retry backoff", "--path",
                                    str(work.root)], capture_output=True, text=True, timeout=120)
            clean = "Traceback" not in shown.stdout + shown.stderr
            clean = clean and (shown.returncode == 0 or len(shown.stderr.strip().splitlines()) == 1)
            repaired = wait_until(
                lambda: search_via_daemon(work.root, "retry backoff", k=3), args.repair_timeout,
                interval=0.25,
            )
            if kind == "embeddings":  # searches never read it: the next build must cope
                try:
                    with DaemonClient(work.root, timeout=args.repair_timeout,
                                      autostart=False) as client:
                        client.call("index", {"rebuild": True, "wait": True,
                                              "timeout": args.repair_timeout})
                except Exception as exc:
                    repaired = False
                    print(f"  {kind}/{how}: rebuild failed: {exc}"[:300], file=sys.stderr)
            if pid is not None:
                repaired = repaired and alive(pid)
            results.append((f"{kind}/{how}", clean, repaired, time.monotonic() - started))
            print(f"  {kind}/{how}: clean={clean} repaired={repaired} "
                  f"{results[-1][3]:.1f}s", file=sys.stderr)
            if not clean:
                print(f"  {kind}/{how}: {shown.stderr.strip()[-300:]}")
        log_tracebacks = work.log_tracebacks()
    bad = [case for case, clean, repaired, _ in results if not (clean and repaired)]
    slowest = max(seconds for *_, seconds in results)
    return verdict("corrupt_artifacts", {
        "cases": len(results), "clean_messages": sum(r[1] for r in results),
        "repaired_by_daemon": sum(r[2] for r in results),
        "slowest_repair_s": f"{slowest:.1f}", "daemon_log_tracebacks": log_tracebacks,
    }, not bad, [f"not clean or not repaired: {' '.join(bad)}"] if bad else [])


if __name__ == "__main__":
    sys.exit(main())
