"""Source files -> code units, with tree-sitter.

Knows nothing of embeddings or indexes. Importing this package is cheap:
tree-sitter and its grammars load on the first `extract_units` call, and
pathspec on the first `walk_project` call.

Typical use by an indexer::

    result = walk_project(root)
    for source_file in result.files:
        try:
            data = load_source(source_file.abs_path)
        except SkippedFile as skipped:
            result.count_skip(skipped.reason)
            continue
        units = extract_units(data, path=source_file.rel_path, language=source_file.language)
"""

from __future__ import annotations

from tldr.units.detect import detect_language, language_for_path
from tldr.units.extract import MAX_ASSIGNS, MAX_CALLS, MAX_IMPORTS, extract_units
from tldr.units.languages import SUPPORTED_LANGUAGES
from tldr.units.model import UNIT_TYPES, Unit
from tldr.units.source import (
    DEFAULT_MAX_FILE_BYTES,
    SKIP_REASONS,
    SkippedFile,
    load_source,
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
    "SIGNATURE_MAX_CHARS",
    "SKIPPED_DIRECTORIES",
    "SKIP_REASONS",
    "SUPPORTED_LANGUAGES",
    "UNIT_TYPES",
    "SkippedFile",
    "SourceFile",
    "Unit",
    "WalkResult",
    "detect_language",
    "extract_units",
    "language_for_path",
    "load_source",
    "walk_project",
]
