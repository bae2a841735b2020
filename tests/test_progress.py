"""Progress people can see: a terminal line, a line every ~10 s elsewhere, or nothing."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from tldr.output import dense_note
from tldr.progress import ProgressPrinter, RateEstimator, describe, format_seconds

FIXTURE = Path(__file__).parent / "fixtures" / "projects" / "mini"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_of_the_current_stage() -> None:
    clock = Clock()
    estimator = RateEstimator(clock=clock)
    estimator.update("embed", 0, 1000)
    assert estimator.rate is None and estimator.eta_s is None
    clock.now = 2.0
    estimator.update("embed", 200, 1000)
    assert estimator.rate == 100.0
    assert estimator.eta_s == 8.0
    estimator.update("write", 1, 1)  # a new stage starts its own rate
    assert estimator.rate is None


def test_terminal_line_shows_phase_rate_and_eta() -> None:
    clock, stream = Clock(), io.StringIO()
    printer = ProgressPrinter(stream, mode="tty", clock=clock)
    printer("embed", 0, 1000)
    clock.now = 4.0
    printer("embed", 400, 1000)
    printer.finish()
    text = stream.getvalue()
    assert "\r" in text and "\n" not in text
    assert "embedding: 400/1000 units (40%), 100 units/s, ETA 6 s" in text


def test_not_a_terminal_a_line_per_stage_and_every_ten_seconds() -> None:
    clock, stream = Clock(), io.StringIO()
    printer = ProgressPrinter(stream, mode="auto", clock=clock)  # StringIO is no terminal
    assert printer.mode == "lines"
    printer("extract", 50, 100)
    for second in range(1, 25):
        clock.now = float(second)
        printer("embed", second * 10, 1000)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # extract, embed starts, +10 s, +20 s
    assert lines[0].startswith("extracting units: 50/100 files")
    assert lines[-1].startswith("embedding: 210/1000 units")


def test_quiet_prints_nothing() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, mode="quiet")
    printer("embed", 1, 2)
    printer.finish()
    assert stream.getvalue() == ""


def test_descriptions_and_notes() -> None:
    assert format_seconds(40.4) == "40 s"
    assert format_seconds(125) == "2 min 05 s"
    assert describe("commit", 43, 100).endswith("43/100 units with vectors (43%)")
    assert dense_note(None) is None
    note = dense_note({"embedded": 43, "total": 100, "percent": 43, "eta_s": 40.0,
                       "used": True, "model_loading": False})
    assert note is not None and note.startswith("dense: 43% embedded (43 of 100 units), ETA 40 s; ")
    note = dense_note({"embedded": 0, "total": 100, "percent": 0, "eta_s": None,
                       "used": False, "model_loading": True})
    assert note == "dense: 0% embedded (0 of 100 units); lexical results only: no vectors yet"


def test_semantic_index_progress_off_a_terminal_and_quiet(tmp_path: Path) -> None:
    import shutil

    root = shutil.copytree(FIXTURE, tmp_path / "mini")
    command = [sys.executable, "-m", "tldr.cli", "semantic", "index", str(root),
               "--model", "hash-256"]
    shown = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "extracting units:" in shown.stderr and "writing index" in shown.stderr
    quiet = subprocess.run([*command, "--rebuild", "-q"], capture_output=True, text=True,
                           check=True)
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("built:")


def test_lines_mode_says_a_repeated_stage_once() -> None:
    # A first build commits partial builds: walk, lexical, embed come round again.
    stream = io.StringIO()
    printer = ProgressPrinter(stream, mode="lines", every_s=1000.0, clock=lambda: 0.0)
    for done in (10, 20):
        printer("lexical", 0, 0)
        printer("embed", done, 100)
    lines = stream.getvalue().splitlines()
    assert sum("lexical index ready" in line for line in lines) == 1
    assert len(lines) == len(set(lines))


def test_leaving_the_printer_by_an_interrupt_clears_the_line() -> None:
    stream = io.StringIO()
    try:
        with ProgressPrinter(stream, mode="tty") as printer:
            printer("embed", 10, 1000)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        stream.write("tldrf: interrupted\n")
    # What the terminal shows after the last carriage return: the message alone.
    assert stream.getvalue().rsplit("\r", 1)[-1] == "tldrf: interrupted\n"
