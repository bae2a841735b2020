"""The daemon's loaded code graph, kept next to the searcher, and kept fresh.

A graph query compares the stat of `metadata.json` with the one the graph
was loaded under; when it changed and the committed graph file (its build
id) is another one, the new graph is loaded off the event loop before the
query is answered, so an answer never comes from a graph older than the
last commit. Concurrent queries share one load; the previous graph is
dropped once the new one is in.

Between commits, the watcher's source changes (`changed`) are applied to the
loaded graph at the next query: each changed file parsed again and the graph
updated per file (`tldr.graph.update_graph`), so `impact` sees an edit
without waiting for the debounce and the embedding build. Those files are
applied again after each reload until a reload finds the scheduler settled
(the committed graph then has them). The old graph's indexes are let go
before the new ones are built, as the old graph is before a reload: the
daemon keeps the RSS of its highest point.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

from tldr.paths import IndexPaths

if TYPE_CHECKING:
    from tldr.graph import CodeGraph, FileRecord, GraphFile

__all__ = ["GraphCache"]

logger = logging.getLogger(__name__)

Stat = tuple[int, int, int]


class GraphCache:
    """One loaded `CodeGraph`, the graph file it came from and the metadata stat seen."""

    def __init__(self, paths: IndexPaths, *, pool: Executor,
                 settled: Callable[[], bool] = lambda: True) -> None:
        """`settled` says whether every change so far is in the committed build."""
        self.paths = paths
        self.loaded: CodeGraph | None = None
        self.graph_file: str | None = None  # None: built from the tree (no committed graph)
        self.loads = 0
        self.live_updates = 0
        self._stat: Stat | None = None
        self._pool = pool
        self._settled = settled
        self._pending: set[str] = set()  # changed since the last query
        self._live: set[str] = set()  # applied since the last settled commit
        self._task: asyncio.Task[CodeGraph] | None = None

    def status(self) -> dict[str, object]:
        """What `status` reports: the loaded graph and how it was kept fresh."""
        loaded = self.loaded
        return {"loaded": loaded is not None,
                "graph_file": self.graph_file,
                "source": loaded.source if loaded is not None else None,
                "files": len(loaded.graph.files) if loaded is not None else 0,
                "edges": loaded.edge_count if loaded is not None else 0,
                "loads": self.loads, "live_updates": self.live_updates,
                "pending_files": len(self._pending)}

    def changed(self, paths: Iterable[str]) -> None:
        """Source files (project-relative) that changed: applied at the next query."""
        self._pending.update(paths)

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
        """The graph of the committed build, loaded when the commit changed, edits applied.

        One refresh at a time, shared by concurrent queries and shielded: a
        query that times out does not cancel a long first load (a large
        project without a committed graph), which the next query then finds.
        """
        stat = self._metadata_stat()
        if self.loaded is not None and stat == self._stat and not self._pending:
            return self.loaded
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh())
        return await asyncio.shield(self._task)

    async def _refresh(self) -> CodeGraph:
        loop = asyncio.get_running_loop()
        stat = self._metadata_stat()
        committed = self.committed_file()
        if self.loaded is None or (stat != self._stat and (
                committed is None or committed != self.graph_file)):
            self.loaded = None  # let the old graph go before the new one is read
            loaded = await loop.run_in_executor(self._pool, self._load)
            self.loaded, self.loads = loaded, self.loads + 1
            self.graph_file = committed if loaded.source != "tree" else None
            if self._settled():
                self._live.clear()
            self._pending |= self._live
        self._stat = stat
        if self._pending:
            changed, self._pending = self._pending, set()
            self._live |= changed
            records = await loop.run_in_executor(self._pool, self._records, self.loaded, changed)
            if records:
                await self._update(records)
            self.live_updates += 1
        assert self.loaded is not None
        return self.loaded

    async def _update(self, records: dict[str, FileRecord | None]) -> None:
        """The loaded graph with `records` applied, its indexes dropped before the new ones exist.

        Two sets of indexes side by side would raise the daemon's high-water
        RSS, which it keeps, by a graph's indexes at every edit. A failed
        update keeps the graph as it was (indexed again).
        """
        from tldr.graph import CodeGraph

        loop = asyncio.get_running_loop()
        current = self.loaded
        assert current is not None
        stored, root, source = current.graph, current.root, current.source
        self.loaded = current = None
        try:
            self.loaded = await loop.run_in_executor(self._pool, _updated, stored, records,
                                                     root, source)
        finally:
            if self.loaded is None:
                self.loaded = CodeGraph(stored, root=root, source=source)

    def _load(self) -> CodeGraph:
        from tldr.graph import load_graph

        return load_graph(self.paths.root, paths=self.paths)

    def _records(self, graph: CodeGraph, changed: set[str]) -> dict[str, FileRecord | None]:
        """The changed files parsed again: a file that fails stays as it was; one gone is None."""
        from tldr.graph.build import record_from_disk

        records = {}
        for path in sorted(changed):
            try:
                records[path] = record_from_disk(self.paths.root, path)
            except Exception as exc:  # a file that cannot be parsed must not stop queries
                logger.warning("code graph: cannot parse %s: %s", path, exc)
        known = {record.path for record in graph.graph.files}
        return {path: record for path, record in records.items()
                if record is not None or path in known}


def _updated(stored: GraphFile, records: dict[str, FileRecord | None], root: Path | None,
             source: str) -> CodeGraph:
    """The graph of `stored` with `records` applied (`tldr.graph.update_graph`), indexed."""
    from tldr.graph import CodeGraph, update_graph

    update = update_graph(stored, records, build_id=stored.build_id)
    return CodeGraph(update.graph, root=root, source=source, symbols=update.symbols)
