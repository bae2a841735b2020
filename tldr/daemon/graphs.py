"""The daemon's loaded code graph, kept next to the searcher.

A graph query compares the stat of `metadata.json` with the one the graph
was loaded under; when it changed and the committed graph file (its build
id) is another one, the new graph is loaded off the event loop before the
query is answered, so an answer never comes from a graph older than the
last commit. Concurrent queries share one load; the previous graph is
dropped once the new one is in.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from tldr.paths import IndexPaths

if TYPE_CHECKING:
    from tldr.graph import CodeGraph

__all__ = ["GraphCache"]

Stat = tuple[int, int, int]


class GraphCache:
    """One loaded `CodeGraph`, the graph file it came from and the metadata stat seen."""

    def __init__(self, paths: IndexPaths, *, pool: Executor) -> None:
        self.paths = paths
        self.loaded: CodeGraph | None = None
        self.graph_file: str | None = None  # None: built from the tree (no committed graph)
        self.loads = 0
        self._stat: Stat | None = None
        self._pool = pool
        self._lock = asyncio.Lock()

    def _metadata_stat(self) -> Stat | None:
        try:
            info = os.stat(self.paths.metadata)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def committed_file(self) -> str | None:
        """The graph file metadata.json names (its name carries the build id), or None."""
        try:
            document = json.loads(self.paths.metadata.read_bytes())
        except (OSError, ValueError):
            return None
        name = document.get("graph_file") if isinstance(document, dict) else None
        return name if isinstance(name, str) else None

    async def graph(self) -> CodeGraph:
        """The graph of the committed build, loaded when the commit changed."""
        stat = self._metadata_stat()
        if self.loaded is not None and stat == self._stat:
            return self.loaded
        async with self._lock:
            stat = self._metadata_stat()
            if self.loaded is not None and stat == self._stat:
                return self.loaded
            committed = self.committed_file()
            if (self.loaded is not None and committed is not None
                    and committed == self.graph_file):
                self._stat = stat  # metadata rewritten, same graph
                return self.loaded
            loop = asyncio.get_running_loop()
            self.loaded = None  # let the old graph go before the new one is read
            loaded = await loop.run_in_executor(self._pool, self._load)
            self.loaded, self._stat, self.loads = loaded, stat, self.loads + 1
            self.graph_file = committed if loaded.source != "tree" else None
            return loaded

    def _load(self) -> CodeGraph:
        from tldr.graph import load_graph

        return load_graph(self.paths.root, paths=self.paths)
