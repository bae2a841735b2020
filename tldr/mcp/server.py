"""The MCP side of `tldrf mcp`: an SDK `MCPServer` exposing `tldr.mcp.tools.Tools`.

Imports nothing heavy at module level; `build_server` loads the SDK (the
`[mcp]` extra), pydantic and anyio. No `from __future__ import annotations`
here: the SDK reads the tool functions' annotations (local `Annotated` types)
to build their input schemas.
"""

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from tldr._exceptions import ConfigError

if TYPE_CHECKING:
    from tldr.paths import IndexPaths
from tldr.mcp.tools import (
    DEFAULT_BUDGET_TOKENS,
    DEFAULT_GRAPH_BUDGET_TOKENS,
    DEFAULT_INDEX_WAIT_S,
    DEFAULT_UNIT_BUDGET_TOKENS,
    ToolFailure,
    Tools,
    check_arguments,
)

__all__ = ["GRAPH_TOOLS", "INSTRUCTIONS", "TOOL_DESCRIPTIONS", "build_server", "log_level",
           "request_signature", "search_signature", "serve_stdio"]

_MAX_K = 50
# Search options an agent does not get: rerank needs an extra model, and the
# tool answers units (files is for people scanning a tree).
_NOT_FOR_AGENTS = frozenset({"rerank", "files"})
_AGENT_DEFAULTS = {"snippets": True}

INSTRUCTIONS = (
    "tldrf searches this project's code by meaning and knows its call graph. Use "
    "semantic_search when you know what code does but not what it is called; it returns "
    "file:line spans, qualified names and signatures with short snippets. Then read a hit "
    "in full with get_unit instead of opening the file. Once you have a name: callers "
    "before changing it (who breaks), code_context to learn what it needs, callees for "
    "what it does, code_structure for a map of a directory, program_slice for which lines "
    "affect one line. Use grep for exact identifiers and literal strings."
)

# The code-graph tools: tool name -> the `tldr.graph_request` command it runs.
GRAPH_TOOLS = {"code_context": "context", "callers": "impact", "callees": "callees",
               "code_structure": "structure", "program_slice": "slice"}

TOOL_DESCRIPTIONS: dict[str, str] = {
    "semantic_search": (
        "Find code in this project by what it does, described in plain words "
        "(\"retry with exponential backoff\", \"where is the config file parsed\"). "
        "Use it when you do not know the identifier; use grep instead for an exact "
        "name, error message or literal. Returns the best matches, best first, one "
        "header line each: `file:line-end_line qualified_name (score) signature`, then "
        "a few snippet lines (with expand=true also callers and callees). The whole "
        "answer fits budget_tokens (default 1500): snippets are shortened first, then "
        "the weakest hits dropped. Scores rank hits; they are not probabilities. Narrow "
        "with path_prefix, lang or unit_type. Read a hit in full with get_unit."
    ),
    "get_unit": (
        "Return the full current source of one function, method, class or module, "
        "with its signature, docstring, calls and imports, so you do not need to open "
        "the file. Name it by qualified_name as semantic_search prints it (e.g. "
        "`Retry.backoff`), or by file (project-relative) and a line inside it (the "
        "innermost unit spanning that line wins). Source beyond budget_tokens "
        "(default 4000) is cut at a line boundary and the rest of the span is named."
    ),
    "code_context": (
        "What you need to know to use or change one function, method or class, without "
        "opening files: one line with its file:line, signature and first docstring line, "
        "then one such line for each project function it calls (indented by depth, nearest "
        "and smallest first). Prefer it over semantic_search once you know the "
        "name, and over reading a long file. entry is a name, Class.method or FILE:NAME; an "
        "unknown name answers with did-you-mean candidates, an ambiguous one lists them "
        "(pick one with file or Class.method). Fits budget_tokens."
    ),
    "callers": (
        "Who calls a function or method (impact analysis): its file:line, then every "
        "resolved caller across files as a tree to depth (indented), one line each with the "
        "call's file:line, tests marked [test], and calls that may reach it through a "
        "receiver of unknown type marked [maybe]. Use it before changing or renaming "
        "something, instead of searching or grepping for its name (which finds other "
        "functions of the same name and misses aliased imports)."
    ),
    "callees": (
        "What a function or method calls, as a tree to depth (indented), one line each with "
        "the callee's file:line and qualified name. Use it to follow what code does instead "
        "of searching for each name it calls or reading each file; code_context adds "
        "signatures and docs."
    ),
    "code_structure": (
        "A code map of the project or one directory: one line per class, function and "
        "method with its file:line and qualified name (code_context gives signatures and "
        "docs). Use it to get oriented in "
        "an unfamiliar directory before searching or reading; narrow with path. Files that "
        "do not fit budget_tokens are left out and counted."
    ),
    "program_slice": (
        "The lines of one function that may affect a given line (direction=backward), or "
        "that it may affect (forward), through data and control flow: the function's "
        "file:line, then each line as `number code`; "
        "var follows one variable. Use it to find why a value is what it is at a line, "
        "without reading the whole function or searching for the variable's name. Python, "
        "JavaScript, "
        "TypeScript, Go, Java and Rust; other languages answer 'not supported'. function "
        "is a name, Class.method, or a line."
    ),
    "index_status": (
        "Show the state of this project's search index and its daemon: units indexed, "
        "model, build id, whether a build is running and how far it got, and the last "
        "error. Use it when a search says the index is being built or seems out of "
        "date. A few lines of text."
    ),
    "reindex": (
        "Bring the search index up to date now. Rarely needed: the daemon watches the "
        "files and updates the index within seconds of a change. Use it after a large "
        "checkout or when index_status shows an error. Returns at once unless "
        "wait=true; rebuild=true re-embeds everything (slow on large projects)."
    ),
}


def build_server(
    project: str | os.PathLike[str] = ".", *, index_wait: float = DEFAULT_INDEX_WAIT_S,
    paths: "IndexPaths | None" = None,
) -> Any:
    """An SDK `MCPServer` with the tldrf tools registered (not yet running).

    Raises:
        ConfigError: the MCP SDK is not installed (the message names the extra),
            or `project` is not a directory.
    """
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        from mcp.types import ToolAnnotations
    except ImportError as exc:
        from tldr._extras import install_hint

        raise ConfigError(
            f"the MCP SDK (mcp>=2) is missing; install the MCP extra: {install_hint('mcp')}"
        ) from exc
    import inspect
    from typing import Annotated

    import anyio.to_thread
    from pydantic import Field

    from tldr._version import __version__
    from tldr.request import SearchRequest
    from tldr.units.languages import SUPPORTED_LANGUAGES

    tools = Tools(project, index_wait=index_wait, paths=paths)
    languages = ", ".join(sorted(SUPPORTED_LANGUAGES))

    async def run(call: Callable[[], str]) -> str:
        try:
            return await anyio.to_thread.run_sync(call)
        except ToolFailure as exc:
            raise ToolError(str(exc)) from exc

    async def semantic_search(**arguments: Any) -> str:
        budget_tokens = arguments.pop("budget_tokens", DEFAULT_BUDGET_TOKENS)
        try:
            request = SearchRequest.from_params(
                {name: value for name, value in arguments.items() if value is not None})
        except ConfigError as exc:
            raise ToolError(str(exc)) from exc
        return await run(lambda: tools.search(request, budget_tokens=budget_tokens))

    semantic_search.__signature__ = search_signature(languages)  # type: ignore[attr-defined]

    async def get_unit(
        qualified_name: Annotated[str | None, Field(
            description="as semantic_search prints it, e.g. Retry.backoff"
        )] = None,
        file: Annotated[str | None, Field(
            description="project-relative path; with line, instead of qualified_name"
        )] = None,
        line: Annotated[int | None, Field(ge=1, description="a 1-based line inside the unit")]
        = None,
        budget_tokens: Annotated[int, Field(
            ge=100, le=50000, description="the most tokens the answer may take"
        )] = DEFAULT_UNIT_BUDGET_TOKENS,
    ) -> str:
        return await run(lambda: tools.get_unit(
            qualified_name=qualified_name, file=file, line=line, budget_tokens=budget_tokens))

    def graph_tool(command: str) -> Callable[..., Any]:
        from tldr.graph_request import request_for_command
        from tldr.request import request_fields

        kind = request_for_command(command)
        budget_in_request = any(f.name == "budget_tokens" for f in request_fields(kind))

        async def tool(**arguments: Any) -> str:
            budget = arguments.get("budget_tokens") or DEFAULT_GRAPH_BUDGET_TOKENS
            if not budget_in_request:
                arguments.pop("budget_tokens", None)
            try:
                request = kind.from_params(
                    {name: value for name, value in arguments.items() if value is not None})
            except ConfigError as exc:
                raise ToolError(str(exc)) from exc
            return await run(lambda: tools.graph(request, budget_tokens=budget))

        tool.__signature__ = request_signature(kind)  # type: ignore[attr-defined]
        return tool

    async def index_status() -> str:
        return await run(tools.status)

    async def reindex(
        rebuild: Annotated[bool, Field(description="re-embed everything, not only changes")]
        = False,
        wait: Annotated[bool, Field(description="wait for the build to finish")] = False,
        timeout_s: Annotated[int, Field(ge=1, le=600, description="how long to wait")] = 120,
    ) -> str:
        return await run(lambda: tools.reindex(rebuild=rebuild, wait=wait, timeout_s=timeout_s))

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    functions: list[tuple[str, Callable[..., Any], Any]] = [
        ("semantic_search", semantic_search, read_only),
        ("get_unit", get_unit, read_only),
        *((name, graph_tool(command), read_only) for name, command in GRAPH_TOOLS.items()),
        ("index_status", index_status, read_only),
        ("reindex", reindex, ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                             idempotent_hint=True, open_world_hint=False)),
    ]
    accepted = {name: tuple(inspect.signature(function).parameters)
                for name, function, _ in functions}

    class StrictServer(MCPServer):
        """Rejects arguments a tool does not take instead of dropping them.

        The SDK's argument models ignore unknown keys, so a filter an agent
        misspelled (`language` for `lang`) would silently not apply.
        """

        async def call_tool(self, name: str, arguments: dict[str, Any],
                            context: Any = None) -> Any:
            if name in accepted:  # an unknown tool gets the SDK's own error
                try:
                    check_arguments(name, arguments, accepted[name])
                except ToolFailure as exc:
                    raise ToolError(str(exc)) from exc
            return await super().call_tool(name, arguments, context)

        async def list_tools(self) -> list[Any]:
            return [tool.model_copy(update={"input_schema": {
                        **tool.input_schema, "additionalProperties": False}})
                    for tool in await super().list_tools()]

    server = StrictServer(name="tldrf", version=__version__, instructions=INSTRUCTIONS,
                          log_level=log_level())  # type: ignore[arg-type]
    for name, function, annotations in functions:
        server.add_tool(function, name=name, description=TOOL_DESCRIPTIONS[name],
                        annotations=annotations, structured_output=False)
    return server


def serve_stdio(
    project: str | os.PathLike[str] = ".", *, index_wait: float = DEFAULT_INDEX_WAIT_S,
    paths: "IndexPaths | None" = None,
) -> int:
    """Serve MCP over stdio until the host closes stdin; Ctrl-C stops it at once.

    Returns:
        0 when stdin reached its end (the host hung up, or Ctrl-D at a
        terminal); a Ctrl-C exits the process with 130 without returning.

    Raises:
        ConfigError: as `build_server`.
    """
    # From the start, so that a Ctrl-C while the SDK loads is quiet as well.
    previous = signal.signal(signal.SIGINT, _exit_interrupted)
    try:
        import anyio

        server = build_server(project, index_wait=index_wait, paths=paths)
        anyio.run(server.run_stdio_async)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


def _exit_interrupted(signum: int, frame: FrameType | None) -> NoReturn:
    """Leave now, with 130: a graceful stop cannot happen while stdin is idle.

    The SDK reads stdin in a worker thread that no cancellation reaches: its
    read returns only with a line or at EOF, so unwinding would wait for the
    user's next line (Ctrl-C looked ignored; the Ctrl-D after it gave 130).
    Nothing is lost by leaving: the daemon is another process, and a tool call
    in flight is what the user means to stop.
    """
    sys.stderr.write("tldrf mcp: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def search_signature(languages: str, request_type: Any = None) -> Any:
    """The `semantic_search` tool's parameters, derived from `SearchRequest`'s fields.

    The SDK builds the tool's input schema from this signature; only the
    MCP-specific parts are stated here: which fields an agent gets, a lower
    `k` cap, snippets on by default, and `budget_tokens`.
    """
    from tldr.request import SearchRequest

    return request_signature(request_type or SearchRequest, languages=languages,
                             skip=_NOT_FOR_AGENTS, defaults=_AGENT_DEFAULTS,
                             budget_default=DEFAULT_BUDGET_TOKENS)


def request_signature(request_type: Any, *, languages: str = "",
                      skip: frozenset[str] = frozenset(), defaults: dict[str, Any] | None = None,
                      budget_default: int = DEFAULT_GRAPH_BUDGET_TOKENS) -> Any:
    """A tool's parameters, derived from a request description's fields.

    Every field but `skip`, with its type, choices, bounds and help, plus
    `budget_tokens` (the request's own field when it has one, else an
    output budget defaulting to `budget_default`).
    """
    import inspect
    from typing import Annotated, Literal

    from pydantic import Field

    from tldr.request import request_fields

    parameters = []
    has_budget = False
    for field in request_fields(request_type):
        if field.name in skip:
            continue
        kind: Any = Literal[field.choices] if field.choices else (
            list[str] if field.type is list else field.type)
        description = field.description
        if field.name == "lang":
            description += f": {languages}"
        bounds: dict[str, Any] = {}
        if field.minimum is not None:
            bounds["ge"] = field.minimum
        if field.maximum is not None:
            bounds["le"] = min(field.maximum, _MAX_K) if field.name == "k" else field.maximum
        if field.name == "query" or (field.required and field.type is str):
            bounds["min_length"] = 1
        default = (defaults or {}).get(field.name, field.default)
        if field.name == "budget_tokens":
            has_budget = True
            kind, default = int, default or budget_default
        annotation: Any = kind | None if field.optional and default is None else kind
        parameters.append(inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if field.required else default,
            annotation=Annotated[annotation, Field(description=description, **bounds)],
        ))
    if not has_budget:
        parameters.append(inspect.Parameter(
            "budget_tokens", inspect.Parameter.KEYWORD_ONLY, default=budget_default,
            annotation=Annotated[int, Field(ge=100, le=20000,
                                            description="the most tokens the answer may take")],
        ))
    return inspect.Signature(parameters, return_annotation=str)


def log_level() -> str:
    """`TLDR_MCP_LOG_LEVEL` (stderr), or WARNING."""
    from tldr.settings import setting

    level: str = setting("TLDR_MCP_LOG_LEVEL")
    return level
