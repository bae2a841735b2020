"""What the daemon serves: one project's searcher, build scheduler and methods.

`Service` assembles the parts and owns nothing else: the warm searcher
(`searchers`), the build scheduler (`scheduler`), the periodic follow of a
shared index (`follower`), the JSON-RPC methods
(`handlers`) and the counters `status` reports (`status`). The runner hands
it the server's `broadcast`, its own `request_stop` and extra status fields
at construction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tldr._exceptions import IndexMissingError
from tldr.daemon.follow import Follower
from tldr.daemon.graphs import GraphCache
from tldr.daemon.handlers import Handlers
from tldr.daemon.scheduler import BuildScheduler, RebuildPolicy
from tldr.daemon.searchers import SearcherCache
from tldr.daemon.server import Method
from tldr.daemon.status import SearchStats, service_status
from tldr.daemon.watcher import ChangeFilter
from tldr.paths import IndexPaths

__all__ = ["Service"]

logger = logging.getLogger(__name__)


class Service:
    """One project's searcher, build scheduler, methods and counters."""

    def __init__(
        self,
        root: Path,
        *,
        policy: RebuildPolicy,
        view: bool = True,
        device: str | None = None,
        search_threads: int = 4,
        build_in_worker: bool = True,
        broadcast: Callable[[str, dict[str, Any]], None] = lambda event, params: None,
        request_stop: Callable[[], None] = lambda: None,
        extra_status: Callable[[], dict[str, Any]] = dict,
        paths: IndexPaths | None = None,
    ) -> None:
        self.root = root
        self.paths = paths or IndexPaths(root)
        self.policy = policy
        self.debounce = policy.debounce_s
        self.view = view and os.name != "nt"
        self.device = device
        self.filter = ChangeFilter(root)
        self.extra_status = extra_status
        self.started_at = time.time()
        self.counts = {"searches": 0, "graph_queries": 0, "builds": 0, "build_failures": 0,
                       "notified_paths": 0}
        self.search_stats = SearchStats()
        self._search_pool = ThreadPoolExecutor(search_threads, thread_name_prefix="tldr-search")
        self.searchers = SearcherCache(self.paths, pool=self._search_pool, view=self.view,
                                       device=device)
        self.scheduler = BuildScheduler(
            self.paths, searchers=self.searchers, policy=policy, device=device,
            broadcast=broadcast, counts=self.counts, build_in_worker=build_in_worker,
        )
        self.follower = Follower(self.paths, interval_s=policy.follow_interval_s,
                                 timeout_s=policy.follow_timeout_s, scheduler=self.scheduler,
                                 searchers=self.searchers, broadcast=broadcast)
        self.scheduler.follower = self.follower
        # The graph's own changes are in the committed build once no build is due.
        self.graphs = GraphCache(self.paths, pool=self._search_pool,
                                 settled=lambda: self.scheduler.idle)
        self.handlers = Handlers(
            root, searchers=self.searchers, scheduler=self.scheduler, pool=self._search_pool,
            change_filter=self.filter, search_stats=self.search_stats, counts=self.counts,
            status=self.status, request_stop=request_stop, graphs=self.graphs,
        )
        self._warmup: asyncio.Task[None] | None = None

    # lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the scheduler and warm up: load the build and model, or build."""
        self.scheduler.start()
        self.scheduler.schedule(reason="startup", delay=0)
        self.follower.start()
        self._warmup = asyncio.create_task(self._warm_up(), name="tldr-warmup")

    async def close(self) -> None:
        """Stop scheduling, cancel a running build, release the threads."""
        self.follower.close()
        self.scheduler.close()
        self._search_pool.shutdown(wait=False, cancel_futures=True)

    @property
    def busy(self) -> bool:
        """True while a build runs or is due (idle shutdown waits for it)."""
        return self.scheduler.busy

    @property
    def build_state(self) -> str:
        """idle, scheduled, running, waiting or failed."""
        return self.scheduler.state

    def methods(self) -> dict[str, Method]:
        """The JSON-RPC method table."""
        return self.handlers.methods()

    def status(self) -> dict[str, Any]:
        """Everything `tldrf daemon status` shows (see `status.service_status`)."""
        return {
            **service_status(
                root=self.root, started_at=self.started_at, searchers=self.searchers,
                scheduler=self.scheduler, counts=self.counts, search_stats=self.search_stats,
                debounce=self.debounce, follower=self.follower,
            ),
            "graph": self.graphs.status(),
            **self.extra_status(),
        }

    # changes -----------------------------------------------------------------

    def on_changes(self, changes: list[tuple[str, str]]) -> None:
        """Watcher batches: (change name, absolute path)."""
        sources = 0
        for change, path in changes:
            kind = self.filter.classify(path)
            if kind == "source":
                sources += 1
                self.graphs.changed(filter(None, [self.filter.relative(path)]))
            elif kind == "index":
                self._index_event(change)
        if sources:
            self.scheduler.schedule(reason="watch", touch_dirty=True, changed_paths=sources)

    def _index_event(self, change: str) -> None:
        if not self.paths.metadata.exists():
            if change == "deleted":
                logger.warning("the index was deleted; rebuilding")
                self.scheduler.schedule(reason="index deleted", delay=0.3)
            return
        self.searchers.maybe_reload()

    async def _warm_up(self) -> None:
        try:
            await self.searchers.reload()
        except IndexMissingError:
            # The startup build makes one; have the plugins ready to load its
            # first (partial) commit the moment it lands.
            await asyncio.get_running_loop().run_in_executor(self._search_pool, _load_plugins)
        except Exception as exc:
            logger.warning("could not load the index: %s", exc)


def _load_plugins() -> None:
    from tldr.plugins import registered_embedders, registered_vector_stores

    registered_embedders()
    registered_vector_stores()
