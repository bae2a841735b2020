"""The fast dense tier of a partial build: static vectors for every unit within seconds.

While the full model embeds a large project (tens of minutes per 100,000
units on two cores), each partial commit also names a fast index: every unit
of the commit embedded with a static model (`static:<model>`,
`static_embedder`), a separate artifact `fast.<build_id>.exact.npy`
referenced from metadata.json's `fast` block. The final, complete commit has
none (specs/020-fast-tier-and-scale.md).

The fast index is an exact one (the `exact` backend's format: keys and a
float32 matrix, memory-mapped, searched by one matrix-vector product): it is
written in well under a second at any size, where an HNSW graph of 20,000
vectors took 7.6 s to build on the loaded 2-core development machine; a
search of 100,000 256-d vectors costs ~10-20 ms, and the tier only serves
until the full model has embedded every unit.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._atomic import link_or_copy
from tldr._exceptions import TldrError
from tldr.semantic.storage import FastTierMeta
from tldr.settings import setting

if TYPE_CHECKING:
    from tldr.semantic.models.embedders import Embedder

__all__ = ["EMBED_BATCH", "FAST_FILE_PREFIX", "FastSnapshot", "FastTier", "fast_file_name",
           "fast_model_for", "open_fast_index"]

logger = logging.getLogger(__name__)

FAST_FILE_PREFIX = "fast."
EMBED_BATCH = 4096
"""Texts the static model embeds at once: its speed with none of a build's texts held."""
_OFF = frozenset({"", "none", "off", "0", "false", "no"})


def fast_model_for(model: str) -> str | None:
    """The static model of the fast tier for builds of `model`, or None for none.

    `TLDR_FAST_MODEL` when set (`none` turns the tier off); otherwise
    `static:<name>` for a registry model with bundled weights when model2vec
    is installed, and no fast tier for any other model.
    """
    configured = setting("TLDR_FAST_MODEL")
    if configured is not None:
        configured = str(configured).strip()
        return None if configured.lower() in _OFF else configured
    from tldr.semantic.models.embedders import model_spec

    spec = model_spec(model)
    if spec is None or not spec.bundled or importlib.util.find_spec("model2vec") is None:
        return None
    return f"static:{spec.name}"


def fast_file_name(build_id: str) -> str:
    """The fast index file of `build_id`."""
    return f"{FAST_FILE_PREFIX}{build_id}.exact.npy"


def _store(store_dir: Path) -> Any:
    from tldr.vector_store._exact import ExactVectorStore

    return ExactVectorStore(store_dir=store_dir)


def open_fast_index(store_dir: Path, meta: FastTierMeta, *, view: bool) -> Any:
    """The fast index a committed build names (read-only when `view`)."""
    return _store(store_dir).open(meta.index_file, view=view)


class FastTier:
    """The static model of one build and the vectors of its last snapshot, kept by text hash.

    The commits made while files are still parsed each cover the units parsed
    so far; the texts of the last commit are not embedded again. Only the
    last snapshot's matrix is kept (the next one copies the rows it shares),
    so the tier holds one matrix of the build's size, two while it makes
    the next.
    """

    def __init__(self, embedder: Embedder, store_dir: Path) -> None:
        self.embedder = embedder
        self.store_dir = store_dir
        self._matrix: Any = None  # the last snapshot's vectors
        self._rows: dict[str, int] = {}  # text hash -> its row in `_matrix`

    @classmethod
    def for_build(cls, model: str, store_dir: Path) -> FastTier | None:
        """The fast tier for a build of `model`, or None (none configured, or it cannot load).

        A fast tier is an optimisation: a model that fails to load (say, a
        distillation that failed) is logged and the build goes on without it.
        """
        fast_model = fast_model_for(model)
        if fast_model is None:
            return None
        from tldr.semantic.models.embedders import get_embedder
        from tldr.semantic.models.static_embedder import prepare_static_model

        if fast_model.startswith("static:") and not prepare_static_model(fast_model):
            logger.info("no fast tier for this build: %s is being distilled", fast_model)
            return None

        try:
            embedder = get_embedder(fast_model)
        except TldrError as exc:
            logger.warning("no fast tier for this build: %s", exc)
            return None
        return cls(embedder, store_dir)

    def snapshot(
        self,
        keys: Sequence[int],
        hashes: Sequence[str],
        texts_at: Callable[[list[int]], list[str]],
    ) -> FastSnapshot:
        """A fast index of these units, keyed by `keys`, one row per unit.

        Texts the last snapshot embedded are reused; the others are read
        through `texts_at(positions)` and embedded `EMBED_BATCH` at a time.
        """
        import numpy as np

        from tldr.vector_store._exact import ExactIndex

        matrix = np.empty((len(hashes), self.embedder.dimension), dtype=np.float32)
        rows: dict[str, int] = {}
        missing: list[int] = []
        twins: list[int] = []
        for position, digest in enumerate(hashes):
            if digest in rows:
                twins.append(position)
                continue
            rows[digest] = position
            old = self._rows.get(digest)
            if old is None:
                missing.append(position)
            else:
                matrix[position] = self._matrix[old]
        self._matrix, self._rows = None, {}  # the old matrix goes before the texts come
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            matrix[batch] = self.embedder.embed_documents(texts_at(batch))
        for position in twins:
            matrix[position] = matrix[rows[hashes[position]]]
        self._matrix, self._rows = matrix, rows
        index = ExactIndex(np.asarray(keys, dtype=np.uint64), matrix)
        return FastSnapshot(
            model=self.embedder.model_id,
            revision=str(getattr(self.embedder, "revision", "")),
            dimension=self.embedder.dimension,
            index=index,
            count=len(hashes),
        )


@dataclass
class FastSnapshot:
    """The fast index of one snapshot, written once and linked for each commit of it."""

    model: str
    revision: str
    dimension: int
    index: Any
    count: int
    written_as: str | None = field(default=None)

    def write(self, store_dir: Path, build_id: str) -> FastTierMeta:
        """Make `fast.<build_id>.exact.npy` exist; its metadata.

        The first commit writes the index and lets the matrix go; later ones
        link (or copy) the last commit's file.
        """
        name = fast_file_name(build_id)
        if self.index is not None:
            _store(store_dir).save(self.index, name)
            self.index = None
        else:
            assert self.written_as is not None
            link_or_copy(store_dir / fast_file_name(self.written_as), store_dir / name)
        self.written_as = build_id
        return FastTierMeta(model=self.model, revision=self.revision, dimension=self.dimension,
                            index_file=name, count=self.count)
