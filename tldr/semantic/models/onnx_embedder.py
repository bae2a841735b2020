"""The ONNX Runtime provider: a registry model's `:onnx-*` variants.

Runs the graph exported from the bundled weights (`onnx_export`) with ONNX
Runtime and tokenizes with `tokenizers`, so embedding (the daemon's query
path included) imports neither torch nor transformers. Pooling is what the
model's sentence-transformers modules do: mean over the tokens, then
L2 normalisation.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tldr._exceptions import EmbedderError
from tldr.semantic.models.embedders import (
    ModelSpec,
    canonical_model_name,
    model_spec,
    split_variant,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["ONNX_VARIANTS", "OnnxEmbedder", "inference_threads"]

ONNX_VARIANTS = ("onnx-int8", "onnx-fp32")



def inference_threads() -> int:
    """Threads for one forward pass: the physical cores this process may use.

    Hyper-threads share a core's vector units, so counting them only adds
    contention; a CPU affinity mask (taskset, containers) lowers the count.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    import psutil

    physical = psutil.cpu_count(logical=False) or usable
    return max(1, min(usable, physical))


class OnnxEmbedder:
    """A registry model on ONNX Runtime, fp32 or int8 (`<name>:onnx-fp32|onnx-int8`)."""

    id = "onnx"

    @classmethod
    def supports(cls, model: str) -> bool:
        """Registry models named with an ONNX variant (the bare name may resolve to one)."""
        spec = model_spec(model)
        if spec is None or not spec.variants:
            return False
        try:
            return split_variant(canonical_model_name(model))[1] in ONNX_VARIANTS
        except EmbedderError:
            return False

    @classmethod
    def for_model(cls, model: str, *, device: str | None = None) -> OnnxEmbedder:
        """The embedder for `model`; runs on the CPU whatever `device` says."""
        return cls(model)

    def __init__(self, model: str) -> None:
        spec = model_spec(model)
        if spec is None or not self.supports(model):
            raise EmbedderError(f"{model!r} has no ONNX variant")
        self.spec: ModelSpec = spec
        self.model_id = canonical_model_name(model)
        variant = split_variant(self.model_id)[1]
        assert variant in ONNX_VARIANTS  # supports() said so
        self.variant: str = variant
        self.dimension = spec.dimension
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._sessions: dict[bool, Any] = {}  # keyed by "for documents", loaded on first use

    def _loaded(self, *, documents: bool) -> tuple[Any, Any]:
        """The session for documents or for queries, and the tokenizer.

        Each session loads on first use: the daemon, which only embeds
        queries, never loads the documents one, nor a build worker the other.
        """
        with self._lock:
            if documents not in self._sessions:
                self._sessions[documents] = self._load_session(documents=documents)
            if self._tokenizer is None:
                self._tokenizer = self._load_tokenizer()
            return self._sessions[documents], self._tokenizer

    def _load_session(self, *, documents: bool) -> Any:
        from tldr.semantic.models.onnx_export import exported_model

        path = exported_model(self.spec, self.variant)
        try:
            import onnxruntime
        except ImportError as exc:
            raise self._runtime_missing(exc) from exc
        options = onnxruntime.SessionOptions()
        # A query is one short text: its matrices are split over the cores.
        # Documents come many at a time: one text per core, each on a single
        # thread, keeps every core busy without the per-operator hand-offs of
        # splitting small matrices (measured: more units/s than one text on
        # all cores).
        options.intra_op_num_threads = 1 if documents else inference_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # warnings about unused initializers are noise
        # Idle threads sleep instead of spinning: a daemon between queries, or a
        # build sharing the machine, should not burn cores waiting for work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt cache file: a new export replaces it
            path.unlink(missing_ok=True)
            raise EmbedderError(
                f"cannot load {path} ({exc}); it was removed, the next use exports it again"
            ) from exc

    def _load_tokenizer(self) -> Any:
        from tldr.semantic.models.onnx_export import bundled_model_dir

        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise self._runtime_missing(exc) from exc
        tokenizer = Tokenizer.from_file(str(bundled_model_dir(self.spec) / "tokenizer.json"))
        tokenizer.no_padding()
        if self.spec.max_seq_length:
            tokenizer.enable_truncation(max_length=self.spec.max_seq_length)
        return tokenizer

    def _runtime_missing(self, exc: ImportError) -> EmbedderError:
        return EmbedderError(
            f"cannot run {self.model_id} ({exc}); run: pip install onnxruntime tokenizers, "
            f"or name {self.spec.name}:torch"
        )

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors for code units, with the model's document prefix."""
        return self._encode([self.spec.document_prefix + text for text in texts], documents=True)

    def embed_query(self, text: str) -> np.ndarray:
        """The normalised vector of a query, with the model's query prefix."""
        vector: npt.NDArray[Any] = self._encode([self.spec.query_prefix + text], documents=False)[0]
        return vector

    def _encode(self, texts: list[str], *, documents: bool) -> np.ndarray:
        import numpy as np

        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return result
        session, tokenizer = self._loaded(documents=documents)
        encodings = tokenizer.encode_batch(texts)

        # Each text runs alone. int8 activations are quantised per forward
        # pass, so a text batched with others would get a vector that depends
        # on its neighbours; alone, it always gets the same vector, and the
        # embedding cache, an incremental build and a full build agree. A
        # batch of one also has no padding. Measured per thread on this CPU:
        # a 128-word-piece text embeds as fast alone as in a batch of 32
        # (33.0 vs 34.2 texts/s); a 16-word-piece one loses (222 vs 327/s),
        # but such texts are rare and cheap (specs/010-onnx-embedding.md).
        def embed_one(i: int) -> None:
            ids = np.array([encodings[i].ids], dtype=np.int64)
            mask = np.ones_like(ids)
            (hidden,) = session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            result[i] = _mean_pooled(hidden[0])

        workers = min(len(texts), inference_threads()) if documents else 1
        if workers <= 1:
            for i in range(len(texts)):
                embed_one(i)
        else:
            # ONNX Runtime runs one session from several threads at once, and
            # releases the GIL while it computes: one text per core.
            with ThreadPoolExecutor(workers, thread_name_prefix="tldrf-embed") as pool:
                list(pool.map(embed_one, range(len(texts))))
        return result


def _mean_pooled(hidden: np.ndarray) -> np.ndarray:
    """Mean of one text's token vectors (no padding), L2-normalised."""
    import numpy as np

    pooled = hidden.mean(axis=0)
    unit: npt.NDArray[Any] = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
    return unit
