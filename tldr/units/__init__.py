"""Source files -> code units, with tree-sitter.

Knows nothing of embeddings or indexes. Importing this package is cheap:
tree-sitter and its grammars load on the first `extract_units` call, and
pathspec on the first `walk_project` call.

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

from tldr.units.detect import detect_language, language_for_path
from tldr.units.extract import MAX_ASSIGNS, MAX_CALLS, MAX_IMPORTS, extract_file, extract_units
from tldr.units.languages import SUPPORTED_LANGUAGES
from tldr.units.model import UNIT_TYPES, Unit
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
