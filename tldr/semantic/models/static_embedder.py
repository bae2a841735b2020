"""The fast tier's embedder: a static (model2vec) model, `static:<model or directory>`.

`static:all-MiniLM-L6-v2` is distilled on this machine from the bundled
weights, once (`static_distill`); `static:/path` loads a saved model2vec
model. A text's vector is the mean of its tokens' rows, so embedding runs at
tens of thousands of texts a second on one core; inference needs numpy, scipy,
tokenizers and safetensors only (specs/020-fast-tier-and-scale.md).
"""

from __future__ import annotations

import threading
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._exceptions import EmbedderError
from tldr.semantic.models.wordpiece_cache import WordPieceCache

if TYPE_CHECKING:
    import numpy as np

__all__ = ["STATIC_PREFIX", "StaticEmbedder", "prepare_static_model", "static_model_dir"]

STATIC_PREFIX = "static:"


def static_model_dir(model: str) -> tuple[Path, str]:
    """The directory of `static:<name or dir>` and its revision (what identifies its vectors).

    A registry name is distilled first if this machine has not yet done so.
    """
    if not model.startswith(STATIC_PREFIX):
        raise EmbedderError(f"not a static model name: {model!r} (expected static:<model>)")
    target = model[len(STATIC_PREFIX):]
    from tldr.semantic.models.embedders import model_spec

    if model_spec(target) is not None:
        from tldr.semantic.models.static_distill import distilled_model

        directory = distilled_model(target)
        return directory, directory.name
    directory = Path(target).expanduser()
    config = directory / "config.json"
    try:
        info = config.stat()
    except OSError:
        raise EmbedderError(
            f"no static model at {directory} (no config.json); name a registry model with "
            "bundled weights (static:all-MiniLM-L6-v2) or a saved model2vec directory"
        ) from None
    weights = directory / "model.safetensors"
    stamp = weights.stat().st_mtime_ns if weights.exists() else info.st_mtime_ns
    return directory, f"{directory.resolve()}@{stamp}"


def prepare_static_model(model: str) -> bool:
    """Whether `static:<...>` can load now; if it must be distilled first, start that.

    For a build: distilling takes a minute or two once per machine, and a
    build does not wait for it (it goes on without a fast tier).
    """
    from tldr.semantic.models.embedders import model_spec

    target = model[len(STATIC_PREFIX):] if model.startswith(STATIC_PREFIX) else model
    if model_spec(target) is None:
        return True
    from tldr.semantic.models.static_distill import distill_in_background, is_distilled

    if is_distilled(target):
        return True
    distill_in_background(target)
    return False


class StaticEmbedder:
    """A model2vec `StaticModel`: one table row per token, a text is their mean."""

    id = "static"

    @classmethod
    def supports(cls, model: str) -> bool:
        """Models named `static:<model or directory>`."""
        return model.startswith(STATIC_PREFIX)

    @classmethod
    def for_model(cls, model: str, *, device: str | None = None) -> StaticEmbedder:
        """The embedder for `model`; `device` is irrelevant (numpy on the CPU)."""
        directory, revision = static_model_dir(model)
        return cls(model, directory, revision=revision)

    def __init__(self, model: str, directory: Path, *, revision: str) -> None:
        self.model_id = model
        self.revision = revision
        self.directory = directory
        self._lock = threading.Lock()
        self._model = self._load()
        # The token rows in float32, made for the first batch of documents (a
        # daemon that only embeds queries never holds them).
        self._table: np.ndarray | None = None
        self._words = WordPieceCache.for_tokenizer(self._model.tokenizer)
        self.dimension = int(self._model.dim)

    def _load(self) -> Any:
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbedderError(
                "the fast tier needs model2vec; run: pip install model2vec"
            ) from exc
        try:
            return StaticModel.from_pretrained(str(self.directory))
        except Exception as exc:
            raise EmbedderError(
                f"cannot load the static model {self.model_id!r} from {self.directory} ({exc})"
            ) from exc

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors, one per text."""
        return self._encode(texts)

    def embed_query(self, text: str) -> np.ndarray:
        """The normalised vector of a query (documents and queries share one space)."""
        vector: np.ndarray = self._encode([text])[0]
        return vector

    def _token_ids(self, texts: list[str], limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Each text's number of token ids, and all of them in text order (under the lock).

        Documents go through the word cache where the tokenizer allows it
        (same ids, a fraction of the time); a query is one text.
        """
        import numpy as np

        if len(texts) > 1 and self._words is not None:
            return self._words.token_ids(texts, limit)
        tokenizer = self._model.tokenizer
        if limit is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(limit)
        encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids = [encoding.ids for encoding in encodings]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        return lengths, flat

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Each text's mean token row, normalised: model2vec's `encode`, twice as fast.

        model2vec averages float16 rows per length bucket and filters unknown
        tokens in Python; tokenizing is the only cost it cannot avoid. Here one
        sparse product (a row of 1/length weights per text) over the table in
        float32 makes every mean at once, rounded as model2vec rounds them
        (to the table's float16, before and after normalising) and then
        normalised in float32: the vectors the model2vec path gave, up to
        the order of the sums.
        """
        import numpy as np
        import scipy.sparse

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._model
        limit = model.max_length
        if limit is not None:  # as model2vec cuts: characters first, then tokens
            texts = [text[: limit * model.median_token_length] for text in texts]
        with self._lock:  # the tokenizer's truncation settings are shared state
            lengths, flat = self._token_ids(texts, limit)
        if model.unk_token_id is not None:  # model2vec drops unknown tokens
            known = flat != model.unk_token_id
            owners = np.repeat(np.arange(len(texts)), lengths)[known]
            flat, lengths = flat[known], np.bincount(owners, minlength=len(texts))
        weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32)
        if model.weights is not None:  # per-token weights of the model (SIF)
            weights *= np.asarray(model.weights, dtype=np.float32)[flat]
        rows = flat if model.token_mapping is None else np.asarray(model.token_mapping)[flat]
        if len(texts) == 1:  # a query: its few rows, not the whole table in float32
            means = weights @ np.asarray(model.embedding[rows], dtype=np.float32)
        else:
            if self._table is None:
                with self._lock:
                    if self._table is None:
                        self._table = np.asarray(model.embedding, dtype=np.float32)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            means = scipy.sparse.csr_matrix(
                (weights, rows, offsets), shape=(len(texts), self._table.shape[0])
            ) @ self._table
        matrix = np.asarray(means, dtype=np.float32).reshape(len(texts), self.dimension)
        stored = model.embedding.dtype
        if stored == np.float16:
            # model2vec keeps each mean, then its normalised vector, at the
            # table's precision; normalised again below, as its output was.
            matrix = matrix.astype(stored).astype(np.float32)
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-32
            matrix = matrix.astype(stored).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # A text of unknown tokens only has a zero vector: any unit vector ranks it last.
        matrix = np.where(norms > 0, matrix / np.where(norms > 0, norms, 1), 0)
        empty = (norms[:, 0] == 0)
        matrix[empty, 0] = 1.0
        return np.ascontiguousarray(matrix, dtype=np.float32)
