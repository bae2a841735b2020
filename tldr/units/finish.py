"""What the extraction walk collected -> finished `Unit` records.

The walk (`extract`) fills a `Collected`: the open units with their
definition nodes, comments by row, imports and the module's own features.
Everything resolved only once the whole file has been seen lives here:
signatures, docstrings (comments above, Python strings, Elixir `@doc`),
unit types, spans, previews, content hashes and the module unit.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from tldr.units.langspec import LanguageSpec
from tldr.units.model import Unit
from tldr.units.naming import function_value, parameter_names
from tldr.units.parsing import OpenUnit, end_row
from tldr.units.text import (
    clean_comment_block,
    clean_signature,
    clean_string_literal,
    preview,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["MAX_ASSIGNS", "MAX_CALLS", "MAX_IMPORTS", "Collected"]

MAX_CALLS = 64
MAX_IMPORTS = 64
MAX_ASSIGNS = 32

_BODY_TYPES = frozenset(
    {
        "block",
        "statement_block",
        "class_body",
        "compound_statement",
        "declaration_list",
        "field_declaration_list",
        "function_body",
        "body_statement",
        "do_block",
        "template_body",
        "interface_body",
        "enum_body",
        "protocol_body",
        "enum_class_body",
        "constructor_body",
        "enum_variant_list",
        "Block",
        "message_body",
        "extension_body",
        "braced_expression",
    }
)
_LINE_BODIES = frozenset(
    {"ruby", "lua", "elixir", "bash", "python", "julia", "perl", "haskell", "erlang", "ocaml",
     "clojure", "r", "sql", "objc"}
)
_SHEBANG = "#!"


def _julia_doc(node: Node) -> Node | None:
    return node.prev_named_sibling  # `"""Docs."""` right before `function`


def _clojure_doc(node: Node) -> Node | None:
    children = node.named_children  # `(defn name "Docs." [args] ...)`
    return children[2] if len(children) > 2 else None


# Languages whose docstring is a string literal next to the definition.
_STRING_DOCS = {"julia": _julia_doc, "clojure": _clojure_doc}


class Collected:
    """A file's source, language and everything its walk has collected."""

    def __init__(self, source: bytes, path: str, spec: LanguageSpec) -> None:
        self.source = source
        self.path = path
        self.spec = spec
        self.language = spec.name
        self.units: list[OpenUnit] = []
        self.module = OpenUnit(None, "module", "", "")
        self.imports: list[str] = []
        self.comments: dict[int, tuple[int, bytes]] = {}  # end row -> (start row, text)
        self.attribute_rows: dict[int, int] = {}  # end row -> start row (Rust #[...])
        self.elixir_docs: dict[int, str] = {}  # end row of `@doc` -> text
        self.import_tops: set[int] = set()
        self.definition_tops: set[int] = set()
        self._top_level_nodes: list[Node] = []


    def _text(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", "replace")

    def _signature(self, unit: OpenUnit) -> str:
        node = unit.node
        assert node is not None
        holder = function_value(node) or node
        body = holder.child_by_field_name("body")
        if body is None:
            body = next((c for c in holder.named_children if c.type in _BODY_TYPES), None)
        if body is not None and body.start_byte > unit.sig_start:
            end = body.start_byte
            for child in holder.named_children:  # Ruby keeps comments before the body
                if child.type in self.spec.comments and unit.sig_start < child.start_byte < end:
                    end = child.start_byte
                    break
            return clean_signature(self._text(unit.sig_start, end))
        text = self._text(unit.sig_start, min(node.end_byte, unit.sig_start + 2000))
        brace = text.find("{")
        if brace > 0:
            text = text[:brace]
        if self.language in _LINE_BODIES:
            text = text.split("\n", 1)[0]
        return clean_signature(text)

    def _comment_above(self, row: int) -> str:
        blocks: list[bytes] = []
        while True:
            above = self.comments.get(row - 1)
            if above is None:
                attribute_start = self.attribute_rows.get(row - 1)
                if attribute_start is None or blocks:
                    break
                row = attribute_start
                continue
            blocks.append(above[1])
            row = above[0]
        if not blocks:
            return ""
        texts = [b.decode("utf-8", "replace") for b in reversed(blocks)]
        return clean_comment_block(texts, strip_xml=self.language == "csharp")

    def _python_docstring(self, container: Node | None) -> str:
        if container is None:
            return ""
        for child in container.named_children:
            if child.type == "comment":
                continue
            if child.type == "expression_statement" and child.named_child_count == 1:
                child = child.named_children[0]
            if child.type == "string":
                return clean_string_literal((child.text or b"").decode("utf-8", "replace"))
            return ""
        return ""

    def _docstring(self, unit: OpenUnit) -> str:
        if unit.docstring:
            return unit.docstring
        assert unit.node is not None and unit.outer is not None
        row = unit.outer.start_point[0]
        if self.language == "python":
            found = self._python_docstring(unit.node.child_by_field_name("body"))
            if found:
                return found
        elif self.language == "elixir":
            return self.elixir_docs.get(row - 1, "")
        elif self.language in _STRING_DOCS:
            literal = _STRING_DOCS[self.language](unit.node)
            if literal is not None and literal.type in ("string_literal", "str_lit"):
                return clean_string_literal((literal.text or b"").decode("utf-8", "replace"))
        return self._comment_above(row)

    def _unit_type(self, unit: OpenUnit) -> str:
        if unit.kind != "function":
            return unit.kind
        node = unit.node
        assert node is not None
        if self.spec.methods_in_classes and unit.parent_kind in ("class", "type_scope"):
            return "method"
        if node.type == "method_declaration" and self.language == "go":
            return "method"
        if unit.qualifiers and self.language == "cpp":
            return "method"
        name_node = node.child_by_field_name("name")
        if name_node is not None and name_node.type == "method_index_expression":
            return "method"
        return "function"

    def _finish(self, unit: OpenUnit, unit_type: str, imports: list[str]) -> Unit:
        outer, last = unit.outer, unit.last
        assert outer is not None and last is not None and unit.node is not None
        if last.end_byte < outer.end_byte:
            last = outer
        start = self.source.rfind(b"\n", 0, outer.start_byte) + 1
        full = self.source[start : last.end_byte]
        return Unit(
            name=unit.name,
            qualified_name=unit.qualified,
            file=self.path,
            line=outer.start_point[0] + 1,
            end_line=end_row(last) + 1,
            unit_type=unit_type,
            language=self.language,
            signature=self._signature(unit),
            docstring=self._docstring(unit),
            calls=list(dict.fromkeys(unit.calls))[:MAX_CALLS],
            imports=imports,
            params=(
                list(dict.fromkeys(parameter_names(unit.node, self.spec)))
                if unit.kind == "function"
                else []
            ),
            assigns=list(dict.fromkeys(unit.assigns))[:MAX_ASSIGNS],
            branches=unit.branches,
            loops=unit.loops,
            complexity=1 + unit.branches + unit.loops + unit.bools,
            code=preview(full.decode("utf-8", "replace")),
            content_hash=_content_hash(full, unit.qualified),
        )

    def results(self) -> list[Unit]:
        """The finished units in source order, the module unit (if any) first."""
        imports = [i for i in dict.fromkeys(self.imports) if i][:MAX_IMPORTS]
        units = [self._finish(u, self._unit_type(u), imports) for u in self.units]
        module = self._module_unit(units, imports)
        if module is not None:
            units.insert(0, module)
        return units

    def _module_docstring(self, unit_starts: set[int]) -> str:
        tops: list[Node] = self._top_level_nodes
        if not tops:
            return ""
        if self.language == "python":
            found = self._python_docstring(tops[0].parent)
            if found:
                return found
        rows = sorted(self.comments)
        texts: list[bytes] = []
        last_row = -1
        for comment_end in rows:
            start_row, text = self.comments[comment_end]
            if text.startswith(_SHEBANG.encode()):
                last_row = comment_end
                continue
            if texts and start_row != last_row + 1:
                break
            if not texts and start_row > last_row + 1 and start_row > tops[0].start_point[0]:
                break
            texts.append(text)
            last_row = comment_end
        if not texts or (last_row + 1) in unit_starts:
            return ""
        decoded = [t.decode("utf-8", "replace") for t in texts]
        return clean_comment_block(decoded, strip_xml=self.language == "csharp")

    def _module_unit(self, units: list[Unit], imports: list[str]) -> Unit | None:
        if not self.source.strip():
            return None
        spec = self.spec
        unit_starts = {u.line - 1 for u in units}
        docstring = self._module_docstring(unit_starts)
        has_code = any(
            index not in self.definition_tops
            and index not in self.import_tops
            and node.type not in spec.comments
            and node.type not in spec.imports
            and node.type not in spec.top_level_ignored
            and not (self.language == "python" and index == 0 and node.type == "string")
            for index, node in enumerate(self._top_level_nodes)
        )
        if units and not docstring and not has_code:
            return None
        covered = bytearray(self.source.count(b"\n") + 1)
        for unit in units:
            covered[unit.line - 1 : unit.end_line] = b"\x01" * (unit.end_line - unit.line + 1)
        lines = self.source.decode("utf-8", "replace").split("\n")
        kept = [line for index, line in enumerate(lines) if not covered[index]]
        code = "\n".join(kept).strip("\n")
        stem = self.path.rsplit("/", 1)[-1]
        dotted = self.path.rsplit(".", 1)[0] if "." in stem else self.path
        module = self.module
        return Unit(
            name=stem.rsplit(".", 1)[0] if "." in stem else stem,
            qualified_name=dotted.replace("/", "."),
            file=self.path,
            line=1,
            end_line=max(1, len(lines) - (1 if lines and lines[-1] == "" else 0)),
            unit_type="module",
            language=self.language,
            docstring=docstring,
            calls=list(dict.fromkeys(module.calls))[:MAX_CALLS],
            imports=imports,
            assigns=list(dict.fromkeys(module.assigns))[:MAX_ASSIGNS],
            branches=module.branches,
            loops=module.loops,
            complexity=1 + module.branches + module.loops + module.bools,
            code=preview(code),
            content_hash=_content_hash(self.source, dotted.replace("/", ".")),
        )


def _content_hash(data: bytes, qualified_name: str) -> str:
    digest = hashlib.sha256(data)
    digest.update(b"\0")
    digest.update(qualified_name.encode("utf-8"))
    return digest.hexdigest()[:16]
