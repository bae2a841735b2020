"""One index shared by a team: a builder publishes builds to the engine, readers follow.

specs/018-engines.md § One index shared by a team. A store with
`shared_index = NAME` keeps, on the engine, the build collections, the
files of each published build (units and lexical index, as blobs) and
append-only commit records; the newest record is the team's commit point.

- The publisher (`shared_role = "publish"`) builds as usual; after a complete
  build is committed locally, `publish_pending` uploads its files, then
  appends the record naming it (the collection was complete before the local
  commit). A publish that failed is retried by the next `semantic index`.
- A follower (`shared_role = "follow"`) never builds: `follow_shared_index`
  downloads the files of the newest record, checks their sha256 and commits
  its local `metadata.json` from the record, under its local build lock. The
  local commit point stays the reader's own, so a daemon or `Searcher`
  reloads exactly as after a local build: never a mix of two builds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from tldr._exceptions import ConfigError, IndexCorruptError, IndexMissingError, IndexStateError
from tldr.paths import IndexPaths, find_project_root
from tldr.semantic.indexing.freshness import open_store, requested_settings
from tldr.semantic.indexing.lock import BuildLock
from tldr.semantic.storage import (
    KEEP_VERSIONS,
    Metadata,
    atomic_write_bytes,
    build_id_of,
    collect_garbage,
    read_metadata,
    write_metadata,
)
from tldr.settings import BuildSettings

__all__ = [
    "RECORD_FORMAT",
    "CommitRecord",
    "FollowReport",
    "follow_shared_index",
    "latest_record",
    "publish_build",
    "publish_pending",
    "shared_role",
]

RECORD_FORMAT = 1


class CommitRecord(msgspec.Struct, kw_only=True):
    """A published build: the publisher's metadata and the sha256 of its files."""

    format: int = RECORD_FORMAT
    seq: int
    build_id: str
    published_at: str
    metadata: Metadata
    files: dict[str, str]  # file name -> sha256 hex


@dataclass
class FollowReport:
    """What a follow did: `followed` a newer build, or was `up_to_date`."""

    status: str
    root: Path
    build_id: str
    seq: int
    units: int
    files: int
    seconds: float


def shared_role(settings: BuildSettings) -> str | None:
    """`publish` or `follow` when the backend settings name a shared index, else None."""
    backend = settings.backend_settings
    if not backend.get("shared_index"):
        return None
    return str(backend.get("shared_role") or "follow")


def latest_record(store: Any) -> CommitRecord | None:
    """The newest commit record of a shared store, or None before the first publish.

    Raises:
        IndexCorruptError: The record cannot be decoded.
    """
    commits = store.commits()
    if not commits:
        return None
    seq, raw = commits[-1]
    try:
        record = msgspec.json.decode(raw, type=CommitRecord)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise IndexCorruptError(f"shared index record {seq} is unreadable: {exc}") from exc
    if record.format != RECORD_FORMAT:
        raise IndexCorruptError(
            f"shared index record {seq} has format {record.format}; this tldrf reads "
            f"{RECORD_FORMAT}: upgrade tldrf"
        )
    return record


def publish_build(paths: IndexPaths, metadata: Metadata, store: Any) -> CommitRecord:
    """Upload the files of a committed build, then append its commit record.

    Afterwards blobs of builds whose collection is gone and all but the
    newest `KEEP_VERSIONS` records are deleted. Run under the build lock.
    """
    names = [name for name in (metadata.units_file, metadata.lexical_file) if name]
    present = store.blob_names()
    digests: dict[str, str] = {}
    for name in names:
        data = (paths.semantic_dir / name).read_bytes()
        digests[name] = hashlib.sha256(data).hexdigest()
        if name not in present:
            store.put_blob(name, data)
    previous = latest_record(store)
    seq = max(time.time_ns() // 1000, previous.seq + 1 if previous else 0)
    record = CommitRecord(
        seq=seq,
        build_id=metadata.vector_store.build_id,
        published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        metadata=metadata,
        files=digests,
    )
    store.append_commit(seq, msgspec.json.encode(record))
    live = {build_id_of(location) for location in store.list_locations()}
    for name in store.blob_names():
        if build_id_of(name) not in live:
            store.delete_blob(name)
    store.prune_commits(KEEP_VERSIONS)
    return record


def publish_pending(paths: IndexPaths, settings: BuildSettings) -> CommitRecord | None:
    """Publish the active build unless it is published already (or partial).

    Returns the new record, or None when there was nothing to publish.
    """
    lock = BuildLock(paths)
    lock.acquire()
    try:
        metadata = read_metadata(paths)
        if metadata is None or metadata.dense is not None:
            return None
        store = open_store(paths, settings.vector_backend, settings.backend_settings)
        try:
            latest = latest_record(store)
            if latest is not None and latest.build_id == metadata.vector_store.build_id:
                return None
            return publish_build(paths, metadata, store)
        finally:
            store.close()
    finally:
        lock.release()


def follow_shared_index(
    project: str | Path,
    *,
    vector_backend: str | None = None,
    lock_timeout: float = -1,
    paths: IndexPaths | None = None,
) -> FollowReport:
    """Make the local index the newest build published to the shared index.

    Settings come as for a build (argument > env > metadata > config); the
    backend's settings must name `shared_index` (and `url`/`uri`). `paths`
    places the local index elsewhere (index mode), as for a build.

    Raises:
        ConfigError: The backend settings name no shared index.
        IndexMissingError: Nothing has been published under that name yet.
        IndexCorruptError: A published file is missing or fails its checksum;
            the local index is left as it was.
        BackendError: The engine is unreachable (one line).
    """
    started = time.perf_counter()
    root = find_project_root(project)
    paths = paths or IndexPaths(root)
    settings = requested_settings(paths, model=None, lang=None, vector_backend=vector_backend)
    name = settings.backend_settings.get("shared_index")
    if not name:
        raise ConfigError(
            f"backend {settings.vector_backend!r} names no shared index; set one with: "
            f"tldrf semantic configure {settings.vector_backend} --set shared_index=NAME"
        )
    store = open_store(paths, settings.vector_backend, settings.backend_settings)
    try:
        record = latest_record(store)
        if record is None:
            raise IndexMissingError(
                f"nothing is published under shared index {name!r} at "
                f"{getattr(store, 'where', settings.vector_backend)} yet; the builder "
                "publishes with shared_role=publish"
            )
        if _local_build_id(paths) == record.build_id:
            return _report("up_to_date", paths, record, started)
        paths.semantic_dir.mkdir(parents=True, exist_ok=True)
        lock = BuildLock(paths)
        lock.acquire(timeout=lock_timeout)
        try:
            local = _local_metadata(paths)
            if local is not None and local.vector_store.build_id == record.build_id:
                return _report("up_to_date", paths, record, started)
            _install(paths, store, record, local)
        finally:
            lock.release()
    finally:
        store.close()
    return _report("followed", paths, record, started)


def _install(paths: IndexPaths, store: Any, record: CommitRecord, local: Metadata | None) -> None:
    """Download and check the record's files, then commit the local metadata.json."""
    if not store.exists(record.metadata.vector_store.index_file):
        raise IndexCorruptError(
            f"shared build {record.build_id} names collection "
            f"{record.metadata.vector_store.index_file!r}, which is gone; the builder's "
            "next publish repairs it"
        )
    for name, digest in record.files.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise IndexCorruptError(f"shared build {record.build_id} names a bad file {name!r}")
        target = paths.semantic_dir / name
        if target.is_file() and _sha256(target) == digest:
            continue
        data = store.get_blob(name)
        if hashlib.sha256(data).hexdigest() != digest:
            raise IndexCorruptError(
                f"shared file {name} of build {record.build_id} fails its checksum"
            )
        atomic_write_bytes(target, data)
    metadata = msgspec.structs.replace(record.metadata)
    previous = local.vector_store.index_file if local is not None else None
    metadata.vector_store = msgspec.structs.replace(
        metadata.vector_store, previous_index_file=previous
    )
    write_metadata(paths, metadata)
    keep = {record.build_id}
    if local is not None:
        keep.add(local.vector_store.build_id)
    # Followers never delete collections: the publisher owns them.
    collect_garbage(paths, keep_build_ids=keep, store_locations=[],
                    delete_location=lambda _location: None)


def _local_metadata(paths: IndexPaths) -> Metadata | None:
    try:
        return read_metadata(paths)
    except IndexStateError:
        return None


def _local_build_id(paths: IndexPaths) -> str | None:
    metadata = _local_metadata(paths)
    return metadata.vector_store.build_id if metadata is not None else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _report(status: str, paths: IndexPaths, record: CommitRecord, started: float) -> FollowReport:
    return FollowReport(
        status=status,
        root=paths.root,
        build_id=record.build_id,
        seq=record.seq,
        units=record.metadata.count,
        files=record.metadata.files_indexed,
        seconds=time.perf_counter() - started,
    )
