#!/usr/bin/env python3
"""Walk time of a header-heavy directory: does the walk stay linear?

Generates one directory of `--headers` `.h` files beside one `.cc` file
(the layout that made language detection quadratic, issue 24) and times
`walk_project` over it, best of `--repeat` passes, in this process's CPU
time (other busy processes disturb it far less than wall time). Then the
same for half as many headers, so the ratio shows the growth: about 2 when
linear, about 4 when quadratic.

    .venv/bin/python scripts/bench_walk.py --headers 7048
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tldr.units import walk_project

__all__ = ["main", "measure"]


def measure(headers: int, repeat: int) -> dict[str, float]:
    """Walk a generated directory of `headers` headers; the best CPU seconds and files found."""
    with tempfile.TemporaryDirectory(prefix="tldr-walk-") as tmp:
        root = Path(tmp)
        for number in range(headers):
            (root / f"header_{number:05d}.h").write_bytes(b"int f(void);\n")
        (root / "impl.cc").write_bytes(b"int f(void) { return 0; }\n")
        best, found = float("inf"), 0
        for _ in range(repeat):
            started = time.process_time()
            found = len(walk_project(root).files)
            best = min(best, time.process_time() - started)
    return {"headers": headers, "files": found, "seconds": round(best, 4)}


def main() -> None:
    """Print the walk time of `--headers` and of half as many headers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--headers", type=int, default=7048)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    half = measure(args.headers // 2, args.repeat)
    full = measure(args.headers, args.repeat)
    ratio = full["seconds"] / half["seconds"] if half["seconds"] else float("nan")
    print(json.dumps({"half": half, "full": full, "growth_for_2x_headers": round(ratio, 2)}))


if __name__ == "__main__":
    main()
