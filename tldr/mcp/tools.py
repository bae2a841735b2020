"""The tools of `tldrf mcp`, as blocking calls to the project's daemon that return text.

Independent of the MCP SDK (`tldr.mcp.server` wraps these for it): every
anticipated failure raises `ToolFailure` whose message says what happened and
the next step, and the text is what the model reads, sized to its token
budget with `tldr.output`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._exceptions import DaemonError, IndexMissingError, NameLookupError, TldrError
from tldr.output import NOTE_TOKENS, dense_note, estimate_tokens, fit_with_note, render
from tldr.request import SearchRequest, did_you_mean

if TYPE_CHECKING:
    from tldr.graph_request import GraphRequest
    from tldr.paths import IndexPaths

__all__ = [
    "DEFAULT_BUDGET_TOKENS",
    "DEFAULT_GRAPH_BUDGET_TOKENS",
    "DEFAULT_INDEX_WAIT_S",
    "DEFAULT_UNIT_BUDGET_TOKENS",
    "ToolFailure",
    "Tools",
    "check_arguments",
]

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_TOKENS = 1500
DEFAULT_UNIT_BUDGET_TOKENS = 4000
DEFAULT_GRAPH_BUDGET_TOKENS = 1500
DEFAULT_INDEX_WAIT_S = 10.0
_METHOD_NOT_FOUND = -32601  # JSON-RPC codes, as in tldr.daemon.protocol (not imported: cheap)
_INVALID_PARAMS = -32602
_TIMEOUT = -32004


class ToolFailure(TldrError):
    """An anticipated tool failure; its message (with the next step) goes to the model."""


def check_arguments(tool: str, arguments: Mapping[str, Any], accepted: Sequence[str]) -> None:
    """Refuse arguments that `tool` does not take, naming the ones it does.

    Raises:
        ToolFailure: an argument outside `accepted`; the message suggests the
            closest name (`language` -> `lang`) and lists the valid ones.
    """
    unknown = sorted(set(arguments) - set(accepted))
    if not unknown:
        return
    hint = did_you_mean(unknown[0], accepted)
    valid = f"its arguments are: {', '.join(accepted)}" if accepted else "it takes no arguments"
    raise ToolFailure(f"unknown argument(s) of {tool}: {', '.join(unknown)}{hint}; {valid}")


class Tools:
    """What each tool does, as blocking calls to the daemon that return text.

    Independent of the MCP SDK: failures the model should read raise
    `ToolFailure` with the next step in the message.
    """

    def __init__(
        self, project: str | os.PathLike[str] = ".", *, index_wait: float = DEFAULT_INDEX_WAIT_S,
        paths: IndexPaths | None = None,
    ) -> None:
        from tldr.paths import daemon_files, find_project_root

        self.root = find_project_root(Path(project).expanduser())
        self.files = daemon_files(self.root, paths=paths)
        self.index_wait = index_wait

    # tools -------------------------------------------------------------------

    def search(self, request: SearchRequest, *, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
        """Compact search results that fit `budget_tokens`."""
        result = self._with_index("search", request.params())
        rows: list[dict[str, Any]] = result["results"]
        notes: list[str] = list(result.get("warnings") or ())
        if not rows:
            scope = _describe_filters(path_prefix=request.path_prefix, lang=request.lang,
                                      unit_type=request.unit_type)
            return f"no results{scope}; try other words, fewer filters, or grep"
        kept, cut = fit_with_note(rows, budget_tokens, "compact")
        if cut:
            notes.append(cut)
        if result.get("stale"):
            notes.append("the index is being updated; very recent edits may be missing")
        if note := dense_note(result.get("dense")):
            notes.append(f"{note}; search again later for full results")
        text = render(kept, "compact")
        return "\n".join([text, *(f"[{note}]" for note in notes)])

    def get_unit(
        self,
        *,
        qualified_name: str | None = None,
        file: str | None = None,
        line: int | None = None,
        budget_tokens: int = DEFAULT_UNIT_BUDGET_TOKENS,
    ) -> str:
        """One unit's header and current source, cut to `budget_tokens`."""
        params: dict[str, Any] = {}
        if qualified_name:
            params["qualified_name"] = qualified_name
        if file:
            params["file"] = file
        if line is not None:
            params["line"] = line
        if not qualified_name and not (file and line is not None):
            raise ToolFailure("give qualified_name (e.g. Retry.backoff, as semantic_search "
                              "prints it), or both file and line")
        unit = self._with_index("unit", params)
        return _render_unit(unit, budget_tokens)

    def graph(self, request: GraphRequest, *,
              budget_tokens: int = DEFAULT_GRAPH_BUDGET_TOKENS) -> str:
        """The compact answer to a code-graph request (callers, context, a slice...) in budget."""
        from tldr.graph_output import render_graph

        try:
            result = self._call(request.METHOD, request.params())
        except NameLookupError as exc:
            raise ToolFailure(str(request.name_error(exc, "mcp"))) from exc
        return render_graph(request.COMMAND, result, "compact", budget_tokens=budget_tokens,
                            surface="mcp")

    def status(self) -> str:
        """A few lines about the daemon, the index and the current build."""
        return _render_status(self._call("status"))

    def reindex(self, *, rebuild: bool = False, wait: bool = False, timeout_s: int = 120) -> str:
        """Schedule a build; with `wait`, its summary once it finished."""
        params: dict[str, Any] = {"rebuild": rebuild, "wait": wait}
        if not wait:
            answer = self._call("index", params)
            return (f"build scheduled for {self.root} (state: {answer.get('state')}); "
                    "searches keep using the previous index until it is committed; "
                    "check progress with index_status")
        params["timeout"] = float(timeout_s)
        try:
            summary = self._call("index", params, timeout=timeout_s + 10.0)
        except TldrError as exc:
            if getattr(exc, "rpc_code", None) == _TIMEOUT:
                raise ToolFailure(f"the build did not finish in {timeout_s}s and goes on in "
                                  "the background; check index_status later") from exc
            raise
        return (f"build {summary.get('status')}: {summary.get('units')} units in "
                f"{summary.get('files')} files, {summary.get('embedded')} embedded, "
                f"{summary.get('seconds')}s (build {summary.get('build_id')})")

    # daemon calls ------------------------------------------------------------

    def _with_index(self, method: str, params: dict[str, Any]) -> Any:
        """Call `method`; with no index yet, wait up to `index_wait` for the first build."""
        try:
            return self._call(method, params)
        except IndexMissingError:
            if self.index_wait > 0:
                from tldr.daemon.client import wait_for_first_build

                try:  # the first commit is a partial build: lexical search within seconds
                    wait_for_first_build(self.root, timeout=self.index_wait,
                                         files=self.files)
                    return self._call(method, params)
                except (IndexMissingError, ToolFailure):
                    pass
                except DaemonError as exc:
                    if getattr(exc, "rpc_code", None) is not None:
                        raise
            raise ToolFailure(self._indexing_message()) from None

    def _indexing_message(self) -> str:
        try:
            build = self._call("status").get("build") or {}
        except ToolFailure:
            build = {}
        progress = build.get("progress") or {}
        percent = progress.get("percent", 0)
        stage = f" ({progress['stage']})" if progress.get("stage") else ""
        failed = (f"; the last build failed: {build['last_error']}"
                  if build.get("last_error") else "")
        return (f"indexing {self.root}: {percent}% done{stage}{failed}. There is no search "
                "index yet; it is being built now. Retry in a few seconds (index_status "
                "shows progress); use grep meanwhile.")

    def _call(self, method: str, params: dict[str, Any] | None = None, *,
              timeout: float | None = None) -> Any:
        """One request on a fresh connection, starting the daemon when needed.

        A dropped connection (the daemon restarting or idling out just then) is
        retried once. Errors become `ToolFailure` with the next step.
        """
        from tldr.daemon.client import DaemonClient

        for attempt in (1, 2):
            try:
                with DaemonClient(files=self.files, autostart=True, timeout=timeout) as client:
                    return client.call(method, params)
            except (IndexMissingError, NameLookupError):
                raise  # the caller words these its own way
            except DaemonError as exc:
                code = getattr(exc, "rpc_code", None)
                if code is None and attempt == 1:
                    logger.info("daemon call %s failed (%s); retrying once", method, exc)
                    time.sleep(0.2)
                    continue
                raise ToolFailure(self._daemon_failure(method, exc, code)) from exc
            except TldrError as exc:
                raise ToolFailure(self._daemon_failure(method, exc,
                                                      getattr(exc, "rpc_code", None))) from exc
        raise AssertionError("unreachable")

    def _daemon_failure(self, method: str, exc: TldrError, code: int | None) -> str:
        if code == _METHOD_NOT_FOUND or (code == _INVALID_PARAMS and "unknown field" in str(exc)):
            return (f"the running tldrf daemon is older than this MCP server ({exc}); "
                    f"restart it: tldrf daemon restart --project {self.root}")
        if code is None and isinstance(exc, DaemonError):
            return (f"the tldrf daemon for {self.root} is not available: {exc}; "
                    f"check: tldrf daemon logs --project {self.root}")
        return str(exc)

# -- rendering -----------------------------------------------------------------


def _describe_filters(**filters: str | None) -> str:
    given = [f"{key}={value}" for key, value in filters.items() if value]
    return f" with {', '.join(given)}" if given else ""


def _render_unit(unit: dict[str, Any], budget_tokens: int) -> str:
    """A unit's header lines and source in a fenced block, cut to the budget."""
    header = [f"{unit['file']}:{unit['line']}-{unit['end_line']} {unit['unit_type']} "
              f"{unit['qualified_name']} ({unit['language']})"]
    if unit.get("signature"):
        header.append(f"signature: {unit['signature']}")
    if unit.get("docstring"):
        doc = unit["docstring"].strip().splitlines()
        header.append(f"docstring: {doc[0]}" + (" ..." if len(doc) > 1 else ""))
    for key in ("calls", "imports"):
        if unit.get(key):
            header.append(f"{key}: {', '.join(unit[key])}")
    fence = "```" + str(unit.get("language") or "")
    lines = str(unit.get("source") or "").splitlines()
    used = estimate_tokens("\n".join([*header, fence, "```"])) + NOTE_TOKENS
    kept: list[str] = []
    for text in lines:
        cost = estimate_tokens(text + "\n")
        if used + cost > budget_tokens:
            break
        kept.append(text)
        used += cost
    body = [*header, fence, *kept, "```"] if kept else list(header)
    if len(kept) < len(lines):
        first_cut = unit["line"] + len(kept)
        body.append(f"[source cut to fit budget_tokens={budget_tokens}: lines {first_cut}-"
                    f"{unit['end_line']} of {unit['file']} not shown; raise budget_tokens "
                    "or read that span]")
    return "\n".join(body)


def _render_status(status: dict[str, Any]) -> str:
    lines = [f"project: {status.get('root')}",
             f"daemon: {status.get('state')} (pid {status.get('pid')}, "
             f"version {status.get('version')}, up {status.get('uptime_s')}s)"]
    index = status.get("index")
    if index:
        lang = index.get("lang")
        langs = ", ".join(lang) if isinstance(lang, list) else (lang or "all")
        lines.append(f"index: {index.get('units')} units, model {index.get('model')}, "
                     f"languages {langs}, build {index.get('build_id')}")
    else:
        lines.append("index: none loaded yet" + (f" ({status['index_error']})"
                                                  if status.get("index_error") else ""))
    build = status.get("build") or {}
    state = f"build: {build.get('state')}"
    progress = build.get("progress")
    if progress:
        state += f", {progress.get('percent')}% done ({progress.get('stage')})"
    lines.append(state)
    last = build.get("last")
    if last:
        lines.append(f"last build: {last.get('status')}, {last.get('units')} units, "
                     f"{last.get('embedded')} embedded, {last.get('seconds')}s "
                     f"({last.get('reason')})")
    if build.get("last_error"):
        lines.append(f"last error: {build['last_error']} (failures: {build.get('failures')})")
    pending = (status.get("queue") or {}).get("pending_build")
    if pending:
        lines.append(f"pending build: {pending.get('reason')}, due in {pending.get('due_in_s')}s")
    return "\n".join(lines)
