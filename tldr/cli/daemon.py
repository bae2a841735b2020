"""`tldrf daemon {start,stop,restart,status,logs}` and `tldrf warm`.

Cheap to import (argparse, json and the exception classes): every `tldrf`
command adds these with `add_commands(subparsers)`, so what a handler needs
is imported inside it. Each handler takes the parsed arguments and returns an
exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tldr._exceptions import ConfigError, DaemonError, TldrError
from tldr.cli._support import (
    Commands,
    RawFormatter,
    add_project_argument,
    command_group,
    index_paths,
)

if TYPE_CHECKING:
    from tldr.paths import DaemonFiles

__all__ = ["NOT_RUNNING", "add_commands"]

NOT_RUNNING = 3  # `daemon status` exit code when no daemon runs (as systemctl)
_RAW = RawFormatter


def add_commands(commands: Commands, words: Sequence[str] = ()) -> None:
    """Add `daemon ...` and `warm` to the CLI's subcommands."""
    sub = command_group(
        commands, "daemon", help="start, stop and inspect the per-project daemon",
        description=(
            "The daemon keeps a project's model and index loaded, watches the tree and\n"
            "rebuilds in the background. Searches start it on demand.\n\n"
            "examples:\n"
            "  tldrf daemon start -p ~/src/app\n"
            "  tldrf daemon status --json\n"
            "  tldrf daemon logs -n 50\n"
            "  tldrf daemon stop"
        ),
    )
    specs = (
        ("start", "start the daemon (no-op when it runs)", _start,
         "Start the project's daemon and wait until it accepts requests.\n\n"
         "examples:\n  tldrf daemon start\n  tldrf daemon start -p ~/src/app --json"),
        ("stop", "stop the daemon", _stop,
         "Stop the project's daemon (shutdown request, then SIGTERM, then SIGKILL).\n\n"
         "examples:\n  tldrf daemon stop\n  tldrf daemon stop -p ~/src/app"),
        ("restart", "stop, then start the daemon", _restart,
         "Stop the project's daemon if it runs, then start a new one.\n\n"
         "examples:\n  tldrf daemon restart"),
        ("status", "state, build, watcher, queue and stats", _status,
         "Show whether the daemon runs and what it is doing. Exit code 3 when it\n"
         "does not run.\n\n"
         "examples:\n  tldrf daemon status\n  tldrf daemon status --json | jq .build"),
        ("logs", "print the daemon's log", _logs,
         "Print the end of the daemon's log (<project>/.tldr/daemon.log).\n\n"
         "examples:\n  tldrf daemon logs -n 100\n  tldrf daemon logs --follow"),
        ("query", "send one raw JSON-RPC request (debugging)", _query,
         "Send one JSON-RPC request to the project's daemon (starting it if needed)\n"
         "and print the result as JSON; errors print the JSON-RPC error object.\n"
         "The methods are documented in docs/protocol.md.\n\n"
         "examples:\n  tldrf daemon query ping\n"
         "  tldrf daemon query search '{\"query\": \"parse config\", \"k\": 3}'\n"
         "  tldrf daemon query unit '{\"qualified_name\": \"Searcher.search\"}'"),
    )
    for name, help_text, handler, description in specs:
        parser = sub.add_parser(name, help=help_text, description=description,
                                formatter_class=_RAW)
        add_project_argument(parser)
        if name == "query":
            parser.add_argument("method", help="JSON-RPC method, e.g. status")
            parser.add_argument("params", nargs="?", default="{}",
                                help="params as a JSON object (default {})")
        if name == "logs":
            parser.add_argument("-n", "--lines", type=int, default=40,
                                help="how many lines (default 40)")
            parser.add_argument("-f", "--follow", action="store_true",
                                help="keep printing new lines")
        elif name != "query":
            parser.add_argument("--json", action="store_true", help="print as JSON")
        parser.set_defaults(handler=handler)

    warm = commands.add_parser(
        "warm", help="start the daemon and bring the index up to date in the background",
        formatter_class=_RAW,
        description=(
            "Start the project's daemon, or ask a running one to update the index, and\n"
            "return at once; the build runs in the background. Meant for editors and\n"
            "agents to call when a project is opened.\n\n"
            "examples:\n"
            "  tldrf warm\n"
            "  tldrf warm -p ~/src/app --json"
        ),
    )
    add_project_argument(warm, positional=True)
    warm.add_argument("--json", action="store_true", help="print as JSON")
    warm.set_defaults(handler=_warm)


def _query(args: argparse.Namespace) -> int:
    from tldr.daemon.client import DaemonClient

    try:
        params = json.loads(args.params)
    except ValueError as exc:
        raise ConfigError(f"params must be a JSON object: {exc}") from exc
    if not isinstance(params, dict):
        raise ConfigError("params must be a JSON object, e.g. '{\"k\": 3}'")
    with DaemonClient(files=_files(args), autostart=True) as client:
        try:
            result = client.call(args.method, params)
        except TldrError as exc:
            error = {"code": getattr(exc, "rpc_code", None), "message": str(exc),
                     "data": getattr(exc, "rpc_data", None)}
            print(json.dumps({"error": error}, indent=2))
            return exc.exit_code
    print(json.dumps(result, indent=2))
    return 0



def _files(args: argparse.Namespace) -> DaemonFiles:
    from tldr.paths import daemon_files

    paths = index_paths(args)
    return daemon_files(paths.root, paths=paths)


def _print(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload, indent=2) if getattr(args, "json", False) else text)


def _start(args: argparse.Namespace) -> int:
    from tldr.daemon.client import DaemonClient, ensure_daemon

    files = _files(args)
    started = ensure_daemon(files)
    with DaemonClient(files=files, timeout=5.0) as client:
        ping = client.call("ping")
    verb = "started" if started else "already running"
    _print(args, {"root": str(files.root), "started": started, "pid": ping["pid"],
                  "socket": files.socket},
           f"daemon {verb} for {files.root} (pid {ping['pid']}, socket {files.socket})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from tldr.daemon.client import stop_daemon

    files = _files(args)
    stopped = stop_daemon(files)
    _print(args, {"root": str(files.root), "stopped": stopped},
           f"daemon stopped for {files.root}" if stopped else f"no daemon running for {files.root}")
    return 0


def _restart(args: argparse.Namespace) -> int:
    from tldr.daemon.client import stop_daemon

    stop_daemon(_files(args))
    return _start(args)


def _status(args: argparse.Namespace) -> int:
    from tldr.daemon.client import DaemonClient

    files = _files(args)
    try:
        with DaemonClient(files=files, timeout=5.0) as client:
            status = client.call("status")
    except DaemonError as exc:
        from tldr.daemon.lifecycle import is_running

        if is_running(files):  # it runs, but does not answer (overloaded, stuck)
            _print(args, {"running": True, "root": str(files.root), "socket": files.socket,
                          "error": str(exc)},
                   f"daemon running for {files.root} but not answering: {exc}")
            return 1
        _print(args, {"running": False, "root": str(files.root), "socket": files.socket},
               f"no daemon running for {files.root}" + (f" ({exc})" if "no daemon" not in
                                                         str(exc) else ""))
        return NOT_RUNNING
    status["running"] = True
    _print(args, status, _format_status(status))
    return 0


def _format_status(status: dict[str, Any]) -> str:
    build, index, stats = status["build"], status["index"], status["stats"]
    rss = status.get("rss_bytes")
    lines = [
        f"daemon:     pid {status['pid']}, {status['state']}, up {status['uptime_s']:.0f}s"
        + (f", {rss / 2**20:.0f} MiB" if rss else ""),
        f"project:    {status['root']}",
        f"socket:     {status['socket']}",
    ]
    if index:
        lines.append(f"index:      {index['build_id']}, {index['units']} units, "
                     f"{index['model']}, {index['backend']}")
        if index.get("dense"):
            from tldr.output import dense_note

            lines.append(f"partial:    {dense_note(index['dense'])}")
        health = index.get("backend_health")
        if health:
            state = "ok" if health["healthy"] else f"FAILED: {health['detail']}"
            lines.append(f"backend:    health {state}")
    elif status.get("index_error"):
        error = status["index_error"]
        if build["state"] == "running" and "; run: " in error:
            # The advice to build is moot while the first build runs.
            error = error.split("; run: ", 1)[0] + " yet (the first build is running)"
        lines.append(f"index:      {error}")
    state = build["state"]
    if build.get("progress"):
        progress = build["progress"]
        state += f" ({progress['stage']} {progress['done']}/{progress['total']})"
    lines.append(f"build:      {state}")
    if build.get("last"):
        last = build["last"]
        lines.append(f"last build: {last['status']} {last['build_id'] or ''} in "
                     f"{last['seconds']:.2f}s ({last['embedded']} embedded, "
                     f"{last['extracted_files']} files parsed; {last['reason']})")
    if build.get("last_error"):
        lines.append(f"error:      {build['last_error']} (failures: {build['failures']})")
    follow = status.get("follow")
    if follow:
        due = follow.get("next_due_in_s")
        lines.append("follow:     " + (f"FAILED: {follow['last_error']}" if follow.get("last_error")
                                       else f"{follow.get('last_status') or 'pending'} "
                                       f"{follow.get('last_build_id') or ''}".rstrip())
                     + f", every {follow['interval_s']:g}s"
                     + (f", next in {due:.0f}s" if due is not None else ""))
    watcher = status["watcher"]
    lines.append(f"watcher:    {watcher['state']}, {watcher.get('events', 0)} events"
                 + (f" ({watcher['error']})" if watcher.get("error") else ""))
    pending = status["queue"]["pending_build"]
    lines.append("queue:      " + (f"build due in {pending['due_in_s']:.1f}s ({pending['reason']})"
                                   if pending else "empty")
                 + f", {status['in_flight']} in flight, {status['connections']} connections")
    search = stats.get("search_ms")
    lines.append(f"searches:   {stats['searches']}"
                 + (f", p50 {search['p50']:.1f} ms, p99 {search['p99']:.1f} ms" if search else ""))
    return "\n".join(lines)


def _logs(args: argparse.Namespace) -> int:
    log_file = _files(args).log_file
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        print(f"no log yet at {log_file}", file=sys.stderr)
        return 1
    for line in lines[-args.lines:] if args.lines > 0 else []:
        print(line)
    if not args.follow:
        return 0
    import time

    with open(log_file, encoding="utf-8", errors="replace") as handle:
        handle.seek(0, 2)
        try:
            while True:
                line = handle.readline()
                if line:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                else:
                    time.sleep(0.2)
        except KeyboardInterrupt:
            return 0


def _warm(args: argparse.Namespace) -> int:
    from tldr.daemon.client import warm

    paths = index_paths(args)
    answer = warm(paths.root, paths=paths)
    if answer["started"]:
        text = (f"daemon starting for {answer['root']} (pid {answer['pid']}); "
                "the index is brought up to date in the background")
    elif answer["pid"]:
        text = f"daemon running for {answer['root']} (pid {answer['pid']}); update scheduled"
    else:
        text = f"daemon starting for {answer['root']}"
    _print(args, answer, text)
    return 0
