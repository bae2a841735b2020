"""The daemon's warm searcher, pinned to one committed build.

A request never reloads: it compares the stat of `metadata.json` with the
one the searcher was loaded from, and when they differ a background task
loads the new build (and its model, once) off the event loop and swaps it
in. Until then queries are served from the previous build.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import Executor
from typing import Any

from tldr._exceptions import TldrError
from tldr.paths import IndexPaths

__all__ = ["SearcherCache", "settings_of"]

logger = logging.getLogger(__name__)

Stat = tuple[int, int, int]


class SearcherCache:
    """One `PinnedSearcher` and the stat of the build it serves."""

    def __init__(self, paths: IndexPaths, *, pool: Executor, view: bool,
                 device: str | None) -> None:
        self.root = paths.root
        self.paths = paths
        self.view = view
        self.device = device
        self.searcher: Any = None
        self.stat: Stat | None = None
        self.load_error: str | None = None
        self.known_settings: dict[str, str | None] | None = None
        self.backend_health: tuple[bool, str] | None = None
        self._pool = pool
        self._task: asyncio.Task[None] | None = None

    def submit(self, work: Any) -> None:
        """Run `work()` on the search threads (loading a model off the loop)."""
        self._pool.submit(work)

    def metadata_stat(self) -> Stat | None:
        """(mtime_ns, size, inode) of `metadata.json`, or None when there is none."""
        try:
            info = os.stat(self.paths.metadata)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def maybe_reload(self) -> None:
        """Start a background reload if the committed build changed."""
        stat = self.metadata_stat()
        if stat is not None and stat != self.stat and self._task is None:
            asyncio.create_task(self.reload()).add_done_callback(_log_failure)

    async def reload(self) -> None:
        """Load the committed build (and its model) off the loop, then swap it in.

        Concurrent callers share one load.
        """
        if self._task is None:
            self._task = asyncio.create_task(self._load())
        await asyncio.shield(self._task)

    async def reload_committed(self) -> None:
        """Reload after a build committed (twice if a reload in flight saw the old one)."""
        await self.reload()
        if self.stat != self.metadata_stat():
            await self.reload()

    async def _load(self) -> None:
        stat = self.metadata_stat()
        loop = asyncio.get_running_loop()
        try:
            searcher = await loop.run_in_executor(self._pool, self._load_sync)
        except TldrError as exc:
            self.load_error = str(exc)
            raise
        finally:
            self._task = None
        self.load_error = None
        previous, self.searcher, self.stat = self.searcher, searcher, stat
        if previous is not None:
            del previous  # the last reference to the old build: give its memory back
            await loop.run_in_executor(self._pool, _release_memory)

    def _load_sync(self) -> Any:
        from tldr.daemon._pinned import PinnedSearcher

        searcher = PinnedSearcher(self.root, view=self.view, device=self.device,
                                  paths=self.paths)
        searcher.refresh()
        searcher.embedder(searcher.build.metadata)  # load the model once, now
        self.known_settings = settings_of(searcher.build.metadata)
        self.backend_health = _health(searcher.build.metadata.vector_store.backend)
        return searcher


def _release_memory() -> None:
    """Collect the replaced build and hand freed heap pages back to the OS.

    A build's units and lexical arrays are tens of MB; without the trim, glibc
    keeps the pages of each replaced build (a first build replaces several
    partial ones), and the daemon's RSS grows with every reload.
    """
    import ctypes
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


def _health(backend_id: str) -> tuple[bool, str]:
    """The backend's own health check, run when a build is loaded."""
    from tldr.vector_store import get_backend

    try:
        healthy, detail = get_backend(backend_id).health_check()
    except Exception as exc:  # a broken backend is reported, not fatal
        return False, f"{type(exc).__name__}: {exc}"
    return bool(healthy), str(detail)


def settings_of(metadata: Any) -> dict[str, str | None]:
    """The build settings a metadata records, as an `index` request names them."""
    return {
        "model": metadata.model,
        "lang": ",".join(metadata.lang) if metadata.lang else "all",
        "vector_backend": metadata.vector_store.backend,
    }


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("reloading the index failed: %s", task.exception())
