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
from tldr.cli_support import (
    Formatter,
    Parser,
    RawFormatter,
    add_project_argument,
    add_request_arguments,
    command_group,
    project_of,
    request_from_args,
    use_color,
    walk_parsers,
)
from tldr.index_cli import (
    add_cache_commands,
    add_index_commands,
    add_location_options,
    apply_location_options,
)
from tldr.output import FORMATS, dense_note, dense_summary, fit_with_note, render, render_files

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


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
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do, and keep
        # the interpreter's final flush from failing on the closed pipe too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


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
        description="Local semantic code search for agents, editors and people.",
        formatter_class=Formatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"tldrf {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    adders: dict[str, Callable[[argparse._SubParsersAction], None]] = {
        "semantic": lambda commands: _add_semantic(
            commands, words[1] if top == "semantic" and len(words) > 1 else None
        ),
        "daemon": _add_daemon_commands,
        "warm": _add_daemon_commands,
        "mcp": _add_mcp_command,
        "plugins": _add_plugin_commands,
        "completion": _add_completion_command,
        "index": add_index_commands,
        "cache": add_cache_commands,
    }
    if top in adders:
        adders[top](commands)
    else:
        for adder in dict.fromkeys(adders.values()):  # in order, daemon and warm once
            adder(commands)
    _add_global_options(parser)
    add_location_options(parser)
    return parser


# The other modules' commands, imported only when their parsers are built: a
# search through the daemon builds none of them.


def _add_daemon_commands(commands: argparse._SubParsersAction) -> None:
    from tldr.daemon.commands import add_commands

    add_commands(commands)


def _add_mcp_command(commands: argparse._SubParsersAction) -> None:
    from tldr.mcp_server import add_command

    add_command(commands)


def _add_plugin_commands(commands: argparse._SubParsersAction) -> None:
    from tldr.plugin_cli import add_plugin_commands

    add_plugin_commands(commands)


def _add_semantic_plugin_commands(commands: argparse._SubParsersAction) -> None:
    from tldr.plugin_cli import add_semantic_plugin_commands

    add_semantic_plugin_commands(commands)


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


def _verbosity(args: argparse.Namespace) -> int:
    return int(getattr(args, "verbose", 0)) - int(getattr(args, "quiet", 0))


def _note(args: argparse.Namespace, text: str, *, level: int = 0) -> None:
    """A note on stderr, shown when the verbosity is at least `level`."""
    if _verbosity(args) >= level:
        print(f"tldrf: {text}", file=sys.stderr)


def _add_semantic(commands: argparse._SubParsersAction, only: str | None = None) -> None:
    semantic_commands = command_group(
        commands, "semantic", help="build, search and inspect the semantic index",
        description="Build, search and inspect a project's semantic index.",
        formatter_class=Formatter,
    )
    adders: dict[str, Callable[[argparse._SubParsersAction], None]] = {
        "index": _add_index_command,
        "search": _add_search_command,
        "info": _add_info_command,
        "backends": _add_semantic_plugin_commands,
        "configure": _add_semantic_plugin_commands,
    }
    if only in adders:
        adders[only](semantic_commands)
        return
    for adder in dict.fromkeys(adders.values()):
        adder(semantic_commands)


def _add_index_command(commands: argparse._SubParsersAction) -> None:
    index = commands.add_parser(
        "index",
        help="build or update the index of a project",
        description=(
            "Build the semantic index of a project, or update it for what changed.\n"
            "A no-op when the index is up to date; --rebuild always rebuilds.\n\n"
            "examples:\n"
            "  tldrf semantic index\n"
            "  tldrf semantic index --rebuild --model bge-small-en-v1.5 -p ~/src/app\n"
            "  tldrf semantic index --lang python,go"
        ),
        formatter_class=RawFormatter,
    )
    add_project_argument(index, positional=True)
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
    index.add_argument(
        "--lock-timeout", type=float, default=-1, metavar="SECONDS",
        help="how long to wait for another build of the project to finish "
        "(default: as long as it takes, saying who holds the lock; 0: not at all)",
    )
    index.add_argument("--json", action="store_true", help="print the build report as JSON")
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
            '  tldrf semantic search "retry with backoff" -p ~/src/app -k 5 --json\n'
            '  tldrf semantic search "HTTP handler" --lang go --path-prefix cmd/\n'
            '  tldrf semantic search "where are tokens refreshed" --format compact '
            "--budget-tokens 800 --expand"
        ),
        formatter_class=RawFormatter,
    )
    add_request_arguments(search)
    add_project_argument(search)
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
    search.add_argument("--no-wait", action="store_true",
                        help="with no index yet, return at once (exit 2) instead of waiting "
                        "for the first build (lexical results come within seconds)")
    search.add_argument("--no-daemon", action="store_true",
                        help="search in this process instead of through the daemon "
                        "(env TLDR_NO_DAEMON=1)")
    search.add_argument("--device", help="cpu, cuda or mps, for --no-daemon (default auto)")
    search.add_argument("--vector-backend", help=argparse.SUPPRESS)
    search.set_defaults(handler=_run_search, usage_error=search.error)


def _add_info_command(commands: argparse._SubParsersAction) -> None:
    info = commands.add_parser(
        "info",
        help="show what is indexed and how",
        description="Show the backend, model, size, build and files of a project's index.",
        formatter_class=Formatter,
    )
    add_project_argument(info, positional=True)
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.add_argument("--skipped", action="store_true",
                      help="list each file not indexed with its reason, and the files "
                      "decoded with replacement")
    info.set_defaults(handler=_run_info)


def _add_completion_command(commands: argparse._SubParsersAction) -> None:
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description=(
            "Print the completion script for a shell, generated from the commands\n"
            "and options of this tldrf.\n\n"
            "examples:\n"
            '  eval "$(tldrf completion bash)"            # in ~/.bashrc\n'
            '  eval "$(tldrf completion zsh)"             # in ~/.zshrc\n'
            "  tldrf completion fish > ~/.config/fish/completions/tldrf.fish"
        ),
        formatter_class=RawFormatter,
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    completion.set_defaults(handler=_run_completion)


def _run_completion(args: argparse.Namespace) -> int:
    from tldr.completion import completion_script

    print(completion_script(build_parser(), args.shell))
    return 0


def _run_index(args: argparse.Namespace) -> int:
    from tldr.progress import ProgressPrinter
    from tldr.semantic import build_semantic_index

    mode = "quiet" if _verbosity(args) < 0 else "auto"
    # Leaving the block, by Ctrl-C too, clears the progress line first.
    with ProgressPrinter(sys.stderr, mode=mode) as progress:
        report = build_semantic_index(
            project_of(args),
            model=args.model,
            lang=args.lang,
            vector_backend=args.vector_backend,
            rebuild=args.rebuild,
            device=args.device,
            progress=progress,
            lock_timeout=args.lock_timeout,
        )
    if args.json:
        payload = dict(vars(report))
        payload["root"] = str(report.root)
        print(json.dumps(payload, indent=2))
        return 0
    if report.status == "up_to_date":
        detail = (f": build {report.build_id}, {report.units} units from {report.files} files"
                  if report.build_id else "")
        print(f"up to date: {report.root}{detail} ({report.seconds:.2f}s)")
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
        args.usage_error("--budget-tokens must be a positive number of tokens")
    if args.device is not None:  # checked on the daemon path too, which does not use it
        from tldr.semantic.devices import check_device

        check_device(args.device)
    from pathlib import Path

    from tldr.paths import find_project_root

    root = find_project_root(Path(project_of(args)).expanduser())
    fmt = "json" if args.json else args.format
    try:
        request = request_from_args(
            args, root, snippets=args.snippets or args.budget_tokens is not None)
    except ConfigError as exc:
        args.usage_error(str(exc))
    result = _search(args, root, request)
    for warning in result.get("warnings") or ():
        _note(args, f"warning: {warning}")
    if note := dense_note(result.get("dense")):
        _note(args, note)
    if result.get("stale"):
        _note(args, "note: the index is being updated; very recent edits may be missing",
              level=1)
    if result.get("build_id"):
        _note(args, f"build {result['build_id']}, {result.get('took_ms', 0):.1f} ms "
              f"({result.get('embed_ms', 0):.1f} ms embedding the query)", level=1)
    rows: list[dict[str, Any]] = result["results"]
    color = use_color(sys.stdout, args.color)
    if request.files:
        print(render_files(rows, fmt, color=color))
        return 0
    if args.budget_tokens is not None:
        rows, note = fit_with_note(rows, args.budget_tokens, fmt, option="--budget-tokens")
        print(render(rows, fmt, color=color))
        if note:
            if fmt in ("json", "jsonl"):
                _note(args, note)
            else:
                print(f"[{note}]")
        return 0
    print(render(rows, fmt, color=color))
    return 0


def _search(args: argparse.Namespace, root: Any, request: Any) -> dict[str, Any]:
    """Through the daemon unless told otherwise; in-process if it cannot start."""
    from tldr.settings import setting

    if not (args.no_daemon or setting("TLDR_NO_DAEMON")):
        from tldr._exceptions import DaemonError
        from tldr.daemon.client import FIRST_BUILD_WAIT_S, daemon_search
        from tldr.daemon.settings import daemon_files

        waiting = _WaitProgress()
        try:
            return daemon_search(root, request, files=daemon_files(root),
                                 wait=0 if args.no_wait else FIRST_BUILD_WAIT_S,
                                 on_progress=waiting)
        except DaemonError as exc:
            if isinstance(exc, ProtocolError):
                raise
            _note(args, f"daemon unavailable ({exc}); searching in-process")
        finally:
            waiting.finish()
    from tldr.semantic import Searcher

    outcome = Searcher(root, device=args.device).run(request)
    return {"results": outcome.rows, "warnings": list(outcome.warnings),
            "embed_ms": outcome.embed_seconds * 1000, "dense": outcome.dense}


class _WaitProgress:
    """Build progress while a search waits for the first build: on a terminal only.

    The progress module is imported at the first event, so a search that does
    not wait never loads it.
    """

    def __init__(self) -> None:
        self._printer: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._printer is None:
            if not sys.stderr.isatty():
                return
            from tldr.progress import ProgressPrinter

            self._printer = ProgressPrinter(sys.stderr, mode="tty")
            sys.stderr.write("tldrf: no index yet; building it (--no-wait to skip)\n")
        self._printer(stage, done, total)

    def finish(self) -> None:
        if self._printer is not None:
            self._printer.finish()


def _run_info(args: argparse.Namespace) -> int:
    from tldr.semantic import index_info

    info = index_info(project_of(args), skipped=args.skipped)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    if args.skipped:
        lines = [f"{entry['reason']}\t{entry['path']}" for entry in info["skipped_files"]]
        lines += [f"decoded_with_replacement\t{path}" for path in info["replaced_files"]]
        if sum(info["files_skipped"].values()) > len(info["skipped_files"]):
            lines.append(f"(first {len(info['skipped_files'])} of "
                         f"{sum(info['files_skipped'].values())} skipped files listed)")
        print("\n".join(lines) if lines else "no skipped files")
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
        *([f"dense:          {dense_summary(info['dense'])}"] if info["dense"] else []),
        f"build:          {store['build_id']} at {info['created_at']}",
        f"active index:   {store['index_file']}",
        f"versions:       {', '.join(info['versions_on_disk']) or '-'}",
        f"signature:      {info['project_signature']['kind']} "
        f"{info['project_signature']['value'][:16]}",
        "skipped files:  "
        + (", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items())) or "none"),
        f"replaced:       {info['files_replaced']} files decoded with replacement",
    ]
    if info["dirty"]:
        lines.append("state:          dirty (a rebuild is pending)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
