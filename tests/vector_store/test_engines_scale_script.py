"""`scripts/bench_engines_scale.py` run small: a load, then a sweep of a search-time setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_engines_scale.py"


@pytest.mark.parametrize(("engine", "key"), [("usearch", "expansion_search"),
                                             ("chromadb", "ef_search")])
def test_sweep_measures_each_value_on_the_loaded_build(engine: str, key: str,
                                                       tmp_path: Path) -> None:
    pytest.importorskip(engine)
    out = tmp_path / "scale.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--n", "3000", "--queries", "50", "--engines", engine,
         f"--sweep={engine}.{key}=8,64", "--set=usearch.dtype=f32", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert [point[key] for point in figures["sweep"]] == [8, 64]
    low, high = (point["recall_at_10"] for point in figures["sweep"])
    assert 0 < low <= high <= 1
    assert f"{key}=64" in done.stdout
