"""The `tldrf` command: parse arguments, call the library, print results.

Importing this module stays cheap (standard library and msgspec only): the
heavy semantic layer loads inside the command that needs it, so a search
through the daemon never pays for numpy, torch or tree-sitter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tldr._exceptions import ConfigError, ProtocolError, TldrError
from tldr._version import __version__
from tldr.daemon.commands import add_commands as add_daemon_commands
from tldr.index_cli import (
    add_cache_commands,
    add_index_commands,
    add_location_options,
    apply_location_options,
)
from tldr.mcp_server import add_command as add_mcp_command
from tldr.output import FORMATS, fit_to_budget, render, render_files
from tldr.plugin_cli import add_plugin_commands, add_semantic_plugin_commands

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _columns() -> int:
    """`shutil.get_terminal_size().columns`, without importing shutil (~4 ms)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter; its own __init__ imports shutil for the width."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _RawFormatter(_Formatter, argparse.RawDescriptionHelpFormatter):
    """`argparse.RawDescriptionHelpFormatter`, without the shutil import."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tldrf` with `argv` (default: sys.argv[1:]); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        with apply_location_options(args):
            return handler(args)
    except TldrError as exc:
        print(f"tldrf: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tldrf: interrupted", file=sys.stderr)
        return 130


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (the full one, also used to generate docs/cli.md).

    With `argv`, only the subcommands it names are added when it names
    valid ones: each parser and argument costs argparse a gettext lookup, and
    the whole tree is ~10 ms, most of a daemon search's budget. Help and error
    messages are the same, since argparse only shows the choices of a level
    whose word is missing or wrong, and that level is then built in full.
    """
    words = [word for word in (argv or ())[:2] if not word.startswith("-")]
    top = words[0] if words and argv and words[0] == argv[0] else None
    parser = argparse.ArgumentParser(
        prog="tldrf",
        description="Local semantic code search for agents, editors and people.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"tldrf {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    adders: dict[str, Callable[[argparse._SubParsersAction], None]] = {
        "semantic": lambda commands: _add_semantic(
            commands, words[1] if top == "semantic" and len(words) > 1 else None
        ),
        "daemon": add_daemon_commands,
        "warm": add_daemon_commands,
        "mcp": add_mcp_command,
        "plugins": add_plugin_commands,
        "index": add_index_commands,
        "cache": add_cache_commands,
    }
    if top in adders:
        adders[top](commands)
    else:
        for adder in dict.fromkeys(adders.values()):  # in order, daemon and warm once
            adder(commands)
    add_location_options(parser)
    return parser


def _add_semantic(commands: argparse._SubParsersAction, only: str | None = None) -> None:
    semantic = commands.add_parser(
        "semantic",
        help="build, search and inspect the semantic index",
        description="Build, search and inspect a project's semantic index.",
        formatter_class=_Formatter,
    )
    semantic_commands = semantic.add_subparsers(title="commands", metavar="COMMAND")
    semantic.set_defaults(handler=lambda args: _print_help(semantic))
    adders: dict[str, Callable[[argparse._SubParsersAction], None]] = {
        "index": _add_index_command,
        "search": _add_search_command,
        "info": _add_info_command,
        "backends": add_semantic_plugin_commands,
        "configure": add_semantic_plugin_commands,
    }
    if only in adders:
        adders[only](semantic_commands)
        return
    for adder in dict.fromkeys(adders.values()):
        adder(semantic_commands)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _add_index_command(commands: argparse._SubParsersAction) -> None:
    index = commands.add_parser(
        "index",
        help="build or update the index of a project",
        description=(
            "Build the semantic index of a project, or update it for what changed.\n"
            "A no-op when the index is up to date; --rebuild always rebuilds.\n\n"
            "examples:\n"
            "  tldrf semantic index .\n"
            "  tldrf semantic index --rebuild --model bge-small-en-v1.5 .\n"
            "  tldrf semantic index . --lang python,go"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    index.add_argument("path", nargs="?", default=".", help="project directory (default: .)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")
    index.add_argument(
        "--model",
        help="embedding model: a registry name, hub id or local path "
        "(env TLDR_MODEL; default all-MiniLM-L6-v2, bundled)",
    )
    index.add_argument(
        "--lang", help="comma-separated languages to index (env TLDR_LANG; default all)"
    )
    index.add_argument(
        "--vector-backend", help="vector store backend (env TLDR_VECTOR_BACKEND; default usearch)"
    )
    index.add_argument("--device", help="cpu, cuda or mps (env TLDR_DEVICE; default auto)")
    index.add_argument("--json", action="store_true", help="print the build report as JSON")
    index.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    index.set_defaults(handler=_run_index)


def _add_search_command(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser(
        "search",
        help="search a project's index",
        description=(
            "Search the semantic index with a natural-language or symbol query.\n"
            "The model and backend recorded in the index are used.\n\n"
            "examples:\n"
            '  tldrf semantic search "parse the config file"\n'
            '  tldrf semantic search "retry with backoff" --path ~/src/app -k 5 --json\n'
            '  tldrf semantic search "HTTP handler" --lang go --path-prefix cmd/\n'
            '  tldrf semantic search "where are tokens refreshed" --format compact '
            "--budget-tokens 800 --expand"
        ),
        formatter_class=_RawFormatter,
    )
    search.add_argument("query", help="what to look for")
    search.add_argument("--path", default=".", help="project directory (default: .)")
    search.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--lang", help="only units of this language")
    search.add_argument("--path-prefix", help="only files under this project-relative directory")
    search.add_argument(
        "--mode",
        choices=("hybrid", "dense", "lexical"),
        default="hybrid",
        help="ranking: hybrid (default), dense vectors only, or lexical only",
    )
    search.add_argument(
        "--rerank",
        action="store_true",
        help="rescore the top hits with a cross-encoder (TLDR_RERANK_MODEL)",
    )
    search.add_argument(
        "--unit-type",
        choices=("function", "method", "class", "module"),
        help="only units of this kind",
    )
    search.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), compact (one line per hit, for agents), json, jsonl",
    )
    search.add_argument("--json", action="store_true", help="same as --format json")
    search.add_argument(
        "--budget-tokens",
        type=int,
        metavar="N",
        help="add code snippets, trimmed so the output fits about N tokens",
    )
    search.add_argument("--expand", action="store_true", help="add each hit's callers and callees")
    search.add_argument("--files", action="store_true",
                        help="rank files instead of units, each with its best units")
    search.add_argument("--no-daemon", action="store_true",
                        help="search in this process instead of through the daemon "
                        "(env TLDR_NO_DAEMON=1)")
    search.add_argument("--device", help="cpu, cuda or mps, for --no-daemon (default auto)")
    search.add_argument("--vector-backend", help=argparse.SUPPRESS)
    search.set_defaults(handler=_run_search)


def _add_info_command(commands: argparse._SubParsersAction) -> None:
    info = commands.add_parser(
        "info",
        help="show what is indexed and how",
        description="Show the backend, model, size, build and files of a project's index.",
    )
    info.add_argument("path", nargs="?", default=".", help="project directory (default: .)")
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(handler=_run_info)


def _run_index(args: argparse.Namespace) -> int:
    from tldr.semantic import build_semantic_index

    progress = None if args.quiet or args.json or not sys.stderr.isatty() else _ProgressLine()
    report = build_semantic_index(
        args.path,
        model=args.model,
        lang=args.lang,
        vector_backend=args.vector_backend,
        rebuild=args.rebuild,
        device=args.device,
        progress=progress,
    )
    if progress is not None:
        progress.finish()
    if args.json:
        payload = dict(vars(report))
        payload["root"] = str(report.root)
        print(json.dumps(payload, indent=2))
        return 0
    if report.status == "up_to_date":
        print(f"up to date: {report.root} ({report.seconds:.2f}s)")
        return 0
    skipped = sum(report.skipped.values())
    print(
        f"{report.status}: {report.units} units from {report.files} files "
        f"({report.embedded} embedded, {report.extracted_files} files parsed, "
        f"{skipped} skipped) in {report.seconds:.1f}s; build {report.build_id}"
    )
    return 0


def _run_search(args: argparse.Namespace) -> int:
    if args.vector_backend:
        raise ConfigError(
            "search always uses the backend recorded in the index; --vector-backend "
            "applies to: tldrf semantic index --vector-backend ID"
        )
    if args.budget_tokens is not None and args.budget_tokens < 1:
        raise ConfigError("--budget-tokens must be a positive number of tokens")
    fmt = "json" if args.json else args.format
    options: dict[str, Any] = {
        "k": args.k,
        "lang": args.lang,
        "path_prefix": args.path_prefix,
        "mode": args.mode,
        "unit_type": args.unit_type,
    }
    if args.files:
        rows = _search(args, files=True, **options)
        print(json.dumps(rows, indent=2) if fmt in ("json", "jsonl") else render_files(rows))
        return 0
    rows = _search(
        args,
        rerank=args.rerank,
        snippets=args.budget_tokens is not None,
        expand=args.expand,
        **options,
    )
    if args.budget_tokens is not None:
        rows = fit_to_budget(rows, args.budget_tokens, fmt)
    print(render(rows, fmt))
    return 0


def _search(args: argparse.Namespace, **options: Any) -> list[dict[str, Any]]:
    """Through the daemon unless told otherwise; in-process if it cannot start."""
    if not (args.no_daemon or os.environ.get("TLDR_NO_DAEMON")):
        from tldr._exceptions import DaemonError
        from tldr.daemon.client import search_via_daemon

        try:
            return search_via_daemon(args.path, args.query, **options)
        except DaemonError as exc:
            if isinstance(exc, ProtocolError):
                raise
            print(f"tldrf: daemon unavailable ({exc}); searching in-process", file=sys.stderr)
    from tldr.semantic import Searcher

    searcher = Searcher(args.path, device=args.device)
    if options.pop("files", False):
        return searcher.search_files(args.query, **options)
    return searcher.search(args.query, **options)


def _run_info(args: argparse.Namespace) -> int:
    from tldr.semantic import index_info

    info = index_info(args.path)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    store = info["vector_store"]
    skipped = info["files_skipped"]
    lines = [
        f"project:        {info['root']}",
        f"index:          {info['index']['key'] or 'in-tree'} ({info['index_dir']})",
        f"backend:        {store['backend']} {store['backend_version']} ({store['format']})",
        f"model:          {info['model']} ({info['dimension']}-d)",
        f"languages:      {', '.join(info['lang']) if info['lang'] else 'all'}",
        f"units:          {info['count']} from {info['files_indexed']} files",
        f"build:          {store['build_id']} at {info['created_at']}",
        f"active index:   {store['index_file']}",
        f"versions:       {', '.join(info['versions_on_disk']) or '-'}",
        f"signature:      {info['project_signature']['kind']} "
        f"{info['project_signature']['value'][:16]}",
        "skipped files:  "
        + (", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items())) or "none"),
    ]
    if info["dirty"]:
        lines.append("state:          dirty (a rebuild is pending)")
    print("\n".join(lines))
    return 0


class _ProgressLine:
    """One self-overwriting status line on stderr, for builds on a terminal."""

    def __init__(self) -> None:
        self._width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "write":
            text = "writing index"
        else:
            percent = 100 * done // total if total else 100
            text = f"{stage:<8} {done}/{total} ({percent}%)"
        self._width = max(self._width, len(text))
        sys.stderr.write("\r" + text.ljust(self._width))
        sys.stderr.flush()

    def finish(self) -> None:
        if self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
