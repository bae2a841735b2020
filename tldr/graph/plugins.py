"""Which resolver resolves each language: a plugin's for its languages, else tier 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tldr.graph.resolve import BUILTIN_RESOLVER_ID
from tldr.graph.symbols import Symbols
from tldr.plugins import BUILTIN_SOURCE, registered_resolvers

__all__ = ["resolvers_for"]


def resolvers_for(symbols: Symbols) -> Callable[[str], Any]:
    """A function from language to the resolver instance (built once per graph) for it.

    A resolver registered by an external plugin for a language wins over a
    built-in one; tier 1 (no `languages`) answers for every other language.
    """
    registrations = registered_resolvers()
    fallback_cls = registrations[BUILTIN_RESOLVER_ID].obj
    by_language: dict[str, type[Any]] = {}
    for registration in sorted(registrations.values(), key=lambda r: r.source != BUILTIN_SOURCE):
        for language in getattr(registration.obj, "languages", frozenset()):
            by_language[language] = registration.obj
    instances: dict[type[Any], Any] = {}

    def resolver(language: str) -> Any:
        cls = by_language.get(language, fallback_cls)
        instance = instances.get(cls)
        if instance is None:
            instance = instances[cls] = cls(symbols)
        return instance

    return resolver
