"""The daemon's JSON-RPC methods: each validates its params and answers.

Queries go to the warm searcher (`searchers`), pinned to the committed build
and swapped when `metadata.json` changes, so they are served from the
previous build until the new one is ready; builds go through the
`scheduler`. The `search` params become a `SearchRequest` (validated there,
once) that goes to `Searcher.run` unchanged; the params of each code-graph
method (`impact`, `context`, `slice`, ...) become its `tldr.graph_request`
class, answered by `tldr.graph.answer` on the graph kept in `graphs`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tldr._exceptions import IndexCorruptError, IndexMissingError, TldrError
from tldr._version import __version__
from tldr.daemon import protocol
from tldr.daemon.graphs import GraphCache
from tldr.daemon.protocol import (
    GraphParams,
    IndexParams,
    InfoParams,
    NotifyParams,
    RpcError,
    SearchParams,
    SearchResult,
    UnitParams,
)
from tldr.daemon.scheduler import BuildScheduler
from tldr.daemon.searchers import SearcherCache
from tldr.daemon.server import Connection, Method
from tldr.daemon.status import SearchStats
from tldr.daemon.watcher import ChangeFilter
from tldr.graph_request import GRAPH_REQUESTS, GraphRequest
from tldr.request import SearchRequest

if TYPE_CHECKING:
    from tldr.graph import CodeGraph

__all__ = ["Empty", "Handlers"]

logger = logging.getLogger(__name__)


class Empty(msgspec.Struct, forbid_unknown_fields=True):
    """Params of methods that take none."""


class Handlers:
    """The method table of one project's daemon."""

    def __init__(
        self,
        root: Path,
        *,
        searchers: SearcherCache,
        scheduler: BuildScheduler,
        pool: Executor,
        change_filter: ChangeFilter,
        search_stats: SearchStats,
        counts: dict[str, int],
        status: Callable[[], dict[str, Any]],
        request_stop: Callable[[], None],
        graphs: GraphCache | None = None,
    ) -> None:
        self.root = root
        self.searchers = searchers
        self.graphs = graphs or GraphCache(searchers.paths, pool=pool)
        self.scheduler = scheduler
        self.pool = pool
        self.filter = change_filter
        self.search_stats = search_stats
        self.counts = counts
        self._status = status
        self._request_stop = request_stop

    def methods(self) -> dict[str, Method]:
        """The JSON-RPC method table: the index's methods and one per graph request."""
        graph_methods = {
            kind.METHOD: Method(GraphParams, functools.partial(self.graph_query, kind))  # type: ignore[arg-type]
            for kind in GRAPH_REQUESTS
        }
        return graph_methods | {
            "ping": Method(Empty, self.ping),
            "status": Method(Empty, self.status),
            "search": Method(SearchParams, self.search),  # type: ignore[arg-type]
            "index": Method(IndexParams, self.index, own_timeout=True),
            "info": Method(InfoParams, self.info),
            "unit": Method(UnitParams, self.unit),
            "notify": Method(NotifyParams, self.notify),
            "shutdown": Method(Empty, self.shutdown),
        }

    # the searcher --------------------------------------------------------------

    def missing(self) -> RpcError:
        """'index missing; building now', scheduling that build when none is due.

        Its data carries the build's progress, which a client waiting for the
        first build shows.
        """
        if self.scheduler.idle:
            self.scheduler.schedule(reason="index missing", delay=0)
        snapshot = self.scheduler.snapshot()
        return RpcError(
            protocol.INDEX_MISSING,
            f"index missing for {self.root}; building now{self.scheduler.progress_note()}",
            {"type": "IndexMissingError", "progress": snapshot.progress,
             "last_error": snapshot.last_error})

    def repair(self) -> None:
        """A file of the committed build is damaged: build (it is not up to date)."""
        if self.scheduler.idle:
            logger.warning("the index is damaged; rebuilding")
            self.scheduler.schedule(reason="damaged index", delay=0)

    async def current_searcher(self) -> Any:
        """The warm searcher; loads one (or starts a build) when there is none."""
        searcher = self.searchers.searcher
        if searcher is None:
            try:
                await self.searchers.reload()
            except IndexMissingError:
                raise self.missing() from None
            except IndexCorruptError:
                self.repair()
                raise
            return self.searchers.searcher
        stat = self.searchers.metadata_stat()
        if stat != self.searchers.stat:
            if stat is None:
                if self.scheduler.idle:
                    self.scheduler.schedule(reason="index deleted", delay=0)
            else:
                self.searchers.maybe_reload()
        return searcher

    # methods -----------------------------------------------------------------

    async def ping(self, params: Empty, conn: Connection) -> dict[str, Any]:
        """Pong, with the pid, version and root."""
        return {"pong": True, "pid": os.getpid(), "version": __version__, "root": str(self.root)}

    async def status(self, params: Empty, conn: Connection) -> dict[str, Any]:
        """Everything `tldrf daemon status` shows."""
        return self._status()

    async def search(self, params: dict[str, Any], conn: Connection) -> SearchResult:
        """Rows for a `SearchRequest` made of `params`, from the warm searcher."""
        started = time.perf_counter()
        request = SearchRequest.from_params(params)
        searcher = await self.current_searcher()
        metadata = searcher.build.metadata
        coverage = self.scheduler.coverage
        mode, dense = coverage.plan(metadata, request.mode)
        run = searcher.run
        if dense is not None:
            request = request.replace(mode=mode)
            run = functools.partial(searcher.run, tiers=tuple(dense["tiers"]))
            if coverage.needs_loading(metadata):
                self.scheduler.load_query_model(searcher)
        # `expand` links hits through the graph the daemon keeps (one copy in memory).
        graph = (await self.graphs.graph()
                 if request.expand and self.graphs.committed_file() is not None else None)
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(
                self.pool, functools.partial(run, request, graph=graph))
        except IndexCorruptError:  # a file of the build changed under us
            self.repair()
            raise
        if mode != "lexical" and dense is None:
            coverage.loaded(metadata.model, ok=True)
        took = (time.perf_counter() - started) * 1000
        embed_ms = outcome.embed_seconds * 1000
        self.counts["searches"] += 1
        self.search_stats.record(took, embed_ms)
        return SearchResult(
            results=outcome.rows,
            build_id=metadata.vector_store.build_id,
            took_ms=round(took, 3),
            embed_ms=round(embed_ms, 3),
            stale=self.scheduler.stale,
            warnings=list(outcome.warnings),
            dense=dense,
        )

    async def graph_query(self, kind: type[GraphRequest], params: GraphParams,
                          conn: Connection) -> dict[str, Any]:
        """The answer to a code-graph request, from the graph of the committed build.

        A request that names nothing, or asks what cannot be analysed,
        answers `UNANSWERABLE` with the message (and the exit code a CLI
        uses, as `data.exit_code`).
        """
        from tldr.graph.answer import answer

        request = kind.from_params(params)
        loaded = await self.graphs.graph() if request.NEEDS_GRAPH else None
        loop = asyncio.get_running_loop()
        try:
            result: dict[str, Any] = await loop.run_in_executor(
                self.pool, functools.partial(
                    answer, request, root=self.root,
                    graph=None if loaded is None else functools.partial(_same, loaded)))
        except RpcError:
            raise
        except TldrError as exc:
            error = protocol.error_for_exception(exc)
            if error.code == protocol.INTERNAL_ERROR:  # flow analysis: names, lines, languages
                error.code = protocol.UNANSWERABLE
            raise error from None
        self.counts["graph_queries"] += 1
        return result

    async def index(self, params: IndexParams, conn: Connection) -> dict[str, Any]:
        """Schedule a build now; with `wait`, answer when it is done."""
        explicit = {"model": params.model, "lang": params.lang,
                    "vector_backend": params.vector_backend}
        settings = explicit if any(explicit.values()) else None
        if settings is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.pool, functools.partial(
                _check_settings, lang=params.lang, vector_backend=params.vector_backend))
        job = self.scheduler.schedule(reason="request", delay=0, rebuild=params.rebuild,
                                      settings=settings)
        if not params.wait:
            return {"scheduled": True, "state": self.scheduler.state}
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        job.waiters.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), params.timeout)
        except asyncio.TimeoutError:
            raise RpcError(protocol.TIMEOUT, f"the build did not finish in {params.timeout:g}s; "
                           "it goes on in the background",
                           {"progress": self.scheduler.snapshot().progress}) from None

    async def info(self, params: InfoParams, conn: Connection) -> dict[str, Any]:
        """What `tldrf semantic info --json` prints."""
        from tldr.semantic import index_info

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, index_info, self.root)
        except IndexMissingError:
            raise self.missing() from None

    async def unit(self, params: UnitParams, conn: Connection) -> dict[str, Any]:
        """One unit with its current source."""
        searcher = await self.current_searcher()
        loop = asyncio.get_running_loop()
        unit: dict[str, Any] = await loop.run_in_executor(
            self.pool,
            functools.partial(searcher.get_unit, qualified_name=params.qualified_name,
                              file=params.file, line=params.line),
        )
        return unit

    async def notify(self, params: NotifyParams, conn: Connection) -> dict[str, Any]:
        """Schedule a build for paths an editor saved."""
        accepted = [path for path in params.paths if self.filter.classify(path) == "source"]
        self.graphs.changed(filter(None, (self.filter.relative(path) for path in accepted)))
        self.counts["notified_paths"] += len(params.paths)
        if accepted:
            self.scheduler.schedule(reason="notify", touch_dirty=True,
                                    delay=None if params.debounce else 0,
                                    changed_paths=len(accepted))
        return {"accepted": len(accepted), "ignored": len(params.paths) - len(accepted)}

    async def shutdown(self, params: Empty, conn: Connection) -> dict[str, Any]:
        """Stop the daemon shortly after answering."""
        asyncio.get_running_loop().call_later(0.05, self._request_stop)
        return {"stopping": True}


def _same(graph: CodeGraph) -> CodeGraph:
    return graph


def _check_settings(*, lang: str | None, vector_backend: str | None) -> None:
    """Reject an `index` request's bad language or backend before it is scheduled."""
    from tldr.settings import parse_lang

    parse_lang(lang)
    if vector_backend:
        from tldr._exceptions import ConfigError, UnknownBackendError
        from tldr.vector_store import get_backend

        try:
            get_backend(vector_backend)
        except UnknownBackendError as exc:
            raise ConfigError(str(exc)) from None
