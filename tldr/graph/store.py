"""graph.<build_id>.msgpack: write it whole or not at all, read it whole or refuse.

The file is the msgpack of a `GraphFile`, zlib-compressed (format 5).

The index build writes the file before it commits metadata.json (which
names it and records its size and CRC-32), so a reader that follows
metadata never meets a half-written graph; a file that fails its stamp or
does not decode raises `GraphCorruptError` and is never partly used.

A read holds each repeated string and number once (a decoder makes a new
object for every occurrence: Django's 36k call sites name 5k distinct
callees), decoding one file's record at a time so that the duplicates it
drops are reused by the next file's (specs/016-code-graph.md § Held in
memory).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TypeVar

import msgspec

from tldr._atomic import atomic_write_bytes
from tldr._exceptions import GraphCorruptError
from tldr.graph.model import GRAPH_FORMAT, Def, Edge, FileRecord, GraphFile
from tldr.units.facts import CallSite, FileFacts, ImportBinding, VarType

__all__ = ["GRAPH_PREFIX", "SharedValues", "decode_graph", "encode_graph", "graph_file_name",
           "read_graph", "write_graph"]

GRAPH_PREFIX = "graph."
_ZLIB_LEVEL = 1
_encoder = msgspec.msgpack.Encoder()
_T = TypeVar("_T", str, int)


class _Encoded(msgspec.Struct, kw_only=True):
    """A graph file as stored, each file's record and edges left encoded until read."""

    format: int = GRAPH_FORMAT
    build_id: str
    files: list[msgspec.Raw]
    edges: list[msgspec.Raw]
    resolvers: dict[str, str] = {}


_outer_decoder = msgspec.msgpack.Decoder(_Encoded)
_record_decoder = msgspec.msgpack.Decoder(FileRecord)
_edges_decoder = msgspec.msgpack.Decoder(list[Edge])


class _Shared(dict[_T, _T]):
    """Equal values held once: `shared[value]` is the first value equal to it."""

    def __missing__(self, key: _T) -> _T:
        self[key] = key
        return key


def graph_file_name(build_id: str) -> str:
    """The versioned file name of a build's graph."""
    return f"{GRAPH_PREFIX}{build_id}.msgpack"


def encode_graph(graph: GraphFile) -> bytes:
    """The graph's bytes as stored: msgpack, zlib-compressed.

    Call sites and edges repeat names and numbers: the fastest level keeps
    a 100k-unit project's graph at about a quarter of its msgpack size
    (54 -> 15 MB) for ~0.4 s of writing (specs/019).
    """
    return zlib.compress(_encoder.encode(graph), _ZLIB_LEVEL)


def write_graph(directory: Path, graph: GraphFile) -> str:
    """Write `graph` under its build id's name (temp file, fsync, rename); return the name."""
    name = graph_file_name(graph.build_id)
    path = directory / name
    atomic_write_bytes(path, encode_graph(graph))
    return name


def read_graph(path: Path, *, size: int | None = None, crc32: int | None = None) -> GraphFile:
    """Read a whole graph file, checked against its recorded stamp when one is given.

    Raises:
        GraphCorruptError: missing, truncated, altered, undecodable or of
            another format.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GraphCorruptError(f"cannot read the code graph {path}: {exc.strerror}") from exc
    if size is not None and len(data) != size:
        raise GraphCorruptError(f"the code graph {path} is damaged ({len(data)} bytes, "
                                f"expected {size})")
    if crc32 is not None and zlib.crc32(data) != crc32:
        raise GraphCorruptError(f"the code graph {path} is damaged (checksum mismatch)")
    return decode_graph(data, name=str(path))


def decode_graph(data: bytes, *, name: str = "graph") -> GraphFile:
    """A graph from its stored bytes, each repeated string and number held once.

    Raises:
        GraphCorruptError: undecodable or of another format (`name` says
            which file in the message).
    """
    try:
        encoded = _outer_decoder.decode(zlib.decompress(data))
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise GraphCorruptError(f"cannot decode the code graph {name}: {exc}") from exc
    if encoded.format != GRAPH_FORMAT or len(encoded.edges) != len(encoded.files):
        raise GraphCorruptError(f"the code graph {name} has format {encoded.format}, "
                                f"expected {GRAPH_FORMAT}")
    shared = SharedValues()
    text, number = shared.text, shared.number
    files, edges = [], []
    try:
        for raw_record, raw_edges in zip(encoded.files, encoded.edges, strict=True):
            files.append(shared.record(_record_decoder.decode(raw_record)))
            edges.append([Edge(edge.site, text[edge.kind], _shared_numbers(edge.targets, number))
                          for edge in _edges_decoder.decode(raw_edges)])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise GraphCorruptError(f"cannot decode the code graph {name}: {exc}") from exc
    return GraphFile(format=encoded.format, build_id=encoded.build_id, files=files, edges=edges,
                     resolvers=encoded.resolvers)


def _shared_numbers(numbers: list[int], number: _Shared[int]) -> list[int]:
    """`numbers` with each replaced by its shared equal, in place (the list keeps its size)."""
    numbers[:] = [number[value] for value in numbers]
    return numbers


class SharedValues:
    """Equal strings and numbers of many file records, held once.

    A decoder makes a new object for every occurrence: a graph read from its
    file, or records arriving from the parse workers, pass through one
    `SharedValues` so that repeated names (callees, receivers, kinds, modules)
    and line numbers are shared across files.
    """

    def __init__(self) -> None:
        self.text: _Shared[str] = _Shared()
        self.number: _Shared[int] = _Shared()

    def record(self, record: FileRecord) -> FileRecord:
        """`record` rebuilt from the shared values (the fields that repeat across a project)."""
        return _shared_record(record, self.text, self.number)


def _shared_record(record: FileRecord, text: _Shared[str], number: _Shared[int]) -> FileRecord:
    facts = record.facts
    return FileRecord(
        path=record.path, language=text[record.language], module=record.module,
        defs=[Def(text[d.name], d.qualified, text[d.kind], number[d.line], number[d.end_line],
                  d.parent, text[d.signature], d.doc, text[d.local_names])
              for d in record.defs],
        facts=FileFacts(
            sites=[CallSite(number[s.line], s.col, s.caller, text[s.name], text[s.receiver])
                   for s in facts.sites],
            imports=[ImportBinding(text[b.local], text[b.module], text[b.symbol], number[b.line])
                     for b in facts.imports],
            types=[VarType(t.scope, text[t.var], text[t.type]) for t in facts.types],
            parents=facts.parents,
            bases={index: [text[base] for base in bases] for index, bases in facts.bases.items()},
        ),
    )
