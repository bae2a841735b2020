"""The record of what the extraction engine needs to know about one grammar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["LanguageSpec", "fs"]


def fs(*names: str) -> frozenset[str]:
    """A frozenset of node type names (keeps the spec tables short)."""
    return frozenset(names)


@dataclass(frozen=True)
class LanguageSpec:
    """The node types of one grammar that the extraction engine acts on.

    Attributes:
        name: The tree-sitter language name.
        functions: Nodes that define a function or method.
        classes: Nodes that define a class-like container (class, struct,
            trait, interface, enum, module).
        type_scopes: Nodes that qualify the names of the functions inside
            them as methods but are not units (Rust `impl`, Swift extension).
        namespaces: Nodes that only add a prefix to qualified names.
        wrappers: Parents that belong to the unit they wrap (decorators,
            `export`, `const x = ...`), mapped to whether the wrapper's text
            is part of the signature.
        calls: Call nodes mapped to the field holding the callee ("" = the
            first named child).
        imports: Nodes handled by the language's import rule.
        branches: Nodes counted as one branch each.
        loops: Nodes counted as one loop each.
        boolean_parents: Nodes whose `&&`/`||`/`and`/`or` operator adds to
            complexity.
        comments: Comment node types.
        assignments: Assignment nodes mapped to the field holding the target
            ("" = the first named child).
        top_level_ignored: Top-level nodes that are not "code worth finding"
            (package clauses, `<?php`, includes, using directives).
        methods_in_classes: Whether a function directly inside a class is a
            method (Elixir: `def` in `defmodule` stays a function).
        default_names: Names for definitions whose grammar has no name node.
        shaped: Node types whose role (function, class, nothing) and name a
            rule in `shapes` decides from their children (a Zig `Decl`, a
            Clojure `(defn ...)` list, an R `f <- function`).
        merge_clauses: Whether consecutive definitions of one name in one
            scope are one unit (Haskell signature and equations, Erlang
            function clauses).
        attached_bodies: Sibling node types that belong to the definition
            just before them (Dart's `function_body` after a signature).
        split_names: Whether `.`, `::` and `:` in a name are qualifiers
            (False for Haskell operators such as `.:`).
    """

    name: str
    functions: frozenset[str]
    classes: frozenset[str]
    calls: Mapping[str, str]
    imports: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()
    loops: frozenset[str] = frozenset()
    boolean_parents: frozenset[str] = frozenset()
    comments: frozenset[str] = fs("comment")
    assignments: Mapping[str, str] = field(default_factory=dict)
    type_scopes: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    wrappers: Mapping[str, bool] = field(default_factory=dict)
    top_level_ignored: frozenset[str] = frozenset()
    methods_in_classes: bool = True
    default_names: Mapping[str, str] = field(default_factory=dict)
    shaped: frozenset[str] = frozenset()
    merge_clauses: bool = False
    attached_bodies: frozenset[str] = frozenset()
    split_names: bool = True
