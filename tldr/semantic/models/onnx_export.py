"""ONNX files of bundled models, exported on this machine and cached per user.

Nothing is downloaded: the graph is exported from the weights the model's
package installed (`torch.onnx.export`), BERT-fused by ONNX Runtime's
transformer optimizer and, for the int8 variant, dynamically quantised. The
export runs in a child process (`python -m tldr.semantic.models.onnx_export`) so
torch never enters the process that embeds; a file lock keeps two processes
from exporting the same file, and the file appears by `os.replace` only once
complete.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from tldr._exceptions import EmbedderError
from tldr.paths import user_cache_dir
from tldr.semantic.models.embedders import (
    ModelSpec,
    bundled_model_path,
    model_spec,
    skip_hub_kernels,
    split_variant,
)

__all__ = [
    "EXPORT_RECIPE",
    "bundled_model_dir",
    "export_to",
    "exported_model",
    "onnx_cache_dir",
    "weights_identity",
]

# Bump when the export steps change, so cached files from older steps are not reused.
# 3: eager attention in the traced graph, so the optimizer fuses it (Attention,
# then QAttention in int8) instead of leaving SDPA's masking ops unfused.
EXPORT_RECIPE = 3
_EXPORT_TIMEOUT_S = 900
_OPSET = 17
# One scale per output channel: mean cosine to fp32 0.993 on code texts, where
# one scale per tensor gave 0.941.
_PER_CHANNEL = True


def onnx_cache_dir() -> Path:
    """Where exported models live: under the user cache dir (`TLDR_USER_CACHE_DIR`)."""
    return user_cache_dir() / "onnx"


def bundled_model_dir(spec: ModelSpec) -> Path:
    """The directory of a bundled model's weights, tokenizer and configs."""
    if not spec.bundled:
        raise EmbedderError(f"{spec.name} is not bundled: no ONNX export of it")
    return bundled_model_path()


def weights_identity(model_dir: Path) -> str:
    """Changes when the installed weights change (reinstall, upgrade), cheaply."""
    weights = model_dir / "model.safetensors"
    try:
        stat = weights.stat()
    except OSError as exc:
        raise EmbedderError(f"cannot read the model weights {weights} ({exc})") from exc
    identity = f"{weights.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _export_stem(spec: ModelSpec, variant: str) -> str:
    """The file name's part that names these weights and variant."""
    return f"{spec.name}-{weights_identity(bundled_model_dir(spec))}-{variant}"


def _cache_file(spec: ModelSpec, variant: str) -> Path:
    import onnxruntime

    name = f"{_export_stem(spec, variant)}-r{EXPORT_RECIPE}-ort{onnxruntime.__version__}.onnx"
    return onnx_cache_dir() / name


def exported_model(spec: ModelSpec, variant: str) -> Path:
    """The cached ONNX file of `spec`'s `variant`, exported first if missing."""
    from filelock import FileLock, Timeout

    target = _cache_file(spec, variant)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(target.parent / ".export.lock"), timeout=_EXPORT_TIMEOUT_S):
            if target.exists():  # another process exported it while we waited
                return target
            _export_in_child(spec, variant, target)
            _remove_stale_exports(spec, variant, keep=target)
    except Timeout as exc:
        raise EmbedderError(
            f"another process has been exporting {spec.name} for over {_EXPORT_TIMEOUT_S} s "
            f"(lock {target.parent / '.export.lock'})"
        ) from exc
    return target


def _remove_stale_exports(spec: ModelSpec, variant: str, *, keep: Path) -> None:
    """Exports of these weights by older recipes or runtimes: never loaded again.

    Exports of other weights stay: another installation (a second virtual
    environment) may still use them, and removing them would make the two
    export in turn forever.
    """
    for stale in keep.parent.glob(f"{_export_stem(spec, variant)}-r*.onnx"):
        if stale != keep:
            stale.unlink(missing_ok=True)


def _export_in_child(spec: ModelSpec, variant: str, target: Path) -> None:
    command = [sys.executable, "-m", "tldr.semantic.models.onnx_export",
               f"{spec.name}:{variant}", str(target)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_EXPORT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbedderError(f"cannot export {spec.name}:{variant} to ONNX ({exc})") from exc
    if done.returncode != 0 or not target.exists():
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise EmbedderError(
            f"cannot export {spec.name}:{variant} to ONNX ({reason}); "
            f"name {spec.name}:torch to embed with torch instead"
        )


def export_to(spec: ModelSpec, variant: str, target: Path) -> None:
    """Export, optimise and (int8) quantise `spec` into `target`, atomically."""
    import tempfile

    model_dir = bundled_model_dir(spec)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as scratch:
        raw = Path(scratch) / "raw.onnx"
        _torch_export(model_dir, raw)
        optimized = Path(scratch) / "optimized.onnx"
        _optimize(raw, optimized, model_dir)
        final = optimized
        if variant == "onnx-int8":
            final = Path(scratch) / "int8.onnx"
            _quantize(optimized, final)
        elif variant != "onnx-fp32":
            raise EmbedderError(f"unknown ONNX variant {variant!r}")
        os.replace(final, target)


def _torch_export(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        """The transformer alone, its inputs by position (what the exporter traces)."""

        def __init__(self) -> None:
            super().__init__()
            # SDPA traces to Where/IsNaN masking that ONNX Runtime's BERT
            # optimizer cannot fuse; the eager attention fuses into one op.
            self.bert = AutoModel.from_pretrained(
                str(model_dir), local_files_only=True, attn_implementation="eager"
            )

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    encoder = Encoder().eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 16), dtype=torch.int64) for _ in names)
    axes = {0: "batch", 1: "sequence"}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            encoder,
            sample,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**{name: axes for name in names}, "last_hidden_state": axes},
            opset_version=_OPSET,
            dynamo=False,
        )


def _optimize(source: Path, target: Path, model_dir: Path) -> None:
    """ONNX Runtime's BERT fusions (attention, layer norm, GELU), saved offline."""
    import json

    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text())
    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    optimized.save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """int8 weights, activations quantised on the fly (`quantize_dynamic`)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        source,
        target,
        weight_type=QuantType.QInt8,
        per_channel=_PER_CHANNEL,
        # The fused BERT ops (BiasGelu, SkipLayerNormalization) are outside
        # ONNX's type inference; their tensors are float32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def main(argv: list[str]) -> int:
    """`python -m tldr.semantic.models.onnx_export MODEL:VARIANT TARGET` (the embedder runs it)."""
    if len(argv) != 2:
        print("usage: python -m tldr.semantic.models.onnx_export MODEL:VARIANT TARGET",
              file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    skip_hub_kernels()
    spec = model_spec(argv[0])
    if spec is None:
        print(f"unknown model {argv[0]!r}", file=sys.stderr)
        return 2
    try:
        export_to(spec, split_variant(argv[0])[1] or "", Path(argv[1]))
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
