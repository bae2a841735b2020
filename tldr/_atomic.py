"""Files replaced whole: a temp sibling, fsync, rename (what every commit relies on)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write_bytes"]


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
