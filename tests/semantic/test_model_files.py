"""Finding a model on this machine without the network or heavy imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr.semantic.models.model_files import hub_cache_dir, local_model_dir

REPO = "some-org/some-cross-encoder"


def _cached(hub: Path, repo_id: str, commit: str = "0123abcd" * 5) -> Path:
    folder = hub / f"models--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    return snapshot


def test_a_directory_is_itself(tmp_path: Path) -> None:
    assert local_model_dir(str(tmp_path)) == tmp_path
    assert local_model_dir(str(tmp_path / "absent")) is None


@pytest.mark.parametrize("variable", ["HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"])
def test_the_hub_cache_agrees_with_huggingface_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for name in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "hf"))
    hub = hub_cache_dir()
    assert hub == (tmp_path / "hf" / "hub" if variable == "HF_HOME" else tmp_path / "hf")
    assert local_model_dir(REPO) is None
    snapshot = _cached(hub, REPO)
    assert local_model_dir(REPO) == snapshot

    # What huggingface_hub itself resolves offline, in a fresh process (its
    # cache location is read once, at import).
    import subprocess
    import sys

    resolved = subprocess.run(
        [sys.executable, "-c", "import sys; from huggingface_hub import snapshot_download; "
         "print(snapshot_download(sys.argv[1], local_files_only=True))", REPO],
        capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    assert Path(resolved) == snapshot


@pytest.mark.parametrize("name", ["not-a-hub-id", "a/b/c", "no-such-dir/..", "org/", "org/.."])
def test_names_that_are_not_hub_ids_are_not_found(name: str) -> None:
    assert local_model_dir(name) is None
