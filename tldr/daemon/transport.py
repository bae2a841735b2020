"""The local transport: a Unix domain socket on POSIX, a named pipe on Windows.

Both sides see the same interface: the server gets asyncio stream pairs from
`serve()`, the thin client a blocking `SyncStream` from `connect()`. Only the
standard library is imported, and asyncio only by `serve()`: this module is
on the thin client's path, where every import is paid on each command (so it
has no logger either).
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from tldr._exceptions import DaemonError

if TYPE_CHECKING:
    import asyncio

__all__ = ["Listener", "SyncStream", "check_socket_owner", "connect", "serve"]

# Connections waiting to be accepted; the kernel caps it (net.core.somaxconn,
# 4096 on current Linux). asyncio's default of 100 refused a burst of agents.
_LISTEN_BACKLOG = 4096

ClientCallback = Callable[["asyncio.StreamReader", "asyncio.StreamWriter"], Awaitable[None]]


class Listener(Protocol):
    """A listening endpoint that can be closed."""

    def close(self) -> None:
        """Stop accepting connections."""


def check_socket_owner(address: str) -> bool:
    """True if a socket file exists at `address`; refuses one that is not ours.

    Raises:
        DaemonError: the file is owned by another user or is not a socket.
    """
    if os.name == "nt":
        return True
    try:
        info = os.lstat(address)
    except FileNotFoundError:
        return False
    if info.st_uid != os.getuid():
        raise DaemonError(
            f"refusing socket {address}: owned by uid {info.st_uid}, not by you ({os.getuid()})"
        )
    if not stat.S_ISSOCK(info.st_mode):
        raise DaemonError(f"refusing {address}: not a socket")
    return True


async def serve(address: str, callback: ClientCallback, *, limit: int) -> Listener:
    """Start accepting connections at `address`; each runs `callback(reader, writer)`.

    On POSIX the socket file is created with mode 0600; any file left at the
    path must have been checked stale and removed by the caller.
    """
    import asyncio

    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return await _serve_pipe(address, callback, limit=limit)
    server = await asyncio.start_unix_server(
        callback, path=address, limit=limit, backlog=_LISTEN_BACKLOG
    )
    os.chmod(address, 0o600)
    return server


async def _serve_pipe(  # pragma: no cover - Windows
    address: str, callback: ClientCallback, *, limit: int
) -> Listener:
    import asyncio

    loop = asyncio.get_running_loop()
    if not hasattr(loop, "start_serving_pipe"):
        raise DaemonError("named pipes need the proactor event loop")

    def factory() -> asyncio.StreamReaderProtocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, callback, loop=loop)

    servers: list[Any] = await loop.start_serving_pipe(factory, address)

    class _PipeListener:
        def close(self) -> None:
            for server in servers:
                server.close()

    return _PipeListener()


class SyncStream:
    """A blocking, line-oriented connection to the daemon."""

    def __init__(self, sock: socket.socket | None = None, pipe: Any = None) -> None:
        self._sock = sock
        self._pipe = pipe
        self._buffer = bytearray()

    def settimeout(self, seconds: float | None) -> None:
        """Limit how long one read or write may block (sockets only)."""
        if self._sock is not None:
            self._sock.settimeout(seconds)

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        if self._sock is not None:
            self._sock.sendall(data)
        else:  # pragma: no cover - Windows
            self._pipe.write(data)
            self._pipe.flush()

    def readline(self) -> bytes:
        """The next line without its newline; b"" when the daemon closed the connection."""
        if self._pipe is not None:  # pragma: no cover - Windows
            return bytes(self._pipe.readline()).rstrip(b"\n")
        assert self._sock is not None
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                return b""
            self._buffer += chunk

    def close(self) -> None:
        """Close the connection."""
        if self._sock is not None:
            self._sock.close()
        if self._pipe is not None:  # pragma: no cover - Windows
            self._pipe.close()


def connect(address: str, *, timeout: float | None = None) -> SyncStream:
    """Connect to the daemon at `address`.

    Raises:
        FileNotFoundError, ConnectionRefusedError: nothing is listening there.
        DaemonError: the socket belongs to another user.
    """
    if os.name == "nt":  # pragma: no cover - Windows
        return SyncStream(pipe=open(address, "r+b", buffering=0))
    if not check_socket_owner(address):
        raise FileNotFoundError(address)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return SyncStream(sock=sock)
