"""Run a function in several spawned processes at once (concurrency tests)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_in_processes"]


def run_in_processes(
    target: Callable[..., Any], args_per_process: Sequence[tuple[Any, ...]], timeout: float
) -> None:
    """Start one spawned process per argument tuple, wait for all, and fail if any failed.

    Spawned, not forked: each starts as a fresh interpreter, as separate
    `tldrf` commands would.
    """
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=target, args=args) for args in args_per_process]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout)
        assert process.exitcode == 0, f"a worker process exited with {process.exitcode}"
