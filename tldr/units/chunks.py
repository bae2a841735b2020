"""Units for text without a grammar: sections by heading or key, else windows.

So that nothing in a repository is unsearchable, every text file the walk
keeps becomes units. Markdown splits at its headings (ATX `#` and setext
underlines, never inside fenced code); YAML, TOML, INI and JSON at their
top-level keys, tables or sections (the comment lines right above a key
belong to it and become its docstring); anything else, and any file in
which no structure is found, into windows of at most `WINDOW_LINES` lines
cut at a blank line where one is near. Text before the first section is
the file's module unit. Spans are exact, 1-based and inclusive.
"""

from __future__ import annotations

import hashlib
import re

from tldr.units.languages import FALLBACK_LANGUAGES
from tldr.units.model import Unit
from tldr.units.text import clean_comment_block, clean_signature, preview

__all__ = ["MAX_UNITS_PER_FILE", "WINDOW_LINES", "text_units"]

WINDOW_LINES = 40
MAX_UNITS_PER_FILE = 200
# A window ends at the last blank line among its final lines, when there is one.
_CUT_SEARCH_LINES = 12

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_YAML_KEY = re.compile(
    r"""^(?:"([^"]+)"|'([^']+)'|([^\s#&*!|>'"%@`\-\[\]{},?:][^:#]*?))\s*:(?:\s|$)"""
)
_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(r"""^([A-Za-z0-9_\-."']+)\s*=""")
_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")
_COMMENT = re.compile(r"^\s*[#;]")
_NOT_CONTENT = frozenset({"", "{", "[", "---"})

_Section = tuple[int, int, str, str, str]  # (start, end, name, qualifier path, docstring)


def _markdown(lines: list[str]) -> list[tuple[int, str, int]]:
    """(line index, title, level) of every heading outside fenced code."""
    headings: list[tuple[int, str, int]] = []
    fence = ""
    first = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        first = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    for index in range(first, len(lines)):
        line = lines[index]
        fenced = _FENCE.match(line)
        if fence:
            if fenced and fenced.group(1)[0] == fence[0] and len(fenced.group(1)) >= len(fence):
                fence = ""
            continue
        if fenced:
            fence = fenced.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((index, (atx.group(2) or "").strip(), len(atx.group(1))))
            continue
        underline = _SETEXT.match(line)
        if (
            underline
            and index > first
            and lines[index - 1].strip()
            and (index == first + 1 or not lines[index - 2].strip())
            and not _ATX.match(lines[index - 1])
        ):
            level = 1 if underline.group(1)[0] == "=" else 2
            headings.append((index - 1, lines[index - 1].strip(), level))
    return headings


def _heading_sections(lines: list[str]) -> list[_Section]:
    sections: list[_Section] = []
    headings = _markdown(lines)
    path: list[tuple[int, str]] = []
    for number, (start, title, level) in enumerate(headings):
        end = headings[number + 1][0] - 1 if number + 1 < len(headings) else len(lines) - 1
        while path and path[-1][0] >= level:
            path.pop()
        qualifiers = ".".join(name for _, name in path)
        path.append((level, title))
        if title:
            sections.append((start, end, title, qualifiers, ""))
    return sections


def _key_sections(lines: list[str], language: str) -> list[_Section]:
    starts: list[tuple[int, str]] = []
    in_table = False
    for index, line in enumerate(lines):
        name = ""
        if language == "yaml":
            if line.startswith("---"):
                starts.append((index, ""))  # a document separator ends a section
                continue
            found = _YAML_KEY.match(line)
            if found:
                name = next(group for group in found.groups() if group is not None).strip()
        elif language == "toml":
            found = _TOML_TABLE.match(line)
            if found:
                in_table = True
            elif not in_table and not line[:1].isspace():
                found = _TOML_KEY.match(line)  # a key after a table belongs to it
            if found:
                name = found.group(1).strip().strip("\"'")
        else:  # ini
            found = _INI_SECTION.match(line)
            if found:
                name = found.group(1).strip()
        if name:
            starts.append((index, name))
    sections: list[_Section] = []
    for number, (start, name) in enumerate(starts):
        if not name:
            continue
        end = starts[number + 1][0] - 1 if number + 1 < len(starts) else len(lines) - 1
        first = start
        while first > 0 and _COMMENT.match(lines[first - 1]) and (
            not sections or first - 1 > sections[-1][0]
        ):
            first -= 1
        docstring = clean_comment_block(lines[first:start]) if first < start else ""
        if sections and sections[-1][1] >= first:
            previous = sections[-1]
            sections[-1] = (previous[0], first - 1, *previous[2:])
        sections.append((first, end, name, "", docstring))
    return sections


def _json_sections(source: bytes) -> list[_Section]:
    from tldr.units.parsing import end_row, parser_for

    try:
        root = parser_for("json").parse(source).root_node
    except Exception:  # a grammar failing to load must not stop an index build
        return []
    top = next((child for child in root.named_children if child.type == "object"), None)
    if top is None:
        return []
    sections: list[_Section] = []
    for pair in top.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        if key is None:
            continue
        name = (key.text or b"").decode("utf-8", "replace").strip().strip('"')
        if name:
            sections.append((pair.start_point[0], end_row(pair), name, "", ""))
    return sections


def _windows(lines: list[str], first: int = 0) -> list[tuple[int, int]]:
    size = max(WINDOW_LINES, -(-(len(lines) - first) // MAX_UNITS_PER_FILE))
    spans: list[tuple[int, int]] = []
    start = first
    while start < len(lines):
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start >= len(lines):
            break
        end = min(start + size, len(lines)) - 1
        if end < len(lines) - 1:
            for cut in range(end, max(start, end - _CUT_SEARCH_LINES), -1):
                if not lines[cut].strip():
                    end = cut - 1
                    break
        spans.append((start, end))
        start = end + 1
    return spans


def _trim(lines: list[str], start: int, end: int) -> int:
    while end > start and not lines[end].strip():
        end -= 1
    return end


class _Builder:
    def __init__(self, source: bytes, path: str, language: str) -> None:
        self.source = source
        self.text = source.decode("utf-8", "replace")
        self.lines = self.text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.path = path
        self.language = language
        stem = path.rsplit("/", 1)[-1]
        self.stem = stem.split(".", 1)[0] if not stem.startswith(".") else stem
        without_extension = path.rsplit(".", 1)[0] if "." in stem.lstrip(".") else path
        self.dotted = without_extension.replace("/", ".")

    def unit(self, start: int, end: int, unit_type: str, name: str, qualified: str,
             signature: str = "", docstring: str = "") -> Unit:
        body = "\n".join(self.lines[start : end + 1])
        digest = hashlib.sha256(body.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
        digest.update(qualified.encode("utf-8", "surrogatepass"))
        return Unit(
            name=name,
            qualified_name=qualified,
            file=self.path,
            line=start + 1,
            end_line=end + 1,
            unit_type=unit_type,
            language=self.language,
            signature=signature,
            docstring=docstring,
            code=preview(body),
            content_hash=digest.hexdigest()[:16],
        )

    def sections(self) -> list[_Section]:
        how = FALLBACK_LANGUAGES.get(self.language, "windows")
        if how == "headings":
            return _heading_sections(self.lines)
        if how == "keys":
            if self.language == "json":
                return _json_sections(self.source)
            return _key_sections(self.lines, self.language)
        return []

    def build(self) -> list[Unit]:
        if not self.text.strip():
            return []
        found = self.sections()
        if not found or len(found) > MAX_UNITS_PER_FILE:
            return [
                self.unit(start, end, "chunk", self.stem, self.dotted)
                for start, end in _windows(self.lines)
            ]
        units: list[Unit] = []
        preamble_end = _trim(self.lines, 0, found[0][0] - 1) if found[0][0] > 0 else -1
        if preamble_end >= 0 and any(
            line.strip() not in _NOT_CONTENT for line in self.lines[: preamble_end + 1]
        ):
            units.append(self.unit(0, len(self.lines) - 1, "module", self.stem, self.dotted))
            units[0].code = preview("\n".join(self.lines[: preamble_end + 1]))
        for start, end, name, qualifiers, docstring in found:
            end = _trim(self.lines, start, end)
            qualified = ".".join(part for part in (self.dotted, qualifiers, name) if part)
            signature = clean_signature(self.lines[start])
            units.append(self.unit(start, end, "section", name, qualified, signature, docstring))
        return units


def text_units(source: bytes, *, path: str, language: str) -> list[Unit]:
    """Split a file without a grammar into section or chunk units.

    Args:
        source: The file's bytes (UTF-8).
        path: The project-relative POSIX path; becomes `Unit.file`.
        language: A key of `FALLBACK_LANGUAGES` ("markdown", "yaml", "text"...).

    Returns:
        The units in source order, the module unit (if any) first.
    """
    return _Builder(source, path, language).build()
