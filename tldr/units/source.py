"""Reading one file of an untrusted tree, once, and naming it.

`walk_project` only stats files; reading is where binary, undecodable and
unreadable files show up, and where a file swapped after the walk (a FIFO
that would block forever, a symlink leading elsewhere) must be refused. The
indexer reads each file exactly once through `load_source`, which either
returns the bytes to hash and parse or raises `SkippedFile` carrying the
reason to count (`SKIP_REASONS`).

File names that are not valid UTF-8 reach Python as lone surrogates
(PEP 383), which neither msgspec, JSON nor a terminal can encode.
`escape_path` turns them into a printable, lossless form that every stored
or printed project-relative path uses; `unescape_path` gives back the name to
open.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from tldr._exceptions import TldrError

__all__ = [
    "BINARY_SNIFF_BYTES",
    "DEFAULT_MAX_FILE_BYTES",
    "MAX_LINE_BYTES",
    "SKIP_REASONS",
    "LoadedSource",
    "SkippedFile",
    "escape_path",
    "load_source",
    "read_regular_file",
    "skip_reason_for",
    "unescape_path",
]

DEFAULT_MAX_FILE_BYTES = 1_048_576
BINARY_SNIFF_BYTES = 8192
SKIP_REASONS = (
    "too_large",
    "binary",
    "undecodable",
    "minified",
    "unreadable",
    "not_regular",
    "symlink_loop",
    "broken_symlink",
    "vanished",
)
# More replacement characters than this share of the decoded text: not text.
_MAX_REPLACED_SHARE = 0.25
# Longer lines are blanked before parsing: minified code, embedded blobs and
# data tables are not worth finding, and cost the extractor time in proportion
# to (units on the line) x (line length).
MAX_LINE_BYTES = 10_000
# A file mostly made of such lines is skipped as "minified" instead.
_MAX_BLANKED_SHARE = 0.5

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not block the open
    | getattr(os, "O_NOFOLLOW", 0)  # nor may a symlink swapped in lead elsewhere
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class SkippedFile(TldrError):
    """A file that is not indexed; `reason` is one of `SKIP_REASONS`."""

    def __init__(self, reason: str, path: Path | str) -> None:
        super().__init__(f"{escape_path(os.fspath(path))}: skipped ({reason})")
        self.reason = reason
        self.path = path


@dataclass(frozen=True)
class LoadedSource:
    """A file's bytes ready to hash and parse, and what was done to them.

    Extraction decodes with `errors="replace"`, so a stray invalid byte costs
    one character, not the file. Lines over `MAX_LINE_BYTES` are replaced by
    as many spaces, so offsets and line numbers still match the file.
    """

    data: bytes
    decoded_with_replacement: bool = False
    blanked_lines: int = 0  # lines over MAX_LINE_BYTES, turned into spaces


def skip_reason_for(error: OSError, *, is_link: bool = False) -> str:
    """The skip reason an OSError from stat or open stands for."""
    if error.errno == errno.ELOOP:
        return "symlink_loop" if is_link else "not_regular"  # O_NOFOLLOW met a symlink
    if error.errno == errno.ENOENT:
        return "broken_symlink" if is_link else "vanished"
    if error.errno in (errno.ENXIO, errno.EISDIR, errno.ENOTDIR):
        return "not_regular"  # a socket, or a directory where a file was
    return "unreadable"


def read_regular_file(path: Path | str, *, max_bytes: int) -> bytes:
    """Read at most `max_bytes` of a regular file, never blocking, never following a link.

    The file is checked to be regular before the open (lstat) and again on
    the open descriptor (fstat), so a FIFO, device or symlink put in its place
    at any moment is refused rather than read.

    Raises:
        SkippedFile: "not_regular", "vanished", "unreadable" or "too_large"
            (larger than `max_bytes`, by size or by what could be read).
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise SkippedFile("not_regular", path)
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise SkippedFile(skip_reason_for(error), path) from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise SkippedFile("not_regular", path)
        if status.st_size > max_bytes:
            raise SkippedFile("too_large", path)
        data = _read_at_most(descriptor, max_bytes + 1, size_hint=status.st_size)
    except OSError as error:
        raise SkippedFile(skip_reason_for(error), path) from error
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:  # it grew after the fstat
        raise SkippedFile("too_large", path)
    return data


def _read_at_most(descriptor: int, limit: int, *, size_hint: int) -> bytes:
    """Up to `limit` bytes; the first read is sized by fstat (cheap for tiny files)."""
    parts: list[bytes] = []
    want = min(limit, size_hint + 1)
    while limit > 0:
        chunk = os.read(descriptor, want)
        if not chunk:
            break
        parts.append(chunk)
        limit -= len(chunk)
        want = min(limit, 1 << 16)
    return b"".join(parts)


def load_source(path: Path | str, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> LoadedSource:
    """Read a source file, refusing what should not be indexed.

    Args:
        path: The file to read (for a walked symlink, its resolved target).
        max_file_bytes: Files larger than this are refused as "too_large"
            (checked again here because a file can grow after the walk).

    Returns:
        The file's bytes; invalid UTF-8 in them is flagged, not fatal.

    Raises:
        SkippedFile: With a reason of `read_regular_file`, or "binary" (a NUL
            byte in the first 8 KiB), "undecodable" (more than a quarter of
            the text would be replacement characters) or "minified" (more
            than half of the bytes on lines over `MAX_LINE_BYTES`).
    """
    data = read_regular_file(path, max_bytes=max_file_bytes)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise SkippedFile("binary", path)
    replaced = False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        if text.count("\ufffd") > _MAX_REPLACED_SHARE * len(text):
            raise SkippedFile("undecodable", path) from None
        replaced = True
    blanked = 0
    if len(data) > MAX_LINE_BYTES:
        lines = data.split(b"\n")
        long_lines = [i for i, line in enumerate(lines) if len(line) > MAX_LINE_BYTES]
        if long_lines:
            if sum(len(lines[i]) for i in long_lines) > _MAX_BLANKED_SHARE * len(data):
                raise SkippedFile("minified", path)
            for i in long_lines:
                lines[i] = b" " * len(lines[i])
            data, blanked = b"\n".join(lines), len(long_lines)
    return LoadedSource(data, decoded_with_replacement=replaced, blanked_lines=blanked)


# A backslash, a control character (a newline in a name would split a line of
# output), or a lone surrogate: what PEP 383 makes of an undecodable byte, or
# (Windows) an unpaired UTF-16 half. Paired surrogates never occur in a str.
_ESCAPE_NEEDED = re.compile(r"[\\\x00-\x1f\x7f\ud800-\udfff]")
_ESCAPED = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _escape_one(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\\":
        return "\\\\"
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"  # a control character
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # the raw byte PEP 383 escaped
    return f"\\u{code:04x}"


def _unescape_one(match: re.Match[str]) -> str:
    body = match.group(1)
    if body == "\\":
        return "\\"
    if body[0] == "x":
        code = int(body[1:], 16)
        return chr(code) if code < 0x80 else chr(0xDC00 + code)
    return chr(int(body[1:], 16))


def escape_path(name: str) -> str:
    r"""A name's lossless, printable form for storing and showing.

    `\` is doubled; a control character or an undecodable byte (PEP 383's
    `\udcHH`) becomes `\xHH` (the two never share a value: controls are
    below 0x80, escaped bytes above); any other lone surrogate `\uHHHH`.
    Names that are valid Unicode without a backslash or control character
    come back unchanged.
    """
    if not _ESCAPE_NEEDED.search(name):
        return name
    return _ESCAPE_NEEDED.sub(_escape_one, name)


def unescape_path(text: str) -> str:
    """The inverse of `escape_path`: the name as the operating system knows it."""
    if "\\" not in text:
        return text
    return _ESCAPED.sub(_unescape_one, text)
