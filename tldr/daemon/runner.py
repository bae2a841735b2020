"""The daemon process: service + server + watcher, signals, idle shutdown.

`Daemon` runs inside any event loop (tests start it in-process);
`run_daemon` is the process entry point behind `python -m tldr.daemon`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tldr._version import __version__
from tldr.daemon.lifecycle import PidLock, read_pid_info, remove_stale
from tldr.daemon.scheduler import RebuildPolicy
from tldr.daemon.server import RpcServer
from tldr.daemon.service import Service
from tldr.daemon.watcher import Watcher
from tldr.paths import DaemonFiles, IndexPaths, daemon_files, find_project_root
from tldr.registry import record_use
from tldr.settings import setting

__all__ = ["ALREADY_RUNNING", "Daemon", "run_daemon"]

logger = logging.getLogger(__name__)

ALREADY_RUNNING = 3  # exit code of a second daemon for the same project


class Daemon:
    """One project's daemon, assembled and run in the current event loop."""

    def __init__(
        self,
        root: Path,
        *,
        files: DaemonFiles | None = None,
        debounce_ms: int | None = None,
        idle_timeout: float | None = None,
        max_request_bytes: int | None = None,
        request_timeout: float | None = None,
        watch: bool = True,
        build_in_worker: bool = True,
    ) -> None:
        self.root = root
        self.files = files or daemon_files(root)
        self.idle_timeout = setting("TLDR_IDLE_TIMEOUT") if idle_timeout is None else idle_timeout
        policy = RebuildPolicy.from_settings(debounce_ms)
        self.service = Service(
            root,
            policy=policy,
            build_in_worker=build_in_worker,
            broadcast=self._broadcast,
            request_stop=self.request_stop,
            extra_status=self._extra_status,
            paths=self.files.paths,
        )
        self.server = RpcServer(
            self.service.methods(),
            max_request_bytes=max_request_bytes or setting("TLDR_MAX_REQUEST_BYTES"),
            request_timeout=request_timeout or setting("TLDR_REQUEST_TIMEOUT"),
        )
        self.watcher = (
            Watcher(root, self.service.filter, self.service.on_changes,
                    group_ms=policy.watch_group_ms) if watch else None
        )
        self.stop_reason: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    def _broadcast(self, event: str, params: dict[str, Any]) -> None:
        self.server.broadcast(event, params)

    def request_stop(self, reason: str = "shutdown requested") -> None:
        """Ask the daemon to shut down cleanly."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    async def start(self) -> None:
        """Bind the socket (removing a stale one), then start watching and warming up."""
        if os.name != "nt" and os.path.lexists(self.files.socket):
            if not remove_stale(self.files) and os.path.lexists(self.files.socket):
                try:
                    os.unlink(self.files.socket)  # we hold the pid lock: nobody else owns it
                except OSError:
                    pass
        await self.server.start(self.files.socket)
        if self.watcher is not None:
            self._tasks.append(asyncio.create_task(self.watcher.run(), name="tldr-watcher"))
        await self.service.start()
        logger.info("daemon %s serving %s at %s", os.getpid(), self.root, self.files.socket)

    async def wait(self) -> None:
        """Serve until asked to stop or idle for `idle_timeout` seconds."""
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self._check_interval())
            except asyncio.TimeoutError:
                pass
            if self._idle_for() >= self.idle_timeout > 0:
                self.request_stop(f"idle for {self.idle_timeout:g}s")

    async def stop(self) -> None:
        """Stop accepting, finish in-flight work briefly, and clean up."""
        self._stop.set()
        logger.info("stopping: %s", self.stop_reason or "stop requested")
        if self.watcher is not None:
            self.watcher.stop()
        await self.server.close(grace=2.0)
        await self.service.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if os.name != "nt":
            try:
                os.unlink(self.files.socket)
            except OSError:
                pass

    async def run(self) -> None:
        """start, wait, stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    def _check_interval(self) -> float:
        if self.idle_timeout <= 0:
            return 3600.0
        return max(0.05, min(1.0, self.idle_timeout / 4))

    def _idle_for(self) -> float:
        if self.server.connections or self.server.in_flight or self.service.busy:
            return 0.0
        return time.monotonic() - self.server.last_activity

    def _extra_status(self) -> dict[str, Any]:
        return {
            "socket": self.files.socket,
            "log_file": str(self.files.log_file),
            "watcher": self.watcher.status() if self.watcher else {"state": "off"},
            "connections": len(self.server.connections),
            "in_flight": self.server.in_flight,
            "requests": dict(self.server.stats),
            "idle_timeout_s": self.idle_timeout,
            "idle_for_s": round(self._idle_for(), 1),
        }


def run_daemon(
    project: str | os.PathLike[str], *, cache_root: str | None = None, index: str | None = None
) -> int:
    """Run the daemon for `project`'s index in this process until it stops; the exit code.

    `cache_root`/`index` select index mode (default: `TLDR_CACHE_ROOT`/`TLDR_INDEX`).
    """
    root = find_project_root(project)
    paths = IndexPaths(root, cache_root, index)
    files = daemon_files(root, paths=paths)
    _configure_logging()
    lock = PidLock(files.pid_file)
    info = {"pid": os.getpid(), "root": str(root), "socket": files.socket,
            "log_file": str(files.log_file), "version": __version__,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if not lock.acquire(info):
        running = read_pid_info(files) or {}
        print(f"tldrf daemon already running for {root} (pid {running.get('pid', '?')}, "
              f"socket {files.socket})", file=sys.stderr)
        return ALREADY_RUNNING
    # Builds run in a worker process; this keeps search threads and the event loop
    # trading the GIL quickly among themselves (and helps in-process builds).
    sys.setswitchinterval(0.001)
    record_use(paths)
    _import_search_modules()
    try:
        asyncio.run(_main(root, files))
    finally:
        lock.release()
    logger.info("daemon %s stopped", os.getpid())
    return 0


async def _main(root: Path, files: DaemonFiles) -> None:
    daemon = Daemon(root, files=files)
    loop = asyncio.get_running_loop()
    signals = [0]

    def on_signal(signum: int) -> None:
        signals[0] += 1
        if signals[0] > 1:
            logger.warning("second signal: exiting now")
            os._exit(1)
        daemon.request_stop(f"signal {signal.Signals(signum).name}")

    if os.name != "nt":
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
    await daemon.run()


def _import_search_modules() -> None:
    """Import what the search and build threads use, once, before they start.

    Threads that import the same package's modules for the first time at
    once can deadlock on Python's per-module import locks (`_DeadlockError`
    answered a `unit` request while the startup build imported
    `tldr.semantic`); importing here first costs ~0.1 s of start-up.
    """
    import importlib

    for module in ("tldr.daemon._pinned", "tldr.semantic"):  # search side, build side
        importlib.import_module(module)


def _configure_logging() -> None:
    level = setting("TLDR_LOG_LEVEL")
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
