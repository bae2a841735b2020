"""Legacy schema v1 indexes: read with the faiss extra, explained without it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tldr import LegacyIndexError
from tldr.semantic import semantic_search
from tldr.semantic.models.embedders import HashingEmbedder
from tldr.vector_store._faiss import FaissVectorStore

faiss = pytest.importorskip("faiss")

_UNITS = [
    {
        "name": "parse_config",
        "qualified_name": "parse_config",
        "file": "src/config.py",
        "line": 3,
        "unit_type": "function",
        "signature": "def parse_config(path)",
    },
    {
        "name": "cart_total",
        "qualified_name": "cart_total",
        "file": "web/cart.py",
        "line": 10,
        "unit_type": "function",
        "signature": "def cart_total(items)",
    },
]


@pytest.fixture
def legacy_project(tmp_path: Path) -> Path:
    semantic_dir = tmp_path / ".tldr" / "cache" / "semantic"
    semantic_dir.mkdir(parents=True)
    embedder = HashingEmbedder(64)
    vectors = embedder.embed_documents([f"{u['name']} {u['signature']}" for u in _UNITS])
    index = faiss.IndexFlatIP(64)
    index.add(np.ascontiguousarray(vectors))
    faiss.write_index(index, str(semantic_dir / "index.faiss"))
    (semantic_dir / "metadata.json").write_text(json.dumps({"model": "hash-64", "units": _UNITS}))
    return tmp_path


def test_legacy_index_is_searchable_with_faiss(legacy_project: Path) -> None:
    rows = semantic_search(legacy_project, "parse config", k=2, mode="dense")
    assert rows[0]["name"] == "parse_config"
    assert rows[0]["file"] == "src/config.py"
    assert rows[0]["end_line"] == 3


def test_legacy_index_without_faiss_explains_the_ways_out(
    legacy_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        FaissVectorStore, "is_available", classmethod(lambda cls: (False, "missing"))
    )
    with pytest.raises(LegacyIndexError, match="tldrf\\[faiss\\]"):
        semantic_search(legacy_project, "parse config")


def test_unreadable_legacy_index_says_rebuild(legacy_project: Path) -> None:
    from tldr import IndexCorruptError

    (legacy_project / ".tldr/cache/semantic/index.faiss").write_bytes(b"legacy")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        semantic_search(legacy_project, "parse config")


def test_building_replaces_a_legacy_index(legacy_project: Path) -> None:
    from tldr.semantic import build_semantic_index, index_info

    (legacy_project / "src").mkdir()
    (legacy_project / "src" / "config.py").write_text("def parse_config(path):\n    return path\n")
    assert build_semantic_index(legacy_project, model="hash-64").status == "built"
    assert index_info(legacy_project)["schema_version"] == 2
    assert semantic_search(legacy_project, "parse_config", k=1)[0]["name"] == "parse_config"
