"""The code-graph requests: one description per question, on every surface.

Each class here describes one question (`impact`, `context`, `slice`, ...)
the way `SearchRequest` describes a search: its keyword-only `__init__`
parameters (name, annotation, default) and its `FIELD_*` tables are the
only description, read by `request_fields`. The CLI command (`tldr.cli.graph`),
the daemon method (`tldr.daemon.handlers`), the protocol table
(docs/protocol.md) and the MCP tools (`tldr.mcp.server`) are derived from
it; `tldr.graph.answer` runs it. Validation happens here only: every error is
a `ConfigError` that lists the valid values.

Standard library only (the thin client builds its parser from these fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tldr._exceptions import AmbiguousNameError, ConfigError, NameLookupError
from tldr.output import FORMATS
from tldr.request import (
    Surface,
    argument_name,
    check_choice,
    check_type,
    did_you_mean,
    relative_path,
    request_fields,
)

__all__ = [
    "DIRECTIONS",
    "GRAPH_REQUESTS",
    "ArchRequest",
    "CallsRequest",
    "CalleesRequest",
    "CfgRequest",
    "ChangeImpactRequest",
    "ContextRequest",
    "DeadRequest",
    "DfgRequest",
    "ExtractRequest",
    "GraphRequest",
    "ImpactRequest",
    "ImportersRequest",
    "ImportsRequest",
    "SliceRequest",
    "StructureRequest",
    "request_for_command",
]

_Help = dict[str, str]
_Bounds = dict[str, tuple[int, int]]
_Choices = dict[str, tuple[str, ...]]

DIRECTIONS = ("backward", "forward")
MAX_DEPTH = 10
_BUDGET = (50, 200_000)
_LINE = (1, 10_000_000)

# Help lines shared by the fields of the same name in several requests.
_COMMON_HELP = {
    "depth": "how many calls away to follow",
    "file": "the file (project-relative) holding the definition, to pick one of several",
    "path": "only files under this project-relative directory or file",
    "budget_tokens": "the most tokens the answer may take (about 4 characters each)",
}


class GraphRequest:
    """Base of the code-graph requests: immutable, validated fields, wire form.

    A subclass defines `__init__` with keyword-only fields only, then calls
    `self._set(locals())` after its own checks; the class constants say how
    the surfaces show it.
    """

    __slots__ = ("_values",)

    COMMAND: ClassVar[str] = ""  # the CLI command: `tldrf COMMAND`
    METHOD: ClassVar[str] = ""  # the daemon's JSON-RPC method
    SUMMARY: ClassVar[str] = ""  # one line of help
    # The fields the CLI takes as positional arguments, in order.
    POSITIONAL: ClassVar[tuple[str, ...]] = ()
    # Fields naming files or directories: the CLI resolves them from where it runs.
    PATH_FIELDS: ClassVar[frozenset[str]] = frozenset()
    # The list in the answer that JSON Lines output prints one per line ("" = none).
    ROWS: ClassVar[str] = ""
    NEEDS_GRAPH: ClassVar[bool] = True  # False: answered from one file's parse
    # True when the answer itself keeps to `budget_tokens` (no second cut of its text).
    FITTED: ClassVar[bool] = False
    # The field that picks one of several definitions of the name asked for ("" = none).
    PICK: ClassVar[str] = ""
    FIELD_HELP: ClassVar[_Help] = {}
    FIELD_CHOICES: ClassVar[_Choices] = {}
    FIELD_BOUNDS: ClassVar[_Bounds] = {}

    _values: dict[str, Any]

    def _set(self, values: Mapping[str, Any]) -> None:
        fields = request_fields(type(self))
        checked: dict[str, Any] = {}
        for field in fields:
            value = values[field.name]
            check_type(field, value)
            if field.choices and value is not None:
                check_choice(field.name.replace("_", " "), value, field.choices)
            if field.minimum is not None and value is not None and not (
                    field.minimum <= value <= (field.maximum or value)):
                raise ConfigError(f"{field.name} must be between {field.minimum} and "
                                  f"{field.maximum}, got {value}")
            if field.name in self.PATH_FIELDS and value is not None:
                value = _relative(field.name, value)
            if field.type is str and field.required and not str(value).strip():
                raise ConfigError(f"{self.COMMAND} needs a {field.name}")
            checked[field.name] = value
        object.__setattr__(self, "_values", checked)

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: "
                             f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self.to_dict() == other.to_dict())

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.to_dict())))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}("
                + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Any:
        """The request JSON-like params describe (the protocol's, an MCP call's).

        Raises:
            ConfigError: an unknown or missing field, a wrong type, an invalid value.
        """
        fields = request_fields(cls)
        known = sorted(field.name for field in fields)
        unknown = sorted(set(params) - set(known))
        if unknown:
            hint = did_you_mean(unknown[0], known)
            raise ConfigError(f"unknown {cls.COMMAND} field(s): {', '.join(unknown)}{hint}; "
                              f"the fields are: {', '.join(known)}")
        missing = [field.name for field in fields if field.required and field.name not in params]
        if missing:
            raise ConfigError(f"{cls.COMMAND} needs {', '.join(missing)}")
        return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        """Every field, by name."""
        return dict(self._values)

    def params(self) -> dict[str, Any]:
        """The JSON-RPC params: required fields and those that differ from their defaults."""
        return {field.name: value for field in request_fields(type(self))
                if (value := self._values[field.name]) != field.default or field.required}

    @classmethod
    def formats(cls) -> tuple[str, ...]:
        """The output formats: search's, less JSON Lines when the answer has no list (`ROWS`)."""
        return FORMATS if cls.ROWS else tuple(fmt for fmt in FORMATS if fmt != "jsonl")

    def name_error(self, error: NameLookupError, surface: Surface) -> NameLookupError:
        """`error` as `surface` tells it: an ambiguous name ends with the argument that picks one.

        The query that raised it serves every surface (and the daemon serves
        both), so only here is it known whether that is `--file` or `file`.
        """
        if not isinstance(error, AmbiguousNameError) or not self.PICK or self._values[self.PICK]:
            return error
        return AmbiguousNameError(f"{error}, or pick one with {argument_name(self.PICK, surface)}",
                                  error.candidates)


def _relative(name: str, value: str | list[str]) -> Any:
    if isinstance(value, list):
        return [_relative(name, item) for item in value]
    normal = relative_path(value, name)
    return "" if normal is None else normal


class StructureRequest(GraphRequest):
    """A code map: files, classes, functions, signatures, first docstring lines."""

    COMMAND = METHOD = "structure"
    SUMMARY = "a code map: files, classes, functions, signatures, first doc lines"
    POSITIONAL = ("path",)
    PATH_FIELDS = frozenset({"path"})
    ROWS = "files"
    FITTED = True
    FIELD_HELP: ClassVar[_Help] = {"path": _COMMON_HELP["path"],
                                   "budget_tokens": _COMMON_HELP["budget_tokens"]}
    FIELD_BOUNDS: ClassVar[_Bounds] = {"budget_tokens": _BUDGET}

    def __init__(self, *, path: str = "", budget_tokens: int | None = None) -> None:
        self._set(locals())


class ExtractRequest(GraphRequest):
    """Everything the graph knows of a file, or of one definition in it."""

    COMMAND = METHOD = "extract"
    SUMMARY = "everything tldrf knows of a file or one definition in it"
    POSITIONAL = ("file", "name")
    PATH_FIELDS = frozenset({"file"})
    ROWS = "definitions"
    FIELD_HELP: ClassVar[_Help] = {"file": "the file (project-relative)",
                  "name": "only this class, function or method of the file"}

    def __init__(self, *, file: str, name: str | None = None) -> None:
        self._set(locals())


class ContextRequest(GraphRequest):
    """An entry's signature, doc and body summary, plus what it calls, within a budget."""

    COMMAND = METHOD = "context"
    SUMMARY = "what a function needs: signature, doc, and what it calls, within a budget"
    POSITIONAL = ("entry",)
    PATH_FIELDS = frozenset({"file"})
    PICK = "file"
    ROWS = "calls"
    FIELD_HELP: ClassVar[_Help] = {
        "entry": "a name, Class.method or FILE:NAME",
        "depth": _COMMON_HELP["depth"],
        "budget_tokens": _COMMON_HELP["budget_tokens"],
        "file": _COMMON_HELP["file"],
    }
    FIELD_BOUNDS: ClassVar[_Bounds] = {"depth": (1, MAX_DEPTH), "budget_tokens": _BUDGET}

    def __init__(self, *, entry: str, depth: int = 2, budget_tokens: int = 1000,
                 file: str | None = None) -> None:
        self._set(locals())


class CalleesRequest(GraphRequest):
    """What a function calls, to some depth, with file:line of each call."""

    COMMAND = METHOD = "callees"
    SUMMARY = "what a function calls, as a tree with file:line"
    POSITIONAL = ("name",)
    PATH_FIELDS = frozenset({"file"})
    PICK = "file"
    FIELD_HELP: ClassVar[_Help] = {"name": "a name, Class.method or FILE:NAME",
                                   "depth": _COMMON_HELP["depth"], "file": _COMMON_HELP["file"]}
    FIELD_BOUNDS: ClassVar[_Bounds] = {"depth": (1, MAX_DEPTH)}

    def __init__(self, *, name: str, depth: int = 1, file: str | None = None) -> None:
        self._set(locals())


class ImpactRequest(GraphRequest):
    """Who calls a function, to some depth, with file:line; tests marked."""

    COMMAND = METHOD = "impact"
    SUMMARY = "who calls a function (callers as a tree with file:line, tests marked)"
    POSITIONAL = ("name",)
    PATH_FIELDS = frozenset({"file"})
    PICK = "file"
    ROWS = "tests"
    FIELD_HELP: ClassVar[_Help] = {"name": "a name, Class.method or FILE:NAME",
                                   "depth": _COMMON_HELP["depth"], "file": _COMMON_HELP["file"]}
    FIELD_BOUNDS: ClassVar[_Bounds] = {"depth": (1, MAX_DEPTH)}

    def __init__(self, *, name: str, depth: int = 2, file: str | None = None) -> None:
        self._set(locals())


class CallsRequest(GraphRequest):
    """The project's call graph: resolved edges with file:line."""

    COMMAND = METHOD = "calls"
    SUMMARY = "the call graph: resolved call edges with file:line"
    POSITIONAL = ("path",)
    PATH_FIELDS = frozenset({"path"})
    ROWS = "edges"
    FIELD_HELP: ClassVar[_Help] = {"path": "only calls made in files under this directory or file"}

    def __init__(self, *, path: str = "") -> None:
        self._set(locals())


class ImportsRequest(GraphRequest):
    """What one file imports, each binding with the project file it names."""

    COMMAND = METHOD = "imports"
    SUMMARY = "what a file imports, with the project file each import names"
    POSITIONAL = ("file",)
    PATH_FIELDS = frozenset({"file"})
    ROWS = "imports"
    FIELD_HELP: ClassVar[_Help] = {"file": "the file (project-relative)"}

    def __init__(self, *, file: str) -> None:
        self._set(locals())


class ImportersRequest(GraphRequest):
    """The files that import a module."""

    COMMAND = METHOD = "importers"
    SUMMARY = "the files that import a module"
    POSITIONAL = ("module",)
    ROWS = "importers"
    FIELD_HELP: ClassVar[_Help] = {"module": "a dotted module name (pkg.mod) or a project file"}

    def __init__(self, *, module: str) -> None:
        self._set(locals())


class ArchRequest(GraphRequest):
    """Packages, their layers and dependency cycles, from imports and calls."""

    COMMAND = METHOD = "arch"
    SUMMARY = "module layers and dependency cycles, from the import and call graph"
    POSITIONAL = ("path",)
    PATH_FIELDS = frozenset({"path"})
    ROWS = "dependencies"
    FIELD_HELP: ClassVar[_Help] = {"path": _COMMON_HELP["path"]}

    def __init__(self, *, path: str = "") -> None:
        self._set(locals())


class DeadRequest(GraphRequest):
    """Functions and methods no entry point reaches, and why each entry counts."""

    COMMAND = METHOD = "dead"
    SUMMARY = "functions and methods no entry point reaches"
    POSITIONAL = ("path",)
    PATH_FIELDS = frozenset({"path"})
    ROWS = "dead"
    FIELD_HELP: ClassVar[_Help] = {
        "path": _COMMON_HELP["path"],
        "entry": "more entry points: fnmatch patterns on names or qualified names",
        "public": "count every public (no leading underscore) function as an entry point",
    }

    def __init__(self, *, path: str = "", entry: list[str] | None = None,
                 public: bool = True) -> None:
        self._set(locals())


class ChangeImpactRequest(GraphRequest):
    """The tests that reach changed functions through the call graph."""

    COMMAND = "change-impact"
    METHOD = "change_impact"
    SUMMARY = "the tests that reach the changed functions through the call graph"
    POSITIONAL = ("files",)
    PATH_FIELDS = frozenset({"files"})
    ROWS = "tests"
    FIELD_HELP: ClassVar[_Help] = {
        "files": "changed files (project-relative); default: what differs from --git",
        "git": "a git ref to compare the working tree with (default HEAD when no files)",
    }

    def __init__(self, *, files: list[str] | None = None, git: str | None = None) -> None:
        if git is not None and (not git.strip() or git.startswith("-")):
            raise ConfigError(f"bad git ref {git!r}")
        self._set(locals())


class _FlowRequest(GraphRequest):
    """One function of one file, analysed from its parse (no graph needed)."""

    PATH_FIELDS = frozenset({"file"})
    NEEDS_GRAPH = False
    FITTED = True
    FIELD_HELP: ClassVar[_Help] = {"file": "the file (project-relative)",
                  "function": "a function name, Class.method, or a line inside the function",
                  "budget_tokens": _COMMON_HELP["budget_tokens"]}
    FIELD_BOUNDS: ClassVar[_Bounds] = {"budget_tokens": _BUDGET}


class CfgRequest(_FlowRequest):
    """The control-flow graph of one function: basic blocks and edges."""

    COMMAND = METHOD = "cfg"
    SUMMARY = "control flow inside one function: basic blocks and edges"
    POSITIONAL = ("file", "function")
    ROWS = "blocks"

    def __init__(self, *, file: str, function: str, budget_tokens: int | None = None) -> None:
        self._set(locals())


class DfgRequest(_FlowRequest):
    """Def-use chains of one function: where each value may be read."""

    COMMAND = METHOD = "dfg"
    SUMMARY = "data flow inside one function: where each definition is read"
    POSITIONAL = ("file", "function")
    ROWS = "chains"

    def __init__(self, *, file: str, function: str, budget_tokens: int | None = None) -> None:
        self._set(locals())


class SliceRequest(_FlowRequest):
    """The lines of a function that may affect (or be affected by) one line."""

    COMMAND = METHOD = "slice"
    SUMMARY = "the lines of a function that affect a line (backward) or that it affects"
    POSITIONAL = ("file", "function", "line")
    ROWS = "lines"
    FIELD_HELP: ClassVar[_Help] = {**_FlowRequest.FIELD_HELP,
                  "line": "the line (1-based) the slice starts from",
                  "direction": "backward: what affects the line; forward: what it affects",
                  "var": "follow only this variable"}
    FIELD_CHOICES: ClassVar[_Choices] = {"direction": DIRECTIONS}
    FIELD_BOUNDS: ClassVar[_Bounds] = {**_FlowRequest.FIELD_BOUNDS, "line": _LINE}

    def __init__(self, *, file: str, function: str, line: int, direction: str = "backward",
                 var: str | None = None, budget_tokens: int | None = None) -> None:
        self._set(locals())


GRAPH_REQUESTS: tuple[type[GraphRequest], ...] = (
    StructureRequest, ExtractRequest, ContextRequest, CallsRequest, ImpactRequest,
    CalleesRequest, ImportsRequest, ImportersRequest, ArchRequest, DeadRequest, CfgRequest,
    DfgRequest, SliceRequest, ChangeImpactRequest,
)


def request_for_command(command: str) -> type[GraphRequest]:
    """The request class of a CLI command (`change-impact` -> `ChangeImpactRequest`)."""
    for kind in GRAPH_REQUESTS:
        if kind.COMMAND == command:
            return kind
    raise ConfigError(f"no graph command {command!r}")

