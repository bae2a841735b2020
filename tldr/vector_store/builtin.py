"""Built-in vector stores, registered through the same hook as external plugins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tldr.hookspecs import hookimpl
from tldr.vector_store._chroma import ChromaVectorStore
from tldr.vector_store._exact import ExactVectorStore
from tldr.vector_store._faiss import FaissVectorStore
from tldr.vector_store._milvus import MilvusVectorStore
from tldr.vector_store._qdrant import QdrantVectorStore
from tldr.vector_store._usearch import UsearchVectorStore

__all__ = ["register_vector_stores"]


@hookimpl
def register_vector_stores(register: Callable[[type[Any]], None]) -> None:
    """Register usearch (default), exact, faiss, qdrant, chromadb and milvus."""
    register(UsearchVectorStore)
    register(ExactVectorStore)
    register(FaissVectorStore)
    register(QdrantVectorStore)
    register(ChromaVectorStore)
    register(MilvusVectorStore)
