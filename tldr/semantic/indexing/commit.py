"""Commit one build: vector index, unit records, lexical index, metadata.json, GC.

The only writer of `metadata.json` (the commit point, DESIGN.md § On disk):
every file a build names is complete under its versioned name before
metadata.json is replaced. A build may commit several times (partial builds,
specs/010-lexical-first.md); each commit is a build of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tldr._atomic import link_or_copy
from tldr._version import __version__
from tldr.graph import GraphFile, write_graph
from tldr.graph.store import graph_file_name
from tldr.paths import IndexPaths
from tldr.semantic import lexical
from tldr.semantic.storage import (
    UNITS_FORMAT,
    DenseCoverage,
    FileStamp,
    Metadata,
    ProjectSignature,
    UnitsFile,
    VectorStoreMeta,
    atomic_write_bytes,
    build_id_of,
    collect_garbage,
    new_build_id,
    write_metadata,
)
from tldr.semantic.text import TEXT_FORMAT
from tldr.semantic.unit_table import EncodedUnits
from tldr.settings import BuildSettings
from tldr.units.model import EXTRACTOR_VERSION

if TYPE_CHECKING:
    from tldr.semantic.fast_tier import FastSnapshot
    from tldr.semantic.indexing.stream import UnitTexts

__all__ = ["Snapshot", "commit_build"]


@dataclass
class Snapshot:
    """What every commit of one build shares: its units and lexical index.

    The units are their encoded records; their embedding texts are made
    from them when asked for (`texts`).
    """

    stamps: list[FileStamp]
    units: EncodedUnits
    texts: UnitTexts
    keys: list[int]
    hashes: list[str]
    next_key: int
    lexical_index: lexical.LexicalIndex
    signature: ProjectSignature
    skipped: dict[str, int]
    skipped_paths: list[tuple[str, str]]  # (path, reason): `semantic info --skipped`
    replaced: list[str]  # paths decoded with replacement
    removed_keys: list[int]  # keys of the previous build's index whose text is gone
    new_positions: list[int]  # units whose vectors the index lacks
    written_as: str | None = None  # the build id its files were first written for
    # The code graph of these units (none while parsing), until it is written;
    # then the build id of the last commit that named its file.
    graph: GraphFile | None = None
    graph_written_as: str | None = None
    fast: FastSnapshot | None = None  # the fast tier's index of these units (spec 020)

    @property
    def count(self) -> int:
        """How many units."""
        return len(self.keys)


def commit_build(
    paths: IndexPaths,
    settings: BuildSettings,
    *,
    store: Any,
    index: Any,
    snapshot: Snapshot,
    dense: DenseCoverage | None,
    dimension: int,
    active: Metadata | None,
) -> Metadata:
    """Write a new build of `snapshot` with `index`, commit it, collect garbage.

    `active` is the committed build it replaces; `dense` is None for a
    complete build. A partial build names the snapshot's fast index too (a
    complete one needs none). Must run under the rebuild lock. Returns its
    metadata.
    """
    build_id = new_build_id()
    location = store.location_for(build_id)
    store.save(index, location)
    _write_snapshot(paths, snapshot, build_id)
    fast = None
    if dense is not None and snapshot.fast is not None:
        fast = snapshot.fast.write(paths.semantic_dir, build_id)

    previous_index = (
        active.vector_store.index_file
        if active and active.vector_store.backend == settings.vector_backend
        else None
    )
    store_meta = store.metadata()
    metadata = Metadata(
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        tldr_version=__version__,
        model=settings.model,
        lang=list(settings.lang) if settings.lang else None,
        dimension=dimension,
        count=snapshot.count,
        text_format=TEXT_FORMAT,
        extractor_version=EXTRACTOR_VERSION,
        project_signature=snapshot.signature,
        units_file=paths.units_file(build_id).name,
        graph_file=_graph_name(paths, snapshot, build_id),
        units_format=UNITS_FORMAT,
        lexical_file=paths.lexical_file(build_id).name,
        lexical_format=lexical.LEXICAL_FORMAT,
        files_indexed=len(snapshot.stamps),
        files_skipped=snapshot.skipped,
        files_replaced=len(snapshot.replaced),
        dense=dense,
        fast=fast,
        vector_store=VectorStoreMeta(
            backend=settings.vector_backend,
            format=store_meta["format"],
            backend_version=store_meta["backend_version"],
            build_id=build_id,
            index_file=location,
            previous_index_file=previous_index,
            backend_metric=store_meta["backend_metric"],
            dtype=store_meta["dtype"],
            score_transform=store_meta["score_transform"],
            build_params=store.build_params,
        ),
    )
    write_metadata(paths, metadata)

    keep = {build_id}
    if previous_index and (previous_id := build_id_of(previous_index)):
        keep.add(previous_id)
    collect_garbage(
        paths,
        keep_build_ids=keep,
        store_locations=store.list_locations(),
        delete_location=store.delete,
    )
    return metadata


def _graph_name(paths: IndexPaths, snapshot: Snapshot, build_id: str) -> str | None:
    """The graph file `_write_snapshot` wrote for `build_id`, if the snapshot has a graph."""
    return graph_file_name(build_id) if snapshot.graph_written_as == build_id else None


def _write_snapshot(paths: IndexPaths, snapshot: Snapshot, build_id: str) -> None:
    """The units, lexical and graph files of `build_id`.

    Partial commits of one build share a snapshot: its files are hard links
    to the bytes written for the first commit that had them (the units
    file's inner `build_id` names that one), written anew if linking fails.
    The graph may come later than the units (a build commits its fast tier
    before it resolves the graph); once written it is let go, and later
    commits link (or copy) the last commit's graph file.
    """
    units_files = (paths.units_file, paths.lexical_file)
    if snapshot.written_as is None or not _linked(units_files, snapshot.written_as, build_id):
        units_file = UnitsFile.pack(
            build_id=build_id,
            files=snapshot.stamps,
            units=snapshot.units,
            keys=snapshot.keys,
            text_hashes=snapshot.hashes,
            next_key=snapshot.next_key,
            skipped=snapshot.skipped_paths,
            replaced=snapshot.replaced,
        )
        atomic_write_bytes(paths.units_file(build_id), msgspec.msgpack.encode(units_file))
        snapshot.lexical_index.save(paths.lexical_file(build_id))
        snapshot.written_as = build_id
    graph = snapshot.graph
    graph_path = paths.semantic_dir / graph_file_name(build_id)
    if graph is not None:
        graph.build_id = build_id
        write_graph(paths.semantic_dir, graph)
        snapshot.graph = None  # written: later commits name the file, the objects go
    elif snapshot.graph_written_as is not None:
        link_or_copy(paths.semantic_dir / graph_file_name(snapshot.graph_written_as), graph_path)
    else:
        return
    snapshot.graph_written_as = build_id


def _linked(files: Iterable[Callable[[str], Path]], first: str, build_id: str) -> bool:
    """Hard-link each of `first`'s files to `build_id`'s name; False (none left) if one fails."""
    made: list[Path] = []
    try:
        for file_of in files:
            os.link(file_of(first), file_of(build_id))
            made.append(file_of(build_id))
    except OSError:  # no hard links here, or the first files were collected
        for path in made:
            path.unlink(missing_ok=True)
        return False
    return True
