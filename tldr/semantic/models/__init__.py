"""Embedding models and rerankers: the sentence-transformers and ONNX Runtime providers."""

__all__: list[str] = []
