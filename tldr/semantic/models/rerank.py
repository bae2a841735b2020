"""Rerankers: rescore the top candidates of a search with a slower, better model.

Off by default (`--rerank` turns it on). Search over-fetches, asks the
reranker to score (query, unit text) pairs and reorders; when the reranker
cannot load or run, the plain ranking is returned and a warning is logged.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from tldr._exceptions import ConfigError, EmbedderError
from tldr.settings import DEFAULT_RERANK_MODEL, setting

__all__ = [
    "DEFAULT_RERANK_MODEL",
    "CrossEncoderReranker",
    "Reranker",
    "get_reranker",
]

logger = logging.getLogger(__name__)



class Reranker(Protocol):
    """Scores documents against a query; higher is better."""

    id: str

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        """One score per document, in the documents' order."""
        ...


class CrossEncoderReranker:
    """A sentence-transformers `CrossEncoder` (hub id or local path).

    The model comes from `TLDR_RERANK_MODEL`, else `DEFAULT_RERANK_MODEL`,
    whose weights must be available locally (the hub is not contacted when
    `HF_HUB_OFFLINE=1`).
    """

    id = "cross-encoder"
    display_name = "sentence-transformers CrossEncoder"

    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        """Whether sentence-transformers is installed (no import)."""
        if importlib.util.find_spec("sentence_transformers") is None:
            return False, "sentence-transformers is not installed; run: pip install tldrf"
        return True, "ok"

    def __init__(self, model: str | None = None, *, device: str | None = None) -> None:
        self.model = model or setting("TLDR_RERANK_MODEL") or DEFAULT_RERANK_MODEL
        self.device = device
        self._encoder: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._encoder is None:
                try:
                    from sentence_transformers import CrossEncoder

                    from tldr.semantic.models.embedders import pick_device

                    self._encoder = CrossEncoder(self.model, device=pick_device(self.device))
                except Exception as exc:
                    raise EmbedderError(
                        f"cannot load reranker model {self.model!r}: {exc}; set "
                        "TLDR_RERANK_MODEL to a local cross-encoder path"
                    ) from exc
            return self._encoder

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        """Cross-encoder relevance scores (logits), one per document."""
        if not documents:
            return []
        scores = self._loaded().predict(
            [(query, document) for document in documents], show_progress_bar=False
        )
        return [float(score) for score in scores]


_rerankers: dict[tuple[str, str | None], Reranker] = {}
_rerankers_lock = threading.Lock()


def get_reranker(reranker_id: str = CrossEncoderReranker.id) -> Reranker:
    """The registered reranker with that id, created once per process and model."""
    from tldr.plugins import registered_rerankers

    key = (reranker_id, setting("TLDR_RERANK_MODEL"))
    with _rerankers_lock:
        if key not in _rerankers:
            registrations = registered_rerankers()
            if reranker_id not in registrations:
                raise ConfigError(
                    f"unknown reranker {reranker_id!r}; available: "
                    f"{', '.join(sorted(registrations)) or 'none'}"
                )
            _rerankers[key] = registrations[reranker_id].obj()
        return _rerankers[key]
