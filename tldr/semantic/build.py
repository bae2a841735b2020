"""Build or update a project's semantic index, then commit it atomically.

One build, under the rebuild lock: walk -> reuse or extract units per file ->
embedding texts -> vectors (cache first) -> copy-on-write vector index ->
unit records and lexical index -> commit metadata.json -> GC. A build killed
at any step leaves the previous commit untouched (DESIGN.md § On disk).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from tldr._exceptions import (
    ConfigError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexStateError,
)
from tldr._version import __version__
from tldr.config import (
    BuildSettings,
    default_device,
    default_max_file_bytes,
)
from tldr.paths import IndexPaths, find_project_root
from tldr.registry import record_use
from tldr.semantic import lexical
from tldr.semantic.embedders import Embedder, get_embedder
from tldr.semantic.embedding_cache import EmbeddingCache
from tldr.semantic.freshness import (
    is_up_to_date,
    open_store,
    requested_settings,
    settings_match,
)
from tldr.semantic.signature import fs_signature, git_signature
from tldr.semantic.storage import (
    FileStamp,
    Metadata,
    UnitsFile,
    VectorStoreMeta,
    atomic_write_bytes,
    build_id_of,
    collect_garbage,
    new_build_id,
    read_metadata,
    read_units_file,
    write_metadata,
)
from tldr.semantic.text import TEXT_FORMAT, build_called_by, embedding_text, text_hash
from tldr.units import (
    SkippedFile,
    SourceFile,
    Unit,
    extract_units,
    load_source,
    walk_project,
)
from tldr.units.model import EXTRACTOR_VERSION

__all__ = ["BuildReport", "ProgressCallback", "build_semantic_index"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total); stages: extract, embed, write."""

_EMBED_BATCH = 256  # vectors reach the cache every batch, so a killed build keeps them


@dataclass
class BuildReport:
    """What a build did; `status` is built, updated or up_to_date."""

    status: str
    root: Path
    build_id: str | None = None
    units: int = 0
    files: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    extracted_files: int = 0
    embedded: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


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
) -> BuildReport:
    """Build the project's index, or update it incrementally, and commit it.

    A no-op when the index is up to date with the project and the requested
    settings, unless `rebuild` is set. Settings follow DESIGN.md's precedence:
    arguments > `TLDR_*` env > recorded metadata > `.tldr/config.toml` >
    defaults. `lock_timeout` is how long to wait for another build (-1:
    forever; 0: fail at once with `IndexBusyError`).
    """
    started = time.perf_counter()
    root = find_project_root(project)
    paths = IndexPaths(root)
    settings = requested_settings(paths, model=model, lang=lang, vector_backend=vector_backend)
    if not rebuild and is_up_to_date(root, settings=settings):
        return BuildReport(status="up_to_date", root=root, seconds=time.perf_counter() - started)

    from filelock import FileLock, Timeout

    try:
        paths.semantic_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only tree, say: name the way out, not a traceback
        hint = " (keep the index outside: --cache-root DIR)" if paths.in_tree else ""
        raise ConfigError(f"cannot create {paths.semantic_dir}: {exc.strerror}{hint}") from exc
    lock = FileLock(str(paths.lock), timeout=lock_timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IndexBusyError(f"another build of {root} is running (lock {paths.lock})") from exc
    try:
        # Another builder may have committed while we waited for the lock.
        if not rebuild and is_up_to_date(root, settings=settings):
            return BuildReport(
                status="up_to_date", root=root, seconds=time.perf_counter() - started
            )
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
        self.embedder = embedder or get_embedder(settings.model, device=device or default_device())
        self.progress = progress or (lambda stage, done, total: None)
        self.timings: dict[str, float] = {}
        self.active_metadata: Metadata | None = None  # the build this one replaces
        self.previous_metadata: Metadata | None = None  # set when it can be updated in place
        self.previous: UnitsFile | None = None

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.perf_counter() - started, 4)

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
        walked = walk_project(
            paths.root,
            max_file_bytes=default_max_file_bytes(),
            languages=set(settings.lang) if settings.lang else None,
        )
        self._timed("walk", started)

        started = time.perf_counter()
        skipped = dict(walked.skipped)
        stamps, units, extracted = self._collect_units(walked.files, skipped)
        self._timed("extract", started)
        if signature is None:
            signature = fs_signature((f.rel_path, f.size, f.mtime_ns) for f in walked.files)

        started = time.perf_counter()
        called_by = build_called_by(units)
        texts = [
            embedding_text(unit, callers) for unit, callers in zip(units, called_by, strict=True)
        ]
        hashes = [text_hash(text) for text in texts]
        self._timed("text", started)

        keys, next_key, removed_keys, new_positions = self._assign_keys(hashes)
        incremental = self.previous is not None

        started = time.perf_counter()
        need = new_positions if incremental else list(range(len(units)))
        vectors = self._vectors([texts[i] for i in need], [hashes[i] for i in need])
        self._timed("embed", started)

        started = time.perf_counter()
        import numpy as np

        build_id = new_build_id()
        if incremental:
            assert self.previous_metadata is not None
            index = store.open(self.previous_metadata.vector_store.index_file, view=True).copy()
            if removed_keys:
                index.remove(np.asarray(removed_keys, dtype=np.uint64))
        else:
            index = store.create(self.embedder.dimension)
        if need:
            index.add(np.asarray([keys[i] for i in need], dtype=np.uint64), vectors)
        location = store.location_for(build_id)
        store.save(index, location)
        self._timed("vector_index", started)

        started = time.perf_counter()
        units_file = UnitsFile(
            build_id=build_id,
            files=stamps,
            units=units,
            keys=keys,
            text_hashes=hashes,
            next_key=next_key,
        )
        atomic_write_bytes(paths.units_file(build_id), msgspec.msgpack.encode(units_file))
        self._timed("units_file", started)

        started = time.perf_counter()
        lexical.LexicalIndex.build(units).save(paths.lexical_file(build_id))
        self._timed("lexical", started)

        active = self.active_metadata
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
            dimension=self.embedder.dimension,
            count=len(units),
            text_format=TEXT_FORMAT,
            extractor_version=EXTRACTOR_VERSION,
            project_signature=signature,
            units_file=paths.units_file(build_id).name,
            lexical_file=paths.lexical_file(build_id).name,
            lexical_format=lexical.LEXICAL_FORMAT,
            files_indexed=len(stamps),
            files_skipped=skipped,
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
        record_use(paths)
        self.progress("write", 1, 1)

        keep = {build_id}
        if previous_index and (previous_id := build_id_of(previous_index)):
            keep.add(previous_id)
        collect_garbage(
            paths,
            keep_build_ids=keep,
            store_locations=store.list_locations(),
            delete_location=store.delete,
        )
        self._timed("commit", started)
        return BuildReport(
            status="updated" if incremental else "built",
            root=paths.root,
            build_id=build_id,
            units=len(units),
            files=len(stamps),
            skipped=skipped,
            extracted_files=extracted,
            embedded=len(need),
            timings=self.timings,
        )

    def _load_previous(self, store) -> None:
        """Reuse the active build for a copy-on-write update when it is compatible."""
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
        try:
            self.previous = read_units_file(self.paths, metadata)
        except IndexCorruptError:
            return
        self.previous_metadata = metadata

    def _collect_units(
        self, files: list[SourceFile], skipped: dict[str, int]
    ) -> tuple[list[FileStamp], list[Unit], int]:
        """Units of every file: reused when the file is unchanged, else extracted."""
        reusable: dict[str, tuple[FileStamp, list[Unit]]] = {}
        if self.previous is not None:
            by_file: dict[str, list[Unit]] = defaultdict(list)
            for unit in self.previous.units:
                by_file[unit.file].append(unit)
            for stamp in self.previous.files:
                reusable[stamp.path] = (stamp, by_file.get(stamp.path, []))

        stamps: list[FileStamp] = []
        units: list[Unit] = []
        extracted = 0
        total = len(files)
        for number, source_file in enumerate(files, 1):
            old = reusable.get(source_file.rel_path)
            if old and (old[0].size, old[0].mtime_ns) == (source_file.size, source_file.mtime_ns):
                stamps.append(old[0])
                units.extend(old[1])
                continue
            try:
                data = load_source(source_file.abs_path)
            except SkippedFile as skip:
                skipped[skip.reason] = skipped.get(skip.reason, 0) + 1
                continue
            digest = hashlib.sha256(data).hexdigest()
            stamp = FileStamp(
                source_file.rel_path,
                source_file.language,
                source_file.size,
                source_file.mtime_ns,
                digest,
            )
            stamps.append(stamp)
            if old and old[0].sha256 == digest:
                units.extend(old[1])
                continue
            units.extend(
                extract_units(data, path=source_file.rel_path, language=source_file.language)
            )
            extracted += 1
            if number % 50 == 0 or number == total:
                self.progress("extract", number, total)
        return stamps, units, extracted

    def _assign_keys(self, hashes: list[str]) -> tuple[list[int], int, list[int], list[int]]:
        """Keep each unchanged text's key; new texts get fresh keys.

        Returns keys per unit, the next free key, keys to remove from the
        previous index, and positions whose vectors must be added.
        """
        if self.previous is None:
            return list(range(len(hashes))), len(hashes), [], list(range(len(hashes)))
        available: dict[str, list[int]] = defaultdict(list)
        for key, digest in zip(self.previous.keys, self.previous.text_hashes, strict=True):
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

    def _vectors(self, texts: list[str], hashes: list[str]):
        """Vectors for `texts`: from the cache, the rest embedded in batches."""
        import numpy as np

        dimension = self.embedder.dimension
        result = np.zeros((len(texts), dimension), dtype=np.float32)
        if not texts:
            return result
        cache = EmbeddingCache(
            self.paths.embeddings,
            model_id=self.embedder.model_id,
            text_format=TEXT_FORMAT,
            dimension=dimension,
        )
        try:
            cached = cache.get_many(set(hashes))
            missing = [i for i, digest in enumerate(hashes) if digest not in cached]
            for i, digest in enumerate(hashes):
                if digest in cached:
                    result[i] = cached[digest]
            self.progress("embed", 0, len(missing))
            for start in range(0, len(missing), _EMBED_BATCH):
                batch = missing[start : start + _EMBED_BATCH]
                vectors = self.embedder.embed_documents([texts[i] for i in batch])
                result[batch] = vectors
                cache.put_many((hashes[i], vectors[n]) for n, i in enumerate(batch))
                self.progress("embed", min(start + _EMBED_BATCH, len(missing)), len(missing))
        finally:
            cache.close()
        return result
