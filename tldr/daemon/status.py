"""What `status` reports: search latency statistics and the status document.

Split from `service` so the request handlers and the build scheduler stay
readable; everything here only reads the service's state.
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from tldr._version import __version__

if TYPE_CHECKING:
    from tldr.daemon.service import Service

__all__ = ["SearchStats", "record_embed_time", "service_status", "take_embed_time"]

logger = logging.getLogger(__name__)

_timing = threading.local()


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


def record_embed_time(seconds: float) -> None:
    """Called by the pinned searcher's embedder wrapper (same thread as the search)."""
    _timing.embed = getattr(_timing, "embed", 0.0) + seconds


def take_embed_time() -> float:
    """Embedding seconds recorded in this thread since the last call; resets."""
    seconds: float = getattr(_timing, "embed", 0.0)
    _timing.embed = 0.0
    return seconds


def service_status(service: Service) -> dict[str, Any]:
    """Everything `tldrf daemon status` shows."""
    searcher = service.searchers.searcher
    index: dict[str, Any] | None = None
    if searcher is not None:
        metadata = searcher.build.metadata
        index = {"build_id": metadata.vector_store.build_id, "units": len(searcher.build.units),
                 "model": metadata.model, "lang": metadata.lang,
                 "backend": metadata.vector_store.backend, "view": searcher.view,
                 "dense": service.coverage.plan(metadata, "hybrid")[1]}
        health = service.searchers.backend_health
        if health is not None:
            index["backend_health"] = {"healthy": health[0], "detail": health[1]}
    job = service._job
    return {
        "state": "ready" if searcher is not None else "starting",
        "root": str(service.root),
        "pid": os.getpid(),
        "version": __version__,
        "uptime_s": round(time.time() - service.started_at, 1),
        "rss_bytes": _rss(),
        "index": index,
        "index_error": service.searchers.load_error,
        "build": {
            "state": service.build_state,
            "progress": service._progress,
            "last": service._last_report,
            "last_error": service._last_error,
            "failures": service._failures,
            "retry_at": service._retry_at,
            "worker_pid": service.worker.pid if service.worker is not None else None,
        },
        "queue": {
            "pending_build": None if job is None else {
                "reason": job.reason,
                "due_in_s": round(max(0.0, job.deadline - time.monotonic()), 3),
                "rebuild": job.rebuild,
                "waiters": len(job.waiters),
            },
            "changed_paths": service._changed_paths,
        },
        "stats": {**service.counts, **service.search_stats.report()},
        "settings": {
            "debounce_ms": int(service.debounce * 1000),
            "worker_idle_timeout_s": (
                service.worker.idle_timeout if service.worker is not None else None
            ),
        },
        **service.extra_status(),
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
