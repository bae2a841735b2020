"""Hook specifications: the whole plugin surface of tldrf.

Every hook is `register_<thing>(register)`: the implementation calls
`register(cls)` once per class it contributes. Built-ins go through the same
hooks as external plugins.

Example plugin module (the target of an entry point in group `tldr`):

```python
from tldr.hookspecs import hookimpl

@hookimpl
def register_vector_stores(register):
    register(MyVectorStore)
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = [
    "hookimpl",
    "hookspec",
    "register_embedders",
    "register_rerankers",
    "register_resolvers",
    "register_vector_stores",
]

hookspec = pluggy.HookspecMarker("tldr")
hookimpl = pluggy.HookimplMarker("tldr")


@hookspec
def register_vector_stores(register: Callable[[type[Any]], None]) -> None:
    """Register vector store backends.

    Args:
        register: Call with each `VectorStore` subclass; its `backend_id` must be
            unique across all plugins.
    """


@hookspec
def register_embedders(register: Callable[[type[Any]], None]) -> None:
    """Register embedding providers.

    Args:
        register: Call with each embedder class; its `id` must be unique.
    """


@hookspec
def register_rerankers(register: Callable[[type[Any]], None]) -> None:
    """Register rerankers.

    Args:
        register: Call with each reranker class; its `id` must be unique.
    """


@hookspec
def register_resolvers(register: Callable[[type[Any]], None]) -> None:
    """Register call resolvers for the code graph (specs/016-code-graph.md § Plugin hook).

    Args:
        register: Call with each resolver class. It has a unique `id`, a
            `languages` frozenset (empty: every language; only the built-in
            tier 1 should claim that), is constructed with the graph's
            `Symbols` and answers `resolve_file(file_index) -> list[Edge]`.
            A resolver naming a language replaces tier 1 for it.
    """
