"""What a function returns, read from its signature where the language states it."""

from __future__ import annotations

import re

from tldr.units.facts import clean_type

__all__ = ["return_type"]

_ARROW = re.compile(r"->\s*(.+?)\s*[:{]?\s*$", re.S)  # Python, Rust
_COLON = re.compile(r"\)\s*:\s*([\w$.<>\[\]| ]+?)\s*(?:=>|\{)?\s*$")  # TS, Kotlin, Scala
_GO = re.compile(r"\)\s*\(?\s*([*\w.\[\]]+)[^()]*\)?\s*\{?\s*$")


def return_type(signature: str, name: str, language: str) -> str:
    """The type a function's signature says it returns, as a resolvable name ("" if none)."""
    if not signature:
        return ""
    text = ""
    if language in ("python", "rust"):
        found = _ARROW.search(signature)
        text = found.group(1) if found else ""
    elif language in ("typescript", "tsx", "kotlin", "scala", "swift"):
        found = _COLON.search(signature)
        text = found.group(1) if found else ""
        if language == "swift":
            found = _ARROW.search(signature)
            text = found.group(1) if found else ""
    elif language == "go":
        found = _GO.search(signature)
        text = found.group(1) if found else ""
    elif language in ("java", "csharp", "cpp", "c", "dart"):
        found = re.search(r"([\w.:<>\[\]*&]+)\s+[*&]?" + re.escape(name) + r"\s*\(", signature)
        text = found.group(1) if found else ""
        if text in ("void", "new", "return"):
            text = ""
    if not text:
        return ""
    return clean_type(text, language)
