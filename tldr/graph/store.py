"""graph.<build_id>.msgpack: write it whole or not at all, read it whole or refuse.

The index build writes the file before it commits metadata.json (which
names it and records its size and CRC-32), so a reader that follows
metadata never meets a half-written graph; a file that fails its stamp or
does not decode raises `GraphCorruptError` and is never partly used.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import msgspec

from tldr._atomic import atomic_write_bytes
from tldr._exceptions import GraphCorruptError
from tldr.graph.model import GRAPH_FORMAT, GraphFile

__all__ = ["GRAPH_PREFIX", "encode_graph", "graph_file_name", "read_graph", "write_graph"]

GRAPH_PREFIX = "graph."
_decoder = msgspec.msgpack.Decoder(GraphFile)
_encoder = msgspec.msgpack.Encoder()


def graph_file_name(build_id: str) -> str:
    """The versioned file name of a build's graph."""
    return f"{GRAPH_PREFIX}{build_id}.msgpack"


def encode_graph(graph: GraphFile) -> bytes:
    """The graph's bytes as stored."""
    return _encoder.encode(graph)


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
    try:
        graph = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise GraphCorruptError(f"cannot decode the code graph {path}: {exc}") from exc
    if graph.format != GRAPH_FORMAT or len(graph.edges) != len(graph.files):
        raise GraphCorruptError(f"the code graph {path} has format {graph.format}, "
                                f"expected {GRAPH_FORMAT}")
    return graph
