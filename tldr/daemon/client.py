"""The thin client: talk to a project's daemon, starting it when needed.

Imports only the standard library and light tldr modules (no msgspec, no
asyncio, no logging, no subprocess until a daemon must be started), so
`tldrf semantic search` through a warm daemon costs one process start, one
connect and one line each way. The stdlib `json` module reads and writes the
lines: for one small request and response it is cheaper to import than
msgspec, and the bytes on the wire are the same. Editors and the MCP server
can reuse `DaemonClient`:

```python
from tldr.daemon.client import DaemonClient
with DaemonClient("~/src/app", autostart=True) as client:
    rows = client.call("search", {"query": "parse the config", "k": 5})["results"]
```
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tldr._exceptions import (
    ConfigError,
    DaemonError,
    IndexMissingError,
    ProtocolError,
    TldrError,
)
from tldr.daemon.lifecycle import (
    is_running,
    read_pid_info,
    remove_stale,
    spawn_daemon,
    terminate,
    wait_ready,
    wait_stopped,
)
from tldr.daemon.transport import SyncStream, connect
from tldr.paths import DaemonFiles, IndexPaths, daemon_files, find_project_root
from tldr.request import SearchRequest
from tldr.settings import setting

__all__ = [
    "FIRST_BUILD_WAIT_S",
    "DaemonClient",
    "daemon_query",
    "daemon_search",
    "ensure_daemon",
    "search_via_daemon",
    "stop_daemon",
    "wait_for_first_build",
    "warm",
]

FIRST_BUILD_WAIT_S = 600.0
"""How long a search waits, by default, for a project's first (partial) build."""
_BUILD_EVENTS = ["build.progress", "index.updated", "build.failed"]

ProgressCallback = Callable[[str, int, int], None]


def _encode(message: dict[str, Any]) -> bytes:
    """One request line, as msgspec would write it (compact, UTF-8).

    Raises:
        ConfigError: a value holds bytes that are not UTF-8 (a command-line
            argument in another encoding), which no JSON-RPC message can carry.
    """
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode() + b"\n"
    except UnicodeEncodeError as exc:
        shown = text[max(exc.start - 20, 0):exc.end + 20].encode("utf-8", "backslashreplace")
        raise ConfigError(f"an argument is not valid UTF-8 (near {shown.decode()!r}); "
                          "pass text in UTF-8") from None


def _decode(line: bytes) -> dict[str, Any]:
    """One message from the daemon: a response or a notification.

    Raises:
        ProtocolError: not a JSON object with well-typed members.
    """
    try:
        message = json.loads(line)
    except ValueError as exc:  # also UnicodeDecodeError
        raise ProtocolError(f"bad message from the daemon: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"bad message from the daemon: expected an object, got {line[:80]!r}")
    method = message.get("method")
    error = message.get("error")
    ok = (
        (method is None or isinstance(method, str))
        and isinstance(message.get("params"), (dict, type(None)))
        and (message.get("id") is None or type(message["id"]) in (int, str))
        and (error is None or (isinstance(error, dict) and type(error.get("code")) is int
                               and isinstance(error.get("message"), str)
                               and isinstance(error.get("data"), (dict, type(None)))))
    )
    if not ok:
        raise ProtocolError(f"bad message from the daemon: {line[:200]!r}")
    return message


def _error(error: dict[str, Any]) -> TldrError:
    """The exception for a JSON-RPC error object (only errors pay for msgspec)."""
    from tldr.daemon.protocol import ErrorObject, exception_for_error

    return exception_for_error(
        ErrorObject(code=error["code"], message=error["message"], data=error.get("data"))
    )


class DaemonClient:
    """A blocking JSON-RPC connection to one project's daemon."""

    def __init__(
        self,
        project: str | os.PathLike[str] = ".",
        *,
        timeout: float | None = None,
        autostart: bool = False,
        files: DaemonFiles | None = None,
    ) -> None:
        self.files = files or daemon_files(find_project_root(Path(project).expanduser()))
        self.timeout = setting("TLDR_REQUEST_TIMEOUT") + 5 if timeout is None else timeout
        self.autostart = autostart
        self.notifications: deque[dict[str, Any]] = deque(maxlen=1000)
        self.started = False
        self._stream: SyncStream | None = None
        self._ids = itertools.count(1)

    def __enter__(self) -> DaemonClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(self) -> None:
        """Connect, starting the daemon first when `autostart` is set.

        A daemon that is running but refuses (its accept queue full during a
        burst of clients) is retried for about `_BUSY_CONNECT_S` seconds.

        Raises:
            DaemonError: no daemon is running (and autostart is off), it would
                not start, or it kept refusing connections.
        """
        if self._stream is not None:
            return
        try:
            self._stream = _connect_retrying(self.files, self.timeout)
            return
        except FileNotFoundError:
            pass
        if not self.autostart:
            raise DaemonError(
                f"no daemon is running for {self.files.root}; "
                f"start one: tldrf daemon start --project {self.files.root}"
            ) from None
        self.started = ensure_daemon(self.files)
        try:
            self._stream = _connect_retrying(self.files, self.timeout)
        except OSError as exc:
            raise DaemonError(
                f"cannot connect to the daemon at {self.files.socket}: {exc}"
            ) from None

    def close(self) -> None:
        """Close the connection."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request and return its result.

        Notifications that arrive meanwhile are kept in `notifications`.

        Raises:
            TldrError: the daemon's error, as the matching subclass
                (`IndexMissingError` for "index missing", ...).
            DaemonError: the connection failed or timed out.
        """
        self.connect()
        assert self._stream is not None
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._stream.write(_encode(message))
            while True:
                incoming = self._receive()
                if incoming.get("method") is not None:
                    self.notifications.append({"method": incoming["method"],
                                               "params": incoming.get("params") or {}})
                    continue
                if incoming.get("id") != request_id:
                    continue
                if incoming.get("error") is not None:
                    raise _error(incoming["error"])
                return incoming.get("result")
        except TimeoutError as exc:
            self.close()
            raise DaemonError(
                f"the daemon did not answer {method} within {self.timeout:g}s"
            ) from exc
        except OSError as exc:
            self.close()
            raise _ConnectionLost(f"lost the connection to the daemon: {exc}") from exc

    def next_notification(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until a notification arrives (after `subscribe`).

        `timeout` (default: the client's) bounds each read; a read that times
        out raises `TimeoutError` and leaves the connection usable.
        """
        if self.notifications:
            return self.notifications.popleft()
        self.connect()
        assert self._stream is not None
        self._stream.settimeout(self.timeout if timeout is None else min(timeout, self.timeout))
        try:
            while True:
                incoming = self._receive()
                if incoming.get("method") is not None:
                    return {"method": incoming["method"], "params": incoming.get("params") or {}}
        finally:
            if self._stream is not None:
                self._stream.settimeout(self.timeout)

    def _receive(self) -> dict[str, Any]:
        assert self._stream is not None
        line = self._stream.readline()
        if not line:
            self.close()
            raise _ConnectionLost("the daemon closed the connection")
        return _decode(line)


class _ConnectionLost(DaemonError):
    """The connection dropped before the answer came."""


_BUSY_CONNECT_S = 2.0  # how long a refusing, running daemon is retried


def _connect_retrying(files: DaemonFiles, timeout: float) -> SyncStream:
    """`connect`, retrying briefly while a running daemon refuses (EAGAIN, ECONNREFUSED).

    Raises:
        FileNotFoundError: there is no socket (no daemon).
        DaemonError: the daemon kept refusing; one line, with what to check.
    """
    import time

    deadline = None
    delay = 0.01
    while True:
        try:
            return connect(files.socket, timeout=timeout)
        except (BlockingIOError, ConnectionRefusedError) as exc:
            if not is_running(files):
                if isinstance(exc, ConnectionRefusedError):
                    raise FileNotFoundError(files.socket) from None  # a stale socket: no daemon
            now = time.monotonic()
            deadline = deadline or now + _BUSY_CONNECT_S
            if now >= deadline:
                raise DaemonError(
                    f"the daemon for {files.root} is refusing connections "
                    f"({exc.strerror or exc}); it may be overloaded: retry, or see "
                    f"tldrf daemon status --project {files.root}"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def ensure_daemon(files: DaemonFiles, *, wait: bool = True, timeout: float | None = None) -> bool:
    """Make sure a daemon runs for `files.root`; True if this call started it.

    Raises:
        DaemonError: it did not become ready within `timeout` (TLDR_START_TIMEOUT).
    """
    timeout = setting("TLDR_START_TIMEOUT") if timeout is None else timeout
    try:
        connect(files.socket, timeout=1.0).close()
        return False
    except (FileNotFoundError, ConnectionRefusedError, BlockingIOError):
        pass
    if is_running(files):  # starting up: the socket is not bound yet
        if wait:
            wait_ready(files, timeout=timeout)
        return False
    remove_stale(files)
    process = spawn_daemon(files)
    if wait:
        wait_ready(files, timeout=timeout, process=process)
    return True


def search_via_daemon(
    project: str | os.PathLike[str],
    request: SearchRequest | str,
    *,
    autostart: bool = True,
    timeout: float | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Search through the project's daemon (starting it if needed); rows best first.

    `request` is a `SearchRequest`, or a query with the request's fields as
    keywords; the rows are those `Searcher.search` gives.

    Raises:
        IndexMissingError: no index yet; the daemon is building one and the
            message says how far it got.
        TldrError: any other error, as raised in-process.
    """
    rows: list[dict[str, Any]] = daemon_search(
        project, request, autostart=autostart, timeout=timeout, **options)["results"]
    return rows


def daemon_search(
    project: str | os.PathLike[str],
    request: SearchRequest | str,
    *,
    autostart: bool = True,
    timeout: float | None = None,
    files: DaemonFiles | None = None,
    wait: float = 0.0,
    on_progress: ProgressCallback | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`search_via_daemon`'s whole answer (the `search` result of docs/protocol.md).

    Keys: `results`, `build_id`, `took_ms`, `embed_ms`, `stale`, `warnings`,
    `dense` (coverage of a partial build). `files` (the daemon's, when the
    caller has them) saves finding the root again. With `wait` > 0 and no
    index yet, waits up to `wait` seconds for the daemon's first commit (a
    partial build is enough), passing its progress events to `on_progress`,
    then searches.

    Raises:
        IndexMissingError: no index (yet, after `wait`); the daemon is building
            one and the message says how far it got.
        TldrError: any other error, as raised in-process.
    """
    if not isinstance(request, SearchRequest):
        request = SearchRequest.from_params({"query": request, **options})
    elif options:
        request = request.replace(**options)
    params = request.params()
    for attempt in (1, 2):
        try:
            with DaemonClient(project, timeout=timeout, autostart=autostart,
                              files=files) as client:
                try:
                    result: dict[str, Any] = client.call("search", params)
                except IndexMissingError:
                    if wait <= 0:
                        raise
                    result = _await_build(client, wait, on_progress, retry=("search", params))
                return result
        except _ConnectionLost:
            # The daemon died under this request (killed, crashed, stopping):
            # a search is safe to repeat, and the retry starts a new daemon.
            if attempt == 2 or not autostart:
                raise
    raise AssertionError("unreachable")


def daemon_query(
    project: str | os.PathLike[str],
    method: str,
    params: dict[str, Any],
    *,
    autostart: bool = True,
    timeout: float | None = None,
    files: DaemonFiles | None = None,
) -> Any:
    """One read-only request (a code-graph query) answered by the project's daemon.

    Retried once on a new daemon when the one serving it died under it (a
    query is safe to repeat).

    Raises:
        TldrError: as raised in-process (the daemon's error, translated).
    """
    for attempt in (1, 2):
        try:
            with DaemonClient(project, timeout=timeout, autostart=autostart,
                              files=files) as client:
                return client.call(method, params)
        except _ConnectionLost:
            if attempt == 2 or not autostart:
                raise
    raise AssertionError("unreachable")


def stop_daemon(files: DaemonFiles, *, timeout: float = 5.0) -> bool:
    """Stop the daemon: `shutdown` over the socket, then SIGTERM, then SIGKILL.

    Returns False when no daemon was running.
    """
    info = read_pid_info(files)
    pid = info.get("pid") if info else None
    if not is_running(files):
        remove_stale(files)
        return False
    try:
        with DaemonClient(files=files, timeout=2.0, autostart=False) as client:
            client.call("shutdown")
    except (OSError, DaemonError):
        pass
    if not wait_stopped(files, pid, timeout=timeout):
        terminate(files, pid, timeout=timeout)
    remove_stale(files)
    return True


def wait_for_first_build(
    project: str | os.PathLike[str],
    *,
    timeout: float = FIRST_BUILD_WAIT_S,
    on_progress: ProgressCallback | None = None,
    files: DaemonFiles | None = None,
) -> None:
    """Block until the project's daemon serves a committed build (starting it if needed).

    Returns at once when it already does.

    Raises:
        IndexMissingError: none after `timeout` seconds, or the build failed.
    """
    with DaemonClient(project, autostart=True, files=files) as client:
        _await_build(client, timeout, on_progress, retry=("info", {}))


def _await_build(
    client: DaemonClient,
    timeout: float,
    on_progress: ProgressCallback | None,
    *,
    retry: tuple[str, dict[str, Any]],
) -> Any:
    """Subscribe to build events until `retry` stops answering "index missing"; its result."""
    deadline = time.monotonic() + timeout
    client.call("subscribe", {"events": _BUILD_EVENTS})
    method, params = retry
    while True:
        try:
            return client.call(method, params)  # after subscribing: no commit is missed
        except IndexMissingError as exc:
            missing = exc
            progress = (getattr(exc, "rpc_data", None) or {}).get("progress")
            if progress and on_progress is not None:
                on_progress(progress["stage"], progress["done"], progress["total"])
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise missing
            event = _next_event(client, left)
            if event is None:
                continue
            name, data = event["method"], event["params"]
            if name == "build.progress" and on_progress is not None:
                on_progress(data["stage"], data["done"], data["total"])
            elif name == "build.failed":
                raise IndexMissingError(f"{missing}; the build failed: {data.get('error')}")
            elif name == "index.updated":
                break


def _next_event(client: DaemonClient, timeout: float) -> dict[str, Any] | None:
    """The next notification, or None if none came within `timeout`."""
    try:
        return client.next_notification(timeout)
    except TimeoutError:
        return None


def warm(project: str | os.PathLike[str] = ".", *, paths: IndexPaths | None = None
         ) -> dict[str, Any]:
    """Start the project's daemon, or ask a running one to bring the index up to date.

    Returns at once: {"root", "started", "pid", "socket", "log_file"}; the
    build happens in the background.
    """
    root = find_project_root(Path(project).expanduser())
    files = daemon_files(root, paths=paths)
    answer: dict[str, Any] = {"root": str(files.root), "socket": files.socket,
                              "log_file": str(files.log_file), "started": False, "pid": None}
    try:
        with DaemonClient(files=files, timeout=2.0) as client:
            answer["pid"] = client.call("ping")["pid"]
            answer["build"] = client.call("index", {"wait": False})
            return answer
    except DaemonError:
        pass
    if is_running(files):
        return answer  # starting: its startup build covers us
    remove_stale(files)
    process = spawn_daemon(files)
    answer.update(started=True, pid=process.pid)
    return answer
