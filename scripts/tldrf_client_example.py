#!/usr/bin/env python3
"""A minimal editor-side client of the tldrf daemon: standard library only.

Copy it into an editor plugin, or call it from one. It finds (and starts) the
project's daemon with `tldrf daemon start --json`, then speaks the daemon's
JSON-RPC protocol (docs/protocol.md) over its Unix socket: one JSON object per
line each way, many requests per connection, responses matched by `id`.

Output is one hit per line as `file:line:col: text`, which Vim/Neovim's
default 'errorformat' and most editors' problem matchers parse as locations:

    $ python scripts/tldrf_client_example.py --project ~/src/app "parse the config file"
    /home/me/src/app/src/config.py:11:1: parse_config_file  def parse_config_file(path)  (0.91)

    $ python scripts/tldrf_client_example.py --json -k 3 "retry with backoff"   # raw rows
    $ python scripts/tldrf_client_example.py --notify src/config.py             # a file was saved
    $ python scripts/tldrf_client_example.py --socket /run/user/1000/tldrf/ab12.sock "query"

Exit codes: 0 ok, 1 error (the daemon's message on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class DaemonRpcError(Exception):
    """A JSON-RPC error answered by the daemon."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code, self.data = code, data


class Client:
    """One connection to a daemon socket; `call()` sends a request and waits for its answer."""

    def __init__(self, socket_path: str, *, timeout: float = 30.0) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(socket_path)
        except OSError:
            self._sock.close()
            raise
        self._reader = self._sock.makefile("rb")
        self._next_id = 0

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self._next_id += 1
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            request["params"] = params
        self._sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            line = self._reader.readline()
            if not line:
                raise ConnectionError("the daemon closed the connection")
            message = json.loads(line)
            if message.get("id") != self._next_id:
                continue  # a notification, or the answer to another request
            if "error" in message:
                error = message["error"]
                raise DaemonRpcError(error["code"], error["message"], error.get("data"))
            return message["result"]

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_daemon(project: str, tldrf: str = "tldrf") -> dict[str, Any]:
    """Start the project's daemon if needed; its `{root, pid, socket, started}`."""
    command = [*shlex.split(tldrf), "daemon", "start", "--path", project, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"{shlex.join(command)} failed")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def search(client: Client, query: str, *, k: int = 10, retry_s: float = 30.0,
           **filters: Any) -> list[dict[str, Any]]:
    """Rows best first; while the first index is being built (-32000), retry for `retry_s`."""
    params = {"query": query, "k": k, **{key: value for key, value in filters.items() if value}}
    deadline = time.monotonic() + retry_s
    while True:
        try:
            rows: list[dict[str, Any]] = client.call("search", params)["results"]
            return rows
        except DaemonRpcError as exc:
            if exc.code != -32000 or time.monotonic() > deadline:
                raise
            print(f"tldrf: {exc}", file=sys.stderr)  # "index missing ...; building now, 40% done"
            time.sleep(1.0)


def _location(root: str, row: dict[str, Any]) -> str:
    path = os.path.join(root, *row["file"].split("/"))
    signature = f"  {row['signature']}" if row.get("signature") else ""
    return f"{path}:{row['line']}:1: {row['qualified_name']}{signature}  ({row['score']:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Search a project through its tldrf daemon.")
    parser.add_argument("query", nargs="?", help="what the code does, in plain words")
    parser.add_argument("--project", default=".", help="project directory (default: .)")
    parser.add_argument("--socket", help="daemon socket (default: ask `tldrf daemon start`)")
    parser.add_argument("--tldrf", default=os.environ.get("TLDRF", "tldrf"),
                        help="how to run tldrf (default: $TLDRF or tldrf)")
    parser.add_argument("-k", type=int, default=10, help="how many hits (default 10)")
    parser.add_argument("--lang", help="only this language")
    parser.add_argument("--path-prefix", help="only files under this directory")
    parser.add_argument("--json", action="store_true", help="print the raw rows as JSON")
    parser.add_argument("--notify", nargs="+", metavar="PATH", help="report saved files")
    args = parser.parse_args(argv)
    if not args.query and not args.notify:
        parser.error("give a query or --notify PATH")
    try:
        if args.socket:
            socket_path, root = args.socket, None
        else:
            started = start_daemon(args.project, args.tldrf)
            socket_path, root = started["socket"], started["root"]
        with Client(socket_path) as client:
            if root is None:
                root = client.call("ping")["root"]
            if args.notify:
                print(json.dumps(client.call("notify", {"paths": args.notify})))
                return 0
            rows = search(client, args.query, k=args.k, lang=args.lang,
                          path_prefix=args.path_prefix)
    except (DaemonRpcError, RuntimeError, OSError) as exc:
        print(f"tldrf: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(_location(str(Path(root)), row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
