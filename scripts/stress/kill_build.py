#!/usr/bin/env python3
"""Kill builds at random points: is the index always whole and searchable?

Runs `--kills` rebuilds of a generated project, each in its own process,
SIGKILLed after a random delay spread over a whole build; after each kill
checks that the committed build opens, its unit count matches its vector
index, every file it names is intact, and a search answers. Then one clean
build: no temp files of the killed ones may survive it.

    scripts/stress/kill_build.py [--kills 60] [--units 1300]

Prints one line: `kill_build: kills=60 consistent=60 searchable=60 ...`.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MODEL, make_project, scratch, verdict

_BUILD = (
    "import sys\n"
    "from tldr.semantic import build_semantic_index\n"
    "build_semantic_index(sys.argv[1], model=sys.argv[2], rebuild=True)\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--units", type=int, default=1300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    from tldr.paths import IndexPaths
    from tldr.semantic import Searcher
    from tldr.semantic.storage import read_metadata, verify_artifacts

    with scratch("kill") as work:
        make_project(work.root, args.units)
        started = time.monotonic()
        work.build(rebuild=True)
        build_s = time.monotonic() - started
        paths = IndexPaths(work.root)
        consistent = searchable = committed_during = orphans = 0
        problems: list[str] = []
        for number in range(args.kills):
            before = read_metadata(paths)
            proc = subprocess.Popen([sys.executable, "-c", _BUILD, str(work.root), MODEL])
            time.sleep(rng.uniform(0.3, 0.3 + build_s * 1.5))  # import time + a build
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            orphans += sum(".tmp" in p.name for p in paths.semantic_dir.iterdir())
            metadata = read_metadata(paths)
            assert metadata is not None and before is not None
            committed_during += metadata.vector_store.build_id != before.vector_store.build_id
            try:
                verify_artifacts(paths, metadata)
                build = Searcher(work.root).build
                if len(build.vector_index) == len(build.units) == metadata.count:
                    consistent += 1
                else:
                    problems.append(f"kill {number}: count mismatch")
                if Searcher(work.root).search("retry backoff", k=3):
                    searchable += 1
            except Exception as exc:  # counted and named, never fatal to the script
                problems.append(f"kill {number}: {type(exc).__name__}: {exc}")
        temps_before = sum(".tmp" in p.name for p in paths.semantic_dir.iterdir())
        work.build(rebuild=True)
        temps_after = sum(".tmp" in p.name for p in paths.semantic_dir.iterdir())
    ok = consistent == searchable == args.kills and temps_after == 0
    return verdict("kill_build", {
        "kills": args.kills, "units": args.units, "build_s": f"{build_s:.2f}",
        "consistent": consistent, "searchable": searchable,
        "committed_before_kill": committed_during, "temp_files_orphaned": orphans,
        "left_at_end": temps_before, "after_next_build": temps_after,
    }, ok, problems)


if __name__ == "__main__":
    sys.exit(main())
