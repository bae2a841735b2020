"""The built-in tier-1 resolver, registered through the same hook as plugins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tldr.hookspecs import hookimpl

__all__ = ["register_resolvers"]


@hookimpl
def register_resolvers(register: Callable[[type[Any]], None]) -> None:
    """Tier 1: scopes, imports, self/this, constructors and evident receiver types."""
    from tldr.graph.resolve import Tier1Resolver

    register(Tier1Resolver)
