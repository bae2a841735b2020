"""Where the daemon's builds run: a persistent, niced worker process.

A build is mostly pure Python (walking, extraction, text assembly) that
holds the GIL for long stretches. Run in a thread of the daemon it starves
the search threads: every torch op of a query embedding gives the GIL up
and must wait a switch interval to get it back, so a ~20 ms search took
100-500 ms during a rebuild (specs/004-daemon.md § Builds off the GIL). The
worker (`python -m tldr.daemon.builder`) runs `build_semantic_index` in its
own interpreter and reports progress and the result as JSON lines on its
stdout; the daemon reloads from the committed `metadata.json` as before, so
readers need no coordination. The worker loads a model only when a build
has texts the embedding cache lacks, and stays up for the next build, until
it has been idle for `TLDR_WORKER_IDLE_TIMEOUT` seconds (default 120): it
holds a second copy of the model, so an idle project gives that memory back
and the next build starts a new worker. Cancelling kills it: a killed build
leaves the previous commit untouched.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from tldr import _exceptions
from tldr._spawn import isolated_python
from tldr.paths import IndexPaths, runtime_dir
from tldr.settings import setting

__all__ = [
    "BuildCancelled",
    "BuildRequest",
    "BuildSummary",
    "BuildWorker",
    "WorkerError",
    "lower_thread_priority",
    "main",
]

logger = logging.getLogger(__name__)

_BUILD_NICE = 10


class BuildCancelled(_exceptions.DaemonError):
    """The build was stopped (daemon shutting down)."""


class WorkerError(_exceptions.DaemonError):
    """The worker failed in a way that is not one of our exceptions, or died."""


class BuildRequest(msgspec.Struct, forbid_unknown_fields=True):
    """One build, as sent to the worker: which index (`IndexPaths`' values) and how."""

    root: str
    cache_root: str | None = None  # None: in-tree
    index: str | None = None
    model: str | None = None
    lang: str | None = None
    vector_backend: str | None = None
    rebuild: bool = False
    device: str | None = None


class BuildSummary(msgspec.Struct):
    """What the daemon keeps of a `BuildReport`.

    The worker's answer, and the last build in `status`, where the scheduler
    adds why it ran and when it ended.
    """

    status: str
    build_id: str | None
    units: int
    files: int
    extracted_files: int
    embedded: int
    seconds: float
    reason: str = ""
    finished_at: float = 0.0
    timings: dict[str, float] = {}
    partial_commits: int = 0

    @classmethod
    def of(cls, report: Any, *, reason: str = "", finished_at: float = 0.0) -> BuildSummary:
        """The summary of a `BuildReport` (or of another summary)."""
        return cls(
            status=report.status, build_id=report.build_id, units=report.units,
            files=report.files, extracted_files=report.extracted_files,
            embedded=report.embedded, seconds=round(report.seconds, 4), reason=reason,
            finished_at=finished_at, timings=dict(report.timings),
            partial_commits=report.partial_commits,
        )


class _Message(msgspec.Struct, omit_defaults=True):
    """One worker line: a progress tick, the result, or an error."""

    progress: tuple[str, int, int] | None = None
    report: BuildSummary | None = None
    error: str | None = None  # exception class name
    message: str = ""


ProgressCallback = Callable[[str, int, int], None]


class BuildWorker:
    """The daemon's side of the worker: started on first use, restarted if it died.

    After `idle_timeout` seconds without a build (None: `TLDR_WORKER_IDLE_TIMEOUT`;
    0: never) the worker is asked to exit; the next build starts a new one.
    """

    def __init__(self, *, idle_timeout: float | None = None) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.idle_timeout = (
            setting("TLDR_WORKER_IDLE_TIMEOUT") if idle_timeout is None else idle_timeout
        )
        self._last_used = time.monotonic()
        self._timer: threading.Timer | None = None

    def build(self, request: BuildRequest, progress: ProgressCallback) -> BuildSummary:
        """Run one build in the worker (blocking; call from a thread)."""
        try:
            return self._build(request, progress)
        finally:
            self._arm_idle_timer()

    def _build(self, request: BuildRequest, progress: ProgressCallback) -> BuildSummary:
        with self._lock:
            try:
                return self._run_in_worker(request, progress)
            except _DiedBeforeStarting:
                # A worker that died before it answered (killed while idle, say)
                # built nothing: one fresh worker gets the same request.
                self._reap()
                return self._run_in_worker(request, progress, retry=False)

    def _run_in_worker(self, request: BuildRequest, progress: ProgressCallback, *,
                       retry: bool = True) -> BuildSummary:
        proc = self._ensure()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(msgspec.json.encode(request) + b"\n")
            proc.stdin.flush()
        except OSError as exc:
            if retry and not self._closed:
                raise _DiedBeforeStarting from exc
            error = self._gone("could not send the build to the worker")
            self._reap()
            raise error from exc
        answered = False
        try:
            while True:
                line = proc.stdout.readline()
                if not line:
                    if retry and not answered and not self._closed:
                        raise _DiedBeforeStarting
                    raise self._gone("the build worker exited")
                answered = True
                message = msgspec.json.decode(line, type=_Message)
                if message.progress is not None:
                    progress(*message.progress)  # may raise BuildCancelled
                elif message.report is not None:
                    return message.report
                else:
                    return _raise(message.error or "Exception", message.message)
        except (BuildCancelled, WorkerError, msgspec.DecodeError):
            self._reap()  # mid-build or out of step: a fresh worker for the next build
            raise

    def prestart(self) -> None:
        """Start the worker now, so its imports overlap the daemon's own start."""
        with self._lock:
            self._ensure()

    def close(self) -> None:
        """Stop the worker; a build it was running is abandoned (it never commits)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # a build thread reading its output sees EOF and lets go of the lock
        if self._lock.acquire(timeout=5):
            try:
                self._reap()
            finally:
                self._lock.release()

    @property
    def pid(self) -> int | None:
        """The worker's pid while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def _arm_idle_timer(self) -> None:
        self._last_used = time.monotonic()
        if self.idle_timeout <= 0 or self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.idle_timeout, self._retire_if_idle)
        self._timer.daemon = True
        self._timer.name = "tldr-worker-idle"
        self._timer.start()

    def _retire_if_idle(self) -> None:
        """Let an idle worker exit (end of its stdin); a build in progress re-arms the timer."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            proc = self._proc
            idle = time.monotonic() - self._last_used
            if proc is None or proc.poll() is not None or idle < self.idle_timeout * 0.99:
                return
            logger.info("build worker idle for %.0fs; stopping it (pid %s)", idle, proc.pid)
            assert proc.stdin is not None
            try:
                proc.stdin.close()  # its request loop ends and it exits
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._reap()
        finally:
            self._lock.release()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._closed:
            raise BuildCancelled("daemon shutting down")
        if self._proc is not None and self._proc.poll() is not None:
            self._reap()  # it died (killed, crashed): close its pipes before the next one
        if self._proc is None:
            self._proc = subprocess.Popen(
                isolated_python("tldr.daemon.builder"),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                close_fds=True, cwd=runtime_dir(),
            )
            logger.info("build worker started (pid %s)", self._proc.pid)
        return self._proc

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass  # a request still buffered for a dead worker: the pipe closes anyway

    def _gone(self, what: str) -> Exception:
        if self._closed:
            return BuildCancelled("daemon shutting down")
        code = self._proc.poll() if self._proc is not None else None
        return WorkerError(f"{what} (exit code {code}); see the daemon log")


class _DiedBeforeStarting(Exception):
    """The worker exited before answering a request: it built nothing.

    Internal to this module: a signal to retry once, never raised past it.
    """


def _raise(name: str, message: str) -> NoReturn:
    """Our exceptions cross the pipe by class name; anything else is a WorkerError."""
    cls = getattr(_exceptions, name, None)
    if isinstance(cls, type) and issubclass(cls, _exceptions.TldrError):
        raise cls(message)
    raise WorkerError(f"{name}: {message}")


def lower_thread_priority() -> None:
    """Nice the calling thread (Linux: per thread; threads it starts inherit it).

    For in-process builds (`Service(build_in_worker=False)`): the CPU goes to
    searches first, though the GIL is still shared.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < _BUILD_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, _BUILD_NICE)
    except OSError:
        pass


def main() -> int:
    """The worker: read build requests on stdin, answer on the original stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to the log
    if hasattr(os, "nice"):
        try:
            os.nice(_BUILD_NICE)
        except OSError:
            pass
    logging.basicConfig(
        level=getattr(logging, setting("TLDR_LOG_LEVEL"), logging.INFO),
        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from tldr.semantic import build_semantic_index

    def send(message: _Message) -> None:
        out.write(msgspec.json.encode(message) + b"\n")

    for line in sys.stdin.buffer:
        request = msgspec.json.decode(line, type=BuildRequest)
        paths = IndexPaths(Path(request.root), request.cache_root, request.index,
                           environ=False)
        try:
            report = build_semantic_index(
                paths.root, paths=paths, model=request.model, lang=request.lang,
                vector_backend=request.vector_backend, rebuild=request.rebuild,
                device=request.device, lock_timeout=0,
                progress=lambda stage, done, total: send(_Message(progress=(stage, done, total))),
            )
        except Exception as exc:
            if not isinstance(exc, _exceptions.TldrError):
                logger.exception("build failed")
            send(_Message(error=type(exc).__name__, message=str(exc)))
            continue
        send(_Message(report=BuildSummary.of(report)))
        _warm_model(paths, request.device)
    return 0


_warmed: set[str] = set()


def _warm_model(paths: IndexPaths, device: str | None) -> None:
    """Load the index's model in the background, once per model.

    The first build is usually an up-to-date check that embeds nothing; without
    this, the first edit after the daemon starts would wait for a
    multi-second model load.
    """
    from tldr.semantic.models.embedders import get_embedder
    from tldr.semantic.storage import read_metadata

    try:
        metadata = read_metadata(paths)
    except _exceptions.TldrError:
        return
    if metadata is None or metadata.model in _warmed:
        return
    _warmed.add(metadata.model)

    def load() -> None:
        try:
            get_embedder(metadata.model, device=device).embed_documents(["warm up"])
        except Exception:  # the next build reports a model that cannot load
            logger.warning("could not preload model %s", metadata.model, exc_info=True)

    threading.Thread(target=load, name="tldr-model-warmup", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
