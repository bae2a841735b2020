"""A build's unit records, compact on disk and decoded one at a time (specs/019).

A unit is split in two. Its *head* is what ranking, filters and result rows
read (name, qualified name, file, lines, type, language, signature, calls,
branches, loops): one msgpack record per unit, concatenated, found through
an offsets array. Its *body* is what only the builder, snippets, `get_unit`
and the reranker read (docstring, imports, params, assigns, complexity,
code preview, content hash): records of `BODY_BLOCK` units compressed
together with zlib, since code previews are most of the bytes and compress
well. A `UnitTable` holds the encoded bytes and decodes what is touched, so
a daemon serving 100,000 units keeps a few blobs instead of a million
Python objects.
"""

from __future__ import annotations

import functools
import threading
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, overload

import msgspec

from tldr.units import Unit

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["BODY_BLOCK", "EncodedUnits", "UnitTable", "UnitTableWriter", "encode_units"]

BODY_BLOCK = 64
"""Units per compressed body block: large enough for zlib to find the
repeats between neighbouring units (a class and its methods), small enough
that one snippet decompresses ~100 KB at most."""
_ZLIB_LEVEL = 6
_CACHED_BLOCKS = 8


class _Head(msgspec.Struct, array_like=True):
    name: str
    qualified_name: str
    file: int  # index into the table's file paths
    line: int
    end_line: int
    unit_type: str
    language: str
    signature: str
    calls: list[str]
    branches: int
    loops: int


class _Body(msgspec.Struct, array_like=True):
    docstring: str
    imports: list[str]
    params: list[str]
    assigns: list[str]
    complexity: int
    code: str
    content_hash: str


class EncodedUnits(msgspec.Struct, kw_only=True):
    """The encoded form of a unit list, as the units file stores it."""

    paths: list[str]  # file paths the heads refer to by index
    heads: memoryview  # concatenated head records
    head_offsets: memoryview  # little-endian u64 per unit, plus the end
    # zlib-compressed msgpack lists of `BODY_BLOCK` bodies, concatenated: one
    # blob, so reading the file's layout touches none of its pages
    bodies: memoryview
    body_offsets: memoryview  # little-endian u64 per block, plus the end


_head_decoder = msgspec.msgpack.Decoder(_Head)
_bodies_decoder = msgspec.msgpack.Decoder(list[_Body])


def encode_units(units: Sequence[Unit]) -> EncodedUnits:
    """Encode `units` into heads and compressed body blocks (lossless)."""
    writer = UnitTableWriter()
    writer.extend(units)
    return writer.encoded()


_COMPRESSING = 16
"""Full body blocks queued for the compressing thread at most (~2 MB of records)."""


@functools.cache
def _compressor() -> ThreadPoolExecutor:
    """One thread compressing body blocks beside the build (zlib lets go of the GIL)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="tldrf-compress")


class UnitTableWriter:
    """Encodes units as they come, so a build holds their bytes, not their objects.

    `encoded()` gives the units appended so far in the form `encode_units`
    gives (byte for byte: the same heads and the same blocks of `BODY_BLOCK`
    bodies); the writer can go on appending after it.
    """

    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder()
        self._path_ids: dict[str, int] = {}
        self._heads = bytearray()
        self._ends = bytearray()  # little-endian u64 end offset of each head
        self._bodies = bytearray()  # compressed blocks of `BODY_BLOCK` bodies
        self._body_ends = bytearray()  # little-endian u64 end offset of each block
        self._pending: list[_Body] = []  # bodies of the block being filled
        self._compressing: deque[Future[bytes]] = deque()  # full blocks, in order

    def __len__(self) -> int:
        return len(self._ends) // 8

    def extend(self, units: Iterable[Unit]) -> None:
        """Append units in order."""
        for unit in units:
            self.append(unit)

    def append(self, unit: Unit) -> None:
        """Append one unit: its head now, its body when its block is full."""
        file_id = self._path_ids.setdefault(unit.file, len(self._path_ids))
        self._heads += self._encoder.encode(
            _Head(unit.name, unit.qualified_name, file_id, unit.line, unit.end_line,
                  unit.unit_type, unit.language, unit.signature, unit.calls,
                  unit.branches, unit.loops)
        )
        self._ends += len(self._heads).to_bytes(8, "little")
        self._pending.append(
            _Body(unit.docstring, unit.imports, unit.params, unit.assigns, unit.complexity,
                  unit.code, unit.content_hash)
        )
        if len(self._pending) == BODY_BLOCK:
            raw = self._encoder.encode(self._pending)
            self._compressing.append(_compressor().submit(zlib.compress, raw, _ZLIB_LEVEL))
            self._pending = []
            if len(self._compressing) > _COMPRESSING:
                self._collect(_COMPRESSING)

    def _collect(self, keep: int = 0) -> None:
        """Take compressed blocks in order until `keep` are still being compressed."""
        while len(self._compressing) > keep:
            self._bodies += self._compressing.popleft().result()
            self._body_ends += len(self._bodies).to_bytes(8, "little")

    def encoded(self) -> EncodedUnits:
        """The units appended so far (a block still filling is compressed as it is)."""
        self._collect()
        bodies, body_ends = bytes(self._bodies), bytes(8) + bytes(self._body_ends)
        if self._pending:
            bodies += self._compress(self._pending)
            body_ends += len(bodies).to_bytes(8, "little")
        return EncodedUnits(paths=list(self._path_ids), heads=memoryview(bytes(self._heads)),
                            head_offsets=memoryview(bytes(8) + bytes(self._ends)),
                            bodies=memoryview(bodies), body_offsets=memoryview(body_ends))

    def _compress(self, bodies: list[_Body]) -> bytes:
        return zlib.compress(self._encoder.encode(bodies), _ZLIB_LEVEL)


class UnitTable(Sequence[Unit]):
    """The units of a build, decoded when touched.

    `table[i]` is the unit's head: a `Unit` whose body fields (docstring,
    imports, params, assigns, complexity, code, content hash) are left at
    their defaults; `full(i)` is the whole unit. Iterating yields heads.

    Raises (on access):
        msgspec.DecodeError: the records are damaged (the file's size and
            checksum are verified before a table is made, so only a file
            written wrong gets here).
    """

    def __init__(self, encoded: EncodedUnits, *, check: Callable[[], None] | None = None) -> None:
        """The units of `encoded`; `check()`, when given, runs before each read.

        For records mapped from a file (`MappedFile.check`): a file truncated
        under the reader is an error, not SIGBUS.
        """
        import numpy as np

        self._check = check

        self._paths = encoded.paths
        self._heads = encoded.heads
        self._offsets: npt.NDArray[np.uint64] = np.frombuffer(encoded.head_offsets, dtype="<u8")
        self._bodies = encoded.bodies
        self._body_offsets: npt.NDArray[np.uint64] = np.frombuffer(encoded.body_offsets,
                                                                   dtype="<u8")
        self._blocks: OrderedDict[int, list[_Body]] = OrderedDict()
        self._blocks_lock = threading.Lock()  # the daemon serves searches from threads
        if len(self._offsets) == 0 or int(self._offsets[-1]) != len(self._heads):
            raise msgspec.DecodeError("unit head offsets do not match the head records")
        if (len(self._body_offsets) != -(-len(self) // BODY_BLOCK) + 1
                or int(self._body_offsets[-1]) != len(self._bodies)):
            raise msgspec.DecodeError("unit body offsets do not match the body blocks")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> Unit: ...

    @overload
    def __getitem__(self, index: slice) -> list[Unit]: ...

    def __getitem__(self, index: int | slice) -> Unit | list[Unit]:
        if self._check is not None:
            self._check()
        if isinstance(index, slice):
            return [self._head(i) for i in range(*index.indices(len(self)))]
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"unit {index} out of range ({count} units)")
        return self._head(index)

    def __iter__(self) -> Iterator[Unit]:
        if self._check is not None:
            self._check()
        for index in range(len(self)):
            yield self._head(index)

    def _head(self, index: int) -> Unit:
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        head = _head_decoder.decode(self._heads[start:end])
        return Unit(
            name=head.name,
            qualified_name=head.qualified_name,
            file=self._paths[head.file],
            line=head.line,
            end_line=head.end_line,
            unit_type=head.unit_type,
            language=head.language,
            signature=head.signature,
            calls=head.calls,
            branches=head.branches,
            loops=head.loops,
        )

    def full(self, index: int) -> Unit:
        """The whole unit at `index`, body included."""
        unit = self[index]
        if index < 0:
            index += len(self)
        _fill(unit, self._block(index // BODY_BLOCK)[index % BODY_BLOCK])
        return unit

    def full_units(self, start: int = 0, stop: int | None = None) -> list[Unit]:
        """The units `start` to `stop` (default: all), whole; each block decoded once, not cached.

        What a build reads: the previous build's units it reuses, and its own
        units in bounded batches.
        """
        stop = len(self) if stop is None else min(stop, len(self))
        units = self[start:stop]
        for number in range(start // BODY_BLOCK, -(-stop // BODY_BLOCK)):
            first = number * BODY_BLOCK
            for offset, body in enumerate(self._decode_block(number)):
                if start <= first + offset < stop:
                    _fill(units[first + offset - start], body)
        return units

    def _block(self, number: int) -> list[_Body]:
        with self._blocks_lock:
            block = self._blocks.get(number)
            if block is not None:
                self._blocks.move_to_end(number)
                return block
        block = self._decode_block(number)
        with self._blocks_lock:
            self._blocks[number] = block
            if len(self._blocks) > _CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        return block

    def _decode_block(self, number: int) -> list[_Body]:
        start, end = int(self._body_offsets[number]), int(self._body_offsets[number + 1])
        try:
            return _bodies_decoder.decode(zlib.decompress(self._bodies[start:end]))
        except zlib.error as exc:
            raise msgspec.DecodeError(f"unit body block {number}: {exc}") from exc


def _fill(unit: Unit, body: _Body) -> None:
    unit.docstring = body.docstring
    unit.imports = body.imports
    unit.params = body.params
    unit.assigns = body.assigns
    unit.complexity = body.complexity
    unit.code = body.code
    unit.content_hash = body.content_hash
