"""Source files -> code units, with tree-sitter.

Knows nothing of embeddings or indexes. Importing this package costs
nothing: each name loads its module on first use (PEP 562), so the thin
client can read `tldr.units.kinds` without msgspec; tree-sitter and its
grammars load on the first `extract_units` call, pathspec on the first
`walk_project` call.

Typical use by an indexer::

    result = walk_project(root)
    for source_file in result.files:
        try:
            loaded = load_source(source_file.abs_path)
        except SkippedFile as skipped:
            result.count_skip(skipped.reason, source_file.rel_path)
            continue
        units = extract_units(loaded.data, path=source_file.rel_path, language=source_file.language)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below resolve to, for type checkers
    from tldr.units.detect import detect_language, language_for_path
    from tldr.units.extract import (
        MAX_ASSIGNS,
        MAX_CALLS,
        MAX_IMPORTS,
        extract_file,
        extract_units,
    )
    from tldr.units.kinds import UNIT_TYPES
    from tldr.units.languages import SUPPORTED_LANGUAGES
    from tldr.units.model import Unit
    from tldr.units.source import (
        DEFAULT_MAX_FILE_BYTES,
        MAX_LINE_BYTES,
        SKIP_REASONS,
        LoadedSource,
        SkippedFile,
        escape_path,
        load_source,
        read_regular_file,
        unescape_path,
    )
    from tldr.units.text import (
        CODE_PREVIEW_CHARS,
        CODE_PREVIEW_LINES,
        DOCSTRING_MAX_CHARS,
        SIGNATURE_MAX_CHARS,
    )
    from tldr.units.walk import SKIPPED_DIRECTORIES, SourceFile, WalkResult, walk_project

__all__ = [
    "CODE_PREVIEW_CHARS",
    "CODE_PREVIEW_LINES",
    "DEFAULT_MAX_FILE_BYTES",
    "DOCSTRING_MAX_CHARS",
    "MAX_ASSIGNS",
    "MAX_CALLS",
    "MAX_IMPORTS",
    "MAX_LINE_BYTES",
    "SIGNATURE_MAX_CHARS",
    "SKIPPED_DIRECTORIES",
    "SKIP_REASONS",
    "SUPPORTED_LANGUAGES",
    "UNIT_TYPES",
    "LoadedSource",
    "SkippedFile",
    "SourceFile",
    "Unit",
    "WalkResult",
    "detect_language",
    "escape_path",
    "extract_file",
    "extract_units",
    "language_for_path",
    "load_source",
    "read_regular_file",
    "unescape_path",
    "walk_project",
]

_LAZY = {
    "CODE_PREVIEW_CHARS": "tldr.units.text",
    "CODE_PREVIEW_LINES": "tldr.units.text",
    "DEFAULT_MAX_FILE_BYTES": "tldr.units.source",
    "DOCSTRING_MAX_CHARS": "tldr.units.text",
    "LoadedSource": "tldr.units.source",
    "MAX_ASSIGNS": "tldr.units.extract",
    "MAX_CALLS": "tldr.units.extract",
    "MAX_IMPORTS": "tldr.units.extract",
    "MAX_LINE_BYTES": "tldr.units.source",
    "SIGNATURE_MAX_CHARS": "tldr.units.text",
    "SKIPPED_DIRECTORIES": "tldr.units.walk",
    "SKIP_REASONS": "tldr.units.source",
    "SUPPORTED_LANGUAGES": "tldr.units.languages",
    "SkippedFile": "tldr.units.source",
    "SourceFile": "tldr.units.walk",
    "UNIT_TYPES": "tldr.units.kinds",
    "Unit": "tldr.units.model",
    "WalkResult": "tldr.units.walk",
    "detect_language": "tldr.units.detect",
    "escape_path": "tldr.units.source",
    "extract_file": "tldr.units.extract",
    "extract_units": "tldr.units.extract",
    "language_for_path": "tldr.units.detect",
    "load_source": "tldr.units.source",
    "read_regular_file": "tldr.units.source",
    "unescape_path": "tldr.units.source",
    "walk_project": "tldr.units.walk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tldr.units' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
