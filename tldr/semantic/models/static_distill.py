"""Static embedding models distilled on this machine from bundled weights (the fast tier).

model2vec's distillation passes the model's vocabulary through the bundled
transformer once and keeps one vector per token (PCA to `PCA_DIMS`), so a
text's vector is a mean of table rows: tens of thousands of texts a second.
Nothing is downloaded: the weights are the ones the model's package
installed, read with `HF_HUB_OFFLINE=1`. Distillation runs in a child
process (`python -m tldr.semantic.models.static_distill`) so torch never enters the
process that embeds; a file lock keeps two processes from distilling the
same model, and the model's directory appears by `os.replace` only once
complete (specs/020-fast-tier-and-scale.md).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from tldr._exceptions import EmbedderError
from tldr.paths import user_cache_dir
from tldr.semantic.models.embedders import ModelSpec, model_spec, skip_hub_kernels
from tldr.semantic.models.onnx_export import bundled_model_dir, weights_identity

__all__ = [
    "DISTILL_RECIPE",
    "PCA_DIMS",
    "distill_in_background",
    "distill_to",
    "distilled_model",
    "is_distilled",
    "static_cache_dir",
]

logger = logging.getLogger(__name__)

# Bump when the distillation steps change, so older cached models are not reused.
DISTILL_RECIPE = 1
PCA_DIMS = 256
_DISTILL_TIMEOUT_S = 900


def static_cache_dir() -> Path:
    """Where distilled models live: under the user cache dir (`TLDR_USER_CACHE_DIR`)."""
    return user_cache_dir() / "static"


def _model2vec_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("model2vec")
    except PackageNotFoundError as exc:
        raise EmbedderError(
            "the fast tier needs model2vec; run: pip install 'model2vec[distill]'"
        ) from exc


def _cache_dir_for(spec: ModelSpec) -> Path:
    identity = weights_identity(bundled_model_dir(spec))
    name = f"{spec.name}-{identity}-r{DISTILL_RECIPE}-m2v{_model2vec_version()}"
    return static_cache_dir() / name


def is_distilled(name: str) -> bool:
    """Whether this machine already has the static model of registry model `name`."""
    spec = model_spec(name)
    if spec is None or not spec.bundled:
        return False
    try:
        return (_cache_dir_for(spec) / "config.json").is_file()
    except EmbedderError:
        return False


_started: set[str] = set()
_started_lock = threading.Lock()


def distill_in_background(name: str) -> None:
    """Start distilling `name` in a background thread (once per process); failures are logged.

    A build that finds no static model yet goes on without a fast tier
    instead of waiting a minute or two; the next build has it.
    """
    with _started_lock:
        if name in _started:
            return
        _started.add(name)

    def run() -> None:
        try:
            distilled_model(name)
        except EmbedderError as exc:
            logger.warning("%s", exc)

    threading.Thread(target=run, name=f"distill-{name}", daemon=True).start()


def distilled_model(name: str) -> Path:
    """The directory of the static model distilled from registry model `name`.

    Distilled first (a minute or two, once per machine) when missing.

    Raises:
        EmbedderError: `name` has no bundled weights, or distillation failed.
    """
    from filelock import FileLock, Timeout

    spec = model_spec(name)
    if spec is None or not spec.bundled:
        raise EmbedderError(
            f"no static model of {name!r}: only bundled models are distilled on this machine; "
            "name a directory of a saved model2vec model instead (static:/path/to/model)"
        )
    target = _cache_dir_for(spec)
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(target.parent / ".distill.lock"), timeout=_DISTILL_TIMEOUT_S):
            if (target / "config.json").is_file():  # another process distilled it meanwhile
                return target
            _distill_in_child(spec, target)
            _remove_stale(spec, keep=target)
    except Timeout as exc:
        raise EmbedderError(
            f"another process has been distilling {spec.name} for over {_DISTILL_TIMEOUT_S} s "
            f"(lock {target.parent / '.distill.lock'})"
        ) from exc
    return target


def _remove_stale(spec: ModelSpec, *, keep: Path) -> None:
    """Distillations of these weights by an older recipe or model2vec: never loaded again."""
    import shutil

    prefix = keep.name.split("-r")[0]
    for stale in keep.parent.glob(f"{prefix}-r*"):
        if stale != keep and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def _distill_in_child(spec: ModelSpec, target: Path) -> None:
    command = [sys.executable, "-m", "tldr.semantic.models.static_distill", spec.name, str(target)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=_DISTILL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbedderError(f"cannot distill a static model of {spec.name} ({exc})") from exc
    if done.returncode != 0 or not (target / "config.json").is_file():
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise EmbedderError(f"cannot distill a static model of {spec.name} ({reason})")


def distill_to(spec: ModelSpec, target: Path) -> None:
    """Distil `spec`'s bundled weights into the model2vec directory `target`, atomically."""
    import shutil
    import tempfile

    from model2vec.distill import distill

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".distill-") as scratch:
        model = distill(model_name=str(bundled_model_dir(spec)), pca_dims=PCA_DIMS, device="cpu")
        staged = Path(scratch) / "model"
        model.save_pretrained(str(staged))
        if target.exists():  # a half-written directory of a killed run: never referenced
            shutil.rmtree(target)
        os.replace(staged, target)


def main(argv: list[str]) -> int:
    """`python -m tldr.semantic.models.static_distill MODEL TARGET_DIR` (what the embedder runs)."""
    if len(argv) != 2:
        print("usage: python -m tldr.semantic.models.static_distill MODEL TARGET_DIR",
              file=sys.stderr)
        return 2
    spec = model_spec(argv[0])
    if spec is None:
        print(f"unknown model {argv[0]!r}", file=sys.stderr)
        return 2
    skip_hub_kernels()
    try:
        distill_to(spec, Path(argv[1]))
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
