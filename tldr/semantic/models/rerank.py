"""Rerankers: rescore the top candidates of a search with a slower, better model.

Off by default (`--rerank` turns it on). Search over-fetches, asks the
reranker to score (query, unit text) pairs and reorders; when the reranker
cannot load or run, the plain ranking is returned with one warning.

The cross-encoder never downloads: its model is looked for on disk first
(a directory, or the Hugging Face cache), before torch is imported, and a
model that is not there, or does not load, is remembered for the life of the
process, so a daemon answers every later `--rerank` search at once
(specs/015-new-user-defects.md).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from tldr._exceptions import ConfigError, EmbedderError, TldrError
from tldr.semantic.models.devices import pick_device
from tldr.semantic.models.model_files import local_model_dir
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
        self._failure: str | None = None  # why it cannot run, found once per process
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._failure is None and self._encoder is None:
                try:
                    self._encoder = self._load()
                except TldrError as exc:
                    self._failure = str(exc)
                    logger.info("%s", self._failure)  # each answer warns; logged once
            if self._failure is not None:
                raise EmbedderError(self._failure)
            return self._encoder

    def _load(self) -> Any:
        location = local_model_dir(self.model)
        if location is None:
            raise EmbedderError(
                f"no reranker model available offline: {self.model!r} is neither a local "
                "directory nor in the Hugging Face cache; results are not reranked "
                f"(download it once: hf download {self.model}, or set TLDR_RERANK_MODEL "
                "to a local directory)"
            )
        device = pick_device(self.device)
        try:
            from tldr.semantic.models.embedders import skip_hub_kernels

            skip_hub_kernels()
            from sentence_transformers import CrossEncoder

            return CrossEncoder(str(location), device=device, local_files_only=True)
        except Exception as exc:
            raise EmbedderError(
                f"cannot load reranker model {self.model!r} ({exc}); results are not "
                "reranked (set TLDR_RERANK_MODEL to a local cross-encoder directory)"
            ) from exc

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
