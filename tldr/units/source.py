"""Reading one source file, once, and deciding whether it is worth indexing.

`walk_project` only stats files; reading is where binary, undecodable and
unreadable files show up. The indexer reads each file exactly once through
`load_source`, which either returns the bytes to hash and parse or raises
`SkippedFile` carrying the reason to count in `WalkResult.skipped`.
"""

from __future__ import annotations

from pathlib import Path

from tldr._exceptions import TldrError

__all__ = [
    "BINARY_SNIFF_BYTES",
    "DEFAULT_MAX_FILE_BYTES",
    "SKIP_REASONS",
    "SkippedFile",
    "load_source",
]

DEFAULT_MAX_FILE_BYTES = 1_048_576
BINARY_SNIFF_BYTES = 8192
SKIP_REASONS = ("too_large", "binary", "unreadable", "undecodable")


class SkippedFile(TldrError):
    """A file that is not indexed; `reason` is one of `SKIP_REASONS`."""

    def __init__(self, reason: str, path: Path | str) -> None:
        super().__init__(f"{path}: skipped ({reason})")
        self.reason = reason
        self.path = path


def load_source(path: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """Read a source file, refusing what should not be indexed.

    Args:
        path: The file to read.
        max_file_bytes: Files larger than this are refused as "too_large"
            (checked again here because a file can grow after the walk).

    Returns:
        The file's bytes, known to be UTF-8 text.

    Raises:
        SkippedFile: With reason "unreadable" (any OSError), "too_large",
            "binary" (a NUL byte in the first 8 KiB) or "undecodable" (not
            UTF-8).
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_file_bytes + 1)
    except OSError as error:
        raise SkippedFile("unreadable", path) from error
    if len(data) > max_file_bytes:
        raise SkippedFile("too_large", path)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise SkippedFile("binary", path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SkippedFile("undecodable", path) from error
    return data
