"""The code unit record shared by extraction, indexing and search."""

from __future__ import annotations

import msgspec

from tldr.units.kinds import UNIT_TYPES

__all__ = ["EXTRACTOR_VERSION", "UNIT_TYPES", "Unit"]


class Unit(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One searchable piece of a file: a function, method, class, module, section or chunk.

    `line` and `end_line` are 1-based and inclusive. `file` is
    project-relative with `/` separators. `code` is the unit's source,
    truncated to a preview; `content_hash` hashes the full unit source so an
    unchanged unit keeps its vector.
    """

    name: str
    qualified_name: str
    file: str
    line: int
    end_line: int
    unit_type: str
    language: str
    signature: str = ""
    docstring: str = ""
    calls: list[str] = []
    imports: list[str] = []
    params: list[str] = []
    assigns: list[str] = []
    branches: int = 0
    loops: int = 0
    complexity: int = 1
    code: str = ""
    content_hash: str = ""


# Bump whenever extraction output changes, so stale cached units are rebuilt
# (5: Dart bodies belong to their units; Zig, Dart and Clojure units list their calls).
EXTRACTOR_VERSION = "5"
