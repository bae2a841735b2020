from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the small multi-language fixture project (no git)."""
    root = tmp_path / "mini"
    shutil.copytree(FIXTURES / "mini", root)
    return root
