"""What `status` reports: search latency statistics and the status document.

Everything here only reads public state: the searcher cache, the
scheduler's `snapshot()` and the service's counters, handed over as values
(this module knows nothing of the service that owns them).
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from tldr._version import __version__
from tldr.daemon.scheduler import summary_dict

if TYPE_CHECKING:
    from tldr.daemon.follow import Follower
    from tldr.daemon.scheduler import BuildScheduler
    from tldr.daemon.searchers import SearcherCache

__all__ = ["SearchStats", "service_status"]

logger = logging.getLogger(__name__)


class SearchStats:
    """The latest search latencies (total and excluding query embedding)."""

    def __init__(self, *, keep: int = 2048) -> None:
        self.total_ms: deque[float] = deque(maxlen=keep)
        self.own_ms: deque[float] = deque(maxlen=keep)

    def record(self, took_ms: float, embed_ms: float) -> None:
        """One search: its wall time in the daemon and the query embedding's share."""
        self.total_ms.append(took_ms)
        self.own_ms.append(took_ms - embed_ms)

    def report(self) -> dict[str, dict[str, float] | None]:
        """p50/p99 of both series."""
        return {"search_ms": _percentiles(self.total_ms),
                "search_own_ms": _percentiles(self.own_ms)}


def service_status(
    *,
    root: object,
    started_at: float,
    searchers: SearcherCache,
    scheduler: BuildScheduler,
    counts: dict[str, int],
    search_stats: SearchStats,
    debounce: float,
    follower: Follower | None = None,
) -> dict[str, Any]:
    """Everything `tldrf daemon status` shows, from the service's public state."""
    searcher = searchers.searcher
    index: dict[str, Any] | None = None
    if searcher is not None:
        metadata = searcher.build.metadata
        index = {"build_id": metadata.vector_store.build_id, "units": len(searcher.build.units),
                 "model": metadata.model, "lang": metadata.lang,
                 "backend": metadata.vector_store.backend, "view": searcher.view,
                 "dense": scheduler.coverage.plan(metadata, "hybrid")[1]}
        health = searchers.backend_health
        if health is not None:
            index["backend_health"] = {"healthy": health[0], "detail": health[1]}
    build = scheduler.snapshot()
    follow = follower.snapshot() if follower is not None else None
    return {
        "state": "ready" if searcher is not None else "starting",
        "root": str(root),
        "pid": os.getpid(),
        "version": __version__,
        "uptime_s": round(time.time() - started_at, 1),
        "rss_bytes": _rss(),
        "index": index,
        "index_error": searchers.load_error,
        "build": {
            "state": build.state,
            "progress": build.progress,
            "last": None if build.last is None else summary_dict(build.last),
            "last_error": build.last_error,
            "failures": build.failures,
            "retry_at": build.retry_at,
            "worker_pid": build.worker_pid,
        },
        "follow": None if follow is None or not follow.active else {
            "interval_s": follow.interval_s,
            "last_status": follow.last_status,
            "last_build_id": follow.last_build_id,
            "last_at": follow.last_at,
            "last_error": follow.last_error,
            "next_due_in_s": follow.next_due_in_s,
        },
        "queue": {
            "pending_build": None if build.pending is None else {
                "reason": build.pending.reason,
                "due_in_s": build.pending.due_in_s,
                "rebuild": build.pending.rebuild,
                "waiters": build.pending.waiters,
            },
            "changed_paths": build.changed_paths,
        },
        "stats": {**counts, **search_stats.report()},
        "settings": {
            "debounce_ms": int(debounce * 1000),
            "follow_interval_s": follow.interval_s if follow is not None else None,
            "worker_idle_timeout_s": (
                scheduler.worker.idle_timeout if scheduler.worker is not None else None
            ),
        },
    }


def _percentiles(samples: deque[float]) -> dict[str, float] | None:
    if len(samples) < 2:
        return None if not samples else {"p50": round(samples[0], 3), "p99": round(samples[0], 3)}
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3), "n": len(ordered)}


def _rss() -> int | None:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return None
