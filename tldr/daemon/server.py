"""The JSON-RPC server: connections, line framing, dispatch, notifications.

Knows nothing about indexes: the service hands it a table of methods. Each
request runs as its own task, so a slow one never holds up the others on the
same connection or on any other; malformed input gets a JSON-RPC error and
the connection stays usable, except for an over-long line, after which the
stream cannot be resynchronised and is closed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tldr.daemon import protocol
from tldr.daemon.protocol import (
    ErrorObject,
    ErrorResponse,
    Notification,
    Request,
    RpcError,
    SubscribeParams,
    SuccessResponse,
)
from tldr.daemon.transport import Listener, serve

__all__ = ["Connection", "Method", "RpcServer"]

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 64  # per connection; reading pauses beyond it
_NOTIFY_BUFFER_LIMIT = 1 << 20  # drop notifications to a client that stopped reading
_TRIM_AFTER = 500  # connections + requests since the last memory trim
_TRIM_DELAY_S = 1.0  # quiet time (no connection) before trimming
_DRAIN_IDLE_S = 1.0  # after an over-long line: how long a silent client is waited for


@dataclass
class Method:
    """A callable method: its params struct and an async handler."""

    params: type[msgspec.Struct]
    handler: Callable[[Any, Connection], Awaitable[Any]]
    own_timeout: bool = False  # the handler bounds its own time (index with wait)


@dataclass(eq=False)
class Connection:
    """One client connection."""

    id: int
    writer: asyncio.StreamWriter
    subscriptions: set[str] = field(default_factory=set)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT))

    async def send(self, data: bytes) -> None:
        """Write one encoded message; a vanished client is not an error."""
        if self.writer.is_closing():
            return
        async with self.write_lock:
            if self.writer.is_closing():  # went away while we queued (else asyncio logs each write)
                return
            try:
                self.writer.write(data)
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                logger.debug("connection %d went away before its response", self.id)

    def notify(self, data: bytes) -> None:
        """Queue a notification without waiting; dropped if the client stopped reading."""
        if self.writer.is_closing():
            return
        if self.writer.transport.get_write_buffer_size() > _NOTIFY_BUFFER_LIMIT:
            return
        try:
            self.writer.write(data)
        except (ConnectionError, RuntimeError):
            pass


class RpcServer:
    """Serves a method table over the local transport."""

    def __init__(
        self,
        methods: dict[str, Method],
        *,
        max_request_bytes: int,
        request_timeout: float,
    ) -> None:
        self.methods = dict(methods)
        self.methods.setdefault("subscribe", Method(SubscribeParams, self._subscribe))
        self.max_request_bytes = max_request_bytes
        self.request_timeout = request_timeout
        self.connections: set[Connection] = set()
        self.last_activity = time.monotonic()
        self.in_flight = 0
        self.stats: dict[str, int] = {"requests": 0, "errors": 0, "connections_total": 0}
        self._listener: Listener | None = None
        self.closing = False
        self._ids = itertools.count(1)
        self._encoder = msgspec.json.Encoder()
        self._handlers: set[asyncio.Task[None]] = set()
        self._requests: set[asyncio.Task[None]] = set()
        self._handled_at_trim = 0
        self._trim: asyncio.TimerHandle | None = None

    async def start(self, address: str) -> None:
        """Listen at `address` (with room for bursts of connections)."""
        _raise_fd_limit()
        self._listener = await serve(address, self._on_connect, limit=self.max_request_bytes)

    async def close(self, *, grace: float = 2.0) -> None:
        """Stop accepting, let in-flight requests finish for `grace` seconds, disconnect all."""
        self.closing = True
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._requests:
            await asyncio.wait(set(self._requests), timeout=grace)
        for request in list(self._requests):
            request.cancel()
        for conn in list(self.connections):
            conn.writer.close()  # its read loop sees EOF and ends
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=grace)

    def _maybe_trim_memory(self) -> None:
        """Once all clients are gone after a busy spell, hand freed memory back.

        A burst or a big batch leaves free heap pages; a daemon left running
        for weeks should keep the footprint of its work, not of its worst minute.
        """
        handled = self.stats["connections_total"] + self.stats["requests"]
        if handled - self._handled_at_trim < _TRIM_AFTER or self._trim is not None:
            return

        def trim() -> None:
            self._trim = None
            if not self.connections:  # else: the next time all are gone
                self._handled_at_trim = handled
                _return_freed_memory()

        self._trim = asyncio.get_running_loop().call_later(_TRIM_DELAY_S, trim)

    def broadcast(self, event: str, params: dict[str, Any]) -> None:
        """Send a notification to every connection subscribed to `event`."""
        targets = [conn for conn in self.connections if event in conn.subscriptions]
        if not targets:
            return
        data = self._encoder.encode(Notification(method=event, params=params)) + b"\n"
        for conn in targets:
            conn.notify(data)

    async def _subscribe(self, params: SubscribeParams, conn: Connection) -> dict[str, Any]:
        unknown = sorted(set(params.events) - set(protocol.EVENTS))
        if unknown:
            raise RpcError(protocol.INVALID_PARAMS, f"unknown events: {', '.join(unknown)}",
                           {"events": list(protocol.EVENTS)})
        conn.subscriptions = set(params.events)
        return {"events": sorted(conn.subscriptions)}

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        conn = Connection(id=next(self._ids), writer=writer)
        self.connections.add(conn)
        self.stats["connections_total"] += 1
        self.last_activity = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        try:
            await self._read_loop(conn, reader, pending)
            if pending:
                await asyncio.wait(pending)  # the client may have half-closed: still answer
        except asyncio.CancelledError:
            for request in pending:
                request.cancel()
            raise
        finally:
            self.connections.discard(conn)
            self._handlers.discard(task)
            self.last_activity = time.monotonic()
            if not self.connections:
                self._maybe_trim_memory()
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, RuntimeError, asyncio.CancelledError):
                pass

    async def _read_loop(
        self, conn: Connection, reader: asyncio.StreamReader, pending: set[asyncio.Task[None]]
    ) -> None:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                line = exc.partial  # EOF; a last request may lack its newline
                if line.strip():
                    await self._process(conn, line)
                return
            except asyncio.LimitOverrunError:
                self.stats["errors"] += 1
                error = RpcError(protocol.TOO_LARGE,
                                 f"request larger than {self.max_request_bytes} bytes",
                                 {"max_request_bytes": self.max_request_bytes})
                await conn.send(self._error(None, error))
                logger.warning("connection %d: request over %d bytes; closing it",
                               conn.id, self.max_request_bytes)
                # Closing with unread input resets the connection, and the client,
                # still writing, would never read the error: take the rest first.
                await self._drain_line(reader)
                return
            except (ConnectionError, ValueError):
                return
            if not line.strip():
                continue
            await conn.slots.acquire()
            request = asyncio.create_task(self._process(conn, line))
            pending.add(request)
            self._requests.add(request)
            request.add_done_callback(pending.discard)
            request.add_done_callback(self._requests.discard)
            request.add_done_callback(lambda _: conn.slots.release())

    async def _drain_line(self, reader: asyncio.StreamReader) -> None:
        """Discard the rest of the current line.

        Up to its newline, EOF, a pause of `_DRAIN_IDLE_S` (a client that
        stopped writing), or the request timeout.
        """
        deadline = time.monotonic() + self.request_timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                chunk = await asyncio.wait_for(reader.read(1 << 16), min(left, _DRAIN_IDLE_S))
                if not chunk or b"\n" in chunk:
                    return
        except (asyncio.TimeoutError, ConnectionError):
            pass

    async def _process(self, conn: Connection, line: bytes) -> None:
        self.last_activity = time.monotonic()
        self.in_flight += 1
        try:
            await self._answer(conn, line)
        except (RecursionError, MemoryError) as exc:  # 100k-deep nesting, a giant batch
            self.stats["errors"] += 1
            await conn.send(self._error(None, RpcError(
                protocol.INVALID_REQUEST, f"request too deeply nested or too big: {exc}")))
        except Exception as exc:  # every line gets an answer; the daemon goes on
            self.stats["errors"] += 1
            logger.exception("connection %d: cannot handle a request", conn.id)
            await conn.send(self._error(None, protocol.error_for_exception(exc)))
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _answer(self, conn: Connection, line: bytes) -> None:
        try:
            document = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            self.stats["errors"] += 1
            await conn.send(self._error(None, RpcError(protocol.PARSE_ERROR,
                                                       f"parse error: {exc}")))
            return
        if isinstance(document, list):
            if not document:
                self.stats["errors"] += 1
                await conn.send(self._error(None, RpcError(protocol.INVALID_REQUEST,
                                                           "empty batch")))
                return
            answers = await self._call_batch(conn, document)
            replies = [answer for answer in answers if answer is not None]
            if replies:
                await conn.send(self._encoder.encode(replies) + b"\n")
            return
        answer = await self._call(conn, document)
        if answer is not None:
            await conn.send(self._encoder.encode(answer) + b"\n")

    async def _call_batch(
        self, conn: Connection, items: list[Any]
    ) -> list[SuccessResponse | ErrorResponse | None]:
        """Run a batch's entries within the connection's in-flight slots.

        The batch's line already holds one slot, and its entries run on that
        one plus every slot free when it starts (never waiting for one, so
        batches cannot deadlock each other): a batch of 10,000 searches keeps
        at most `MAX_IN_FLIGHT` in the search queue, like 10,000 lines would.
        """
        answers: list[SuccessResponse | ErrorResponse | None] = [None] * len(items)
        todo = iter(enumerate(items))

        async def worker() -> None:
            for position, item in todo:  # shared: each entry runs once
                answers[position] = await self._call(conn, item)

        extra_slots = 0
        try:
            while len(items) > 1 + extra_slots and not conn.slots.locked():
                await conn.slots.acquire()  # free right now: does not wait
                extra_slots += 1
            await asyncio.gather(*(worker() for _ in range(1 + extra_slots)))
        finally:
            for _ in range(extra_slots):
                conn.slots.release()
        return answers

    async def _call(self, conn: Connection, item: Any) -> SuccessResponse | ErrorResponse | None:
        self.stats["requests"] += 1
        try:
            request = msgspec.convert(item, Request)
        except msgspec.ValidationError as exc:
            self.stats["errors"] += 1
            return ErrorResponse(id=_guess_id(item), error=ErrorObject(
                code=protocol.INVALID_REQUEST, message=f"invalid request: {exc}"))
        is_notification = request.id is msgspec.UNSET
        request_id = None if isinstance(request.id, msgspec.UnsetType) else request.id
        try:
            result = await self._dispatch(conn, request)
        except Exception as exc:
            self.stats["errors"] += 1
            error = protocol.error_for_exception(exc)
            if error.code == protocol.INTERNAL_ERROR:
                logger.exception("%s failed", request.method)
            if is_notification:
                return None
            return ErrorResponse(id=request_id, error=error.to_object())
        return None if is_notification else SuccessResponse(id=request_id, result=result)

    async def _dispatch(self, conn: Connection, request: Request) -> Any:
        if self.closing:
            raise RpcError(protocol.SHUTTING_DOWN, "the daemon is shutting down")
        method = self.methods.get(request.method)
        if method is None:
            raise RpcError(protocol.METHOD_NOT_FOUND, f"method not found: {request.method}",
                           {"methods": sorted(self.methods)})
        if isinstance(request.params, list):
            if request.params:
                raise RpcError(protocol.INVALID_PARAMS, "params must be an object")
            raw: dict[str, Any] = {}
        else:
            raw = request.params or {}
        try:
            params = msgspec.convert(raw, method.params)
        except msgspec.ValidationError as exc:
            raise RpcError(protocol.INVALID_PARAMS, f"invalid params: {exc}") from None
        call = method.handler(params, conn)
        if method.own_timeout:
            return await call
        try:
            return await asyncio.wait_for(call, self.request_timeout)
        except asyncio.TimeoutError:
            raise RpcError(protocol.TIMEOUT, f"{request.method} took longer than "
                           f"{self.request_timeout:g}s") from None

    def _error(self, request_id: Any, error: RpcError) -> bytes:
        return self._encoder.encode(ErrorResponse(id=request_id, error=error.to_object())) + b"\n"


def _return_freed_memory() -> None:
    """Collect cycles, then give free heap pages back to the OS.

    glibc's `malloc_trim`; elsewhere only the collection.
    """
    import gc

    gc.collect()
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def _raise_fd_limit() -> None:
    """Raise the soft open-file limit to the hard one.

    Each connection is a descriptor, and a burst of 1,000 clients must not
    hit the usual 1,024.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def _guess_id(item: Any) -> int | str | None:
    if isinstance(item, dict):
        value = item.get("id")
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
    return None
