"""Parsing a build's files: read, hash, extract units and the graph record, in processes.

Parsing (tree-sitter, then a Python walk of each tree) is most of a first
build's time before any search can use its units, and it is bound to one
core by the GIL. When a build has many files to parse (`POOL_MIN_FILES`),
it parses them in worker processes, one per usable core by default
(`TLDR_PARSE_WORKERS`; 0 = in the build's process), while the build's own
process streams the results, in file order, into its writers.

The workers are tldrf's own processes, not `multiprocessing`'s: spawn
would run the parent's main script again in each, and start them with
`python -c` in the project's directory, where a planted `multiprocessing.py`
would be imported. Here each is `python -I -m tldr.parse_workers`
(nothing importable from the project or the environment) in the
interpreter's own directory, fed chunks of jobs on stdin and answering
with their results on stdout, as length-prefixed msgpack frames. A worker
only reads the files it is given; it exits when its stdin closes (the
build finished, or died). If a worker fails, the build parses the rest
itself, which raises what the worker met.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

import msgspec

from tldr._spawn import isolated_python
from tldr.graph import FileRecord, file_record
from tldr.settings import setting
from tldr.units import SkippedFile, Unit, extract_file, load_source

__all__ = ["POOL_MIN_FILES", "FileParser", "ParseJob", "Parsed", "parse_file"]

logger = logging.getLogger(__name__)

POOL_MIN_FILES = 64  # fewer: a worker's start (~0.3 s) costs more than it saves
_CHUNK = 8  # files per frame sent to a worker
_AHEAD = 16  # chunks in flight per worker: their results wait in memory for their turn
_FRAME = struct.Struct(">I")


class ParseJob(NamedTuple):
    """One file to parse; `known_sha256`: the previous build's hash of it, if any."""

    abs_path: str
    rel_path: str
    language: str
    max_file_bytes: int
    known_sha256: str | None


class Parsed(NamedTuple):
    """What parsing one file gave.

    `skipped` is a `SkippedFile` reason (nothing else is set). `units` is
    None when the bytes hash to `known_sha256` (the previous units stand).
    """

    skipped: str | None
    sha256: str = ""
    replaced: bool = False
    units: list[Unit] | None = None
    record: FileRecord | None = None


def parse_file(job: ParseJob) -> Parsed:
    """Read, hash and parse one file (in a worker or in the build's process)."""
    try:
        loaded = load_source(job.abs_path, max_file_bytes=job.max_file_bytes)
    except SkippedFile as skip:
        return Parsed(skipped=skip.reason)
    digest = hashlib.sha256(loaded.data).hexdigest()
    if digest == job.known_sha256:
        return Parsed(None, digest, loaded.decoded_with_replacement)
    units, facts = extract_file(loaded.data, path=job.rel_path, language=job.language)
    record = file_record(job.rel_path, job.language, units, facts)
    return Parsed(None, digest, loaded.decoded_with_replacement, units, record)


def parse_workers() -> int:
    """`TLDR_PARSE_WORKERS`, else the cores this process may use."""
    configured: int | None = setting("TLDR_PARSE_WORKERS")
    if configured is not None:
        return configured
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)) + payload)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame, or None at a clean end of the stream."""
    head = stream.read(_FRAME.size)
    if not head:
        return None
    if len(head) < _FRAME.size:
        raise EOFError("truncated frame header")
    (size,) = _FRAME.unpack(head)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("truncated frame")
    return payload


class _WorkerFailed(Exception):
    """A parse worker died or answered nonsense."""


class FileParser:
    """Parses jobs in order: in worker processes for many files, else in this process.

    The workers start on the first large batch and stay until `close`, so a
    build parsing in chunks pays for their start once.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = parse_workers() if workers is None else workers
        self._processes: list[subprocess.Popen[bytes]] = []
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(list[Parsed])

    def __enter__(self) -> FileParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse(self, jobs: list[ParseJob]) -> Iterator[Parsed]:
        """One result per job, in the jobs' order."""
        if self.workers < 1 or (not self._processes and len(jobs) < POOL_MIN_FILES):
            return map(parse_file, jobs)
        return self._parse_in_workers(jobs)

    def _start(self) -> None:
        for _ in range(self.workers):
            self._processes.append(subprocess.Popen(
                isolated_python(__name__), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                cwd=Path(sys.executable).parent, close_fds=True,
            ))

    def _parse_in_workers(self, jobs: list[ParseJob]) -> Iterator[Parsed]:
        """The results of `jobs` from the workers, in order.

        Chunk `i` goes to worker `i % n`. One thread writes the chunks and one
        per worker reads its answers, so a worker never waits for this
        process to take them (a pipe holds 64 KiB; a chunk's units, more).
        """
        if not self._processes:
            self._start()
        processes = self._processes
        chunks = [jobs[start : start + _CHUNK] for start in range(0, len(jobs), _CHUNK)]
        window = threading.Semaphore(len(processes) * _AHEAD)
        stop = threading.Event()
        inboxes: list[queue.SimpleQueue[bytes | None]] = [queue.SimpleQueue() for _ in processes]

        def feed() -> None:
            try:
                for number, chunk in enumerate(chunks):
                    while not window.acquire(timeout=0.5):
                        if stop.is_set():
                            return
                    if stop.is_set():
                        return
                    stdin = processes[number % len(processes)].stdin
                    assert stdin is not None
                    _write_frame(stdin, self._encoder.encode(chunk))
            except (OSError, ValueError):  # a worker gone: its reader says so
                return

        def drain(worker: int) -> None:
            stdout = processes[worker].stdout
            assert stdout is not None
            try:
                for _ in range(worker, len(chunks), len(processes)):
                    payload = _read_frame(stdout)
                    inboxes[worker].put(payload)
                    if payload is None:
                        return
            except (OSError, EOFError, ValueError):
                inboxes[worker].put(None)

        threads = [threading.Thread(target=feed, name="tldrf-parse-feed", daemon=True)]
        threads += [threading.Thread(target=drain, args=(worker,), daemon=True,
                                     name=f"tldrf-parse-read-{worker}")
                    for worker in range(len(processes))]
        for thread in threads:
            thread.start()
        done = 0
        try:
            for number, chunk in enumerate(chunks):
                worker = number % len(processes)
                try:
                    results = self._results(inboxes[worker].get(), processes[worker], len(chunk))
                except _WorkerFailed as failure:
                    logger.warning("a parse worker failed (%s); parsing the rest here", failure)
                    stop.set()
                    self.close()
                    break
                window.release()
                done += 1
                yield from results
        finally:
            stop.set()
            window.release()
        for chunk in chunks[done:]:
            yield from map(parse_file, chunk)

    def _results(self, payload: bytes | None, process: subprocess.Popen[bytes],
                 expected: int) -> list[Parsed]:
        """A worker's answer for a chunk of `expected` jobs (None: it ended or broke)."""
        if payload is None:
            raise _WorkerFailed(f"exit status {process.wait()}")
        try:
            results = self._decoder.decode(payload)
        except msgspec.DecodeError as exc:
            raise _WorkerFailed(str(exc)) from None
        if len(results) != expected:
            raise _WorkerFailed(f"{len(results)} results for {expected} files")
        return results

    def close(self) -> None:
        """Stop the workers (a no-op when none started): their stdin closes, they exit."""
        processes, self._processes = self._processes, []
        for process in processes:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main() -> int:
    """A parse worker: chunks of jobs in on stdin, their results out on stdout.

    A job that raises ends the worker (the build parses that file itself and
    meets the same error). Ctrl-C reaches the whole process group: the build
    decides, and the worker ends when its stdin closes.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    # The frames get a descriptor of their own; anything printed goes to stderr.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    decoder = msgspec.msgpack.Decoder(list[ParseJob])
    encoder = msgspec.msgpack.Encoder()
    try:
        while (payload := _read_frame(stdin)) is not None:
            jobs = decoder.decode(payload)
            _write_frame(frames, encoder.encode([parse_file(job) for job in jobs]))
    except (BrokenPipeError, EOFError):  # the build is gone
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
