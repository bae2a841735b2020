"""The fast tier's static model, distilled on this machine from the bundled MiniLM
(specs/020-fast-tier-and-scale.md). The real distillation takes one to two
minutes, so it runs under the `model` marker; the default suite tests the
tier with a tiny static model (test_fast_tier.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tldr._exceptions import EmbedderError
from tldr.semantic.models.static_distill import distilled_model, is_distilled
from tldr.semantic.models.static_embedder import StaticEmbedder

MINILM = "all-MiniLM-L6-v2"


def test_only_bundled_models_are_distilled() -> None:
    with pytest.raises(EmbedderError, match="only bundled models"):
        distilled_model("bge-small-en-v1.5")
    assert not is_distilled("bge-small-en-v1.5")
    with pytest.raises(EmbedderError, match="no static model at"):
        StaticEmbedder.for_model("static:/no/such/directory")


@pytest.mark.model
def test_two_processes_distil_once_and_later_uses_reuse_the_model(tmp_path: Path) -> None:
    code = (
        "from tldr.semantic.models.static_distill import distilled_model\n"
        f"print(distilled_model({MINILM!r}))\n"
    )
    env = {**os.environ, "TLDR_USER_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    children = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        paths = {child.communicate(timeout=1800)[0].strip() for child in children}
    finally:
        for child in children:
            child.kill()
    assert all(child.returncode == 0 for child in children)
    (path,) = paths
    model_dir = Path(path)
    static_dir = tmp_path / "cache" / "static"
    assert model_dir.parent == static_dir
    # One model, no scratch directory left behind.
    assert sorted(p.name for p in static_dir.iterdir()) == sorted([model_dir.name, ".distill.lock"])
    stamp = (model_dir / "config.json").stat().st_mtime_ns
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == path
    assert (model_dir / "config.json").stat().st_mtime_ns == stamp
    assert time.monotonic() - started < 30

    embedder = StaticEmbedder("static:" + MINILM, model_dir, revision=model_dir.name)
    vectors = embedder.embed_documents(
        ["def parse_config(path): read the configuration file", "class HttpClient: send requests"]
    )
    assert vectors.shape == (2, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    query = embedder.embed_query("read the configuration")
    assert float(vectors[0] @ query) > float(vectors[1] @ query)
    # Embedding imports neither torch nor transformers.
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys\n"
         "from tldr.semantic.models.static_embedder import StaticEmbedder\n"
         "from pathlib import Path\n"
         f"StaticEmbedder('static:x', Path({path!r}), revision='r').embed_query('x')\n"
         "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"],
        env=env, capture_output=True, text=True, timeout=120, check=True)
    assert probe.stdout.strip() == "[]"
