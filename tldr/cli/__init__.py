"""The `tldrf` command: parse arguments, call the library, print results.

One module per command group (`semantic`, `daemon` with `warm`, `index` with
`cache`, `plugins`, `mcp`, `completion`, `graph` with the code-understanding
commands), each with `add_commands`; the
parts they share are in `_support`. Nothing outside this package imports it.

Importing this package stays cheap (standard library and msgspec only): the
heavy semantic layer loads inside the command that needs it, so a search
through the daemon never pays for numpy, torch or tree-sitter.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from tldr._exceptions import TldrError
from tldr._version import __version__
from tldr.cli._support import Formatter, Parser, add_location_options, walk_parsers

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tldrf` with `argv` (default: sys.argv[1:]); return the exit code.

    Output is flushed here, inside the handler of a closed pipe: left to the
    interpreter's final flush, a reader gone away (`| head`) would show as
    "Exception ignored ... BrokenPipeError" and exit 120 whenever stdout is
    block-buffered (no `PYTHONUNBUFFERED`), argparse's own output included.
    """
    try:
        try:
            code = _run(sys.argv[1:] if argv is None else list(argv))
        except SystemExit:  # argparse: --help, --version, usage errors
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Stop quietly, as Unix tools do, and point stdout at /dev/null so the
        # interpreter's final flush has nowhere left to fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _run(argv: list[str]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except TldrError as exc:
        print(f"tldrf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tldrf: interrupted", file=sys.stderr)
        return 130


def _remember_argparse_translations() -> None:
    """Look each argparse message up in gettext once per process, not once per use.

    argparse translates its fixed texts ("options", "show this help ...")
    each time it builds a parser, and every lookup searches the locale
    directories again: about a dozen lookups per command, a millisecond or
    more of a warm search. A translation cannot change while a command runs.
    """
    lookup = vars(argparse)["_"]
    if not hasattr(lookup, "cache_info"):
        import functools

        vars(argparse)["_"] = functools.lru_cache(maxsize=None)(lookup)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (the full one, also used to generate docs/cli.md).

    With `argv`, only the subcommands it names are added when it names
    valid ones: each parser and argument costs argparse a gettext lookup, and
    the whole tree is ~10 ms, most of a daemon search's budget. Help and error
    messages are the same, since argparse only shows the choices of a level
    whose word is missing or wrong, and that level is then built in full.
    """
    _remember_argparse_translations()
    words = [word for word in (argv or ())[:2] if not word.startswith("-")]
    top = words[0] if words and argv and words[0] == argv[0] else None
    parser = Parser(
        prog="tldrf",
        description="Local code search and code understanding for agents, editors and people.",
        formatter_class=Formatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"tldrf {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    if top in _GROUPS:
        _group_module(top).add_commands(commands, words)
    else:
        for module in dict.fromkeys(_GROUPS.values()):  # in order, each module once
            import_module(f"tldr.cli.{module}").add_commands(commands, ())
    _add_global_options(parser)
    add_location_options(parser)
    return parser


# The code-graph commands (tldr.cli.graph.COMMANDS, spelled here so that
# building the parser of another command does not import that module).
_GRAPH_COMMANDS = ("structure", "extract", "context", "calls", "impact", "callees", "imports",
                   "importers", "arch", "dead", "cfg", "dfg", "slice", "change-impact")

# Each command's module, imported only when its parsers are built: a search
# through the daemon imports `semantic` and no other.
_GROUPS = {
    "semantic": "semantic",
    "daemon": "daemon",
    "warm": "daemon",
    "mcp": "mcp",
    "plugins": "plugins",
    "completion": "completion",
    "index": "index",
    "cache": "index",
    **dict.fromkeys(_GRAPH_COMMANDS, "graph"),
}


def _group_module(command: str) -> Any:
    return import_module(f"tldr.cli.{_GROUPS[command]}")


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    """-q/-v/--color on the top level and on every command (`tldrf -q ...` or `... -q`).

    Below the top level the default is SUPPRESS, so a command that was not
    given the flag keeps what the top level parsed. Groups of commands
    (`semantic`, `daemon`) only print their help: they do without.
    """
    for path, each in walk_parsers(parser):
        if path and any(isinstance(action, argparse._SubParsersAction)
                        for action in each._actions):
            continue
        default: Any = argparse.SUPPRESS if path else None
        group = each.add_argument_group("output")
        group.add_argument("-q", "--quiet", action="count", default=default or 0,
                           help="less output: no progress or notes on stderr")
        group.add_argument("-v", "--verbose", action="count", default=default or 0,
                           help="more output: timings and sources on stderr (repeatable)")
        group.add_argument("--color", choices=("auto", "always", "never"),
                           default=default or "auto",
                           help="colour: auto (a terminal, unless NO_COLOR is set), always, never")


