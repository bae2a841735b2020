"""The stress scripts (scripts/stress), each run small: `pytest -m stress`.

Each script is bounded, cleans up after itself and exits 0 only when what
it tried held; docs/reliability.md has the full-size figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stress

STRESS = Path(__file__).resolve().parents[1] / "scripts" / "stress"


@pytest.mark.parametrize(
    "command",
    [
        ["planted_modules.py", "--rounds", "1"],
        ["kill_build.py", "--kills", "5", "--units", "400"],
        ["corrupt_artifacts.py", "--units", "200", "--kinds", "metadata,units,lexical,index"],
        ["concurrent_search.py", "--clients", "4", "--rebuilds", "5", "--units", "300"],
        ["protocol_fuzz.py", "--rounds", "2", "--examples", "100", "--burst", "300",
         "--batch", "500"],
        ["hostile_tree.py", "--many", "2000", "--timeout", "120"],
    ],
    ids=lambda command: command[0].removesuffix(".py"),
)
def test_stress_script_holds(command: list[str], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(STRESS / command[0]), *command[1:]],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = done.stdout.strip().splitlines()
    assert summary and summary[0].startswith(command[0].removesuffix(".py")), done.stderr[-2000:]
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
