"""How much of the served build has vectors, and what a search can use of it.

A first build commits partial builds while it embeds
(specs/010-lexical-first.md). While the served build is partial, a hybrid
search answers lexically until the build has vectors and the query model is
loaded (loading it takes seconds, and the first search must not wait for
it), and every search result says how far embedding is: the `dense` field.
"""

from __future__ import annotations

import threading
from typing import Any

from tldr.progress import RateEstimator
from tldr.semantic.query.coverage import search_plan

__all__ = ["DenseCoverage"]


class DenseCoverage:
    """The embed rate of the running build and which query models are loaded."""

    def __init__(self) -> None:
        self.estimator = RateEstimator()
        self._ready: set[str] = set()
        self._loading: set[str] = set()
        self._lock = threading.Lock()

    def on_progress(self, stage: str, done: int, total: int) -> None:
        """Build progress events (the embed ones give the ETA)."""
        if stage == "embed":
            self.estimator.update(stage, done, total)

    def plan(self, metadata: Any, mode: str) -> tuple[str, dict[str, Any] | None]:
        """The mode to search with, and the `dense` field (None: the build is complete)."""
        eta = self.estimator.eta_s if self.estimator.stage == "embed" else None
        return search_plan(getattr(metadata, "dense", None), mode,
                           model_ready=metadata.model in self._ready, eta_s=eta)

    def start_loading(self, model: str) -> bool:
        """True when the caller should load `model` now (once per model)."""
        with self._lock:
            if model in self._ready or model in self._loading:
                return False
            self._loading.add(model)
            return True

    def loaded(self, model: str, *, ok: bool) -> None:
        """The load `start_loading` asked for ended."""
        with self._lock:
            self._loading.discard(model)
            if ok:
                self._ready.add(model)
