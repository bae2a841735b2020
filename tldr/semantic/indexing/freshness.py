"""Is the committed index up to date with the tree and the requested settings?

Requested settings are compared with the recorded ones, and the project
signature now with the one at build time (DESIGN.md § On disk, "Up to date").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tldr._exceptions import IndexCorruptError, IndexStateError, TldrError
from tldr.paths import IndexPaths
from tldr.semantic import lexical
from tldr.semantic.indexing.signature import fs_signature, git_signature
from tldr.semantic.models.embedders import canonical_model_name
from tldr.semantic.storage import (
    UNITS_FORMAT,
    Metadata,
    ProjectSignature,
    read_metadata,
    verify_artifacts,
)
from tldr.semantic.text import TEXT_FORMAT
from tldr.settings import (
    BuildSettings,
    backend_settings,
    default_max_file_bytes,
    parse_lang,
    read_config_file,
    resolve_build_settings,
)
from tldr.units import walk_project
from tldr.units.model import EXTRACTOR_VERSION
from tldr.vector_store import VectorStore, get_backend

__all__ = [
    "current_signature",
    "is_up_to_date",
    "formats_match",
    "open_store",
    "requested_settings",
    "settings_match",
]

logger = logging.getLogger(__name__)

_reported: set[str] = set()  # damage already logged by this process


def is_up_to_date(root: Path, *, settings: BuildSettings | None = None,
                  paths: IndexPaths | None = None) -> bool:
    """True when the committed index matches the tree and the settings.

    With `settings` None, the recorded settings are taken as requested. A
    damaged file of the build (size or checksum off) means not up to date,
    and is logged as one line naming the file.
    """
    paths = paths or IndexPaths(root)
    try:
        metadata = read_metadata(paths)
    except IndexStateError:
        return False
    if metadata is None or paths.dirty.exists():
        return False
    if metadata.dense is not None:  # a partial build: embedding is not finished
        return False
    if not formats_match(metadata):  # written by another version: rebuilt, never misread
        return False
    if settings is not None and not settings_match(metadata, settings):
        return False
    try:
        verify_artifacts(paths, metadata)
    except IndexCorruptError as exc:
        detail = str(exc).split(";")[0]
        if detail not in _reported:  # a build checks twice (before and under the lock)
            _reported.add(detail)
            logger.warning("index not up to date: %s", detail)
        return False
    try:
        backend_id = metadata.vector_store.backend
        store = open_store(paths, backend_id, backend_settings(paths.config, backend_id))
        if not store.exists(metadata.vector_store.index_file):
            return False
    except TldrError:
        return False
    return current_signature(root, metadata) == metadata.project_signature


def requested_settings(
    paths: IndexPaths,
    *,
    model: str | None,
    lang: str | list[str] | None,
    vector_backend: str | None,
    rebuild: bool = False,
    sources: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> BuildSettings:
    """Build settings after precedence: arguments > env > metadata > config > defaults.

    On a `rebuild` what the config files set beats the recorded settings
    (which still beat the defaults). Otherwise a config value that the
    recorded one overrides is said in `notes`, never ignored silently.
    """
    try:
        metadata = read_metadata(paths)
    except IndexStateError:
        metadata = None
    recorded = None
    if metadata is not None:
        recorded = BuildSettings(
            model=metadata.model,
            lang=tuple(metadata.lang) if metadata.lang else None,
            vector_backend=metadata.vector_store.backend,
        )
    config = read_config_file(paths.config)
    chosen_sources: dict[str, str] = {} if sources is None else sources
    settings = resolve_build_settings(
        config=config, recorded=recorded, model=model, lang=lang,
        vector_backend=vector_backend, sources=chosen_sources, config_first=rebuild,
    )
    if notes is not None:
        notes.extend(_config_not_applied(config, settings, chosen_sources))
    return settings._replace(model=canonical_model_name(settings.model))


def _config_not_applied(config: dict[str, Any], settings: BuildSettings,
                        sources: dict[str, str]) -> list[str]:
    """What the config files set that the index's recorded settings override."""
    notes = []
    for key, value in config.get("semantic", {}).items():
        chosen = getattr(settings, key, None)
        wanted = parse_lang(value) if key == "lang" else value
        if sources.get(key) == "metadata.json" and wanted != chosen:
            notes.append(f"the config sets {key} = {value!r}, but the index keeps its recorded "
                         f"{key} ({chosen if chosen else 'all'}); "
                         "apply it with: tldrf semantic index --rebuild")
    return notes


def settings_match(metadata: Metadata, settings: BuildSettings) -> bool:
    """Whether the committed index was built with these settings and formats."""
    return (
        metadata.model == settings.model
        and (tuple(metadata.lang) if metadata.lang else None) == settings.lang
        and metadata.vector_store.backend == settings.vector_backend
        and formats_match(metadata)
    )


def formats_match(metadata: Metadata) -> bool:
    """Whether the committed build's files are in the formats this version writes."""
    return (
        metadata.text_format == TEXT_FORMAT
        and metadata.extractor_version == EXTRACTOR_VERSION
        and metadata.lexical_format == lexical.LEXICAL_FORMAT
        and metadata.units_format == UNITS_FORMAT
    )


def current_signature(root: Path, metadata: Metadata) -> ProjectSignature:
    """The signature of the tree now, of the kind the index recorded."""
    if metadata.project_signature.kind == "git":
        signature = git_signature(root)
        if signature is not None:
            return signature
    walked = walk_project(
        root,
        max_file_bytes=default_max_file_bytes(),
        languages=set(metadata.lang) if metadata.lang else None,
    )
    return fs_signature((f.rel_path, f.size, f.mtime_ns) for f in walked.files)


def open_store(paths: IndexPaths, backend_id: str, settings: Mapping[str, Any]) -> VectorStore:
    """The project's vector store of that backend."""
    return get_backend(backend_id)(store_dir=paths.semantic_dir, settings=dict(settings))
