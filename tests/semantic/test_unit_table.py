"""Unit records in format 3: lossless, mapped, decoded per unit, old formats rebuilt (specs/019)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from unit_factory import make_unit

from tldr import IndexIncompatibleError
from tldr.paths import IndexPaths
from tldr.semantic import Searcher, build_semantic_index, is_up_to_date
from tldr.semantic.storage import (
    UNITS_FORMAT,
    UnitsFile,
    atomic_write_bytes,
    read_metadata,
    read_units_file,
    write_metadata,
)
from tldr.semantic.unit_table import BODY_BLOCK, UnitTable, encode_units
from tldr.units import Unit

MODEL = "hash-256"
_HEAD_FIELDS = ("name", "qualified_name", "file", "line", "end_line", "unit_type", "language",
                "signature", "calls", "branches", "loops")


def _units(count: int) -> list[Unit]:
    units = []
    for number in range(count):
        units.append(
            make_unit(
                f"f{number}",
                file=f"pkg/m{number % 7}.py" if number % 5 else "pkg/ünï cödé.py",
                qualified_name=f"C{number % 3}.f{number}",
                line=number + 1,
                end_line=number + 4,
                signature=f"def f{number}(x: int) -> str" if number % 2 else "",
                docstring="Return 🐍 text.\n\nLong." * (number % 3),
                calls=[f"g{number}", "print"] if number % 4 else [],
                imports=["os"] if number % 6 == 1 else [],
                params=["x"],
                assigns=["y"] * (number % 2),
                branches=number % 3,
                loops=number % 2,
                complexity=1 + number % 4,
                code=f"def f{number}(x):\n    return str(x)  # {'é' * number}\n",
            )
        )
    return units


def test_units_round_trip_every_field_across_blocks() -> None:
    units = _units(3 * BODY_BLOCK + 5)
    table = UnitTable(msgspec.msgpack.decode(msgspec.msgpack.encode(encode_units(units)),
                                             type=type(encode_units([]))))
    assert len(table) == len(units)
    assert table.full_units() == units
    assert [table.full(i) for i in (0, BODY_BLOCK, len(units) - 1, -1)] == [
        units[0], units[BODY_BLOCK], units[-1], units[-1]
    ]
    for head, unit in zip(table, units, strict=True):
        assert {f: getattr(head, f) for f in _HEAD_FIELDS} == {
            f: getattr(unit, f) for f in _HEAD_FIELDS
        }
        assert head.code == "" and head.docstring == ""  # bodies stay encoded
    assert table[1:3] == [table[1], table[2]]
    with pytest.raises(IndexError):
        table[len(units)]


def test_body_offsets_that_do_not_match_the_blocks_are_refused() -> None:
    encoded = encode_units(_units(BODY_BLOCK + 1))
    for damaged in (
        msgspec.structs.replace(encoded, body_offsets=encoded.body_offsets[:-8]),
        msgspec.structs.replace(encoded, bodies=encoded.bodies[:-1]),
    ):
        with pytest.raises(msgspec.DecodeError, match="body offsets"):
            UnitTable(damaged)


def test_a_committed_units_file_is_mapped_not_copied(project: Path) -> None:
    import mmap

    build_semantic_index(project, model=MODEL)
    paths = IndexPaths(project)
    metadata = read_metadata(paths)
    assert metadata is not None
    units_file = read_units_file(paths, metadata)
    for view in (units_file.encoded.heads, units_file.encoded.bodies, units_file.key_array):
        assert isinstance(view.obj, mmap.mmap)
    assert units_file.units == UnitTable(encode_units(units_file.units)).full_units()


def test_empty_table() -> None:
    table = UnitTable(encode_units([]))
    assert len(table) == 0
    assert table.full_units() == []


def test_units_file_packs_keys_and_hashes() -> None:
    units = _units(3)
    packed = UnitsFile.pack(
        build_id="b", files=[], units=units, keys=[7, 2**40, 0],
        text_hashes=["0f" * 16, "a1" * 16, "00" * 16], next_key=2**40 + 1,
        skipped=[], replaced=[],
    )
    again = msgspec.msgpack.decode(msgspec.msgpack.encode(packed), type=UnitsFile)
    assert again.keys == [7, 2**40, 0]
    assert again.text_hashes == ["0f" * 16, "a1" * 16, "00" * 16]
    assert again.units == units


def test_units_file_of_another_format_is_rebuilt_never_misread(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    paths = IndexPaths(project)
    metadata = read_metadata(paths)
    assert metadata is not None and metadata.units_format == UNITS_FORMAT
    # An index written before format 2: metadata without units_format, v1 records.
    old_units = {"format": 1, "build_id": "x", "files": [], "units": [], "keys": [],
                 "text_hashes": [], "next_key": 0}
    atomic_write_bytes(paths.semantic_dir / metadata.units_file,
                       msgspec.msgpack.encode(old_units))
    metadata.units_format = 1
    write_metadata(paths, metadata)
    assert not is_up_to_date(project)
    with pytest.raises(IndexIncompatibleError, match="--rebuild"):
        read_units_file(paths, metadata)
    with pytest.raises(IndexIncompatibleError, match="format 1"):
        Searcher(project).search("anything", mode="lexical")
    report = build_semantic_index(project, model=MODEL)
    assert report.status == "built"  # in full: nothing of the old build was reused
    rebuilt = read_metadata(paths)
    assert rebuilt is not None and rebuilt.units_format == UNITS_FORMAT
    assert Searcher(project).search("parse config file", k=3, mode="lexical")


def test_a_units_file_claiming_format_1_is_refused(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    paths = IndexPaths(project)
    metadata = read_metadata(paths)
    assert metadata is not None
    atomic_write_bytes(paths.semantic_dir / metadata.units_file,
                       msgspec.msgpack.encode({"format": 1, "units": []}))
    write_metadata(paths, metadata)  # stamps match: only the format tells
    with pytest.raises(IndexIncompatibleError, match="format 1"):
        read_units_file(paths, metadata)


def test_search_rows_snippets_and_get_unit_use_whole_units(project: Path) -> None:
    build_semantic_index(project, model=MODEL)
    searcher = Searcher(project)
    assert isinstance(searcher.build.units, UnitTable)
    rows = searcher.search("parse config file", k=3, snippets=True)
    assert rows and all(row["snippet"] for row in rows)
    whole = searcher.build.full_unit(0)
    got = searcher.get_unit(qualified_name=whole.qualified_name, file=whole.file)
    assert got["qualified_name"] == whole.qualified_name
    assert got["docstring"] == whole.docstring and got["imports"] == whole.imports
