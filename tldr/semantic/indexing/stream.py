"""A build's units as they stream from the walk to its writers, in bounded batches.

A build never holds all of its units as objects (specs/019-compact-index.md
§ Memory of a build). Each file's units, parsed or reused, go at once to:

- the unit records (`UnitTableWriter`: encoded heads, compressed bodies);
- the callers of each name (`CallerIndex`: what the called-by line of an
  embedding text needs, bounded per name);
- the BM25 builder (`LexicalBuilder`: token ids and counts, no text).

After the walk, the embedding texts are made again from the records, a
batch at a time (`UnitTexts`), for their hashes, the fast tier and the
model. The previous build's units are decoded only for the files reused,
from its records (`PreviousUnits`).
"""

from __future__ import annotations

from collections.abc import Iterator

from tldr.semantic.lexical import LexicalBuilder, LexicalIndex, PreviousPostings
from tldr.semantic.storage import FileStamp, UnitsFile
from tldr.semantic.text import CallerIndex, embedding_text
from tldr.semantic.unit_table import EncodedUnits, UnitTable, UnitTableWriter
from tldr.units import Unit

__all__ = ["BuildUnits", "PreviousUnits", "UnitTexts"]


class BuildUnits:
    """What a build keeps of the units it has seen, file after file."""

    def __init__(self, previous_postings: PreviousPostings | None = None) -> None:
        self.stamps: list[FileStamp] = []
        self._records = UnitTableWriter()
        self._callers = CallerIndex()
        self._lexical = LexicalBuilder()
        self._previous_postings = previous_postings  # the previous build's BM25 postings

    def __len__(self) -> int:
        return len(self._records)

    def add_file(self, stamp: FileStamp, units: list[Unit], *,
                 previous_position: int | None = None) -> None:
        """One indexed file and its units (the next in index order).

        `previous_position`: the units are the previous build's, from this
        position on (their BM25 tokens can come from its postings).
        """
        self.stamps.append(stamp)
        self._records.extend(units)
        self._callers.add(units)
        postings = self._previous_postings
        self._lexical.add(units, previous=None if postings is None or previous_position is None
                          else (postings, previous_position))

    def so_far(self) -> tuple[EncodedUnits, LexicalIndex]:
        """The unit records and BM25 index of the units so far (more may come)."""
        return self._records.encoded(), self._lexical.index()

    def finish(self) -> tuple[EncodedUnits, LexicalIndex]:
        """The unit records and BM25 index of every unit; the writers let go of their buffers."""
        records, index = self._records.encoded(), self._lexical.finish()
        self._records, self._lexical = UnitTableWriter(), LexicalBuilder()
        return records, index

    def texts(self, records: EncodedUnits) -> UnitTexts:
        """The embedding texts of `records`, the units added so far."""
        return UnitTexts(records, self._callers)


class UnitTexts:
    """The embedding texts of a build's units, made from their records when asked for."""

    def __init__(self, records: EncodedUnits, callers: CallerIndex) -> None:
        self._table = UnitTable(records)
        self._callers = callers

    def __len__(self) -> int:
        return len(self._table)

    def _text(self, unit: Unit) -> str:
        return embedding_text(unit, self._callers.called_by(unit))

    def batches(self, size: int) -> Iterator[list[str]]:
        """Every text in order, `size` at a time."""
        for start in range(0, len(self._table), size):
            yield [self._text(unit) for unit in self._table.full_units(start, start + size)]

    def at(self, positions: list[int]) -> list[str]:
        """The texts of these units (ascending positions decode each block once)."""
        return [self._text(self._table.full(position)) for position in positions]


class PreviousUnits:
    """The previous build's files, and the units of each decoded when it is reused."""

    def __init__(self, previous: UnitsFile | None) -> None:
        self.replaced: set[str] = set()
        self._stamps: dict[str, FileStamp] = {}
        self._spans: dict[str, tuple[int, int]] = {}
        self._table: UnitTable | None = None
        self.contiguous = True  # every file's units are one run (as builds write them)
        if previous is None:
            return
        self.replaced = set(previous.replaced)
        self._stamps = {stamp.path: stamp for stamp in previous.files}
        self._table = previous.table
        for position, head in enumerate(self._table):
            span = self._spans.get(head.file)
            if span is None:
                self._spans[head.file] = (position, position + 1)
            elif span[1] == position:
                self._spans[head.file] = (span[0], position + 1)
            else:  # units of one file apart (never written so): parse the file again
                self._stamps.pop(head.file, None)
                self.contiguous = False

    def stamp(self, path: str) -> FileStamp | None:
        """The file as the previous build read it, if its units can be reused."""
        return self._stamps.get(path)

    def units(self, path: str) -> list[Unit]:
        """The previous build's units of `path`, whole."""
        span = self._spans.get(path)
        if span is None or self._table is None:
            return []
        return self._table.full_units(*span)

    def spans(self) -> dict[str, tuple[int, int]]:
        """Each previous file's units: (first position, end)."""
        return self._spans

    def position(self, path: str) -> int | None:
        """The previous build's position of the first unit of `path`."""
        span = self._spans.get(path)
        return None if span is None else span[0]
