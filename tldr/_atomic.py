"""Files replaced whole: a temp sibling, fsync, rename (what every commit relies on)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write_bytes", "link_or_copy"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temp sibling, fsync, then rename over `path`.

    A reader sees the old file or the new one, never a part; a failed write
    leaves no temp file behind.
    """
    temp = path.with_name(f"{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def link_or_copy(source: Path, target: Path) -> None:
    """Make `target` a hard link to `source`, or a copy where links cannot be made.

    For a file written once and named again by each later commit of the same
    snapshot: the writer need not keep what it wrote in memory.
    """
    import shutil

    try:
        os.link(source, target)
    except OSError:  # no hard links on this file system
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)
