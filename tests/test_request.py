"""`SearchRequest`: one definition, validated once, derived on every surface."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import ClassVar

import pytest

from tldr._exceptions import ConfigError
from tldr.cli import build_parser
from tldr.cli._support import add_request_arguments, request_from_args, resolve_path_prefix
from tldr.daemon.protocol import search_params_table
from tldr.request import SearchRequest, search_fields


class _WithBoost(SearchRequest):
    """A request with one more field, as a contributor would add it."""

    __slots__ = ("boost_docs",)
    FIELD_HELP: ClassVar[dict[str, str]] = {**SearchRequest.FIELD_HELP,
                                            "boost_docs": "rank documentation higher"}

    def __init__(self, *, query: str, k: int = 10, lang: str | None = None,
                 path_prefix: str | None = None, mode: str = "hybrid",
                 unit_type: str | None = None, snippets: bool = False, expand: bool = False,
                 rerank: bool = False, files: bool = False, boost_docs: bool = False) -> None:
        super().__init__(query=query, k=k, lang=lang, path_prefix=path_prefix, mode=mode,
                         unit_type=unit_type, snippets=snippets, expand=expand, rerank=rerank,
                         files=files)
        object.__setattr__(self, "boost_docs", boost_docs)


def _cli_dests(parser: argparse.ArgumentParser) -> set[str]:
    return {action.dest for action in parser._actions}


def _search_parser() -> argparse.ArgumentParser:
    parser = build_parser(["semantic", "search", "q"])
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            semantic = action.choices["semantic"]
    for action in semantic._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["search"]
    raise AssertionError("no search parser")


def test_every_field_is_on_every_surface() -> None:
    names = {field.name for field in search_fields()}
    assert names == {"query", "k", "lang", "path_prefix", "mode", "unit_type", "snippets",
                     "expand", "rerank", "files"}
    assert names <= _cli_dests(_search_parser())
    table = search_params_table()
    assert all(f"| `{name}` |" in table for name in names)
    assert table in (Path(__file__).parents[1] / "docs" / "protocol.md").read_text()
    pytest.importorskip("pydantic")
    from tldr.mcp.server import search_signature

    agent = set(search_signature("python").parameters)
    assert agent == names - {"rerank", "files"} | {"budget_tokens"}


def test_a_new_field_shows_up_in_cli_protocol_and_mcp(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_request_arguments(parser, _WithBoost)
    args = parser.parse_args(["find docs", "--boost-docs", "-k", "3"])
    request = request_from_args(args, tmp_path, _WithBoost)
    assert isinstance(request, _WithBoost) and request.boost_docs and request.k == 3
    assert request.params() == {"query": "find docs", "k": 3, "boost_docs": True}
    assert "| `boost_docs` | bool | `false` | rank documentation higher |" in (
        search_params_table(_WithBoost))
    pytest.importorskip("pydantic")
    from tldr.mcp.server import search_signature

    assert "boost_docs" in search_signature("python", _WithBoost).parameters


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "x", "lang": "klingon"}, "choose one of: bash, c, clojure"),
        ({"query": "x", "lang": "pyhton"}, "did you mean 'python'?"),
        ({"query": "x", "unit_type": "lambda"},
         "choose one of: function, method, class, module"),
        ({"query": "x", "unit_type": "methd"}, "did you mean 'method'?"),
        ({"query": "x", "mode": "semantic"}, "choose one of: hybrid, dense, lexical"),
        ({"query": "x", "k": 0}, "k must be between 1 and 1000"),
        ({"query": "x", "k": True}, "k must be an integer"),
        ({"query": "x", "expand": "yes"}, "expand must be true or false"),
        ({"query": "x", "language": "go"}, "unknown search field(s): language"),
        ({"k": 3}, "a search needs a query"),
        ({"query": ""}, "no words or identifiers"),
        ({"query": "?!  ..."}, "no words or identifiers"),
        ({"query": "x", "path_prefix": "../other"}, "outside the project"),
        ({"query": "x", "path_prefix": "/etc"}, "relative to the project root"),
    ],
)
def test_invalid_requests_name_the_valid_values(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SearchRequest.from_params(params)


def test_values_are_normalised() -> None:
    request = SearchRequest(query="parse", lang=" Python ", path_prefix="./src//api/")
    assert request.lang == "python" and request.path_prefix == "src/api"
    assert SearchRequest(query="x", lang="all", path_prefix=".").lang is None
    assert SearchRequest(query="é").query == "é"  # any letter counts, not only ASCII
    with pytest.raises(AttributeError):
        request.k = 3  # type: ignore[misc]
    assert request.replace(k=3).k == 3 and request.k == 10
    assert request == SearchRequest(query="parse", lang="python", path_prefix="src/api")


def test_path_prefix_as_users_type_it(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "src" / "requests").mkdir(parents=True)
    (root / "docs").mkdir()
    src = root / "src"
    assert resolve_path_prefix("./src/requests", root, cwd=root) == "src/requests"
    assert resolve_path_prefix(str(src / "requests"), root, cwd=tmp_path) == "src/requests"
    assert resolve_path_prefix("requests", root, cwd=src) == "src/requests"  # from inside src/
    assert resolve_path_prefix("docs", root, cwd=src) == "docs"  # root-relative fallback
    assert resolve_path_prefix("src/requests", root, cwd=tmp_path) == "src/requests"
    assert resolve_path_prefix("..", root, cwd=src) == ""  # the root itself: everything
    with pytest.raises(ConfigError, match="outside the project"):
        resolve_path_prefix(str(tmp_path), root, cwd=root)


def test_a_query_with_bytes_that_are_not_utf8_is_searched_for_the_rest() -> None:
    # `tldrf semantic search "$(printf 'render \xff json')"`: argv decodes the
    # byte as a lone surrogate, which no tokenizer or JSON encoder accepts.
    request = SearchRequest(query="render \udcff json")
    assert request.query == "render \ufffd json"
    request.query.encode("utf-8")


def test_the_daemon_client_refuses_text_that_is_not_utf8_in_one_line() -> None:
    from tldr._exceptions import ConfigError
    from tldr.daemon.client import _encode

    with pytest.raises(ConfigError, match="not valid UTF-8"):
        _encode({"jsonrpc": "2.0", "id": 1, "method": "st\udcffatus", "params": {}})
