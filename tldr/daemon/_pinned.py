"""A `Searcher` that serves the build it loaded until told to reload.

The daemon decides when to reload (see `service`), so a request never pays
for loading a new build. Imports the semantic layer: load it lazily.
"""

from __future__ import annotations

from tldr.semantic import Searcher
from tldr.semantic.query.loaded_build import LoadedBuild

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
