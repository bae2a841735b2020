"""JSON-RPC 2.0 messages of the daemon, as msgspec structs, and its error codes.

One UTF-8 JSON value per line. Standard codes (-32700 … -32603) plus the
application codes below, each tied to a `TldrError` subclass so both ends
translate errors the same way. docs/protocol.md is the human contract.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec

from tldr import _exceptions
from tldr._exceptions import (
    ConfigError,
    DaemonError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    NameLookupError,
    ProtocolError,
    TldrError,
)

__all__ = [
    "BUSY",
    "EVENTS",
    "INDEX_CORRUPT",
    "INDEX_INCOMPATIBLE",
    "INDEX_MISSING",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SHUTTING_DOWN",
    "TIMEOUT",
    "TOO_LARGE",
    "UNANSWERABLE",
    "ErrorObject",
    "ErrorResponse",
    "IndexParams",
    "InfoParams",
    "Notification",
    "NotifyParams",
    "Request",
    "RpcError",
    "SearchParams",
    "SearchResult",
    "SubscribeParams",
    "SuccessResponse",
    "UnitParams",
    "GraphParams",
    "error_for_exception",
    "exception_for_error",
    "graph_params_tables",
    "search_params_table",
]

JSONRPC = "2.0"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
INDEX_MISSING = -32000
INDEX_INCOMPATIBLE = -32001
BUSY = -32002
TOO_LARGE = -32003
TIMEOUT = -32004
INDEX_CORRUPT = -32005
SHUTTING_DOWN = -32006
UNANSWERABLE = -32007  # a graph query names nothing, or asks what cannot be analysed

EVENTS = ("build.progress", "index.updated", "build.failed")

Id = int | str | None


class Request(msgspec.Struct, kw_only=True):
    """A call; without `id` it is a notification and gets no response."""

    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | list[Any] | None = None
    id: Id | msgspec.UnsetType = msgspec.UNSET


class ErrorObject(msgspec.Struct, omit_defaults=True):
    """The `error` member of a failed response."""

    code: int
    message: str
    data: dict[str, Any] | None = None


class SuccessResponse(msgspec.Struct):
    """A result, matched to its request by `id`."""

    id: Id
    result: Any
    jsonrpc: str = JSONRPC


class ErrorResponse(msgspec.Struct):
    """An error, matched to its request by `id` (null when it had none)."""

    id: Id
    error: ErrorObject
    jsonrpc: str = JSONRPC


class Notification(msgspec.Struct):
    """A message from the daemon to a subscribed connection."""

    method: str
    params: dict[str, Any]
    jsonrpc: str = JSONRPC


# The `search` params: a JSON object with `SearchRequest`'s fields, which
# `SearchRequest.from_params` validates (docs/protocol.md lists them).
SearchParams = dict[str, Any]


# The params of each code-graph method (`impact`, `context`, `slice`, ...): a
# JSON object with the fields of its `tldr.graph_request` class, which
# `from_params` validates (docs/protocol.md lists them).
GraphParams = dict[str, Any]


class UnitParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Params of `unit`: a qualified name, or a file and a line inside the unit."""

    qualified_name: str | None = None
    file: str | None = None
    line: int | None = None


class SearchResult(msgspec.Struct, kw_only=True):
    """Result of `search`: rows best first, and where the time went.

    `dense` is None when every unit of the served build has a vector; while a
    first build embeds it is `{embedded, total, percent, eta_s, used,
    model_loading}` (specs/010-lexical-first.md).
    """

    results: list[dict[str, Any]]
    build_id: str
    took_ms: float
    embed_ms: float
    stale: bool
    warnings: list[str] = []
    dense: dict[str, Any] | None = None


class IndexParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Params of `index`: schedule a build; settings given here change the index."""

    wait: bool = False
    timeout: float | None = None
    rebuild: bool = False
    model: str | None = None
    lang: str | None = None
    vector_backend: str | None = None


class NotifyParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Params of `notify`: paths an editor saved (absolute or project-relative)."""

    paths: list[str]
    debounce: bool = True


class SubscribeParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Params of `subscribe`: which notifications this connection wants."""

    events: list[str] = msgspec.field(default_factory=lambda: list(EVENTS))


class InfoParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Params of `info` (none today)."""


class RpcError(ProtocolError):
    """An error to send as a JSON-RPC error object (the daemon's side of ProtocolError)."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_object(self) -> ErrorObject:
        """The wire form."""
        return ErrorObject(code=self.code, message=self.message, data=self.data)


# Most specific first: the first isinstance match wins.
_CODES: tuple[tuple[type[TldrError], int], ...] = (
    (IndexMissingError, INDEX_MISSING),
    (IndexIncompatibleError, INDEX_INCOMPATIBLE),
    (IndexCorruptError, INDEX_CORRUPT),
    (IndexBusyError, BUSY),
    (ConfigError, INVALID_PARAMS),
    (NameLookupError, UNANSWERABLE),
)

_EXCEPTIONS: dict[int, type[TldrError]] = {
    INDEX_MISSING: IndexMissingError,
    INDEX_INCOMPATIBLE: IndexIncompatibleError,
    INDEX_CORRUPT: IndexCorruptError,
    BUSY: IndexBusyError,
    INVALID_PARAMS: ConfigError,
    SHUTTING_DOWN: DaemonError,
    TIMEOUT: DaemonError,
    UNANSWERABLE: TldrError,
}


def search_params_table(request_type: Any = None) -> str:
    """The Markdown table of a method's params (docs/protocol.md), from its request's fields.

    `request_type` defaults to `SearchRequest`; a `tldr.graph_request` class
    gives the table of its graph method.
    """
    from tldr.request import SearchRequest, request_fields

    lines = ["| param | type | default | |", "| --- | --- | --- | --- |"]
    for field in request_fields(request_type or SearchRequest):
        kind = {str: "string", int: "int", bool: "bool", list: "list of strings"}[field.type]
        if field.choices:
            kind = ", ".join(f"`{choice}`" for choice in field.choices)
        if field.minimum is not None:
            kind += f" {field.minimum}..{field.maximum}"
        default = "required" if field.required else (
            "none" if field.default is None else f"`{json.dumps(field.default)}`")
        lines.append(f"| `{field.name}` | {kind} | {default} | {field.description} |")
    return "\n".join(lines)


def graph_params_tables() -> str:
    """One params table per code-graph method (docs/protocol.md), from `tldr.graph_request`."""
    from tldr.graph_request import GRAPH_REQUESTS

    sections = []
    for kind in GRAPH_REQUESTS:
        sections.append(f"#### `{kind.METHOD}`\n\n{kind.SUMMARY[0].upper()}{kind.SUMMARY[1:]} "
                        f"(`tldrf {kind.COMMAND}`).\n\n{search_params_table(kind)}")
    return "\n\n".join(sections)


def error_for_exception(exc: BaseException) -> RpcError:
    """The JSON-RPC error for an exception raised while serving a request."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, TldrError):
        data: dict[str, Any] = {"type": type(exc).__name__}
        if exc.exit_code != TldrError.exit_code:
            data["exit_code"] = exc.exit_code  # e.g. 2: a language flow analysis lacks
        for kind, code in _CODES:
            if isinstance(exc, kind):
                return RpcError(code, str(exc), data)
        return RpcError(INTERNAL_ERROR, str(exc), data)
    return RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}",
                    {"type": type(exc).__name__})


def exception_for_error(error: ErrorObject) -> TldrError:
    """The `TldrError` a client raises for an error object."""
    kind = _EXCEPTIONS.get(error.code, ProtocolError)
    named = getattr(_exceptions, str((error.data or {}).get("type")), None)
    if isinstance(named, type) and issubclass(named, kind):
        kind = named  # e.g. LegacyIndexError for INDEX_INCOMPATIBLE
    exc = kind(error.message)
    exit_code = (error.data or {}).get("exit_code")
    if type(exit_code) is int:
        exc.exit_code = exit_code
    exc.rpc_code = error.code  # type: ignore[attr-defined]
    exc.rpc_data = error.data  # type: ignore[attr-defined]
    return exc
