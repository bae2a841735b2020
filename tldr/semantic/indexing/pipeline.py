"""Build or update a project's semantic index, then commit it atomically.

One build, under the rebuild lock: walk -> reuse or extract units per file,
each file's units streamed at once into the unit records, the callers of
each name and the lexical index (`stream.BuildUnits`) -> code graph ->
embedding texts made again from the records a batch at a time, for their
hashes and keys -> vectors (cache first, then the model) into a
copy-on-write vector index (`vectors.add_vectors`) -> commit metadata.json
-> GC. A build holds its units' records and indexes, never all its units or
texts as objects (specs/019-compact-index.md § Memory of a build). A build
killed at any step leaves the previous commit untouched (DESIGN.md § On disk).

A build with no committed build to serve from meanwhile commits partial
builds while it embeds: all units and the lexical index at once, vectors as
they come (specs/010-lexical-first.md § Partial builds).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from tldr._exceptions import (
    ConfigError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexStateError,
)
from tldr.graph import (
    FileRecord,
    GraphFile,
    SharedValues,
    build_graph,
    file_record,
    read_graph,
    update_graph,
)
from tldr.parse_workers import FileParser, Parsed, ParseJob
from tldr.paths import IndexPaths, find_project_root
from tldr.registry import record_use
from tldr.semantic import shared
from tldr.semantic.fast_tier import FastTier
from tldr.semantic.indexing.commit import Snapshot, commit_build
from tldr.semantic.indexing.freshness import (
    is_up_to_date,
    open_store,
    requested_settings,
    settings_match,
)
from tldr.semantic.indexing.lock import BuildLock
from tldr.semantic.indexing.signature import fs_signature, git_signature
from tldr.semantic.indexing.stream import BuildUnits, PreviousUnits
from tldr.semantic.indexing.vectors import Checkpoints, add_vectors
from tldr.semantic.lexical import LEXICAL_FORMAT, PreviousPostings
from tldr.semantic.models.devices import check_device
from tldr.semantic.models.embedders import Embedder, get_embedder
from tldr.semantic.storage import (
    DenseCoverage,
    FileStamp,
    Metadata,
    UnitsFile,
    read_metadata,
    read_units_file,
)
from tldr.semantic.text import text_hash
from tldr.semantic.unit_table import UnitTable
from tldr.settings import (
    BuildSettings,
    default_device,
    default_max_file_bytes,
)
from tldr.units import (
    SourceFile,
    walk_project,
)
from tldr.units.facts import FileFacts

__all__ = [
    "PARTIAL_EVERY_S",
    "PARTIAL_FIRST_S",
    "PARTIAL_MIN_UNITS",
    "BuildReport",
    "ProgressCallback",
    "build_semantic_index",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total).

Stages: walk, extract, lexical, embed, commit (a partial build was
committed: done = units with a vector, total = units), write.
"""

_EMBED_BATCH = 256  # vectors reach the cache every batch, so a killed build keeps them
_UNIT_BATCH = 2048
"""Units whose texts are made (or vectors looked up in the cache) at once: what
bounds a build's memory besides its indexes (specs/019 § Memory of a build)."""
PARTIAL_MIN_UNITS = 256
"""Fewer texts than this to embed: no partial commits (the build is quick)."""
PARTIAL_EVERY_S = 10.0
"""Embedding time before the first partial commit with vectors; each next
interval is 1.5x the last (every commit rewrites the vector index), up to
`_PARTIAL_EVERY_MAX_S`."""
_PARTIAL_INTERVAL_GROWTH = 1.5
_PARTIAL_EVERY_MAX_S = 60.0
PARTIAL_FIRST_S = 0.5
"""Parsing time before the files parsed so far are committed (then 4x, 16x ...)."""
_PARTIAL_LAST_SHARE = 0.6
"""Share of the files' bytes parsed after which no partial commit is made."""
_EXTRACT_CHUNK = 10  # files parsed between two looks at the clock


@dataclass
class BuildReport:
    """What a build did; `status` is built, updated or up_to_date."""

    status: str
    root: Path
    build_id: str | None = None
    units: int = 0
    files: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    replaced: int = 0  # files indexed though decoded with U+FFFD replacement
    extracted_files: int = 0
    embedded: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    partial_commits: int = 0
    # Where each setting came from (flag, env, metadata.json, config, default),
    # and what the config files set that was not applied: for `-v` and notes.
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build_semantic_index(
    project: str | Path,
    *,
    model: str | None = None,
    lang: str | list[str] | None = None,
    vector_backend: str | None = None,
    rebuild: bool = False,
    device: str | None = None,
    embedder: Embedder | None = None,
    progress: ProgressCallback | None = None,
    lock_timeout: float = -1,
    paths: IndexPaths | None = None,
) -> BuildReport:
    """Build the project's index, or update it incrementally, and commit it.

    A no-op when the index is up to date with the project and the requested
    settings, unless `rebuild` is set. Settings follow DESIGN.md's precedence:
    arguments > `TLDR_*` env > recorded metadata > `.tldr/config.toml` >
    defaults. `lock_timeout` is how long to wait for another build (-1:
    forever; 0: fail at once with `IndexBusyError`).
    """
    started = time.perf_counter()
    device = check_device(device or default_device())  # a bad name fails before any work
    root = find_project_root(project)
    paths = paths or IndexPaths(root)
    sources: dict[str, str] = {}
    notes: list[str] = []
    settings = requested_settings(paths, model=model, lang=lang, vector_backend=vector_backend,
                                  rebuild=rebuild, sources=sources, notes=notes)
    role = shared.shared_role(settings)
    if role == "follow":  # a reader of a team's index never builds (specs/018-engines.md)
        followed = shared.follow_shared_index(
            root, vector_backend=vector_backend, lock_timeout=lock_timeout, paths=paths
        )
        return BuildReport(status=followed.status, root=root, build_id=followed.build_id,
                           units=followed.units, files=followed.files,
                           seconds=followed.seconds)
    report = _build(paths, settings, started, rebuild=rebuild, device=device,
                    embedder=embedder, progress=progress, lock_timeout=lock_timeout,
                    sources=sources, notes=notes)
    if role == "publish":  # also retries a publish that failed after its build
        shared.publish_pending(paths, settings)
    return report


def _build(
    paths: IndexPaths,
    settings: BuildSettings,
    started: float,
    *,
    rebuild: bool,
    device: str | None,
    embedder: Embedder | None,
    progress: ProgressCallback | None,
    lock_timeout: float,
    sources: dict[str, str],
    notes: list[str],
) -> BuildReport:
    """Build unless up to date, under the rebuild lock."""
    root = paths.root
    if not rebuild and is_up_to_date(root, settings=settings, paths=paths):
        return _up_to_date(paths, started, sources, notes)

    try:
        paths.semantic_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only tree, say: name the way out, not a traceback
        hint = " (keep the index outside: --cache-root DIR)" if paths.in_tree else ""
        raise ConfigError(f"cannot create {paths.semantic_dir}: {exc.strerror}{hint}") from exc
    lock = BuildLock(paths)
    lock.acquire(timeout=lock_timeout)  # says who holds it while it waits
    try:
        # Another builder may have committed while we waited for the lock.
        if not rebuild and is_up_to_date(root, settings=settings, paths=paths):
            return _up_to_date(paths, started, sources, notes)
        paths.dirty.unlink(missing_ok=True)
        try:
            report = _Build(
                paths,
                settings,
                rebuild=rebuild,
                device=device,
                embedder=embedder,
                progress=progress,
            ).run()
        except BaseException:
            # The work we consumed the marker for did not land: put it back.
            paths.dirty.touch()
            raise
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    report.sources, report.notes = sources, notes
    return report


def _up_to_date(paths: IndexPaths, started: float, sources: dict[str, str],
                notes: list[str]) -> BuildReport:
    """The report of a build that had nothing to do: the active build's figures."""
    metadata = read_metadata(paths)
    report = BuildReport(status="up_to_date", root=paths.root,
                         seconds=time.perf_counter() - started, sources=sources, notes=notes)
    if metadata is not None:
        report.build_id = metadata.vector_store.build_id
        report.units = metadata.count
        report.files = metadata.files_indexed
        report.skipped = dict(metadata.files_skipped)
    return report


class _Build:
    """The state of one build while it runs under the lock."""

    def __init__(
        self,
        paths: IndexPaths,
        settings: BuildSettings,
        *,
        rebuild: bool,
        device: str | None,
        embedder: Embedder | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.rebuild = rebuild
        self.embedder = embedder or get_embedder(settings.model, device=device)
        self.progress = progress or (lambda stage, done, total: None)
        self.timings: dict[str, float] = {}
        self.embedded = 0  # texts the model embedded (not those the cache had)
        self.active_metadata: Metadata | None = None  # the build this one replaces
        self.previous_metadata: Metadata | None = None  # set when it can be updated in place
        self.previous: UnitsFile | None = None  # its units are reused for unchanged files
        self._previous_units: PreviousUnits | None = None
        self.partial_commits = 0
        self.started = time.perf_counter()
        self.previous_graph: GraphFile | None = None  # its file records are reused too
        self._old_records: dict[str, FileRecord] | None = None
        self.records: dict[str, FileRecord] = {}  # the graph's record of each file read
        self._shared = SharedValues()  # the records' repeated names and numbers, held once
        self.reparsed: set[str] = set()  # files whose facts come from this build's parse
        self._fast: FastTier | None = None
        self._fast_loaded = False
        # Files whose units come from the previous build: (path, position
        # now, position then, units).
        self.reused: list[tuple[str, int, int, int]] = []

    def _timed(self, name: str, started: float, *, commits_before: float | None = None) -> None:
        """Record a stage's seconds, less the partial commits made since `commits_before`."""
        seconds = time.perf_counter() - started
        if commits_before is not None:
            seconds -= self._commit_seconds() - commits_before
        self.timings[name] = round(seconds, 4)

    def _commit_seconds(self) -> float:
        return self.timings.get("partial_commits", 0.0)

    def run(self) -> BuildReport:
        paths, settings = self.paths, self.settings
        if self.embedder.model_id != settings.model:
            raise IndexIncompatibleError(
                f"embedder {self.embedder.model_id!r} does not match the requested model "
                f"{settings.model!r}"
            )
        store = open_store(paths, settings.vector_backend, settings.backend_settings)
        self._load_previous(store)

        started = time.perf_counter()
        signature = git_signature(paths.root)
        walked = self.walked = walk_project(  # _collect_units names its skips here
            paths.root,
            max_file_bytes=default_max_file_bytes(),
            languages=set(settings.lang) if settings.lang else None,
        )
        self._timed("walk", started)
        self.progress("walk", len(walked.files), len(walked.files))
        if signature is None:
            signature = fs_signature((f.rel_path, f.size, f.mtime_ns) for f in walked.files)
        self.signature, self.skipped = signature, dict(walked.skipped)
        partial = self.previous_metadata is None and self._serves_nothing()
        units = BuildUnits(self._previous_postings())

        def commit_parsed(pending: int, snapshot: Snapshot | None = None) -> None:
            """A partial build of the files parsed so far: lexical search within seconds."""
            commit_started = time.perf_counter()
            last = snapshot is not None
            if snapshot is None:
                snapshot = self._snapshot(units, last=False)
            self._add_fast_tier(snapshot, last=last)
            index = store.create(self.embedder.dimension)
            coverage = DenseCoverage(embedded=0, total=snapshot.count, files_pending=pending)
            self._commit(store, index, snapshot, coverage)
            self._partial_committed(commit_started)
            self.progress("commit", 0, snapshot.count)

        started, commits_before = time.perf_counter(), self._commit_seconds()
        extracted = self._extract(
            walked.files, units, commit=commit_parsed if self._serves_no_vectors() else None
        )
        self._timed("extract", started, commits_before=commits_before)
        snapshot = self._snapshot(units, last=True)
        index = self._start_index(store, snapshot)
        if partial and snapshot.count >= PARTIAL_MIN_UNITS and self._serves_no_vectors():
            # Every unit searchable now (lexically, and densely through the fast
            # tier); the graph, whose resolving takes a while at scale, comes
            # with the next commit.
            commit_parsed(0, snapshot)
        started = time.perf_counter()
        snapshot.graph = self._graph(units.stamps)
        # The graph holds the records now; once written it goes, and they with it.
        self.records, self._shared, self.previous_graph = {}, SharedValues(), None
        self._old_records = None
        self._timed("graph", started)

        def commit_partial(embedded: int) -> None:
            commit_started = time.perf_counter()
            self._add_fast_tier(snapshot, last=True)
            self._commit(store, index, snapshot,
                         DenseCoverage(embedded=embedded, total=snapshot.count))
            self._partial_committed(commit_started)
            self.progress("commit", embedded, snapshot.count)

        started, commits_before = time.perf_counter(), self._commit_seconds()
        checkpoints = Checkpoints(
            commit_partial, min_texts=PARTIAL_MIN_UNITS, every_s=PARTIAL_EVERY_S,
            growth=_PARTIAL_INTERVAL_GROWTH, max_s=_PARTIAL_EVERY_MAX_S,
        )
        self.embedded = add_vectors(
            index, snapshot, embedder=self.embedder, cache_path=paths.embeddings,
            batch=_EMBED_BATCH, lookup_batch=_UNIT_BATCH, progress=self.progress,
            checkpoints=checkpoints if partial else None,
        )
        self._timed("embed", started, commits_before=commits_before)

        started = time.perf_counter()
        build_id = self._commit(store, index, snapshot, None)
        record_use(paths)
        self.progress("write", 1, 1)
        self._timed("commit", started)
        return BuildReport(
            status="updated" if self.previous_metadata is not None else "built",
            root=paths.root,
            build_id=build_id,
            units=snapshot.count,
            files=len(snapshot.stamps),
            skipped=self.skipped,
            replaced=len(walked.replaced),
            extracted_files=extracted,
            embedded=self.embedded,
            timings=self.timings,
            partial_commits=self.partial_commits,
        )

    def _start_index(self, store: Any, snapshot: Snapshot) -> Any:
        """The vector index the build adds to: a copy of the previous one less removed keys."""
        if self.previous_metadata is None:
            return store.create(self.embedder.dimension)
        import numpy as np

        index = store.open(self.previous_metadata.vector_store.index_file, view=True).copy()
        if snapshot.removed_keys:
            index.remove(np.asarray(snapshot.removed_keys, dtype=np.uint64))
        return index

    def _add_fast_tier(self, snapshot: Snapshot, *, last: bool) -> None:
        """Give a partial build's snapshot its fast index, once (spec 020).

        The static model is loaded at the first partial commit, so a build
        that commits no partial build never pays for it. After the `last`
        snapshot (every unit) the tier goes: no snapshot follows to reuse its
        vectors, and the snapshot's own matrix goes once it is written.
        """
        if snapshot.fast is not None:
            return
        if not self._fast_loaded:
            self._fast_loaded = True
            self._fast = FastTier.for_build(self.settings.model, self.paths.semantic_dir)
        if self._fast is None:
            return
        started = time.perf_counter()
        snapshot.fast = self._fast.snapshot(snapshot.keys, snapshot.hashes, snapshot.texts.at)
        if last:
            self._fast = None
        self.timings["fast"] = round(
            self.timings.get("fast", 0.0) + time.perf_counter() - started, 4
        )

    def _partial_committed(self, commit_started: float) -> None:
        """Count a partial commit and its time (apart from the stage it interrupted)."""
        now = time.perf_counter()
        self.partial_commits += 1
        self.timings.setdefault("first_commit", round(now - self.started, 4))
        self.timings["partial_commits"] = round(
            self.timings.get("partial_commits", 0.0) + now - commit_started, 4
        )

    def _snapshot(self, units: BuildUnits, *, last: bool) -> Snapshot:
        """The units so far, their lexical index, text hashes and keys (`last`: all of them).

        The texts are made `_UNIT_BATCH` units at a time and only their
        hashes kept; the fast tier and the model ask for texts again.
        """
        started = time.perf_counter()
        records, lexical_index = units.finish() if last else units.so_far()
        self._timed("lexical", started)
        self.progress("lexical", 1, 1)
        started = time.perf_counter()
        texts = units.texts(records)
        known = self._known_hashes(UnitTable(records))
        todo = [position for position, digest in enumerate(known) if digest is None]
        for start in range(0, len(todo), _UNIT_BATCH):
            batch = todo[start : start + _UNIT_BATCH]
            for position, text in zip(batch, texts.at(batch), strict=True):
                known[position] = text_hash(text)
        hashes = [digest for digest in known if digest is not None]
        assert len(hashes) == len(known)
        self._timed("text", started)
        keys, next_key, removed_keys, new_positions = self._assign_keys(hashes)
        return Snapshot(
            stamps=list(units.stamps), units=records, texts=texts, keys=keys, hashes=hashes,
            next_key=next_key, lexical_index=lexical_index, signature=self.signature,
            skipped=self.skipped, skipped_paths=list(self.walked.skipped_paths),
            replaced=list(self.walked.replaced), removed_keys=removed_keys,
            new_positions=new_positions,
        )

    def _extract(
        self,
        files: list[SourceFile],
        units: BuildUnits,
        *,
        commit: Callable[[int], None] | None,
    ) -> int:
        """`_collect_units`, with `commit(files_pending)` while it runs; returns files parsed.

        Parsing a large project takes a while: with `commit`, the units parsed
        so far are committed after `PARTIAL_FIRST_S` of parsing, then each
        time parsing took 4x as long (the texts and lexical index of each are
        made again, so their total cost stays a third of the last one's),
        until `_PARTIAL_LAST_SHARE` of the bytes are parsed: the final
        snapshot is nearer then than the next partial one would be worth.
        """
        if commit is None:
            return self._collect_units(files, units)
        started = time.perf_counter()
        due = PARTIAL_FIRST_S
        parsed_bytes = list(accumulate((source.size for source in files), initial=0))
        last_share = parsed_bytes[-1] * _PARTIAL_LAST_SHARE

        def commit_when_due(done: int) -> None:
            nonlocal due
            parsing = time.perf_counter() - started - self._commit_seconds()
            if parsing >= due and len(units) and parsed_bytes[done] < last_share:
                commit(len(files) - done)
                due *= 4

        return self._collect_units(files, units, every_chunk=commit_when_due)

    def _serves_no_vectors(self) -> bool:
        """No committed build has vectors: commits of the files parsed so far lose nothing."""
        active = self.active_metadata
        return active is None or (active.dense is not None and active.dense.embedded == 0)

    def _serves_nothing(self) -> bool:
        """No complete committed build serves searches while this one embeds."""
        active = self.active_metadata
        return active is None or active.dense is not None

    def _commit(self, store: Any, index: Any, snapshot: Snapshot,
                dense: DenseCoverage | None) -> str:
        """Commit one build of `snapshot` with `index`; it becomes the active build."""
        self.active_metadata = commit_build(
            self.paths, self.settings, store=store, index=index, snapshot=snapshot,
            dense=dense, dimension=self.embedder.dimension, active=self.active_metadata,
        )
        return self.active_metadata.vector_store.build_id

    def _load_previous(self, store: Any) -> None:
        """Reuse the active build: its units always, its vectors when it is complete.

        A partial build's vector index has holes, so a build over it starts a
        new index (its vectors come back from the embedding cache).
        """
        try:
            metadata = read_metadata(self.paths)
        except IndexStateError:
            return
        self.active_metadata = metadata
        if self.rebuild or metadata is None or not settings_match(metadata, self.settings):
            return
        if metadata.dimension != self.embedder.dimension:
            return
        if not store.exists(metadata.vector_store.index_file):
            return
        if metadata.vector_store.format != type(store).index_format:
            return
        if metadata.vector_store.dtype != store.metadata()["dtype"]:
            return  # the configured precision changed: a new index, not a copy of the old
        try:
            self.previous = read_units_file(self.paths, metadata)
        except IndexStateError:  # damaged, or units of another format
            return
        if metadata.dense is None:
            self.previous_metadata = metadata
        if metadata.graph_file:  # verified with the units above: whole, or not used
            try:
                self.previous_graph = read_graph(self.paths.semantic_dir / metadata.graph_file)
            except IndexCorruptError:
                self.previous_graph = None

    def _previous_postings(self) -> PreviousPostings | None:
        """The BM25 postings of the build whose units this one reuses, if of this format."""
        metadata = self.active_metadata
        if (self.previous is None or metadata is None or not metadata.lexical_file
                or metadata.lexical_format != LEXICAL_FORMAT):
            return None
        return PreviousPostings(self.paths.semantic_dir / metadata.lexical_file)

    def _graph(self, stamps: list[FileStamp]) -> GraphFile:
        """The code graph of this build: updated per changed file when a previous one exists."""
        records = self.records
        paths = {stamp.path for stamp in stamps}
        previous = self.previous_graph
        if previous is not None:
            before = {record.path for record in previous.files}
            changed: dict[str, FileRecord | None] = {
                path: records.get(path) for path in self.reparsed if path in records
            }
            changed.update({path: None for path in before - paths})
            changed.update({path: records[path] for path in paths - before if path in records})
            return update_graph(previous, changed).graph
        return build_graph([records[path] for path in paths if path in records])

    def _collect_units(
        self,
        files: list[SourceFile],
        units: BuildUnits,
        *,
        every_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """Units of every file into `units`: reused when the file is unchanged, else parsed.

        Returns how many files were parsed. Files the reader refuses are
        counted in `self.skipped` and named in `self.walked`, which also
        lists the files decoded with replacement (remembered from the
        previous build for files reused unread). `every_chunk(files_done)`
        runs after every `_EXTRACT_CHUNK` files but the last.
        """
        walked, max_file_bytes = self.walked, default_max_file_bytes()
        previous = self._previous()
        olds: list[FileStamp | None] = []
        jobs: list[ParseJob] = []
        for source_file in files:
            old = previous.stamp(source_file.rel_path)
            if old and not self._has_record(source_file):
                old = None  # no graph record to reuse: parse it again
            if old and (old.size, old.mtime_ns) == (source_file.size, source_file.mtime_ns):
                olds.append(old)
                continue
            olds.append(None)
            jobs.append(ParseJob(str(source_file.abs_path), source_file.rel_path,
                                 source_file.language, max_file_bytes,
                                 old.sha256 if old else None))
        extracted = 0
        total = len(files)
        with FileParser() as parser:
            results = parser.parse(jobs)
            for number, (source_file, unread) in enumerate(zip(files, olds, strict=True), 1):
                path = source_file.rel_path
                if unread is not None:
                    reused, position = previous.units(path), previous.position(path)
                    if position is not None:
                        self.reused.append((path, len(units), position, len(reused)))
                    units.add_file(unread, reused, previous_position=position)
                    if path in previous.replaced:
                        walked.replaced.append(path)
                else:
                    extracted += self._add_parsed(source_file, next(results), units)
                if number % _EXTRACT_CHUNK == 0 or number == total:
                    self.progress("extract", number, total)
                    if every_chunk is not None and number < total:
                        every_chunk(number)
        return extracted

    def _add_parsed(self, source_file: SourceFile, parsed: Parsed, units: BuildUnits) -> int:
        """One parsed file's units into `units`; 1 if it was extracted, 0 if reused or skipped."""
        path = source_file.rel_path
        if parsed.skipped is not None:
            self.skipped[parsed.skipped] = self.skipped.get(parsed.skipped, 0) + 1
            self.walked.name_skip(parsed.skipped, path)
            return 0
        if parsed.replaced:
            self.walked.replaced.append(path)
        stamp = FileStamp(path, source_file.language, source_file.size,
                          source_file.mtime_ns, parsed.sha256)
        if parsed.units is None:  # the same bytes as the previous build's
            units.add_file(stamp, self._previous().units(path))
            return 0
        units.add_file(stamp, parsed.units)
        if parsed.record is not None:
            self.records[path] = self._shared.record(parsed.record)
            self.reparsed.add(path)
        return 1

    def _has_record(self, source_file: SourceFile) -> bool:
        """Whether the previous graph has this file's record (kept in `records` if so)."""
        if self._old_records is None:
            graph = self.previous_graph
            self._old_records = {r.path: r for r in graph.files} if graph is not None else {}
        record = self._old_records.get(source_file.rel_path)
        if record is not None:
            self.records[source_file.rel_path] = record
            return True
        return file_record(source_file.rel_path, source_file.language, [], FileFacts()) is None

    def _known_hashes(self, table: UnitTable) -> list[str | None]:
        """Each unit's text hash where the previous build's still holds, else None.

        A reused unit's text (same file, same unit) changes only through its
        called-by line, and that only when a unit of a file parsed again,
        added or removed (as it was or as it is) calls the unit's name.
        """
        hashes: list[str | None] = [None] * len(table)
        previous = self._previous()
        if self.previous is None or not self.reused or not previous.contiguous:
            return hashes
        previous_table = self.previous.table
        reused = {path for path, _, _, _ in self.reused}
        called: set[str] = set()
        for path, (start, end) in previous.spans().items():
            if path not in reused:
                for head in previous_table[start:end]:
                    called.update(head.calls)
        covered = bytearray(len(hashes))
        for _, start, _, count in self.reused:
            covered[start : start + count] = b"\x01" * len(covered[start : start + count])
        for position, reused_here in enumerate(covered):
            if not reused_here:
                called.update(table[position].calls)
        previous_hashes = self.previous.text_hashes
        for _, start, previous_start, count in self.reused:
            count = min(count, len(hashes) - start)
            for offset, head in enumerate(previous_table[previous_start : previous_start + count]):
                if head.unit_type == "module" or head.name not in called:
                    hashes[start + offset] = previous_hashes[previous_start + offset]
        return hashes

    def _previous(self) -> PreviousUnits:
        """The previous build's units by file (indexed once per build, decoded per file)."""
        if self._previous_units is None:
            self._previous_units = PreviousUnits(self.previous)
        return self._previous_units

    def _assign_keys(self, hashes: list[str]) -> tuple[list[int], int, list[int], list[int]]:
        """Keep each unchanged text's key; new texts get fresh keys.

        Returns keys per unit, the next free key, keys to remove from the
        previous index, and positions whose vectors must be added. Without a
        complete previous build every unit gets a fresh key.
        """
        if self.previous is None or self.previous_metadata is None:
            return list(range(len(hashes))), len(hashes), [], list(range(len(hashes)))
        available: dict[str, list[int]] = defaultdict(list)
        previous_keys, previous_hashes = self.previous.keys, self.previous.text_hashes
        for key, digest in zip(previous_keys, previous_hashes, strict=True):
            available[digest].append(key)
        next_key = self.previous.next_key
        keys: list[int] = []
        new_positions: list[int] = []
        for position, digest in enumerate(hashes):
            if available.get(digest):
                keys.append(available[digest].pop())
            else:
                keys.append(next_key)
                next_key += 1
                new_positions.append(position)
        removed = [key for remaining in available.values() for key in remaining]
        return keys, next_key, removed, new_positions
