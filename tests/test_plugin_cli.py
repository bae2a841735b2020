from __future__ import annotations

import json
from pathlib import Path

import pytest

from tldr.cli import main


def test_backends_json_lists_builtins_with_availability(capsys) -> None:
    assert main(["semantic", "backends", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"usearch", "exact", "faiss", "qdrant", "chromadb", "milvus"} <= set(rows)
    for engine in ("chromadb", "milvus"):  # through the registry, like any backend
        row = rows[engine]
        assert row["source"] == "built-in"
        assert row["available"] is True or f"tldrf[{engine}]" in row["reason"], row
    usearch = rows["usearch"]
    assert usearch["source"] == "built-in"
    assert usearch["available"] is True and usearch["healthy"] is True
    assert usearch["version"] and usearch["index_format"]
    for row in rows.values():
        assert set(row) == {
            "id",
            "name",
            "source",
            "available",
            "reason",
            "index_format",
            "version",
            "healthy",
            "health",
        }


def test_backends_text_output(capsys) -> None:
    assert main(["semantic", "backends"]) == 0
    out = capsys.readouterr().out
    assert "usearch" in out and "[built-in]" in out and "health ok" in out


def test_plugins_list_shows_builtin_hooks(capsys) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    plugins = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert "register_vector_stores" in plugins["tldr.vector_store.builtin"]["hooks"]
    assert {"register_embedders", "register_rerankers"} <= set(
        plugins["tldr.semantic.builtin_plugins"]["hooks"]
    )
    assert main(["plugins", "list", "--failed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def _configure(root: Path, *args: str) -> int:
    return main(["semantic", "configure", "usearch", "--path", str(root), *args])


def test_configure_validates_and_writes_config_toml(tmp_path: Path, capsys) -> None:
    assert _configure(tmp_path, "--set", "connectivity=32", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["configured"] == {"connectivity": 32}
    assert shown["effective"]["connectivity"] == 32
    assert "[vector_store.usearch]" in (tmp_path / ".tldr" / "config.toml").read_text()

    assert _configure(tmp_path, "--set", "connectivity=-3") == 1
    assert "connectivity" in capsys.readouterr().err
    assert _configure(tmp_path, "--set", "no_such_knob=1") == 1
    assert "no_such_knob" in capsys.readouterr().err

    assert _configure(tmp_path, "--unset", "connectivity", "--show") == 0
    assert "connectivity = 16  (default)" in capsys.readouterr().out


def test_configured_settings_reach_the_build(tmp_path: Path) -> None:
    from tldr.semantic import build_semantic_index, index_info

    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    _configure(tmp_path, "--set", "connectivity=24")
    build_semantic_index(tmp_path, model="hash-64")
    assert index_info(tmp_path)["vector_store"]["build_params"]["connectivity"] == 24


def test_search_refuses_a_backend_flag(tmp_path: Path, capsys) -> None:
    assert (
        main(["semantic", "search", "x", "--path", str(tmp_path), "--vector-backend", "faiss"]) == 1
    )
    assert "recorded in the index" in capsys.readouterr().err


def test_unknown_backend_points_to_the_listing(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    assert (
        main(["semantic", "index", str(tmp_path), "--model", "hash-64", "--vector-backend", "nope"])
        == 1
    )
    assert "tldrf semantic backends" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["exact", "faiss", "qdrant"])
def test_build_and_search_with_each_builtin_backend(tmp_path: Path, backend: str) -> None:
    from tldr.semantic import build_semantic_index, index_info, semantic_search

    (tmp_path / "a.py").write_text("def parse_config():\n    return 1\n\ndef other():\n    pass\n")
    build_semantic_index(tmp_path, model="hash-64", vector_backend=backend)
    assert index_info(tmp_path)["vector_store"]["backend"] == backend
    assert semantic_search(tmp_path, "parse_config", k=1)[0]["name"] == "parse_config"
    (tmp_path / "b.py").write_text("def added():\n    return 2\n")
    assert build_semantic_index(tmp_path).status == "updated"
    assert index_info(tmp_path)["vector_store"]["backend"] == backend
    assert semantic_search(tmp_path, "added", k=1)[0]["name"] == "added"
