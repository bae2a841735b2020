"""`SearchRequest`: the one description of a search, on every surface.

The library's `Searcher` takes it, the daemon builds it from its `search`
params and passes it through, and the CLI's options, the MCP tool schema and
the protocol's params table are derived from its fields (`search_fields()`):
adding a search option is one keyword of `SearchRequest.__init__` and its
help line here, plus its use in the ranking code. Validation happens here and
only here (`SearchRequest.__init__`), with one error type, `ConfigError`,
whose message lists the valid values.

Standard library only, on purpose: the thin client builds its parser from
these fields on every `tldrf semantic search`, and msgspec's import chain
(typing_extensions, inspect, uuid, decimal, datetime) would cost that path
more than the rest of the command. The daemon decodes the wire with msgspec
and hands the params here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from tldr._exceptions import ConfigError
from tldr.units.kinds import UNIT_TYPES

__all__ = [
    "MAX_K",
    "MAX_QUERY_CHARS",
    "MODES",
    "UNIT_TYPES",
    "RequestField",
    "SearchRequest",
    "Surface",
    "argument_name",
    "check_choice",
    "check_type",
    "did_you_mean",
    "relative_path",
    "request_fields",
    "search_fields",
]

MODES = ("hybrid", "dense", "lexical")
MAX_K = 1000  # beyond this a search is an export, not a search
MAX_QUERY_CHARS = 4000

# One help line per field of `SearchRequest.__init__`.
_HELP = {
    "query": "what to look for: plain words or a symbol",
    "k": "number of results",
    "lang": "only units of this language",
    "path_prefix": "only files under this project-relative directory or file",
    "mode": "ranking: hybrid (meaning and words), dense (meaning only) or lexical (words only)",
    "unit_type": "only units of this kind",
    "snippets": "add each hit's code preview as `snippet`",
    "expand": "add each hit's callers and callees",
    "rerank": "rescore the top hits with a cross-encoder (TLDR_RERANK_MODEL)",
    "files": "rank files instead of units, each with its best units",
}
_CHOICES = {"mode": MODES, "unit_type": UNIT_TYPES}
_BOUNDS = {"k": (1, MAX_K)}


class SearchRequest:
    """One search: what to look for, how many hits, which units and how to rank them.

    Immutable; an invalid value raises `ConfigError` naming the valid ones.
    `lang` is case-insensitive; `path_prefix` is project-relative (`src/api`;
    `./src/` is read as `src`): the CLI turns what a user typed into that form.
    """

    __slots__ = ("expand", "files", "k", "lang", "mode", "path_prefix", "query", "rerank",
                 "snippets", "unit_type")

    # What `search_fields` reports besides names, types and defaults.
    FIELD_HELP: ClassVar[dict[str, str]] = _HELP
    FIELD_CHOICES: ClassVar[dict[str, tuple[str, ...]]] = _CHOICES
    FIELD_BOUNDS: ClassVar[dict[str, tuple[int, int]]] = _BOUNDS

    query: str
    k: int
    lang: str | None
    path_prefix: str | None
    mode: str
    unit_type: str | None
    snippets: bool
    expand: bool
    rerank: bool
    files: bool

    def __init__(
        self,
        *,
        query: str,
        k: int = 10,
        lang: str | None = None,
        path_prefix: str | None = None,
        mode: str = "hybrid",
        unit_type: str | None = None,
        snippets: bool = False,
        expand: bool = False,
        rerank: bool = False,
        files: bool = False,
    ) -> None:
        if isinstance(query, str):
            # Bytes that were not UTF-8 in a command line arrive as lone
            # surrogates (surrogateescape): search for the rest of the text.
            query = query.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        values = {"query": query, "k": k, "lang": lang, "path_prefix": path_prefix,
                  "mode": mode, "unit_type": unit_type, "snippets": snippets,
                  "expand": expand, "rerank": rerank, "files": files}
        for field in search_fields(SearchRequest):
            check_type(field, values[field.name])
        if not any(char.isalnum() for char in query):
            raise ConfigError(
                f"query {query!r} has no words or identifiers to search for; "
                "describe the code in plain words or name a symbol"
            )
        if len(query) > MAX_QUERY_CHARS:
            raise ConfigError(f"query is {len(query)} characters long; the limit is "
                              f"{MAX_QUERY_CHARS}")
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"k must be between 1 and {MAX_K}, got {k}")
        check_choice("mode", mode, MODES)
        if unit_type is not None:
            check_choice("unit type", unit_type, UNIT_TYPES)
        if lang is not None:
            lang = lang.strip().lower()
            if lang in ("", "all"):
                lang = None
            else:
                from tldr.units.languages import SUPPORTED_LANGUAGES

                check_choice("language", lang, sorted(SUPPORTED_LANGUAGES))
        values["lang"] = lang
        values["path_prefix"] = None if path_prefix is None else _normal_prefix(path_prefix)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: SearchRequest is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def __repr__(self) -> str:
        return "SearchRequest(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SearchRequest:
        """The request JSON-like params describe (the protocol's, an MCP call's).

        Raises:
            ConfigError: an unknown field, a value of the wrong type, or an invalid value.
        """
        known = {field.name for field in search_fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            hint = did_you_mean(unknown[0], sorted(known))
            raise ConfigError(f"unknown search field(s): {', '.join(unknown)}{hint}; "
                              f"the fields are: {', '.join(sorted(known))}")
        if "query" not in params:
            raise ConfigError("a search needs a query")
        return cls(**params)

    def replace(self, **changes: Any) -> SearchRequest:
        """A copy with some fields changed (validated again)."""
        return type(self)(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Every field, by name."""
        return {field.name: getattr(self, field.name) for field in search_fields(type(self))}

    def params(self) -> dict[str, Any]:
        """The JSON-RPC params: the query and the fields that differ from their defaults."""
        return {field.name: value for field in search_fields(type(self))
                if (value := getattr(self, field.name)) != field.default or field.required}


Surface = Literal["cli", "mcp"]
"""Where a request comes from: the command line, or an MCP tool call."""


def argument_name(field: str, surface: Surface) -> str:
    """How `surface` names a request field to whoever typed it.

    The command line spells it as an option (`budget_tokens` is
    `--budget-tokens`); an MCP tool's argument is the field itself, as the
    daemon's params are.
    """
    return f"--{field.replace('_', '-')}" if surface == "cli" else field


def check_choice(what: str, value: str, choices: Any) -> None:
    """Raise `ConfigError` naming the valid values unless `value` is one of `choices`."""
    if value not in choices:
        raise ConfigError(f"unknown {what} {value!r}{did_you_mean(value, choices)}; "
                          f"choose one of: {', '.join(choices)}")


def did_you_mean(word: str, choices: Any) -> str:
    """'; did you mean X?' for the closest of `choices`, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _normal_prefix(prefix: str) -> str | None:
    return relative_path(prefix, "path prefix")


def relative_path(text: str, what: str) -> str | None:
    """A project-relative POSIX path without `./` or slashes at the ends; None for the root.

    Raises:
        ConfigError: an absolute path, or one that leaves the project.
    """
    typed = text
    text = text.replace("\\", "/").strip()
    if text.startswith("/"):
        raise ConfigError(f"{what} {typed!r} must be relative to the project root")
    normal = posixpath.normpath(text) if text else "."
    if normal == ".." or normal.startswith("../"):
        raise ConfigError(f"{what} {typed!r} is outside the project")
    return None if normal == "." else normal


class RequestField:
    """What a surface needs to know about one field of a request description.

    A request description is a class whose keyword-only `__init__`
    parameters are its fields (`str`, `int`, `bool` or `list[str]`, maybe
    `| None`) and whose `FIELD_HELP` / `FIELD_CHOICES` / `FIELD_BOUNDS`
    tables describe them: `SearchRequest` and the code-graph requests of
    `tldr.graph_request`.
    """

    __slots__ = ("choices", "default", "description", "maximum", "minimum", "name",
                 "optional", "required", "type")

    def __init__(self, owner: type[Any], name: str, annotation: str,
                 default: Any) -> None:
        self.name = name
        self.required = default is _MISSING
        self.default = None if self.required else default
        kinds = [part.strip() for part in annotation.split("|")]
        self.optional = "None" in kinds
        self.type: type = _TYPES[kinds[0]]
        self.description = owner.FIELD_HELP[name]
        self.choices: tuple[str, ...] | None = owner.FIELD_CHOICES.get(name)
        bounds: tuple[int | None, int | None] = owner.FIELD_BOUNDS.get(name, (None, None))
        self.minimum, self.maximum = bounds

    def __repr__(self) -> str:
        return f"RequestField({self.name!r}, {self.type.__name__})"

    def json_schema(self) -> dict[str, Any]:
        """This field as a JSON schema property."""
        kind = {str: "string", int: "integer", bool: "boolean", list: "array"}[self.type]
        schema: dict[str, Any] = {"type": [kind, "null"] if self.optional else kind,
                                  "description": self.description}
        if self.type is list:
            schema["items"] = {"type": "string"}
        if not self.required:
            schema["default"] = self.default
        if self.choices:
            schema["enum"] = [*self.choices, None] if self.optional else list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


_MISSING = object()
_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "list[str]": list}
_FIELDS: dict[type[Any], tuple[RequestField, ...]] = {}


def search_fields(request_type: type[SearchRequest] = SearchRequest) -> tuple[RequestField, ...]:
    """The fields of `SearchRequest`: base type, default, help, choices and bounds."""
    return request_fields(request_type)


def request_fields(request_type: type[Any]) -> tuple[RequestField, ...]:
    """The fields of a request description: base type, default, help, choices and bounds.

    Read from the keyword-only parameters of `request_type.__init__` (names,
    annotations, defaults) and its `FIELD_*` tables, so the CLI, the
    protocol docs and the MCP schema cannot drift from it.
    """
    fields = _FIELDS.get(request_type)
    if fields is None:
        init = request_type.__init__
        code = init.__code__
        names = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
        defaults = init.__kwdefaults__ or {}
        fields = _FIELDS[request_type] = tuple(
            RequestField(request_type, name, init.__annotations__[name],
                         defaults.get(name, _MISSING))
            for name in names
        )
    return fields


def check_type(field: RequestField, value: Any) -> None:
    """Raise `ConfigError` unless `value` has the field's type (None only where optional)."""
    if value is None and field.optional:
        return
    # bool is an int in Python, not in JSON: neither stands for the other here.
    if type(value) is not field.type or (
            isinstance(value, list) and not all(type(item) is str for item in value)):
        kind = {str: "a string", int: "an integer", bool: "true or false",
                list: "a list of strings"}[field.type]
        raise ConfigError(f"{field.name} must be {kind}, got {value!r}")
