"""The daemon's build scheduler: one pending job, debounced, run one at a time.

Changes are debounced and coalesced into one pending job; builds run one at
a time with `lock_timeout=0` in the build worker process (`builder`), driven
from one build thread; a held lock means another builder is at work and the
job is retried when it lets go; any other failure is retried with backoff.
A job carrying explicit settings (an `index` request) that fails is not
retried with them: the retry keeps the settings recorded in `metadata.json`,
so one bad request never stops later edits from being indexed.

What status shows comes from `snapshot()`, a typed, read-only view.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec

from tldr._exceptions import IndexBusyError, TldrError
from tldr.daemon.builder import (
    BuildCancelled,
    BuildRequest,
    BuildSummary,
    BuildWorker,
    lower_thread_priority,
)
from tldr.daemon.coverage import DenseCoverage
from tldr.daemon.follow import Follower, FollowFailed, as_summary
from tldr.daemon.searchers import SearcherCache, settings_of
from tldr.paths import IndexPaths
from tldr.settings import setting

__all__ = [
    "BuildScheduler",
    "PendingBuild",
    "SchedulerSnapshot",
    "summary_dict",
]

logger = logging.getLogger(__name__)

_BUSY_RETRY_S = 0.5
_MAX_BACKOFF_S = 60.0
_PROGRESS_INTERVAL_S = 0.1

Broadcast = Callable[[str, dict[str, Any]], None]
Settings = dict[str, str | None]


@dataclass
class _Job:
    """One pending build: what triggered it and who waits for it."""

    deadline: float
    first_at: float
    touch_dirty: bool = False
    rebuild: bool = False
    settings: Settings | None = None  # explicit: only from an `index` request
    waiters: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)
    reason: str = "startup"
    urgent: bool = False  # due sooner than a debounce: later changes do not push it back

    @property
    def self_triggered(self) -> bool:
        """Whether a change (not only a request) asked for this build."""
        return any(part != "request" for part in self.reason.split("+"))


@dataclass(frozen=True)
class PendingBuild:
    """The build waiting to start."""

    reason: str
    due_in_s: float
    rebuild: bool
    waiters: int


@dataclass(frozen=True)
class SchedulerSnapshot:
    """What the scheduler is doing, for `status` (a copy: safe to keep)."""

    state: str  # idle, scheduled, running, waiting, failed
    progress: dict[str, Any] | None
    last: BuildSummary | None
    last_error: str | None
    failures: int
    retry_at: float | None
    pending: PendingBuild | None
    changed_paths: int
    worker_pid: int | None


class RebuildPolicy(NamedTuple):
    """When changes become a build: the daemon reads its rebuild settings here, once.

    A change waits `debounce_s` of quiet before its build starts, but a
    steady stream of changes is built at most `max_wait_factor` debounces
    after its first change. The watcher hands a burst over after
    `watch_group_ms`, inside the quiet period, so grouping never adds latency.
    Every build the daemon starts by itself keeps the model, languages and
    backend recorded in `metadata.json` (`BuildScheduler._recorded_settings`).
    A follower of a shared index checks for a newer published build every
    `follow_interval_s` (0: never; `follow.Follower`); one follow that takes
    longer than `follow_timeout_s` (a silent engine) fails and frees the
    build thread.
    """

    debounce_s: float
    max_wait_factor: float = 5.0
    follow_interval_s: float = 30.0
    follow_timeout_s: float = 120.0

    @classmethod
    def from_settings(cls, debounce_ms: int | None = None,
                      follow_interval_s: float | None = None) -> RebuildPolicy:
        """The policy of `TLDR_DEBOUNCE_MS`, `TLDR_FOLLOW_INTERVAL` and `TLDR_FOLLOW_TIMEOUT`.

        The arguments, when given, win over the variables.
        """
        chosen = setting("TLDR_DEBOUNCE_MS") if debounce_ms is None else debounce_ms
        follow = setting("TLDR_FOLLOW_INTERVAL") if follow_interval_s is None else follow_interval_s
        return cls(debounce_s=chosen / 1000, follow_interval_s=float(follow),
                   follow_timeout_s=float(setting("TLDR_FOLLOW_TIMEOUT")))

    @property
    def watch_group_ms(self) -> int:
        """How long the watcher groups a burst of file events before handing it over."""
        return max(50, int(self.debounce_s * 800))


class BuildScheduler:
    """Debounces change events into builds and runs them off the event loop."""

    def __init__(
        self,
        paths: IndexPaths,
        *,
        searchers: SearcherCache,
        policy: RebuildPolicy,
        device: str | None,
        broadcast: Broadcast,
        counts: dict[str, int],
        build_in_worker: bool = True,
    ) -> None:
        self.root = paths.root
        self.paths = paths
        self.policy = policy
        self.debounce = policy.debounce_s
        self.device = device
        self.searchers = searchers
        self.broadcast = broadcast
        self.counts = counts
        self.state = "idle"
        self.worker = BuildWorker() if build_in_worker else None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tldr-build")
        self._job: _Job | None = None
        self._running: _Job | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cancel = threading.Event()
        self._progress: dict[str, Any] | None = None
        self._last: BuildSummary | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._retry_at: float | None = None
        self._changed_paths = 0
        self.coverage = DenseCoverage()
        self._background: set[asyncio.Task[None]] = set()
        #: Set by the service: on a follower's index a job (startup, an `index`
        #: request without settings) is a follow, run and logged by it.
        self.follower: Follower | None = None

    # lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduling loop (in the running event loop)."""
        if self.worker is not None:  # the startup build queues behind it in the same thread
            self._pool.submit(self.worker.prestart)
        self._task = asyncio.create_task(self._loop(), name="tldr-scheduler")

    def close(self) -> None:
        """Stop scheduling and cancel a running build."""
        self._cancel.set()
        if self.worker is not None:
            self.worker.close()
        if self._task is not None:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def busy(self) -> bool:
        """True while a build runs or is due."""
        return self.state in ("running", "waiting", "scheduled")

    @property
    def idle(self) -> bool:
        """No build pending, running or waiting (failed counts as idle)."""
        return self._job is None and self.state in ("idle", "failed")

    @property
    def stale(self) -> bool:
        """Whether edits may be missing: a change-driven build is due or running.

        The startup check alone does not count: it usually finds the index
        up to date, and answering "stale" for it would be noise.
        """
        running = self._running if self.state in ("running", "waiting") else None
        return any(job is not None and job.reason != "startup" for job in (self._job, running))

    def snapshot(self) -> SchedulerSnapshot:
        """A copy of the scheduler's state."""
        job = self._job
        pending = None if job is None else PendingBuild(
            reason=job.reason, due_in_s=round(max(0.0, job.deadline - time.monotonic()), 3),
            rebuild=job.rebuild, waiters=len(job.waiters))
        return SchedulerSnapshot(
            state=self.state, progress=dict(self._progress) if self._progress else None,
            last=self._last, last_error=self._last_error, failures=self._failures,
            retry_at=self._retry_at, pending=pending, changed_paths=self._changed_paths,
            worker_pid=self.worker.pid if self.worker is not None else None,
        )

    async def in_build_thread(self, call: Callable[[], Any]) -> Any:
        """Run `call` in the build thread, after (never beside) a build in progress."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def progress_note(self) -> str:
        """', 40% done (embed); last build failed: ...' for "index missing" messages."""
        progress = self._progress
        done = f", {progress['percent']}% done ({progress['stage']})" if progress else ""
        failed = f"; last build failed: {self._last_error}" if self._last_error else ""
        return done + failed

    # scheduling --------------------------------------------------------------

    def schedule(
        self,
        *,
        reason: str,
        delay: float | None = None,
        touch_dirty: bool = False,
        rebuild: bool = False,
        settings: Settings | None = None,
        changed_paths: int = 0,
    ) -> _Job:
        """Add to the pending build (coalescing), due after `delay` (default: debounce)."""
        now = time.monotonic()
        delay = self.debounce if delay is None else delay
        self._changed_paths += changed_paths
        job = self._job
        urgent = delay < self.debounce
        if job is None:
            job = self._job = _Job(deadline=now + delay, first_at=now, reason=reason)
        elif urgent:
            job.deadline = min(job.deadline, now + delay)
        elif not job.urgent:
            # Quiet-period debounce, but never starve a steady stream of changes.
            cap = max(job.first_at + self.policy.max_wait_factor * self.debounce, now)
            job.deadline = min(max(job.deadline, now + delay), cap)
        job.urgent |= urgent
        if reason not in job.reason.split("+"):
            job.reason = f"{job.reason}+{reason}"
        job.touch_dirty |= touch_dirty
        job.rebuild |= rebuild
        if settings is not None:
            job.settings = settings
        if self.state in ("idle", "failed"):
            self.state = "scheduled"
        self._wake.set()
        return job

    async def _loop(self) -> None:
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
                self.state = "failed"
            if self._job is not None:
                self._wake.set()

    def _requeue(self, job: _Job, delay: float, *, keep_waiters: bool,
                 keep_settings: bool = True) -> None:
        again = self.schedule(reason=job.reason, delay=delay, touch_dirty=job.touch_dirty,
                              rebuild=job.rebuild,
                              settings=job.settings if keep_settings else None)
        if keep_waiters:
            again.waiters.extend(job.waiters)

    async def _run(self, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        self.state = "running"
        self._running = job
        self._retry_at = None
        try:
            report = await loop.run_in_executor(self._pool, self._build_sync, job, loop)
        except IndexBusyError:
            if self.state != "waiting":
                logger.info("another build holds the lock; waiting for it")
            self.state = "waiting"
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
        # A failed follow was logged by the follower, once per outage.
        follow = False
        if isinstance(exc, FollowFailed) and isinstance(exc.__cause__, Exception):
            exc, follow = exc.__cause__, True
        self._last_error = f"{type(exc).__name__}: {exc}"
        self._progress = None
        for waiter in job.waiters:
            if not waiter.done():
                waiter.set_exception(exc)
        explicit = job.settings is not None
        retry = not explicit or job.self_triggered
        if not follow:
            logger.error("build failed (%s)%s", self._last_error,
                         f"; retrying in {backoff:.0f}s" if retry else
                         "; the settings recorded in the index stay",
                         exc_info=not isinstance(exc, TldrError))
        self.broadcast("build.failed", {"error": self._last_error,
                                        "retry_in_s": backoff if retry else None,
                                        "failures": self._failures})
        if retry:
            # An explicit request's settings failed: retry what changed with the recorded ones.
            self._requeue(job, backoff, keep_waiters=False, keep_settings=False)
            self._retry_at = time.time() + backoff
        self.state = "failed"

    async def _built(self, job: _Job, report: Any) -> None:
        self._failures = 0
        self._last_error = None
        self._progress = None
        self.counts["builds"] += 1
        summary = BuildSummary.of(report, reason=job.reason, finished_at=time.time())
        self._last = summary
        if report.status != "up_to_date" or self.searchers.searcher is None:
            try:
                await self.searchers.reload_committed()
            except TldrError as exc:
                logger.error("cannot load the new build: %s", exc)
        self.state = "scheduled" if self._job is not None else "idle"
        logger.info("build %s: %s (%s units, %s embedded, %.2fs)", summary.build_id,
                    report.status, report.units, report.embedded, report.seconds)
        answer = summary_dict(summary)
        if report.status != "up_to_date":
            self.broadcast("index.updated", answer)
        for waiter in job.waiters:
            if not waiter.done():
                waiter.set_result(answer)

    def _build_sync(self, job: _Job, loop: asyncio.AbstractEventLoop) -> Any:
        if self.follower is not None and job.settings is None:
            followed = self.follower.follow_sync()
            if followed is not None:
                return as_summary(followed)
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
        cache_root = self.paths.cache_root
        request = BuildRequest(
            root=str(self.root), model=chosen.get("model"), lang=chosen.get("lang"),
            vector_backend=chosen.get("vector_backend"), rebuild=job.rebuild, device=self.device,
            cache_root=None if cache_root is None else str(cache_root), index=self.paths.index,
        )
        if self.worker is not None:
            return self.worker.build(request, progress)
        from tldr.semantic import build_semantic_index

        lower_thread_priority()
        return build_semantic_index(
            self.root, model=request.model, lang=request.lang,
            vector_backend=request.vector_backend, rebuild=request.rebuild,
            device=self.device, progress=progress, lock_timeout=0, paths=self.paths,
        )

    def _recorded_settings(self) -> Settings | None:
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
        self.coverage.on_progress(stage, done, total)
        self.broadcast("build.progress", self._progress)
        if stage == "commit":  # a partial build: serve it now, not at the end of the build
            task = asyncio.create_task(self._partial_committed(done, total))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _partial_committed(self, embedded: int, total: int) -> None:
        try:
            await self.searchers.reload_committed()
        except TldrError as exc:
            logger.error("cannot load the partial build: %s", exc)
            return
        searcher = self.searchers.searcher
        build_id = searcher.build.metadata.vector_store.build_id if searcher else None
        logger.info("partial build %s: %s/%s units with vectors", build_id, embedded, total)
        self.broadcast("index.updated", {"status": "partial", "build_id": build_id,
                                         "partial": True, "dense": {"embedded": embedded,
                                                                     "total": total}})
        if searcher is not None and self.coverage.needs_loading(searcher.build.metadata):
            self.load_query_model(searcher)

    def load_query_model(self, searcher: Any) -> None:
        """Load the query models of the served build off the loop, once each.

        Searches stay lexical meanwhile; a fast tier's static model (spec
        020) loads first and serves dense results before the full model can.
        """
        metadata = searcher.build.metadata
        for model in self.coverage.needs_loading(metadata) or [metadata.model]:
            if not self.coverage.start_loading(model):
                continue
            self.searchers.submit(functools.partial(self._load_model, searcher, metadata, model))

    def _load_model(self, searcher: Any, metadata: Any, model: str) -> None:
        ok = False
        try:
            fast = metadata.fast is not None and model == metadata.fast.model
            embedder = searcher.fast_embedder(metadata) if fast else searcher.embedder(metadata)
            if embedder is not None:
                embedder.embed_query("warm up")
                ok = True
        except Exception as exc:  # the next dense search reports it
            logger.warning("could not load the query model %s: %s", model, exc)
        finally:
            self.coverage.loaded(model, ok=ok)


def summary_dict(summary: BuildSummary) -> dict[str, Any]:
    """The wire form of a build summary (`index` with `wait`, `index.updated`)."""
    return msgspec.structs.asdict(summary)
