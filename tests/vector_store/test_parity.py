"""usearch (HNSW and its exact path) against the exact backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tldr.testing import random_unit_vectors
from tldr.vector_store import get_backend


def _build(backend: str, tmp_path: Path, vectors: np.ndarray, **settings: object):
    store = get_backend(backend)(store_dir=tmp_path / backend, settings=dict(settings) or None)
    index = store.create(vectors.shape[1])
    index.add(np.arange(len(vectors), dtype=np.uint64) * np.uint64(3), vectors)
    return index


def test_hnsw_top10_overlap(tmp_path: Path) -> None:
    vectors = random_unit_vectors(2000, 64, seed=1)
    queries = random_unit_vectors(50, 64, seed=2)
    hnsw = _build("usearch", tmp_path, vectors, exact_threshold=0)
    exact = _build("exact", tmp_path, vectors)
    overlaps = []
    for q in queries:
        a = set(hnsw.search(q, 10)[0].tolist())
        b = set(exact.search(q, 10)[0].tolist())
        overlaps.append(len(a & b) / 10)
    assert float(np.mean(overlaps)) >= 0.9


def test_exact_threshold_path_is_identical(tmp_path: Path) -> None:
    vectors = random_unit_vectors(2000, 64, seed=3)
    queries = random_unit_vectors(20, 64, seed=4)
    small = _build("usearch", tmp_path, vectors, dtype="f32")  # threshold 10k: exact path
    exact = _build("exact", tmp_path, vectors)
    for q in queries:
        k1, s1 = small.search(q, 10)
        k2, s2 = exact.search(q, 10)
        np.testing.assert_array_equal(k1, k2)
        np.testing.assert_allclose(s1, s2, atol=1e-5)


def test_default_i8_vectors_rank_like_exact_f32(tmp_path: Path) -> None:
    """The default precision (i8) keeps the exact top 10 and the scores close (specs/019)."""
    vectors = random_unit_vectors(2000, 64, seed=5)
    queries = random_unit_vectors(20, 64, seed=6)
    store = get_backend("usearch")(store_dir=tmp_path / "i8")
    assert store.metadata()["dtype"] == "i8"
    small = _build("usearch", tmp_path, vectors)
    exact = _build("exact", tmp_path, vectors)
    overlaps = []
    for q in queries:
        k1, s1 = small.search(q, 10)
        k2, s2 = exact.search(q, 10)
        overlaps.append(len(set(k1.tolist()) & set(k2.tolist())) / 10)
        np.testing.assert_allclose(s1[:1], s2[:1], atol=0.02)
    assert float(np.mean(overlaps)) >= 0.9
