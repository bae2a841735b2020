"""Turning raw source slices into the text fields of a unit.

Signatures lose their bodies and extra whitespace, comments lose their
markers, Python strings lose their quotes and indentation, and code
previews are capped.
"""

from __future__ import annotations

import inspect
import re

__all__ = [
    "CODE_PREVIEW_CHARS",
    "CODE_PREVIEW_LINES",
    "DOCSTRING_MAX_CHARS",
    "SIGNATURE_MAX_CHARS",
    "clean_comment_block",
    "clean_signature",
    "clean_string_literal",
    "preview",
]

CODE_PREVIEW_LINES = 80
CODE_PREVIEW_CHARS = 4000
SIGNATURE_MAX_CHARS = 300
DOCSTRING_MAX_CHARS = 1000

_WHITESPACE = re.compile(r"\s+")
_TRAILING_OPENERS = ("{", ":", "=", "do", "=>", ";")
_COMMENT_PREFIX = re.compile(
    r"^\s*(?:/\*\*+|/\*|///?|//!|\(\*+|\{-+\s*[|^]?|\*+(?![/)])|#+'?|--\[=*\[|--+\s*[|^]?|;+|%+)"
)
_COMMENT_SUFFIX = re.compile(r"\s*(?:\*+/|\*+\)|-+\}|\]=*\])\s*$")
_XML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_STRING_PREFIX = re.compile(r"^[rRbBuUfF]{0,2}")


def clean_signature(text: str) -> str:
    """Collapse whitespace and drop a trailing body opener (`{`, `:`, `do`)."""
    text = _WHITESPACE.sub(" ", text[: SIGNATURE_MAX_CHARS * 4]).strip()
    changed = True
    while changed and text:
        changed = False
        for opener in _TRAILING_OPENERS:
            if text.endswith(opener) and not (opener == "=" and text.endswith(("==", "!="))):
                if opener == "do" and not text.endswith((" do", ")do")):
                    continue
                text = text[: -len(opener)].rstrip()
                changed = True
    return text[:SIGNATURE_MAX_CHARS]


def clean_comment_block(comments: list[str], *, strip_xml: bool = False) -> str:
    """Strip comment markers and `*` gutters from consecutive comment texts."""
    lines: list[str] = []
    for comment in comments:
        for line in comment.splitlines():
            line = _COMMENT_SUFFIX.sub("", line)
            line = _COMMENT_PREFIX.sub("", line, count=1)
            if line.startswith(" "):
                line = line[1:]
            lines.append(line.rstrip())
    text = "\n".join(lines).strip()
    if strip_xml:
        text = _XML_TAG.sub("", text).strip()
    return text[:DOCSTRING_MAX_CHARS]


def clean_string_literal(text: str) -> str:
    """Return the contents of a Python (or Elixir heredoc) string literal."""
    text = _STRING_PREFIX.sub("", text, count=1)
    for quote in ('"""', "'''", '"', "'"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
            text = text[len(quote) : -len(quote)]
            break
    return inspect.cleandoc(text)[:DOCSTRING_MAX_CHARS]


def preview(text: str) -> str:
    """Cap unit code at `CODE_PREVIEW_LINES` lines and `CODE_PREVIEW_CHARS` chars."""
    if len(text) > CODE_PREVIEW_CHARS:
        text = text[:CODE_PREVIEW_CHARS]
    lines = text.split("\n", CODE_PREVIEW_LINES)
    if len(lines) > CODE_PREVIEW_LINES:
        text = "\n".join(lines[:CODE_PREVIEW_LINES])
    return text
