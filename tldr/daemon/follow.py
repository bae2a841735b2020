"""The daemon's follow of a shared index (docs/shared-index.md).

When the index's backend settings name a shared index with role `follow`,
every `RebuildPolicy.follow_interval_s` the daemon calls
`follow_shared_index` in the build thread (after, never beside, a build; one
tick at a time, so ticks never pile up) with `lock_timeout=0`: a held build
lock skips the tick. The scheduler's jobs on such an index (the startup
check, an `index` request) are follows too, run by `Follower.follow_sync`,
so every follow of the daemon shares one bound and one outage record. A
`followed` build is loaded and announced as after a local build
(`index.updated`). A failure (the engine down) is logged once per outage,
in one line, shown by `status`, and retried on the next tick (a failed job
also by the scheduler's backoff, silently); the daemon keeps serving the
build it has. A follow that has not ended after
`RebuildPolicy.follow_timeout_s` (an engine that accepts the connection and
never answers: chromadb's HTTP client waits forever) fails, freeing the
build thread; it is left to end by itself, and no other follow starts
before it has.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tldr._exceptions import BackendError, DaemonError, IndexBusyError, TldrError
from tldr.daemon.builder import BuildSummary
from tldr.paths import IndexPaths

if TYPE_CHECKING:
    from tldr.daemon.scheduler import Broadcast, BuildScheduler
    from tldr.daemon.searchers import SearcherCache
    from tldr.semantic.shared import FollowReport

__all__ = ["FollowFailed", "FollowSnapshot", "Follower", "as_summary"]

logger = logging.getLogger(__name__)


class FollowFailed(DaemonError):
    """A follow failed and the follower has logged it (once per outage); the cause is chained."""


@dataclass(frozen=True)
class FollowSnapshot:
    """What the follow loop last did, for `status`."""

    active: bool  # the index follows a shared index (known after the first tick)
    interval_s: float
    last_status: str | None  # followed, up_to_date, busy
    last_build_id: str | None
    last_at: float | None
    last_error: str | None
    next_due_in_s: float | None


class Follower:
    """Calls `follow_shared_index` every interval while the index is a follower."""

    def __init__(
        self,
        paths: IndexPaths,
        *,
        interval_s: float,
        timeout_s: float,
        scheduler: BuildScheduler,
        searchers: SearcherCache,
        broadcast: Broadcast,
    ) -> None:
        self.paths = paths
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.scheduler = scheduler
        self.searchers = searchers
        self.broadcast = broadcast
        self.active = False
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None
        self._last_status: str | None = None
        self._last_build_id: str | None = None
        self._last_at: float | None = None
        self._last_error: str | None = None
        self._next_due: float | None = None
        self._overdue: threading.Thread | None = None  # a follow that outlived its timeout

    def start(self) -> None:
        """Start the follow loop (in the running event loop); interval 0: never."""
        if self.interval_s > 0:
            self._task = asyncio.create_task(self._loop(), name="tldr-follow")

    def close(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()

    def snapshot(self) -> FollowSnapshot:
        """A copy of the follow state."""
        due = None if self._next_due is None else round(
            max(0.0, self._next_due - time.monotonic()), 1)
        return FollowSnapshot(
            active=self.active, interval_s=self.interval_s, last_status=self._last_status,
            last_build_id=self._last_build_id, last_at=self._last_at,
            last_error=self._last_error, next_due_in_s=due if self.active else None,
        )

    async def _loop(self) -> None:
        try:  # known before the first tick, so `status` shows the follow from the start
            self.active = await self.scheduler.in_build_thread(self._is_follower)
        except Exception:
            self.active = False
        while True:
            self._next_due = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self._next_due = None
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the follow loop must survive anything
                logger.exception("shared index follow failed")

    async def tick(self) -> FollowReport | None:
        """One follow: None when the index is no follower, the follow failed or the lock is held."""
        self.ticks += 1
        try:
            report: FollowReport | None = await self.scheduler.in_build_thread(self.follow_sync)
        except IndexBusyError:
            self._last_status = "busy"
            return None
        except FollowFailed:
            return None
        if report is None:
            return None
        followed = report.status == "followed"
        if followed:
            logger.info("followed shared build %s (%s units, %.2fs)", report.build_id,
                        report.units, report.seconds)
        searcher = self.searchers.searcher
        served = searcher.build.metadata.vector_store.build_id if searcher is not None else None
        # An overdue follow that ended late may have committed a build unloaded.
        if followed or (searcher is not None and served != report.build_id):
            try:
                await self.searchers.reload_committed()
            except TldrError as exc:
                logger.error("cannot load the followed build: %s", exc)
        if followed:
            self.broadcast("index.updated", _report_dict(report))
        return report

    def follow_sync(self) -> FollowReport | None:
        """One follow in the calling (build) thread, waited for at most `timeout_s`.

        Returns None when the index follows no shared index.

        Raises:
            IndexBusyError: The build lock is held (a build or another follow).
            FollowFailed: The follow failed or timed out; logged here once per outage.
        """
        try:
            follower = self._is_follower()
        except Exception:  # unreadable settings: the build that runs instead says why
            follower = False
        self.active = follower
        if not follower:
            return None
        try:
            report = self._bounded(self._follow)
        except IndexBusyError:
            raise
        except Exception as exc:
            self._failed(exc)
            raise FollowFailed(f"{type(exc).__name__}: {exc}") from exc
        if self._last_error is not None:
            logger.info("shared index reachable again")
        self._last_error = None
        self._last_status, self._last_build_id = report.status, report.build_id
        self._last_at = time.time()
        return report

    def _is_follower(self) -> bool:
        from tldr.semantic import shared
        from tldr.semantic.indexing.freshness import requested_settings

        settings = requested_settings(self.paths, model=None, lang=None, vector_backend=None)
        return shared.shared_role(settings) == "follow"

    def _follow(self) -> FollowReport:
        from tldr.semantic.shared import follow_shared_index

        report: FollowReport = follow_shared_index(self.paths.root, lock_timeout=0,
                                                   paths=self.paths)
        return report

    def _bounded(self, call: Callable[[], FollowReport]) -> FollowReport:
        """`call()` in a helper thread, waited for at most `timeout_s`.

        The helper is a daemon thread, so one stuck on a silent socket never
        holds up the daemon's exit.
        """
        overdue = self._overdue
        if overdue is not None and overdue.is_alive():
            raise BackendError(f"the previous follow is still waiting for the engine "
                               f"(over {self.timeout_s:g}s, TLDR_FOLLOW_TIMEOUT)")
        outcome: list[FollowReport | BaseException] = []

        def run() -> None:
            try:
                outcome.append(call())
            except BaseException as exc:
                outcome.append(exc)

        helper = threading.Thread(target=run, name="tldr-follow", daemon=True)
        helper.start()
        helper.join(self.timeout_s)
        if helper.is_alive():
            self._overdue = helper
            raise BackendError(f"the shared index's engine did not answer within "
                               f"{self.timeout_s:g}s (TLDR_FOLLOW_TIMEOUT)")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _failed(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if self._last_error is None:  # once per outage
            logger.warning("cannot follow the shared index (retrying): %s", message,
                           exc_info=not isinstance(exc, TldrError))
        self._last_error = message
        self._last_at = time.time()


def as_summary(report: FollowReport) -> BuildSummary:
    """A follow as the scheduler's build summary (nothing extracted or embedded)."""
    return BuildSummary(status=report.status, build_id=report.build_id, units=report.units,
                        files=report.files, extracted_files=0, embedded=0,
                        seconds=round(report.seconds, 4))


def _report_dict(report: FollowReport) -> dict[str, Any]:
    return {"status": report.status, "build_id": report.build_id, "units": report.units,
            "files": report.files, "seconds": round(report.seconds, 3), "reason": "follow",
            "seq": report.seq}
