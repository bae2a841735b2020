"""A plugin's resolver replaces the built-in tier for its languages only."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.graph.conftest import copy_fixture
from tldr import plugins
from tldr.graph import Edge, graph_from_tree
from tldr.graph.symbols import Symbols
from tldr.hookspecs import hookimpl


class _EveryCallIsMain:
    """Resolves every Go call to the first definition named `main` (a visible stand-in)."""

    id = "test-go"
    languages = frozenset({"go"})

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols

    def resolve_file(self, file_index: int) -> list[Edge]:
        target = self.symbols.by_name["main"][0]
        sites = self.symbols.files[file_index].facts.sites
        return [Edge(number, "exact", [target]) for number in range(len(sites))]


@pytest.fixture
def go_plugin() -> Iterator[None]:
    module = types.ModuleType("test_go_resolver")

    @hookimpl
    def register_resolvers(register: Callable[[type[Any]], None]) -> None:
        register(_EveryCallIsMain)

    module.register_resolvers = register_resolvers  # type: ignore[attr-defined]
    plugins._register_module_for_tests(module, source="test-go-resolver")
    yield
    plugins._reset()


def test_plugin_resolver_wins_for_its_language(go_plugin: None, tmp_path: Path) -> None:
    graph = graph_from_tree(copy_fixture("goproj", tmp_path))
    assert graph.resolvers == {"go": "test-go"}
    sites = sum(len(record.facts.sites) for record in graph.files)
    assert sum(len(edges) for edges in graph.edges) == sites
    python = graph_from_tree(copy_fixture("pyproj", tmp_path))
    assert python.resolvers == {"python": "tier1"}
