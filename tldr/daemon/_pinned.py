"""A `Searcher` that serves the build it loaded and times query embedding.

The daemon decides when to reload (see `service`), so a request never pays
for loading a new build. Imports the semantic layer: load it lazily.
"""

from __future__ import annotations

import time
from typing import Any

from tldr.semantic import Searcher
from tldr.semantic.search import LoadedBuild

__all__ = ["PinnedSearcher"]


class PinnedSearcher(Searcher):
    """Loads once (`refresh()`), then keeps serving that build."""

    @property
    def build(self) -> LoadedBuild:
        """The loaded build; loaded now only if nothing was loaded yet."""
        if self._build is None:
            self.refresh()
        assert self._build is not None
        return self._build

    def embedder(self, metadata: Any) -> Any:
        """The model, wrapped so the service can tell embedding time apart."""
        return _TimedEmbedder(super().embedder(metadata))


class _TimedEmbedder:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed_query(self, text: str) -> Any:
        from tldr.daemon.status import record_embed_time

        started = time.perf_counter()
        try:
            return self._inner.embed_query(text)
        finally:
            record_embed_time(time.perf_counter() - started)
