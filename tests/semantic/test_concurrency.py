"""Searches keep working, and never mix two builds, while another process rebuilds."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tldr.semantic import Searcher, build_semantic_index

_REBUILDER = """
import sys, time
from pathlib import Path
from tldr.semantic import build_semantic_index
root = Path(sys.argv[1]); deadline = time.time() + float(sys.argv[2])
target = root / "src" / "generated.py"
generation = 0
while time.time() < deadline:
    generation += 1
    prefix = "alpha" if generation % 2 else "beta"
    target.write_text("".join(
        f"def {prefix}_worker_{i}():\\n    return {i}\\n\\n" for i in range(20)))
    build_semantic_index(root)
print(generation)
"""


def _generation_file(root: Path, prefix: str) -> None:
    (root / "src" / "generated.py").write_text(
        "".join(f"def {prefix}_worker_{i}():\n    return {i}\n\n" for i in range(20))
    )


def test_search_during_rebuilds_in_another_process(project: Path) -> None:
    _generation_file(project, "beta")
    build_semantic_index(project, model="hash-256")
    rebuilder = subprocess.Popen(
        [sys.executable, "-c", _REBUILDER, str(project), "6"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        searcher = Searcher(project, view=True)
        searches = 0
        reloads = 0
        while rebuilder.poll() is None:
            reloads += searcher.refresh()
            rows = searcher.search("worker", k=20, path_prefix="src/generated.py", mode="lexical")
            prefixes = {row["name"].split("_")[0] for row in rows}
            assert len(prefixes) == 1, f"mixed builds in one answer: {prefixes}"
            assert len(rows) == 20
            searches += 1
            time.sleep(0.005)
        out, _ = rebuilder.communicate(timeout=30)
    finally:
        if rebuilder.poll() is None:
            rebuilder.kill()
            rebuilder.wait()
    assert rebuilder.returncode == 0
    assert int(out.strip()) >= 2
    assert searches > 20
    assert reloads >= 1
