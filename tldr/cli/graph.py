"""The code-understanding commands: `tldrf impact`, `context`, `structure`, `slice`, ...

Code understanding beside search. Each command is derived from its request
description in `tldr.graph_request` (arguments, choices, bounds, help), goes
through the project's daemon (which keeps the graph loaded) unless told
otherwise, and is answered in-process when the daemon cannot serve it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tldr._exceptions import ConfigError, DaemonError, NameLookupError, ProtocolError
from tldr.cli._support import (
    Commands,
    RawFormatter,
    add_location_arguments,
    add_project_argument,
    index_paths,
    note,
    resolve_path_prefix,
)

if TYPE_CHECKING:
    from tldr.graph_request import GraphRequest
    from tldr.paths import IndexPaths

__all__ = ["COMMANDS", "add_commands"]

# Examples shown in each command's help (run on this repository in docs/usage.md).
_EXAMPLES = {
    "structure": ("tldrf structure tldr/graph",
                  "tldrf structure --budget-tokens 800 --format json"),
    "extract": ("tldrf extract tldr/graph/query.py", "tldrf extract tldr/graph/query.py callers"),
    "context": ("tldrf context build_semantic_index",
                "tldrf context Searcher.run --depth 1 --budget-tokens 500"),
    "calls": ("tldrf calls tldr/daemon", "tldrf calls --format jsonl | head"),
    "impact": ("tldrf impact build_semantic_index",
               "tldrf impact load_source --depth 1 --file tldr/units/source.py"),
    "callees": ("tldrf callees Handlers.search --depth 2",),
    "imports": ("tldrf imports tldr/cli/graph.py",),
    "importers": ("tldrf importers tldr.graph_request",),
    "arch": ("tldrf arch tldr",),
    "dead": ("tldrf dead tldr --no-public", "tldrf dead --entry 'test_*' --entry 'main'"),
    "cfg": ("tldrf cfg tldr/graph/answer.py answer",),
    "dfg": ("tldrf dfg tldr/graph/answer.py _flow",),
    "slice": ("tldrf slice tldr/graph/answer.py _flow 120",
              "tldrf slice tldr/graph/answer.py _flow 110 --direction forward --var text"),
    "change-impact": ("tldrf change-impact", "tldrf change-impact tldr/graph/query.py",
                      "tldrf change-impact --git main"),
}
COMMANDS = tuple(_EXAMPLES)
_METHOD_NOT_FOUND = -32601  # as in tldr.daemon.protocol (not imported: the thin client's path)
_METAVARS = {"budget_tokens": "N", "depth": "N", "line": "LINE", "git": "REF", "entry": "PATTERN"}


def add_commands(commands: Commands, words: Sequence[str] = ()) -> None:
    """Add one top-level command per code-graph request; `words[0]` picks one."""
    from tldr.graph_request import GRAPH_REQUESTS

    named = [kind for kind in GRAPH_REQUESTS if words and kind.COMMAND == words[0]]
    for kind in named or GRAPH_REQUESTS:
        _add_command(commands, kind)


def _add_command(commands: Commands, kind: type[GraphRequest]) -> None:
    from tldr.request import request_fields

    examples = "\n".join(f"  {line}" for line in _EXAMPLES[kind.COMMAND])
    parser = commands.add_parser(
        kind.COMMAND, help=kind.SUMMARY, formatter_class=RawFormatter,
        description=f"{kind.SUMMARY[0].upper()}{kind.SUMMARY[1:]}.\n\nexamples:\n{examples}",
    )
    fields = {field.name: field for field in request_fields(kind)}
    for name in kind.POSITIONAL:
        field = fields[name]
        if field.type is list:
            parser.add_argument(name, nargs="*", help=field.description)
        elif field.required:
            parser.add_argument(name, type=field.type, help=field.description,
                                metavar=name.upper())
        else:
            parser.add_argument(name, nargs="?", type=field.type, default=field.default,
                                help=field.description, metavar=name.upper())
    for name, field in fields.items():
        if name in kind.POSITIONAL:
            continue
        flag = f"--{name.replace('_', '-')}"
        if field.type is bool:
            if field.default:
                parser.add_argument(f"--no-{name.replace('_', '-')}", dest=name,
                                    action="store_false", help=f"do not {field.description}")
            else:
                parser.add_argument(flag, dest=name, action="store_true", help=field.description)
            continue
        if field.type is list:
            parser.add_argument(flag, dest=name, action="append", help=field.description
                                + " (repeatable)", metavar=_METAVARS.get(name, name.upper()))
            continue
        help_text = field.description + ("" if field.default is None
                                         else f" (default {field.default})")
        parser.add_argument(flag, dest=name, type=field.type, default=field.default,
                            choices=field.choices, help=help_text,
                            metavar=None if field.choices else _METAVARS.get(name, name.upper()))
    add_project_argument(parser)
    parser.add_argument("--format", choices=kind.formats(), default="text",
                        help="text (default), compact (one line per item, file:line first, for "
                        "agents), json" + (f", jsonl (one of {kind.ROWS} a line)"
                                           if kind.ROWS else ""))
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--no-daemon", action="store_true",
                        help="answer in this process instead of through the daemon "
                        "(env TLDR_NO_DAEMON=1)")
    add_location_arguments(parser)
    parser.set_defaults(handler=_run, request_kind=kind, usage_error=parser.error)


def _run(args: argparse.Namespace) -> int:
    from tldr.graph_output import render_graph
    from tldr.request import request_fields

    kind: type[GraphRequest] = args.request_kind
    paths = index_paths(args)
    params: dict[str, Any] = {}
    for field in request_fields(kind):
        value = getattr(args, field.name)
        if value is None or (field.type is list and not value):
            continue
        if field.name in kind.PATH_FIELDS:
            value = ([_project_path(item, paths) for item in value] if isinstance(value, list)
                     else _project_path(value, paths))
        params[field.name] = value
    try:
        request = kind.from_params(params)
    except ConfigError as exc:
        args.usage_error(str(exc))
    try:
        result = _answer(args, paths, request)
    except NameLookupError as exc:
        raise request.name_error(exc, "cli") from None
    fmt = "json" if args.json else args.format
    # The text keeps to the request's budget (cut here unless the answer already is; the
    # compact lines are made here, from the answer's lists).
    budget = None if kind.FITTED and fmt != "compact" else request.to_dict().get("budget_tokens")
    print(render_graph(kind.COMMAND, result, fmt, rows=kind.ROWS, budget_tokens=budget))
    return 0


def _project_path(typed: str, paths: IndexPaths) -> str:
    """A path as typed (from here, absolute, or project-relative), made project-relative."""
    if not typed:
        return typed
    return resolve_path_prefix(typed, paths.root, option="path")


def _answer(args: argparse.Namespace, paths: IndexPaths, request: GraphRequest) -> Any:
    """Through the daemon unless told otherwise; in-process when it cannot answer."""
    from tldr.settings import setting

    if not (args.no_daemon or setting("TLDR_NO_DAEMON")):
        from tldr.daemon.client import daemon_query
        from tldr.paths import daemon_files

        try:
            return daemon_query(paths.root, request.METHOD, request.params(),
                                files=daemon_files(paths.root, paths=paths))
        except DaemonError as exc:
            if getattr(exc, "rpc_code", None) == _METHOD_NOT_FOUND:
                note(args, "the running daemon predates code-graph queries (restart it: "
                     "tldrf daemon restart); answering in-process")
            elif isinstance(exc, ProtocolError):
                raise
            else:
                note(args, f"daemon unavailable ({exc}); answering in-process")
    from tldr.graph import load_graph
    from tldr.graph.answer import answer

    return answer(request, root=paths.root, graph=lambda: load_graph(paths.root, paths=paths))
