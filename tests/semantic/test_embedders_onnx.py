"""Model variants, the ONNX Runtime provider, and models that cannot load."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tldr import EmbedderError
from tldr.semantic.models.embedders import (
    MODEL_REGISTRY,
    SentenceTransformerEmbedder,
    canonical_model_name,
    get_embedder,
    model_spec,
    split_variant,
)
from tldr.semantic.models.onnx_embedder import OnnxEmbedder, inference_threads
from tldr.semantic.models.onnx_export import _export_stem, exported_model, onnx_cache_dir
from tldr.testing import EmbedderContract

MINILM = "all-MiniLM-L6-v2"
DEFAULT_VARIANT = MODEL_REGISTRY[MINILM].variants[0]
REPO = Path(__file__).resolve().parents[2]


def test_the_bare_name_means_the_default_variant_and_ids_name_the_variant() -> None:
    assert canonical_model_name(MINILM) == f"{MINILM}:{DEFAULT_VARIANT}"
    assert canonical_model_name(f"sentence-transformers/{MINILM}") == f"{MINILM}:{DEFAULT_VARIANT}"
    for variant in ("onnx-int8", "onnx-fp32", "torch"):
        assert canonical_model_name(f"{MINILM}:{variant}") == f"{MINILM}:{variant}"
        assert model_spec(f"{MINILM}:{variant}") is MODEL_REGISTRY[MINILM]
    # Models with one way to run keep plain names; a colon elsewhere is part of a path.
    assert canonical_model_name("BAAI/bge-small-en-v1.5") == "bge-small-en-v1.5"
    assert split_variant("C:/models/mine") == ("C:/models/mine", None)
    assert canonical_model_name("C:/models/mine") == "C:/models/mine"


def test_an_unknown_variant_is_an_error_listing_the_valid_ones() -> None:
    with pytest.raises(EmbedderError, match=f"{MINILM}:onnx-int8, {MINILM}:onnx-fp32"):
        canonical_model_name(f"{MINILM}:onnx-int4")


def test_each_variant_has_its_provider_and_the_alias_shares_the_instance() -> None:
    for variant in ("onnx-int8", "onnx-fp32"):
        embedder = get_embedder(f"{MINILM}:{variant}")
        assert isinstance(embedder, OnnxEmbedder)
        assert embedder.model_id == f"{MINILM}:{variant}"
        assert embedder.dimension == 384
    torch_embedder = get_embedder(f"{MINILM}:torch")
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    assert torch_embedder.model_id == f"{MINILM}:torch"
    assert get_embedder(MINILM) is get_embedder(f"{MINILM}:{DEFAULT_VARIANT}")


def test_exports_live_in_the_configured_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLDR_USER_CACHE_DIR", str(tmp_path))
    assert onnx_cache_dir() == tmp_path / "onnx"


def test_inference_threads_fit_the_cores_this_process_may_use() -> None:
    threads = inference_threads()
    assert 1 <= threads <= len(os.sched_getaffinity(0))


def _load_in_child(model: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds the load took (interpreter start-up excluded), and the child's result."""
    code = (
        "import sys, time\n"
        "from tldr import TldrError\n"
        "from tldr.semantic.models.embedders import get_embedder\n"
        "started = time.monotonic()\n"
        "try:\n"
        f"    get_embedder({model!r}).embed_query('x')\n"
        "except TldrError as exc:\n"
        "    print(time.monotonic() - started)\n"
        "    print(exc, file=sys.stderr); sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180
    )
    return float(done.stdout.strip() or "inf"), done


def _child_env(**overrides: str) -> dict[str, str]:
    offline = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if k not in offline}
    env.update(overrides)
    return env


@pytest.mark.parametrize(
    ("overrides", "phrases", "limit_s"),
    [
        # Offline: importing huggingface_hub on a loaded machine; no retries.
        ({"HF_HUB_OFFLINE": "1"}, ("not on this machine", "HF_HUB_OFFLINE"), 10),
        # Port 9 (discard) on the loopback interface: nothing listens, so
        # connecting is refused at once, as on a machine whose network is down.
        # One 5 s attempt at most (was 77 s of retries).
        ({"HF_ENDPOINT": "http://127.0.0.1:9"}, ("did not provide it", "local directory"), 20),
    ],
    ids=["offline", "hub-unreachable"],
)
def test_a_missing_model_fails_fast_in_one_line(
    tmp_path: Path, overrides: dict[str, str], phrases: tuple[str, ...], limit_s: float
) -> None:
    seconds, done = _load_in_child(
        "no-such-org/no-such-model", _child_env(**overrides, HF_HOME=str(tmp_path / "hf"))
    )
    assert done.returncode == 3, done.stderr
    message = done.stderr.strip()
    assert "\n" not in message
    assert all(phrase in message for phrase in phrases), message
    assert seconds < limit_s


@pytest.mark.model
class TestOnnxInt8(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> OnnxEmbedder:
        return get_embedder(f"{MINILM}:onnx-int8")


@pytest.mark.model
class TestOnnxFp32(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> OnnxEmbedder:
        return get_embedder(f"{MINILM}:onnx-fp32")


def _code_snippets() -> list[str]:
    """Real code of varied length: this repository's own functions."""
    from tldr.semantic.text import build_called_by, embedding_text
    from tldr.units import extract_units

    units = []
    for path in sorted((REPO / "tldr" / "semantic").glob("*.py"))[:6]:
        units += extract_units(path.read_bytes(), path=path.name, language="python")[:8]
    return [embedding_text(u, c) for u, c in zip(units, build_called_by(units), strict=True)]


@pytest.mark.model
@pytest.mark.parametrize(("variant", "floor"), [("onnx-fp32", 0.999), ("onnx-int8", 0.98)])
def test_onnx_vectors_match_the_torch_model(variant: str, floor: float) -> None:
    texts = _code_snippets()
    assert len(texts) > 20
    reference = get_embedder(f"{MINILM}:torch").embed_documents(texts)
    vectors = get_embedder(f"{MINILM}:{variant}").embed_documents(texts)
    cosines = np.sum(reference * vectors, axis=1)
    assert cosines.min() > floor, (variant, cosines.min())
    query = "where is the embedding cache opened"
    assert float(
        get_embedder(f"{MINILM}:torch").embed_query(query)
        @ get_embedder(f"{MINILM}:{variant}").embed_query(query)
    ) > floor


@pytest.mark.model
@pytest.mark.parametrize(("variant", "attention"), [("onnx-fp32", "Attention"),
                                                    ("onnx-int8", "QAttention")])
def test_the_exported_graph_fuses_attention(variant: str, attention: str) -> None:
    import onnx

    graph = onnx.load(str(exported_model(MODEL_REGISTRY[MINILM], variant))).graph
    ops = {node.op_type for node in graph.node}
    assert attention in ops, sorted(ops)
    assert not ops & {"Softmax", "Where", "IsNaN"}, sorted(ops)  # nothing left unfused


@pytest.mark.model
def test_a_text_gets_the_same_vector_alone_or_among_others_in_any_order() -> None:
    # int8 activations are quantised per forward pass: batched texts would
    # change each other's vectors, and concurrent runs must not mix up rows.
    texts = _code_snippets() * 2
    embedder = get_embedder(f"{MINILM}:onnx-int8")
    together = embedder.embed_documents(texts)
    alone = np.stack([embedder.embed_documents([text])[0] for text in texts[:20]])
    assert np.array_equal(together[:20], alone)
    reverse = embedder.embed_documents(texts[::-1])[::-1]
    assert np.array_equal(together, reverse)


@pytest.mark.model
def test_indexing_and_searching_import_neither_torch_nor_transformers(project: Path) -> None:
    get_embedder(MINILM).embed_query("export first")  # the export needs torch: not below
    code = (
        "import sys\n"
        "from tldr.semantic import Searcher, build_semantic_index\n"
        f"build_semantic_index({str(project)!r})\n"
        f"rows = Searcher({str(project)!r}).search('read settings from a JSON file', k=3)\n"
        "assert rows, rows\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    # The first run embeds while building; the second finds the index up to date,
    # so it opens the vector index before the model: usearch first, then
    # onnxruntime (an order that crashed the process, see vector_store/_usearch.py).
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ""


@pytest.mark.model
def test_two_processes_export_once_and_later_uses_reuse_the_file(tmp_path: Path) -> None:
    code = (
        "from tldr.semantic.models.embedders import MODEL_REGISTRY\n"
        "from tldr.semantic.models.onnx_export import exported_model\n"
        f"print(exported_model(MODEL_REGISTRY[{MINILM!r}], 'onnx-fp32'))\n"
    )
    env = {**os.environ, "TLDR_USER_CACHE_DIR": str(tmp_path / "cache")}
    onnx_dir = tmp_path / "cache" / "onnx"
    onnx_dir.mkdir(parents=True)
    stem = _export_stem(MODEL_REGISTRY[MINILM], "onnx-fp32")
    (onnx_dir / f"{stem}-r0-ort0.onnx").write_bytes(b"an older recipe's export")
    # Another installation's weights: it may still use its export.
    other = onnx_dir / f"{MINILM}-0123456789abcdef-onnx-fp32-r0-ort0.onnx"
    other.write_bytes(b"another installation's export")
    children = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        paths = {child.communicate(timeout=900)[0].strip() for child in children}
    finally:
        for child in children:
            child.kill()
    assert all(child.returncode == 0 for child in children)
    (path,) = paths
    exported = Path(path)
    assert exported.parent == onnx_dir
    assert sorted(p.name for p in onnx_dir.iterdir()) == sorted(
        [exported.name, other.name, ".export.lock"]
    )
    stamp = exported.stat().st_mtime_ns
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == path
    assert exported.stat().st_mtime_ns == stamp
    assert time.monotonic() - started < 30


@pytest.mark.model
def test_the_index_records_the_variant_and_a_variant_change_is_a_full_build(
    project: Path,
) -> None:
    from tldr.paths import IndexPaths
    from tldr.semantic import build_semantic_index
    from tldr.semantic.storage import read_metadata

    assert build_semantic_index(project).status == "built"
    assert read_metadata(IndexPaths(project)).model == f"{MINILM}:{DEFAULT_VARIANT}"
    assert build_semantic_index(project, model=MINILM).status == "up_to_date"
    other = "onnx-fp32" if DEFAULT_VARIANT != "onnx-fp32" else "onnx-int8"
    report = build_semantic_index(project, model=f"{MINILM}:{other}")
    assert report.status == "built" and report.embedded == report.units
    assert read_metadata(IndexPaths(project)).model == f"{MINILM}:{other}"
