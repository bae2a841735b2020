"""What the daemon serves: the request handlers and the build scheduler.

Queries go to the warm searcher (`searchers`), pinned to the committed
build and swapped when `metadata.json` changes, so they are served from the
previous build until the new one is ready. Changes are debounced and
coalesced into one pending job; builds run one at a time with
`lock_timeout=0` in the build worker process (`builder`), driven from one
build thread; a held lock means another builder is at work and the job is
retried when it lets go; any other failure is retried with backoff and
shown in status (`status`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from tldr._exceptions import IndexBusyError, IndexCorruptError, IndexMissingError, TldrError
from tldr._version import __version__
from tldr.daemon import protocol
from tldr.daemon.builder import (
    BuildCancelled,
    BuildRequest,
    BuildWorker,
    lower_thread_priority,
)
from tldr.daemon.protocol import (
    IndexParams,
    InfoParams,
    NotifyParams,
    RpcError,
    SearchParams,
    SearchResult,
    UnitParams,
)
from tldr.daemon.searchers import SearcherCache, settings_of
from tldr.daemon.server import Connection, Method
from tldr.daemon.status import SearchStats, service_status, take_embed_time
from tldr.daemon.watcher import ChangeFilter
from tldr.paths import IndexPaths

__all__ = ["Service"]

logger = logging.getLogger(__name__)

_BUSY_RETRY_S = 0.5
_MAX_BACKOFF_S = 60.0
_PROGRESS_INTERVAL_S = 0.1


class _Empty(msgspec.Struct, forbid_unknown_fields=True):
    """Params of methods that take none."""


@dataclass
class _Job:
    """One pending build: what triggered it and who waits for it."""

    deadline: float
    first_at: float
    touch_dirty: bool = False
    rebuild: bool = False
    settings: dict[str, str | None] | None = None  # explicit: only from an `index` request
    waiters: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)
    reason: str = "startup"
    urgent: bool = False  # due sooner than a debounce: later changes do not push it back


class Service:
    """One project's searcher, build scheduler and counters."""

    def __init__(
        self,
        root: Path,
        *,
        debounce_ms: int,
        view: bool = True,
        device: str | None = None,
        search_threads: int = 4,
        build_in_worker: bool = True,
    ) -> None:
        self.root = root
        self.paths = IndexPaths(root)
        self.debounce = debounce_ms / 1000
        self.view = view and os.name != "nt"
        self.device = device
        self.filter = ChangeFilter(root)
        self.broadcast: Callable[[str, dict[str, Any]], None] = lambda event, params: None
        self.request_stop: Callable[[], None] = lambda: None
        self.extra_status: Callable[[], dict[str, Any]] = dict
        self.started_at = time.time()
        self._search_pool = ThreadPoolExecutor(search_threads, thread_name_prefix="tldr-search")
        self._build_pool = ThreadPoolExecutor(1, thread_name_prefix="tldr-build")
        self.searchers = SearcherCache(root, pool=self._search_pool, view=self.view,
                                       device=device)
        self._job: _Job | None = None
        self._running: _Job | None = None
        self._wake = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._cancel = threading.Event()
        self.build_state = "idle"  # idle, scheduled, running, waiting, failed
        self._progress: dict[str, Any] | None = None
        self._last_report: dict[str, Any] | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._retry_at: float | None = None
        self._changed_paths = 0
        self.search_stats = SearchStats()
        self.worker = BuildWorker() if build_in_worker else None
        self.counts = {"searches": 0, "builds": 0, "build_failures": 0, "notified_paths": 0}

    # lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the scheduler and warm up: load the build and model, or build."""
        self._scheduler = asyncio.create_task(self._schedule_loop(), name="tldr-scheduler")
        self.schedule(reason="startup", delay=0)
        self._warmup = asyncio.create_task(self._warm_up(), name="tldr-warmup")

    async def close(self) -> None:
        """Stop scheduling, cancel a running build, release the threads."""
        self._cancel.set()
        if self.worker is not None:
            self.worker.close()
        if self._scheduler is not None:
            self._scheduler.cancel()
        for pool in (self._search_pool, self._build_pool):
            pool.shutdown(wait=False, cancel_futures=True)

    @property
    def busy(self) -> bool:
        """True while a build runs or is due (idle shutdown waits for it)."""
        return self.build_state in ("running", "waiting", "scheduled")

    def methods(self) -> dict[str, Method]:
        """The JSON-RPC method table."""
        return {
            "ping": Method(_Empty, self._ping),
            "status": Method(_Empty, self._status),
            "search": Method(SearchParams, self._search),
            "index": Method(IndexParams, self._index, own_timeout=True),
            "info": Method(InfoParams, self._info),
            "unit": Method(UnitParams, self._unit),
            "notify": Method(NotifyParams, self._notify),
            "shutdown": Method(_Empty, self._shutdown),
        }

    # changes -----------------------------------------------------------------

    def on_changes(self, changes: list[tuple[str, str]]) -> None:
        """Watcher batches: (change name, absolute path)."""
        sources = 0
        for change, path in changes:
            kind = self.filter.classify(path)
            if kind == "source":
                sources += 1
            elif kind == "index":
                self._index_event(change)
        if sources:
            self._changed_paths += sources
            self.schedule(reason="watch", touch_dirty=True)

    def _index_event(self, change: str) -> None:
        if not self.paths.metadata.exists():
            if change == "deleted":
                logger.warning("the index was deleted; rebuilding")
                self.schedule(reason="index deleted", delay=0.3)
            return
        self.searchers.maybe_reload()

    def schedule(
        self,
        *,
        reason: str,
        delay: float | None = None,
        touch_dirty: bool = False,
        rebuild: bool = False,
        settings: dict[str, str | None] | None = None,
    ) -> _Job:
        """Add to the pending build (coalescing), due after `delay` (default: debounce)."""
        now = time.monotonic()
        delay = self.debounce if delay is None else delay
        job = self._job
        urgent = delay < self.debounce
        if job is None:
            job = self._job = _Job(deadline=now + delay, first_at=now, reason=reason)
        elif urgent:
            job.deadline = min(job.deadline, now + delay)
        elif not job.urgent:
            # Quiet-period debounce, but never starve: at most 5x debounce after the first change.
            cap = max(job.first_at + 5 * self.debounce, now)
            job.deadline = min(max(job.deadline, now + delay), cap)
        job.urgent |= urgent
        if reason not in job.reason.split("+"):
            job.reason = f"{job.reason}+{reason}"
        job.touch_dirty |= touch_dirty
        job.rebuild |= rebuild
        if settings is not None:
            job.settings = settings
        if self.build_state in ("idle", "failed"):
            self.build_state = "scheduled"
        self._wake.set()
        return job

    # scheduling --------------------------------------------------------------

    async def _schedule_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            job = self._job
            if job is None:
                continue
            while (delay := job.deadline - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
            if self._job is job:
                self._job = None
            try:
                await self._run(job)
            except Exception:  # the scheduler must survive anything
                logger.exception("build scheduling failed")
                self.build_state = "failed"
            if self._job is not None:
                self._wake.set()

    def _requeue(self, job: _Job, delay: float, *, keep_waiters: bool) -> None:
        again = self.schedule(reason=job.reason, delay=delay, touch_dirty=job.touch_dirty,
                              rebuild=job.rebuild, settings=job.settings)
        if keep_waiters:
            again.waiters.extend(job.waiters)

    async def _run(self, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        self.build_state = "running"
        self._running = job
        self._retry_at = None
        try:
            report = await loop.run_in_executor(self._build_pool, self._build_sync, job, loop)
        except IndexBusyError:
            if self.build_state != "waiting":
                logger.info("another build holds the lock; waiting for it")
            self.build_state = "waiting"
            self._progress = None
            self._requeue(job, _BUSY_RETRY_S, keep_waiters=True)
            return
        except Exception as exc:  # includes BuildCancelled and a shut-down pool
            if not self._cancel.is_set():
                self._failed(job, exc)
            return
        await self._built(job, report)

    def _failed(self, job: _Job, exc: BaseException) -> None:
        self._failures += 1
        self.counts["build_failures"] += 1
        backoff = min(_MAX_BACKOFF_S, 2.0 ** (self._failures - 1))
        self._last_error = f"{type(exc).__name__}: {exc}"
        self._progress = None
        logger.error("build failed (%s); retrying in %.0fs", self._last_error, backoff,
                     exc_info=not isinstance(exc, TldrError))
        for waiter in job.waiters:
            if not waiter.done():
                waiter.set_exception(exc)
        self.broadcast("build.failed", {"error": self._last_error, "retry_in_s": backoff,
                                        "failures": self._failures})
        self._requeue(job, backoff, keep_waiters=False)
        self.build_state = "failed"
        self._retry_at = time.time() + backoff

    async def _built(self, job: _Job, report: Any) -> None:
        self._failures = 0
        self._last_error = None
        self._progress = None
        self.counts["builds"] += 1
        summary = {
            "status": report.status,
            "build_id": report.build_id,
            "units": report.units,
            "files": report.files,
            "extracted_files": report.extracted_files,
            "embedded": report.embedded,
            "seconds": round(report.seconds, 4),
            "reason": job.reason,
            "finished_at": time.time(),
        }
        self._last_report = summary
        if report.status != "up_to_date" or self.searchers.searcher is None:
            try:
                await self.searchers.reload_committed()
            except TldrError as exc:
                logger.error("cannot load the new build: %s", exc)
        self.build_state = "scheduled" if self._job is not None else "idle"
        logger.info("build %s: %s (%s units, %s embedded, %.2fs)", summary["build_id"],
                    report.status, report.units, report.embedded, report.seconds)
        if report.status != "up_to_date":
            self.broadcast("index.updated", summary)
        for waiter in job.waiters:
            if not waiter.done():
                waiter.set_result(summary)

    def _build_sync(self, job: _Job, loop: asyncio.AbstractEventLoop) -> Any:
        settings = job.settings if job.settings is not None else self._recorded_settings()
        if job.touch_dirty:
            self.paths.semantic_dir.mkdir(parents=True, exist_ok=True)
            self.paths.dirty.touch()
        last_at, last_stage = [0.0], [""]

        def progress(stage: str, done: int, total: int) -> None:
            if self._cancel.is_set():
                raise BuildCancelled("daemon shutting down")
            now = time.monotonic()
            if stage == last_stage[0] and now - last_at[0] < _PROGRESS_INTERVAL_S and done != total:
                return
            last_at[0], last_stage[0] = now, stage
            loop.call_soon_threadsafe(self._on_progress, stage, done, total)

        chosen = settings or {}
        request = BuildRequest(
            root=str(self.root), model=chosen.get("model"), lang=chosen.get("lang"),
            vector_backend=chosen.get("vector_backend"), rebuild=job.rebuild, device=self.device,
        )
        if self.worker is not None:
            return self.worker.build(request, progress)
        from tldr.semantic import build_semantic_index

        lower_thread_priority()
        return build_semantic_index(
            self.root, model=request.model, lang=request.lang,
            vector_backend=request.vector_backend, rebuild=request.rebuild,
            device=self.device, progress=progress, lock_timeout=0,
        )

    def _recorded_settings(self) -> dict[str, str | None] | None:
        """The settings a self-triggered build keeps: metadata's, else the last known."""
        from tldr.semantic.storage import read_metadata

        try:
            metadata = read_metadata(self.paths)
        except TldrError:
            metadata = None
        if metadata is not None:
            self.searchers.known_settings = settings_of(metadata)
        return self.searchers.known_settings

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        self._progress = {"stage": stage, "done": done, "total": total, "percent": percent}
        self.broadcast("build.progress", self._progress)

    # searcher ----------------------------------------------------------------

    async def _warm_up(self) -> None:
        try:
            await self.searchers.reload()
        except IndexMissingError:
            pass  # the startup build makes one
        except Exception as exc:
            logger.warning("could not load the index: %s", exc)

    async def _current_searcher(self) -> Any:
        searcher = self.searchers.searcher
        if searcher is None:
            try:
                await self.searchers.reload()
            except IndexMissingError:
                raise self._missing() from None
            except IndexCorruptError:
                self._repair()
                raise
            return self.searchers.searcher
        stat = self.searchers.metadata_stat()
        if stat != self.searchers.stat:
            if stat is None:
                if self._job is None and self.build_state in ("idle", "failed"):
                    self.schedule(reason="index deleted", delay=0)
            else:
                self.searchers.maybe_reload()
        return searcher

    def _repair(self) -> None:
        """A file of the committed build is damaged: build (it is not up to date)."""
        if self._job is None and self.build_state in ("idle", "failed"):
            logger.warning("the index is damaged; rebuilding")
            self.schedule(reason="damaged index", delay=0)

    def _missing(self) -> IndexMissingError:
        if self._job is None and self.build_state in ("idle", "failed"):
            self.schedule(reason="index missing", delay=0)
        progress = self._progress
        done = f", {progress['percent']}% done ({progress['stage']})" if progress else ""
        failed = f"; last build failed: {self._last_error}" if self._last_error else ""
        return IndexMissingError(f"index missing for {self.root}; building now{done}{failed}")

    # methods -----------------------------------------------------------------

    async def _ping(self, params: _Empty, conn: Connection) -> dict[str, Any]:
        return {"pong": True, "pid": os.getpid(), "version": __version__, "root": str(self.root)}

    async def _search(self, params: SearchParams, conn: Connection) -> SearchResult:
        started = time.perf_counter()
        searcher = await self._current_searcher()
        loop = asyncio.get_running_loop()
        try:
            rows, embed_s = await loop.run_in_executor(
                self._search_pool, _search_sync, searcher, params
            )
        except IndexCorruptError:  # a file of the build changed under us
            self._repair()
            raise
        took = (time.perf_counter() - started) * 1000
        embed_ms = embed_s * 1000
        self.counts["searches"] += 1
        self.search_stats.record(took, embed_ms)
        return SearchResult(
            results=rows,
            build_id=searcher.build.metadata.vector_store.build_id,
            took_ms=round(took, 3),
            embed_ms=round(embed_ms, 3),
            stale=self._stale(),
        )

    def _stale(self) -> bool:
        """Whether edits may be missing: a change-driven build is due or running.

        The startup check alone does not count: it usually finds the index
        up to date, and answering "stale" for it would be noise.
        """
        running = self._running if self.build_state in ("running", "waiting") else None
        return any(job is not None and job.reason != "startup" for job in (self._job, running))

    async def _index(self, params: IndexParams, conn: Connection) -> dict[str, Any]:
        explicit = {"model": params.model, "lang": params.lang,
                    "vector_backend": params.vector_backend}
        settings = explicit if any(explicit.values()) else None
        job = self.schedule(reason="request", delay=0, rebuild=params.rebuild, settings=settings)
        if not params.wait:
            return {"scheduled": True, "state": self.build_state}
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        job.waiters.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), params.timeout)
        except asyncio.TimeoutError:
            raise RpcError(protocol.TIMEOUT, f"the build did not finish in {params.timeout:g}s; "
                           "it goes on in the background", {"progress": self._progress}) from None

    async def _info(self, params: InfoParams, conn: Connection) -> dict[str, Any]:
        from tldr.semantic import index_info

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._search_pool, index_info, self.root)
        except IndexMissingError:
            raise self._missing() from None

    async def _unit(self, params: UnitParams, conn: Connection) -> dict[str, Any]:
        searcher = await self._current_searcher()
        loop = asyncio.get_running_loop()
        unit: dict[str, Any] = await loop.run_in_executor(
            self._search_pool,
            functools.partial(
                searcher.get_unit,
                qualified_name=params.qualified_name,
                file=params.file,
                line=params.line,
            ),
        )
        return unit

    async def _notify(self, params: NotifyParams, conn: Connection) -> dict[str, Any]:
        accepted = [path for path in params.paths if self.filter.classify(path) == "source"]
        self.counts["notified_paths"] += len(params.paths)
        if accepted:
            self._changed_paths += len(accepted)
            self.schedule(reason="notify", touch_dirty=True,
                          delay=None if params.debounce else 0)
        return {"accepted": len(accepted), "ignored": len(params.paths) - len(accepted)}

    async def _shutdown(self, params: _Empty, conn: Connection) -> dict[str, Any]:
        asyncio.get_running_loop().call_later(0.05, self.request_stop)
        return {"stopping": True}

    async def _status(self, params: _Empty, conn: Connection) -> dict[str, Any]:
        return self.status()

    def status(self) -> dict[str, Any]:
        """Everything `tldrf daemon status` shows (see `status.service_status`)."""
        return service_status(self)


def _search_sync(searcher: Any, params: SearchParams) -> tuple[list[dict[str, Any]], float]:
    take_embed_time()
    if params.files:
        rows = searcher.search_files(params.query, k=params.k, lang=params.lang,
                                     path_prefix=params.path_prefix, mode=params.mode,
                                     unit_type=params.unit_type)
    else:
        rows = searcher.search(params.query, k=params.k, lang=params.lang,
                               path_prefix=params.path_prefix, mode=params.mode,
                               unit_type=params.unit_type, snippets=params.snippets,
                               expand=params.expand, rerank=params.rerank)
    return rows, take_embed_time()
