"""The daemon's periodic follow of a shared index (docs/shared-index.md).

When the index's backend settings name a shared index with role `follow`,
every `RebuildPolicy.follow_interval_s` the daemon calls
`follow_shared_index` in the build thread (after, never beside, a build; one
tick at a time, so ticks never pile up) with `lock_timeout=0`: a held build
lock skips the tick. A `followed` build is loaded and announced as after a
local build (`index.updated`). A failure (the engine down) is logged once
per outage, in one line, shown by `status`, and retried on the next tick;
the daemon keeps serving the build it has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tldr._exceptions import IndexBusyError, TldrError
from tldr.paths import IndexPaths

if TYPE_CHECKING:
    from tldr.daemon.scheduler import Broadcast, BuildScheduler
    from tldr.daemon.searchers import SearcherCache
    from tldr.semantic.shared import FollowReport

__all__ = ["FollowSnapshot", "Follower"]

logger = logging.getLogger(__name__)


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
        scheduler: BuildScheduler,
        searchers: SearcherCache,
        broadcast: Broadcast,
    ) -> None:
        self.paths = paths
        self.interval_s = interval_s
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
        """One follow: None when the index is no follower or the build lock is held."""
        self.ticks += 1
        try:
            report: FollowReport | None = await self.scheduler.in_build_thread(
                self._follow_sync)
        except IndexBusyError:
            self._last_status = "busy"
            return None
        except Exception as exc:
            self._failed(exc)
            return None
        if report is None:
            self.active = False
            return None
        self.active = True
        if self._last_error is not None:
            logger.info("shared index reachable again")
        self._last_error = None
        self._last_status, self._last_build_id = report.status, report.build_id
        self._last_at = time.time()
        if report.status == "followed":
            logger.info("followed shared build %s (%s units, %.2fs)", report.build_id,
                        report.units, report.seconds)
            try:
                await self.searchers.reload_committed()
            except TldrError as exc:
                logger.error("cannot load the followed build: %s", exc)
            self.broadcast("index.updated", _report_dict(report))
        return report

    def _is_follower(self) -> bool:
        from tldr.semantic import shared
        from tldr.semantic.indexing.freshness import requested_settings

        settings = requested_settings(self.paths, model=None, lang=None, vector_backend=None)
        return shared.shared_role(settings) == "follow"

    def _follow_sync(self) -> FollowReport | None:
        from tldr.semantic.shared import follow_shared_index

        if not self._is_follower():
            return None
        report: FollowReport = follow_shared_index(self.paths.root, lock_timeout=0,
                                                   paths=self.paths)
        return report

    def _failed(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if self._last_error is None:  # once per outage
            logger.warning("cannot follow the shared index (retrying every %gs): %s",
                           self.interval_s, message, exc_info=not isinstance(exc, TldrError))
        self._last_error = message
        self._last_at = time.time()


def _report_dict(report: FollowReport) -> dict[str, Any]:
    return {"status": report.status, "build_id": report.build_id, "units": report.units,
            "files": report.files, "seconds": round(report.seconds, 3), "reason": "follow",
            "seq": report.seq}
