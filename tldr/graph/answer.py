"""Answer a code-graph request: the one place a request meets the library.

The daemon's graph methods and the CLI's in-process path both call
`answer(request, ...)`; the result is JSON-ready (plain dicts, lists,
strings and numbers), the same through the daemon as in-process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from tldr.graph.analysis import arch, change_impact, changed_files, dead
from tldr.graph.load import CodeGraph
from tldr.graph.query import (
    call_edges,
    callees,
    callers,
    context,
    extract,
    importers,
    imports,
    structure,
)
from tldr.graph_output import fit_structure
from tldr.graph_request import (
    ArchRequest,
    CalleesRequest,
    CallsRequest,
    CfgRequest,
    ChangeImpactRequest,
    ContextRequest,
    DeadRequest,
    DfgRequest,
    ExtractRequest,
    GraphRequest,
    ImpactRequest,
    ImportersRequest,
    ImportsRequest,
    SliceRequest,
    StructureRequest,
)

__all__ = ["answer"]


def answer(request: GraphRequest, *, root: Path,
           graph: Callable[[], CodeGraph] | None = None) -> dict[str, Any]:
    """The answer to `request` on the project at `root`, JSON-ready.

    `graph` gives the project's loaded graph (called only by requests that
    need one; cfg, dfg and slice parse their one file instead).

    Raises:
        NameLookupError: no single definition (or file, or module) has the name.
        FlowError: the function, line or language cannot be analysed.
        ConfigError: a bad git ref, or git cannot run.
    """
    if not request.NEEDS_GRAPH:
        return _flow(request, root)
    if graph is None:
        raise ValueError(f"{request.COMMAND} needs the code graph")
    loaded = graph()
    result: dict[str, Any]
    if isinstance(request, StructureRequest):
        files = structure(loaded, request.path)
        kept, omitted = fit_structure(files, request.budget_tokens)
        result = {"files": kept, "omitted_files": omitted}
    elif isinstance(request, ExtractRequest):
        result = extract(loaded, request.file, request.name)
    elif isinstance(request, ContextRequest):
        result = context(loaded, request.entry, request.depth, request.budget_tokens,
                         file=request.file)
    elif isinstance(request, ImpactRequest):
        result = callers(loaded, request.name, request.depth, file=request.file)
    elif isinstance(request, CalleesRequest):
        result = callees(loaded, request.name, request.depth, file=request.file)
    elif isinstance(request, CallsRequest):
        result = {"edges": call_edges(loaded, request.path)}
    elif isinstance(request, ImportsRequest):
        result = {"file": request.file, "imports": imports(loaded, request.file)}
    elif isinstance(request, ImportersRequest):
        result = {"module": request.module, "importers": importers(loaded, request.module)}
    elif isinstance(request, ArchRequest):
        result = arch(loaded, request.path)
    elif isinstance(request, DeadRequest):
        result = dead(loaded, request.path, tuple(request.entry or ()),
                      public_is_entry=request.public)
    elif isinstance(request, ChangeImpactRequest):
        changed: list[str] = request.files or changed_files(root, request.git or "HEAD")
        result = {"files": changed, **change_impact(loaded, changed)}
    else:
        raise ValueError(f"no answer for {type(request).__name__}")
    built: dict[str, Any] = msgspec.to_builtins(result)
    return built


def _flow(request: GraphRequest, root: Path) -> dict[str, Any]:
    """cfg, dfg or slice from the file's own parse, with its text form under `text`."""
    from tldr.graph.flow import cfg_file, dfg_file, render_text, slice_file

    text: str = request.function
    function: str | int = int(text) if text.isdigit() else text  # a line inside it
    result: Any
    if isinstance(request, CfgRequest):
        result = cfg_file(root, request.file, function)
    elif isinstance(request, DfgRequest):
        result = dfg_file(root, request.file, function)
    elif isinstance(request, SliceRequest):
        result = slice_file(root, request.file, function, request.line,
                            direction=request.direction, var=request.var)
    else:
        raise ValueError(f"no answer for {type(request).__name__}")
    built: dict[str, Any] = result.to_dict()
    built["text"] = render_text(result, budget_tokens=request.budget_tokens)
    return built
