"""`tldrf mcp`: an MCP server over stdio that answers through the project's daemon.

Agent hosts (Claude Code, Cursor, VS Code, Codex, ...) start it as a child
process and talk MCP over its stdin/stdout. Each tool call is one request to
the project's daemon (`tldr.daemon.client.DaemonClient`, started on demand),
so any number of agent sessions share one warm daemon per project.

This module is the command (`add_command`, `main`, `python -m
tldr.cli.mcp`); the tools live in `tldr.mcp.tools` and the SDK glue in
`tldr.mcp.server`. Cheap to import, because every `tldrf` command (a search
too) adds this one to its parser: `tldr.mcp.*`, logging and the MCP SDK (the
`[mcp]` extra) load when the server runs. Logging goes to stderr; stdout
carries protocol messages only. See specs/005-agents-editors.md and
docs/agents.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tldr._exceptions import ConfigError, TldrError
from tldr.cli._support import Commands, RawFormatter, add_project_argument, index_paths

__all__ = ["add_commands", "main"]

_RAW = RawFormatter
# `tldr.mcp.tools.DEFAULT_INDEX_WAIT_S`, repeated so that building the parser
# does not import tldr.mcp (a test keeps the two equal).
_DEFAULT_INDEX_WAIT_S = 10.0


def add_commands(commands: Commands, words: Sequence[str] = ()) -> None:
    """Add `mcp` to the CLI's subcommands (its `handler` returns an exit code)."""
    parser = commands.add_parser(
        "mcp", help="run an MCP server over stdio for an agent host", formatter_class=_RAW,
        description=(
            "Serve this project's semantic search to an agent host (Claude Code, Cursor,\n"
            "VS Code, Codex, ...) as MCP tools over stdio: semantic_search, get_unit,\n"
            "index_status, reindex. Answers come from the project's daemon, started on\n"
            "the first tool call and shared by every session. Needs the [mcp] extra.\n\n"
            "examples:\n"
            "  tldrf mcp --project ~/src/app\n"
            "  claude mcp add tldrf -- tldrf mcp --project .\n"
            "Host configuration snippets: docs/agents.md."
        ),
    )
    _add_arguments(parser)
    parser.set_defaults(handler=_handle)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, then serve MCP over stdio until the host closes stdin.

    Returns:
        The exit code: 0 after the host hung up, the error's code on a tldrf error.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tldr.cli.mcp", description="Run the tldrf MCP server over stdio."
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return _handle(args)
    except TldrError as exc:
        print(f"tldrf mcp: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_argument(parser)
    parser.add_argument(
        "--index-wait", type=float, default=_DEFAULT_INDEX_WAIT_S, metavar="SECONDS",
        help="with no index yet, wait this long for the first build before answering "
             f"'indexing, N%% done' (default {_DEFAULT_INDEX_WAIT_S:g})",
    )


def _handle(args: argparse.Namespace) -> int:
    if args.index_wait < 0:
        raise ConfigError("--index-wait must be 0 or more seconds")
    import logging

    from tldr.mcp.server import log_level, serve_stdio

    level = log_level()
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="tldrf mcp: %(levelname)s %(name)s: %(message)s")
    paths = index_paths(args)
    return serve_stdio(paths.root, index_wait=args.index_wait, paths=paths)


if __name__ == "__main__":
    sys.exit(main())
