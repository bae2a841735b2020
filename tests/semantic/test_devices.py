"""Devices: one list of valid names, and a device that is not there said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldr._exceptions import ConfigError, EmbedderError
from tldr.semantic import Searcher, build_semantic_index
from tldr.semantic.models.devices import DEVICE_CHOICES, check_device, pick_device
from tldr.semantic.models.embedders import get_embedder


def test_valid_device_names() -> None:
    assert DEVICE_CHOICES == ("cpu", "cuda", "mps")
    assert check_device(None) is None
    for name in ("cpu", "cuda", "cuda:1", "mps"):
        assert check_device(name) == name


@pytest.mark.parametrize("bad", ["tpu", "gpu", "cuda:", "cuda:x", "", "CPU "])
def test_an_unknown_device_is_rejected_with_the_choices(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"choose one of: cpu, cuda, cuda:N, mps"):
        check_device(bad)


def test_every_entry_point_rejects_an_unknown_device(project: Path) -> None:
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        get_embedder("hash-256", device="tpu")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        build_semantic_index(project, model="hash-256", device="tpu")
    build_semantic_index(project, model="hash-256")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        Searcher(project, device="tpu")


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.skipif(_cuda_available(), reason="this machine has a CUDA device")
def test_a_device_that_is_not_there_is_said_to_be_unavailable() -> None:
    with pytest.raises(EmbedderError, match="device 'cuda' is not available"):
        pick_device("cuda")
    with pytest.raises(EmbedderError, match="device 'mps' is not available"):
        pick_device("mps")
    assert pick_device("cpu") == "cpu"
    assert pick_device(None) == "cpu"


@pytest.mark.skipif(_cuda_available(), reason="this machine has a CUDA device")
def test_a_torch_model_on_a_missing_device_does_not_blame_the_model() -> None:
    with pytest.raises(EmbedderError) as error:  # before any weight is read
        get_embedder("all-MiniLM-L6-v2:torch", device="cuda").embed_query("parse config")
    assert "not available" in str(error.value)
    assert "local path" not in str(error.value)


def test_the_cli_rejects_an_unknown_device_in_one_line_on_every_path(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tldr.cli import main

    build_semantic_index(project, model="hash-256")
    capsys.readouterr()
    for argv in (["semantic", "search", "parse", "-p", str(project), "--device", "tpu"],
                 ["semantic", "search", "parse", "-p", str(project), "--device", "tpu",
                  "--no-daemon"],
                 ["semantic", "index", str(project), "--device", "tpu"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "choose one of: cpu, cuda, cuda:N, mps" in err


@pytest.mark.skipif(_cuda_available(), reason="this machine has a CUDA device")
def test_a_build_on_a_missing_device_fails_before_any_work(project: Path) -> None:
    from tldr.paths import IndexPaths

    with pytest.raises(EmbedderError, match="not available"):
        build_semantic_index(project, model="all-MiniLM-L6-v2:torch", device="cuda")
    assert not IndexPaths(project).metadata.exists()  # no partial build committed
