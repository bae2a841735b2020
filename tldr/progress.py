"""Build progress for people: phase, units/s and time left.

A build reports `(stage, done, total)` events (see
`tldr.semantic.indexing.ProgressCallback`); `ProgressPrinter` turns them into
a self-overwriting line on a terminal, a line every ~10 s elsewhere (logs,
CI), or nothing. `RateEstimator` gives the rate and ETA of the current
stage, also to the daemon for a search's `dense.eta_s`. Standard library
only: the thin client imports this while it waits for a first build.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["STAGE_LABELS", "ProgressPrinter", "RateEstimator", "describe", "format_seconds"]

STAGE_LABELS = {
    "walk": "walking files",
    "extract": "extracting units",
    "lexical": "lexical index ready",
    "embed": "embedding",
    "commit": "committed",
    "write": "writing index",
}
_MIN_RATE_WINDOW_S = 0.5  # a rate over less time than this is noise


class RateEstimator:
    """Items per second and seconds left of the current stage."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.stage = ""
        self.done = 0
        self.total = 0
        self._start: tuple[float, int] = (0.0, 0)
        self._now = 0.0

    def update(self, stage: str, done: int, total: int) -> None:
        """Record an event; a new stage (or a count going back) restarts the rate."""
        now = self._clock()
        if stage != self.stage or done < self.done or total != self.total:
            self._start = (now, done)
        self.stage, self.done, self.total, self._now = stage, done, total, now

    @property
    def rate(self) -> float | None:
        """Items per second since the stage started, once there is enough to tell."""
        started_at, started_done = self._start
        elapsed = self._now - started_at
        if elapsed < _MIN_RATE_WINDOW_S or self.done <= started_done:
            return None
        return (self.done - started_done) / elapsed

    @property
    def eta_s(self) -> float | None:
        """Seconds until `done` reaches `total` at the current rate (from the last event)."""
        rate = self.rate
        if rate is None:
            return None
        return max(0.0, (self.total - self.done) / rate)


def format_seconds(seconds: float) -> str:
    """`40 s`, `2 min 05 s`, `1 h 02 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def describe(stage: str, done: int, total: int, estimator: RateEstimator | None = None) -> str:
    """One line: phase, counts, rate and ETA where known."""
    label = STAGE_LABELS.get(stage, stage)
    if stage == "lexical":
        return f"{label}; embedding next"
    if stage == "write":
        return label
    if stage == "commit":
        percent = 100 * done // total if total else 100
        return f"{label} a partial build: {done}/{total} units with vectors ({percent}%)"
    if stage == "walk":
        return f"{label}: {done} source files"
    unit = "files" if stage == "extract" else "units"
    percent = 100 * done // total if total else 100
    text = f"{label}: {done}/{total} {unit} ({percent}%)"
    if estimator is not None and estimator.stage == stage:
        rate, eta = estimator.rate, estimator.eta_s
        if rate is not None:
            text += f", {rate:.0f} {unit}/s"
        if eta is not None and done < total:
            text += f", ETA {format_seconds(eta)}"
    return text


class ProgressPrinter:
    """A `ProgressCallback` that shows progress on `stream`.

    `mode`: "tty" redraws one line (at most every 0.1 s), "lines" writes a
    line at each stage change and every `every_s`, "quiet" writes nothing,
    "auto" picks "tty" when `stream` is a terminal, else "lines".
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        mode: str = "auto",
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            mode = "tty" if isatty is not None and isatty() else "lines"
        if mode not in ("tty", "lines", "quiet"):
            raise ValueError(f"unknown progress mode {mode!r}")
        self.mode = mode
        self.every_s = every_s
        self._clock = clock
        self.estimator = RateEstimator(clock=clock)
        self._last_at: float | None = None
        self._width = 0
        self._written: set[str] = set()  # "lines" mode: each line is news once

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Show one event (or not: the line is redrawn at most every 0.1 s / `every_s`)."""
        if self.mode == "quiet":
            return
        new_stage = stage != self.estimator.stage
        self.estimator.update(stage, done, total)
        now = self._clock()
        interval = 0.1 if self.mode == "tty" else self.every_s
        due = self._last_at is None or now - self._last_at >= interval
        if not (new_stage or due or (self.mode == "tty" and done == total)):
            return
        self._last_at = now
        text = describe(stage, done, total, self.estimator)
        if self.mode == "tty":
            self._width = max(self._width, len(text))
            self.stream.write("\r" + text.ljust(self._width))
        elif text in self._written:
            return  # a partial build's stages come round again: say each once
        else:
            self._written.add(text)
            self.stream.write(text + "\n")
        self.stream.flush()

    def __enter__(self) -> ProgressPrinter:
        """The printer itself; leaving the block, however, clears the line."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Clear the line, so a message after an error or Ctrl-C starts on a clean one."""
        self.finish()

    def finish(self) -> None:
        """Clear the terminal line (nothing to do in the other modes)."""
        if self.mode == "tty" and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
