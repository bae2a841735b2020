"""The rebuild lock (`.lock`), and a note of who holds it (`.lock.info`).

One build at a time per index (DESIGN.md § On disk). A build that has to
wait says for whom: the holder records its pid, command and start time next
to the lock, so a waiter prints "held by pid 4242 (tldrf semantic index .)"
instead of blocking silently.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tldr._exceptions import IndexBusyError
from tldr.paths import IndexPaths

__all__ = ["BuildLock", "lock_holder"]

logger = logging.getLogger(__name__)

_NOTICE_EVERY_S = 10.0  # a waiting build says so again this often


class BuildLock:
    """The exclusive rebuild lock of one index, with its holder note."""

    def __init__(self, paths: IndexPaths) -> None:
        from filelock import FileLock

        self.paths = paths
        self._lock = FileLock(str(paths.lock))

    def acquire(self, *, timeout: float = -1) -> None:
        """Take the lock, waiting `timeout` seconds (-1: forever, 0: not at all).

        While it waits it logs who holds the lock, once and then every 10 s.

        Raises:
            IndexBusyError: still held after `timeout`; names the holder.
        """
        from filelock import Timeout

        self.paths.semantic_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        wait = 0.0
        while True:
            try:
                self._lock.acquire(timeout=wait)
                break
            except Timeout:
                waited = time.monotonic() - started
                holder = lock_holder(self.paths)
                if 0 <= timeout <= waited:
                    raise IndexBusyError(
                        f"another build of {self.paths.root} is running ({holder}); "
                        f"gave up after {waited:.0f}s"
                    ) from None
                logger.warning("waiting for the build lock of %s, %s (%.0fs so far)",
                               self.paths.root, holder, waited)
                wait = _NOTICE_EVERY_S if timeout < 0 else min(_NOTICE_EVERY_S, timeout - waited)
        self._write_note()

    def release(self) -> None:
        """Drop the note, then the lock."""
        self._note.unlink(missing_ok=True)
        self._lock.release()

    @property
    def _note(self) -> Path:
        return self.paths.semantic_dir / ".lock.info"

    def _write_note(self) -> None:
        note = {
            "pid": os.getpid(),
            "command": _command(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        try:
            self._note.write_text(json.dumps(note), encoding="utf-8")
        except OSError:  # only a courtesy to waiters
            pass


def lock_holder(paths: IndexPaths) -> str:
    """Who holds the lock, in words, from the holder's note."""
    try:
        note = json.loads((paths.semantic_dir / ".lock.info").read_text(encoding="utf-8"))
        pid = int(note["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return "held by a process that left no note"
    if not _alive(pid):
        return "held by a process that left no note"
    return f"held by pid {pid} ({note.get('command', '?')}, since {note.get('since', '?')})"


def _command() -> str:
    """This process's command, shortened.

    `tldrf semantic index .`, or `python -m tldr.daemon.builder` for the
    daemon's build worker.
    """
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if "-m" in argv:
        words = ["python", *argv[argv.index("-m"):]]
    else:
        words = [os.path.basename(argv[1] if len(argv) > 1 else argv[0]), *argv[2:]]
    text = " ".join(words)
    return text if len(text) <= 120 else text[:117] + "..."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
