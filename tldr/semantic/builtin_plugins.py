"""Built-in embedders and rerankers, registered through the same hooks as plugins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tldr.hookspecs import hookimpl

__all__ = ["register_embedders", "register_rerankers"]


@hookimpl
def register_embedders(register: Callable[[type[Any]], None]) -> None:
    """ONNX Runtime, static (model2vec), sentence-transformers and the hashing model."""
    from tldr.semantic.models.embedders import HashingEmbedder, SentenceTransformerEmbedder
    from tldr.semantic.models.onnx_embedder import OnnxEmbedder
    from tldr.semantic.models.static_embedder import StaticEmbedder

    register(OnnxEmbedder)
    register(StaticEmbedder)
    register(SentenceTransformerEmbedder)
    register(HashingEmbedder)


@hookimpl
def register_rerankers(register: Callable[[type[Any]], None]) -> None:
    """The sentence-transformers cross-encoder reranker."""
    from tldr.semantic.models.rerank import CrossEncoderReranker

    register(CrossEncoderReranker)
