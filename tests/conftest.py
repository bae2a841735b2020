"""Isolation shared by every test: no TLDR_* settings leak in, and each test
gets its own cache, state and runtime directories."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_servers import ChromaServer, chroma_command

from tldr.semantic.models.onnx_export import onnx_cache_dir
from tldr.semantic.models.static_distill import static_cache_dir

MINI_PROJECT = Path(__file__).parent / "fixtures" / "projects" / "mini"
# The user's ONNX exports (setup.sh makes them; a minute each): shared by every
# test's own user cache dir, resolved before any test isolates its settings.
USER_ONNX_EXPORTS = onnx_cache_dir()
# Likewise the static models distilled for the fast tier (spec 020).
USER_STATIC_MODELS = static_cache_dir()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stress tests run only when asked for: `pytest -m stress`."""
    if "stress" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="stress test: run with pytest -m stress")
    for item in items:
        if "stress" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("TLDR_"):
            monkeypatch.delenv(name)
    runtime = tmp_path_factory.mktemp("runtime")
    runtime.chmod(0o700)
    monkeypatch.setenv("TLDR_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("TLDR_USER_CONFIG", str(runtime / "no-user-config.toml"))
    # The user-level caches (embeddings, default cache root) and registry, per test.
    user_cache = tmp_path_factory.mktemp("user-cache")
    USER_ONNX_EXPORTS.mkdir(parents=True, exist_ok=True)
    (user_cache / "onnx").symlink_to(USER_ONNX_EXPORTS, target_is_directory=True)
    USER_STATIC_MODELS.mkdir(parents=True, exist_ok=True)
    (user_cache / "static").symlink_to(USER_STATIC_MODELS, target_is_directory=True)
    monkeypatch.setenv("TLDR_USER_CACHE_DIR", str(user_cache))
    monkeypatch.setenv("TLDR_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def indexed_project(tmp_path: Path) -> Iterator[Path]:
    """The mini fixture project indexed with hash-256; a daemon started on it is
    stopped at teardown."""
    from tldr.daemon.client import stop_daemon
    from tldr.paths import daemon_files
    from tldr.semantic import build_semantic_index

    root = shutil.copytree(MINI_PROJECT, tmp_path / "mini")
    (root / ".tldr").mkdir()
    build_semantic_index(root, model="hash-256")
    yield root
    stop_daemon(daemon_files(root), timeout=5.0)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A real `chroma run` on 127.0.0.1 for one test (skips without chromadb)."""
    from tldr.vector_store import get_backend

    if chroma_command() is None or not get_backend("chromadb").is_available()[0]:
        pytest.skip("chromadb is not installed: pip install 'tldrf[chromadb]'")
    server = ChromaServer(tmp_path / "chroma-data").start()
    yield server
    server.stop()
