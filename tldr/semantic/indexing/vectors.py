"""Vectors of a build's new units: the shared cache first, then the model, in batches.

Every vector goes into the build's vector index as soon as it is known, so
a build holds one batch of vectors and texts at a time besides the index
itself. A build that serves nothing yet commits while the model embeds
(`Checkpoints`, specs/010-lexical-first.md § Partial builds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr.semantic.indexing.embedding_cache import EmbeddingCache
from tldr.semantic.text import TEXT_FORMAT

if TYPE_CHECKING:
    from tldr.semantic.indexing.commit import Snapshot
    from tldr.semantic.models.embedders import Embedder

__all__ = ["Checkpoints", "add_vectors"]

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Checkpoints:
    """When to commit while embedding: before the first batch, then at growing intervals.

    `commit(ready)` commits the index as it is (`ready`: units with a
    vector); none below `min_texts` texts to embed (the build is quick).
    """

    commit: Callable[[int], None]
    min_texts: int
    every_s: float
    growth: float
    max_s: float


@dataclass
class _ToEmbed:
    """The units the cache had no vector for: one per text, and the others with that text."""

    first: list[int] = field(default_factory=list)
    twins: dict[int, list[int]] = field(default_factory=dict)
    ready: int = 0  # units with a vector already (from the cache)


def add_vectors(
    index: Any,
    snapshot: Snapshot,
    *,
    embedder: Embedder,
    cache_path: Path,
    batch: int,
    lookup_batch: int,
    progress: ProgressCallback,
    checkpoints: Checkpoints | None,
) -> int:
    """Add a vector for each of `snapshot.new_positions` to `index`; returns texts embedded.

    The cache is asked `lookup_batch` units at a time; the model embeds
    `batch` texts at a time, each text once (units with the same text,
    1 % of the development set's units, get the same vector) and every
    vector it makes goes to the cache at once, so a killed build keeps them.
    """
    import numpy as np

    need = snapshot.new_positions
    if not need:
        return 0
    keys = np.asarray(snapshot.keys, dtype=np.uint64)
    cache = EmbeddingCache(cache_path, model_id=embedder.model_id, text_format=TEXT_FORMAT,
                           dimension=embedder.dimension,
                           revision=str(getattr(embedder, "revision", "") or ""))
    try:
        todo = _from_cache(cache, index, keys, snapshot.hashes, need, lookup_batch)
        if checkpoints is not None and len(todo.first) < checkpoints.min_texts:
            checkpoints = None
        ready = todo.ready
        if checkpoints is not None:
            checkpoints.commit(ready)
        last_checkpoint = time.perf_counter()
        interval = checkpoints.every_s if checkpoints is not None else 0.0
        # Counted as the commits count (units with a vector, from the cache
        # and twins too, of all), so the two progress lines agree.
        progress("embed", ready, len(need))
        for start in range(0, len(todo.first), batch):
            positions = todo.first[start : start + batch]
            vectors = embedder.embed_documents(snapshot.texts.at(positions))
            ready += _add_embedded(index, keys, positions, vectors, todo.twins)
            cache.put_many((snapshot.hashes[i], vectors[n]) for n, i in enumerate(positions))
            progress("embed", ready, len(need))
            last_batch = start + batch >= len(todo.first)
            if (
                checkpoints is not None
                and not last_batch
                and time.perf_counter() - last_checkpoint >= interval
            ):
                checkpoints.commit(ready)
                last_checkpoint = time.perf_counter()
                interval = min(interval * checkpoints.growth, checkpoints.max_s)
    finally:
        cache.close()
    return len(todo.first)


def _from_cache(cache: EmbeddingCache, index: Any, keys: Any, hashes: list[str],
                need: list[int], lookup_batch: int) -> _ToEmbed:
    """Add the cached vectors of `need` to `index`; the rest, to embed."""
    import numpy as np

    todo = _ToEmbed()
    first_with: dict[str, int] = {}
    for start in range(0, len(need), lookup_batch):
        chunk = need[start : start + lookup_batch]
        cached = cache.get_many({hashes[i] for i in chunk})
        hits = [i for i in chunk if hashes[i] in cached]
        if hits:
            index.add(keys[hits], np.stack([cached[hashes[i]] for i in hits]))
            todo.ready += len(hits)
        for i in chunk:
            digest = hashes[i]
            if digest in cached:
                continue
            if digest in first_with:
                todo.twins.setdefault(first_with[digest], []).append(i)
            else:
                first_with[digest] = i
                todo.first.append(i)
    return todo


def _add_embedded(index: Any, keys: Any, positions: list[int], vectors: Any,
                  twins: dict[int, list[int]]) -> int:
    """Add one embedded batch, and the same vectors for the units with the same texts."""
    rows = sorted(
        [(position, row) for row, position in enumerate(positions)]
        + [(twin, row) for row, position in enumerate(positions)
           for twin in twins.get(position, ())]
    )
    index.add(keys[[position for position, _ in rows]], vectors[[row for _, row in rows]])
    return len(rows)
