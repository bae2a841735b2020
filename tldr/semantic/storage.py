"""The on-disk index: metadata (the commit point), unit records, commit and GC.

Layout and rules are DESIGN.md § On disk. Readers open `metadata.json` first
and only then the files it names; writers make every file complete under a
new versioned name before `metadata.json` is replaced, so a reader never
sees a mix of builds.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from tldr._atomic import atomic_write_bytes
from tldr._exceptions import (
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    LegacyIndexError,
)
from tldr._mapped import MappedFile
from tldr.paths import IndexPaths
from tldr.semantic.unit_table import EncodedUnits, UnitTable, encode_units
from tldr.units import Unit

__all__ = [
    "KEEP_VERSIONS",
    "METADATA_SCHEMA_VERSION",
    "UNITS_FORMAT",
    "ArtifactStamp",
    "DenseCoverage",
    "FastTierMeta",
    "FileStamp",
    "Metadata",
    "ProjectSignature",
    "UnitsFile",
    "VectorStoreMeta",
    "atomic_write_bytes",
    "build_id_of",
    "collect_garbage",
    "new_build_id",
    "read_legacy_index",
    "read_metadata",
    "open_units_file",
    "read_units_file",
    "require_metadata",
    "verify_artifacts",
    "write_metadata",
]

METADATA_SCHEMA_VERSION = 2
UNITS_FORMAT = 3
"""Layout of units.<build_id>.msgpack (specs/019-compact-index.md); 1 was one
msgpack record per unit with its file path and hex text hash inside; 2 kept
the compressed body blocks as a list (reading a mapped file's layout then
touched a page in every block)."""
KEEP_VERSIONS = 2
"""Builds GC keeps besides the active and previous active: the newest two,
which after a commit are those two (a reader that read the old metadata can
still open its files). A third kept build cost as much disk as the active
one and served no reader (specs/019-compact-index.md)."""
_CHUNK = 1 << 20
_TEXT_HASH_BYTES = 16  # tldr.semantic.text.text_hash: 32 hex digits
#: A build id in a name; `_` for its `-` where an engine refuses `-` (Milvus).
_BUILD_ID = re.compile(r"(\d{8}T\d{6}Z)[-_]([0-9a-f]{8})")


class ProjectSignature(msgspec.Struct):
    """What the project looked like when it was indexed (`git` or `fs`)."""

    kind: str
    value: str


class VectorStoreMeta(msgspec.Struct, kw_only=True):
    """The `vector_store` block of metadata.json."""

    backend: str
    format: str
    backend_version: str
    build_id: str
    index_file: str
    previous_index_file: str | None = None
    metric_intent: str = "cosine_similarity"
    backend_metric: str = "cos"
    dtype: str = "f32"
    embeddings_normalized: bool = True
    score_transform: str = "one_minus_distance"
    build_params: dict[str, object] = {}


class DenseCoverage(msgspec.Struct):
    """A partial build's coverage (specs/010-lexical-first.md).

    `embedded` of its `total` units have a vector; `files_pending` files were
    not parsed yet.
    """

    embedded: int
    total: int
    files_pending: int = 0


class FastTierMeta(msgspec.Struct, kw_only=True):
    """The fast tier of a partial build (specs/020-fast-tier-and-scale.md).

    `index_file` is an exact index (keys and matrix) of `count` units (every unit of the
    build, keyed like the main index) embedded with the static `model`;
    `revision` names the exact model file, so only that model queries it.
    """

    model: str
    revision: str
    dimension: int
    index_file: str
    count: int


class ArtifactStamp(msgspec.Struct):
    """A committed file's size and CRC-32: damage shows before the file is parsed or mapped."""

    size: int
    crc32: int


class Metadata(msgspec.Struct, kw_only=True):
    """metadata.json, schema v2: the single commit point of a build."""

    schema_version: int = METADATA_SCHEMA_VERSION
    created_at: str
    tldr_version: str
    model: str
    lang: list[str] | None
    dimension: int
    count: int
    text_format: str
    extractor_version: str
    project_signature: ProjectSignature
    units_file: str
    lexical_file: str | None = None
    lexical_format: str | None = None
    files_indexed: int = 0
    files_replaced: int = 0  # indexed, though decoded with U+FFFD replacement
    files_skipped: dict[str, int] = {}
    dense: DenseCoverage | None = None  # set on a partial build; None: every unit has a vector
    fast: FastTierMeta | None = None  # a partial build's fast tier (spec 020); None: none
    vector_store: VectorStoreMeta
    artifacts: dict[str, ArtifactStamp] = {}  # file name -> stamp; empty before issue 11
    graph_file: str | None = None  # the code graph of the build (specs/016); None before it
    units_format: int = 1  # missing before format 2: such a build is rebuilt, never misread


class FileStamp(msgspec.Struct, array_like=True):
    """An indexed file as it was read: enough to tell whether it changed."""

    path: str
    language: str
    size: int
    mtime_ns: int
    sha256: str


class UnitsFile(msgspec.Struct, kw_only=True):
    """units.<build_id>.msgpack (format 2): every unit of a build with its vector key.

    Units are stored as `EncodedUnits` (heads decoded per unit, bodies in
    compressed blocks); keys as little-endian u64 and text hashes as raw
    bytes, `_TEXT_HASH_BYTES` each. Make one with `pack`; read the units
    through `table` (heads, what a search needs) or `units` (whole).
    """

    format: int = UNITS_FORMAT
    build_id: str
    files: list[FileStamp]
    encoded: EncodedUnits
    key_array: memoryview
    text_digests: memoryview
    next_key: int
    skipped: list[tuple[str, str]] = []  # (path, reason), the first MAX_LISTED_SKIPS
    replaced: list[str] = []  # paths decoded with replacement

    @classmethod
    def pack(
        cls,
        *,
        build_id: str,
        files: list[FileStamp],
        units: Sequence[Unit] | EncodedUnits,
        keys: list[int],
        text_hashes: list[str],
        next_key: int,
        skipped: list[tuple[str, str]],
        replaced: list[str],
    ) -> UnitsFile:
        """Encode a build's units (unless `units` are encoded already), keys and text hashes."""
        import numpy as np

        if any(len(digest) != 2 * _TEXT_HASH_BYTES for digest in text_hashes):
            raise ValueError(f"text hashes must be {2 * _TEXT_HASH_BYTES} hex digits")
        return cls(
            build_id=build_id,
            files=files,
            encoded=units if isinstance(units, EncodedUnits) else encode_units(units),
            key_array=memoryview(np.asarray(keys, dtype="<u8").tobytes()),
            text_digests=memoryview(bytes.fromhex("".join(text_hashes))),
            next_key=next_key,
            skipped=skipped,
            replaced=replaced,
        )

    @property
    def table(self) -> UnitTable:
        """The units, decoded when touched."""
        return UnitTable(self.encoded)

    @property
    def units(self) -> list[Unit]:
        """Every unit, whole."""
        return self.table.full_units()

    @property
    def keys(self) -> list[int]:
        """The vector key of each unit."""
        import numpy as np

        keys: list[int] = np.frombuffer(self.key_array, dtype="<u8").tolist()
        return keys

    @property
    def text_hashes(self) -> list[str]:
        """The embedding text hash of each unit (hex, as `text_hash` gives it)."""
        digests, size = self.text_digests, _TEXT_HASH_BYTES
        return [digests[i : i + size].hex() for i in range(0, len(digests), size)]


def new_build_id() -> str:
    """A sortable, filesystem-safe id: UTC timestamp plus 8 hex digits."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(4)}"


def build_id_of(name: str) -> str | None:
    """The build id embedded in a versioned file or collection name."""
    match = _BUILD_ID.search(name)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def read_metadata(paths: IndexPaths) -> Metadata | None:
    """The committed metadata, or None when no index exists yet.

    Raises:
        LegacyIndexError: a schema v1 FAISS index is there instead.
        IndexCorruptError: metadata.json exists but cannot be read.
    """
    try:
        raw = paths.metadata.read_bytes()
    except FileNotFoundError:
        if paths.legacy_faiss.exists():
            raise _legacy_error(paths) from None
        return None
    except OSError as exc:
        raise _corrupt(paths, f"cannot read {paths.metadata}: {exc}") from exc
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise _corrupt(paths, f"{paths.metadata} is not valid JSON") from exc
    if isinstance(document, dict) and "schema_version" not in document:
        raise _legacy_error(paths)
    try:
        return msgspec.convert(document, Metadata)
    except msgspec.ValidationError as exc:
        raise _corrupt(paths, f"{paths.metadata} does not match schema v2: {exc}") from exc


def require_metadata(paths: IndexPaths) -> Metadata:
    """Like `read_metadata`, but a missing index is an error naming the fix."""
    metadata = read_metadata(paths)
    if metadata is None:
        raise IndexMissingError(
            f"no semantic index for {paths.root}; run: tldrf semantic index {paths.root}"
        )
    return metadata


def write_metadata(paths: IndexPaths, metadata: Metadata) -> None:
    """Commit a build: stamp the files it names, then atomically replace metadata.json."""
    metadata.artifacts = {
        name: _stamp(paths.semantic_dir / name) for name in _artifact_files(paths, metadata)
    }
    atomic_write_bytes(paths.metadata, msgspec.json.format(msgspec.json.encode(metadata)))


def verify_artifacts(paths: IndexPaths, metadata: Metadata) -> None:
    """Check every file the build names against its recorded size and CRC-32.

    Metadata written before stamps existed is checked for missing files only.

    Raises:
        IndexCorruptError: a file is missing, truncated, grown or altered; the
            message names it and the fix.
    """
    for name in (metadata.units_file, metadata.lexical_file):
        if name and not (paths.semantic_dir / name).is_file():
            raise _corrupt(paths, f"{paths.semantic_dir / name} is missing")
    for name, expected in metadata.artifacts.items():
        path = paths.semantic_dir / name
        try:
            size = path.stat().st_size
        except OSError:
            raise _corrupt(paths, f"{path} is missing") from None
        if size != expected.size:
            raise _corrupt(paths, f"{path} is damaged ({size} bytes, expected {expected.size})")
        if _crc32(path) != expected.crc32:
            raise _corrupt(paths, f"{path} is damaged (checksum mismatch)")


def _artifact_files(paths: IndexPaths, metadata: Metadata) -> list[str]:
    """The plain files of the index directory a build names.

    A server-side collection (qdrant) has none.
    """
    names = [metadata.units_file, metadata.lexical_file, metadata.vector_store.index_file,
             metadata.graph_file]
    if metadata.fast is not None:
        names.append(metadata.fast.index_file)
    return [
        name for name in names
        if name and "/" not in name and (paths.semantic_dir / name).is_file()
    ]


def _stamp(path: Path) -> ArtifactStamp:
    return ArtifactStamp(size=path.stat().st_size, crc32=_crc32(path))


# CRC-32 by file identity: a build checks the same files several times (up to
# date? before and under the lock, then reusing the previous build), a daemon
# on each reload. Any write changes ctime, which no one can set back.
_crc_memo: dict[tuple[int, int, int, int, int], int] = {}


def _crc32(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
                        info.st_ctime_ns)
            if identity in _crc_memo:
                return _crc_memo[identity]
            checksum = 0
            while chunk := handle.read(_CHUNK):
                checksum = zlib.crc32(chunk, checksum)
    except OSError:
        return -1  # unreadable: never matches a recorded checksum
    if len(_crc_memo) > 64:
        _crc_memo.clear()
    _crc_memo[identity] = checksum
    return checksum


_units_decoder = msgspec.msgpack.Decoder(UnitsFile)


def read_units_file(paths: IndexPaths, metadata: Metadata, *, verify: bool = True) -> UnitsFile:
    """`open_units_file` for a reader that does not keep the records past its own work."""
    return open_units_file(paths, metadata, verify=verify)[0]


def open_units_file(paths: IndexPaths, metadata: Metadata, *,
                    verify: bool = True) -> tuple[UnitsFile, MappedFile]:
    """The unit records a committed build points at, once the build's files check out.

    The records are views into a map of the file: a long-lived reader calls
    the `MappedFile`'s `check()` before it reads them again.

    Every reader of a build's units (a search, an incremental build) gets
    `IndexCorruptError` for a damaged build instead of a part of it;
    `verify=False` for a caller that just ran `verify_artifacts` itself.

    Raises:
        IndexIncompatibleError: the build's units are in another format
            (an index written by another version); rebuild it.
        IndexCorruptError: the file is damaged.
    """
    path = paths.semantic_dir / metadata.units_file
    if metadata.units_format != UNITS_FORMAT:
        raise _incompatible(paths, path, metadata.units_format)
    if verify:
        verify_artifacts(paths, metadata)
    try:
        mapped = MappedFile(path)  # the records' bytes are views into the map
        data = mapped.map
        found = msgspec.msgpack.decode(data, type=_FormatOnly).format
        if found != UNITS_FORMAT:
            raise _incompatible(paths, path, found)
        units_file = _units_decoder.decode(data)
        units_file.table  # noqa: B018 - checks the head offsets against the records
    except (OSError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _corrupt(paths, f"cannot read {path}: {exc}") from exc
    return units_file, mapped


class _FormatOnly(msgspec.Struct):
    """The one field every units file format has: read before the rest."""

    format: int = 1


def _incompatible(paths: IndexPaths, path: Path, found: int) -> IndexIncompatibleError:
    return IndexIncompatibleError(
        f"{path} holds unit records in format {found}; this version reads format "
        f"{UNITS_FORMAT}; run: tldrf semantic index --rebuild {paths.root}"
    )


def read_legacy_index(paths: IndexPaths) -> tuple[Metadata, list[Unit]]:
    """The metadata and units of a schema v1 index, in today's shapes.

    v1 kept the unit list inside metadata.json next to a bare `index.faiss`
    whose row positions are the unit ids.
    """
    from tldr.units import language_for_path

    try:
        document = json.loads(paths.metadata.read_bytes())
        units = [
            Unit(
                name=entry["name"],
                qualified_name=entry.get("qualified_name") or entry["name"],
                file=entry["file"],
                line=int(entry.get("line", 1)),
                end_line=int(entry.get("end_line") or entry.get("line", 1)),
                unit_type=entry.get("unit_type", "function"),
                language=entry.get("language") or language_for_path(entry["file"]) or "",
                signature=entry.get("signature") or "",
                docstring=entry.get("docstring") or "",
            )
            for entry in document.get("units", [])
        ]
        model = str(document["model"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _corrupt(paths, f"cannot read legacy index metadata {paths.metadata}: {exc}") from exc
    metadata = Metadata(
        schema_version=1,
        created_at=str(document.get("created_at", "")),
        tldr_version=str(document.get("tldr_version", "")),
        model=model,
        lang=None,
        dimension=int(document.get("dimension", 0)),
        count=len(units),
        text_format=str(document.get("text_format", "legacy")),
        extractor_version="legacy",
        project_signature=ProjectSignature(kind="legacy", value=""),
        units_file=paths.metadata.name,
        vector_store=VectorStoreMeta(
            backend="faiss",
            format="faiss-legacy-v1",
            backend_version="",
            build_id="legacy",
            index_file=paths.legacy_faiss.name,
            backend_metric="ip",
            score_transform="identity",
        ),
    )
    return metadata, units


def collect_garbage(
    paths: IndexPaths,
    *,
    keep_build_ids: set[str],
    store_locations: list[str],
    delete_location: Callable[[str], None],
) -> list[str]:
    """Delete old versions and temp files; return what was removed.

    `store_locations` come oldest first. Keeps the newest `KEEP_VERSIONS`
    builds of the store plus `keep_build_ids`
    (the active and the previous active build). Must run under the lock:
    every writer of temp files here holds it, so a temp file found then was
    left by a build that died, and goes at once.
    """
    removed: list[str] = []
    versions = [(location, build_id_of(location)) for location in store_locations]
    # Oldest first, as the store lists them: build ids made within one second
    # do not sort by time.
    ordered = [build_id for _, build_id in versions if build_id]
    retained = set(ordered[-KEEP_VERSIONS:]) | keep_build_ids
    for location, build_id in versions:
        if build_id and build_id not in retained:
            try:
                delete_location(location)
                removed.append(location)
            except OSError:  # best effort: a file still mapped on Windows
                continue
    for entry in paths.semantic_dir.iterdir():
        name = entry.name
        build_id = build_id_of(name)
        stale_temp = ".tmp" in name
        old_version = (
            build_id is not None
            and build_id not in retained
            and name.startswith(("units.", "lexical.", "graph.", "fast."))
        )
        if stale_temp or old_version:
            _remove_path(entry)
            removed.append(name)
    return removed


def _remove_path(path: Path) -> None:
    import shutil

    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass


def _corrupt(paths: IndexPaths, detail: str) -> IndexCorruptError:
    return IndexCorruptError(f"{detail}; run: tldrf semantic index --rebuild {paths.root}")


def _legacy_error(paths: IndexPaths) -> LegacyIndexError:
    return LegacyIndexError(
        f"found a legacy FAISS index at {paths.legacy_faiss} (schema v1, no schema_version);\n"
        f"expected {paths.semantic_dir}/metadata.json (schema v2) with "
        "index.<build_id>.usearch.\n"
        f"Either rebuild: tldrf semantic index --rebuild {paths.root}\n"
        "or install FAISS support to read it: pip install 'tldrf[faiss]'"
    )
