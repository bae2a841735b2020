"""A read-only map of a committed file, checked before it is read (no SIGBUS).

A build's files are never written in place (a build writes new files and
commits by renaming metadata), but anything may truncate one: reading a
page past the end of a shrunk mapping is SIGBUS, which kills the whole
process. Our own descriptor keeps the mapped inode (a rename or unlink of
the path by a newer build or GC changes nothing); `check()`, one `fstat`
(microseconds), turns a change into an error the daemon answers and repairs.
"""

from __future__ import annotations

import mmap
import os
import weakref
from pathlib import Path

from tldr._exceptions import IndexCorruptError

__all__ = ["MappedFile"]


class MappedFile:
    """`path` mapped read-only (`.map`), with the size and mtime it had then.

    Raises (on creation):
        OSError: the file cannot be opened.
        ValueError: it is empty (nothing to map).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, fd)
        self._fd = fd
        self._stamp = _stamp(fd)
        self.map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)

    def check(self) -> None:
        """Refuse to read the map when its file was truncated or rewritten since."""
        if _stamp(self._fd) != self._stamp:
            raise IndexCorruptError(
                f"{self.path} changed on disk while in use; "
                "it is rebuilt (or run: tldrf semantic index --rebuild)"
            )


def _stamp(fd: int) -> tuple[int, int]:
    """What a write to the mapped inode changes: its size and mtime."""
    info = os.fstat(fd)
    return (info.st_size, info.st_mtime_ns)
