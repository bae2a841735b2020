"""`tldrf semantic index|search|info|backends|configure`: build, search and inspect an index."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tldr._exceptions import ConfigError, ProtocolError
from tldr.cli._support import (
    Commands,
    Formatter,
    RawFormatter,
    add_project_argument,
    add_request_arguments,
    command_group,
    index_paths,
    note,
    request_from_args,
    use_color,
    verbosity,
)
from tldr.output import FORMATS, dense_note, dense_summary, fit_with_note, render, render_files

if TYPE_CHECKING:
    from tldr.paths import IndexPaths

__all__ = ["NO_RESULTS", "add_commands"]

NO_RESULTS = 1  # the exit status of a search that found nothing (grep's, rg's)


def add_commands(commands: Commands, words: Sequence[str]) -> None:
    """Add `semantic` (index, search, info, backends, configure); `words[1]` picks one."""
    only = words[1] if len(words) > 1 else None
    semantic_commands = command_group(
        commands, "semantic", help="build, search and inspect the semantic index",
        description="Build, search and inspect a project's semantic index.",
        formatter_class=Formatter,
    )
    adders: dict[str, Callable[[Commands], None]] = {
        "index": _add_index_command,
        "search": _add_search_command,
        "info": _add_info_command,
        "backends": _add_plugin_commands,
        "configure": _add_plugin_commands,
    }
    if only in adders:
        adders[only](semantic_commands)
        return
    for adder in dict.fromkeys(adders.values()):
        adder(semantic_commands)


def _add_index_command(commands: Commands) -> None:
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
    index.set_defaults(handler=_run_index, usage_error=index.error)


def _add_search_command(commands: Commands) -> None:
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


def _add_info_command(commands: Commands) -> None:
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


def _run_index(args: argparse.Namespace) -> int:
    from tldr.progress import ProgressPrinter
    from tldr.semantic import build_semantic_index
    from tldr.settings import parse_lang

    try:
        parse_lang(args.lang)  # a bad --lang is a usage error here as on `search`
    except ConfigError as exc:
        args.usage_error(str(exc))
    mode = "quiet" if verbosity(args) < 0 else "auto"
    paths = index_paths(args)
    # Leaving the block, by Ctrl-C too, clears the progress line first.
    with ProgressPrinter(sys.stderr, mode=mode) as progress:
        report = build_semantic_index(
            paths.root,
            paths=paths,
            model=args.model,
            lang=args.lang,
            vector_backend=args.vector_backend,
            rebuild=args.rebuild,
            device=args.device,
            progress=progress,
            lock_timeout=args.lock_timeout,
        )
    for text in report.notes:
        note(args, f"note: {text}")
    if report.sources:
        note(args, "settings: " + ", ".join(
            f"{key} from {source}" for key, source in report.sources.items()), level=1)
    if report.timings:
        note(args, "timings: " + ", ".join(
            f"{stage} {seconds:.2f}s" for stage, seconds in report.timings.items()), level=1)
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
        from tldr.semantic.models.devices import check_device

        check_device(args.device)
    paths = index_paths(args)
    root = paths.root
    fmt = "json" if args.json else args.format
    try:
        request = request_from_args(
            args, root, snippets=args.snippets or args.budget_tokens is not None)
    except ConfigError as exc:
        args.usage_error(str(exc))
    result = _search(args, paths, request)
    for warning in result.get("warnings") or ():
        note(args, f"warning: {warning}")
    if coverage := dense_note(result.get("dense")):
        note(args, coverage)
    if result.get("stale"):
        note(args, "note: the index is being updated; very recent edits may be missing",
              level=1)
    if result.get("build_id"):
        note(args, f"build {result['build_id']}, {result.get('took_ms', 0):.1f} ms "
              f"({result.get('embed_ms', 0):.1f} ms embedding the query)", level=1)
    rows: list[dict[str, Any]] = result["results"]
    color = use_color(sys.stdout, args.color)
    if request.files:
        print(render_files(rows, fmt, color=color))
        return _found(rows)
    if args.budget_tokens is not None:
        rows, trimmed = fit_with_note(rows, args.budget_tokens, fmt, option="--budget-tokens")
        print(render(rows, fmt, color=color))
        if trimmed:
            if fmt in ("json", "jsonl"):
                note(args, trimmed)
            else:
                print(f"[{trimmed}]")
        return _found(rows)
    print(render(rows, fmt, color=color))
    return _found(rows)


def _found(rows: list[dict[str, Any]]) -> int:
    """Exit status of a search, as grep and rg have it: 0 with results, 1 without."""
    return 0 if rows else NO_RESULTS


def _search(args: argparse.Namespace, paths: IndexPaths, request: Any) -> dict[str, Any]:
    """Through the daemon unless told otherwise; in-process if it cannot start."""
    from tldr.settings import setting

    if not (args.no_daemon or setting("TLDR_NO_DAEMON")):
        from tldr._exceptions import DaemonError
        from tldr.daemon.client import FIRST_BUILD_WAIT_S, daemon_search
        from tldr.paths import daemon_files

        waiting = _WaitProgress()
        try:
            return daemon_search(paths.root, request, files=daemon_files(paths.root, paths=paths),
                                 wait=0 if args.no_wait else FIRST_BUILD_WAIT_S,
                                 on_progress=waiting)
        except DaemonError as exc:
            if isinstance(exc, ProtocolError):
                raise
            note(args, f"daemon unavailable ({exc}); searching in-process")
        finally:
            waiting.finish()
    from tldr.semantic import Searcher

    started = time.perf_counter()
    outcome = Searcher(paths.root, device=args.device, paths=paths).run(request)
    answer = {"results": outcome.rows, "warnings": list(outcome.warnings),
              "embed_ms": outcome.embed_seconds * 1000, "dense": outcome.dense,
              "took_ms": (time.perf_counter() - started) * 1000}
    if verbosity(args) > 0:  # the build that answered, as the daemon path says it
        from tldr.semantic.storage import read_metadata

        metadata = read_metadata(paths)
        answer["build_id"] = metadata.vector_store.build_id if metadata else None
    return answer


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

    paths = index_paths(args)
    info = index_info(paths.root, skipped=args.skipped, paths=paths)
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


def _add_plugin_commands(commands: Commands) -> None:
    from tldr.cli.plugins import add_semantic_plugin_commands

    add_semantic_plugin_commands(commands)
