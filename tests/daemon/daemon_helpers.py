"""Helpers shared by the daemon tests (imported by conftest and the tests)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tldr.daemon.runner import Daemon

SOURCES = {
    "app/config.py": (
        "def parse_config(path):\n"
        '    """Parse the configuration file into a dict."""\n'
        "    return dict(line.split('=') for line in open(path))\n"
    ),
    "app/retry.py": (
        "class Retry:\n"
        "    def backoff(self, attempt):\n"
        '        """Exponential backoff delay for a retry attempt."""\n'
        "        return 2 ** attempt\n"
    ),
    "app/http.py": "def http_handler(request):\n    return 'ok'\n",
}


def write_project(root: Path, sources: dict[str, str] | None = None) -> Path:
    for rel, text in (sources or SOURCES).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / ".tldr").mkdir(exist_ok=True)
    return root


class running_daemon:
    def __init__(self, root: Path, **options: Any) -> None:
        options.setdefault("debounce_ms", 100)
        options.setdefault("idle_timeout", 0)
        self.daemon = Daemon(root, **options)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Daemon:
        await self.daemon.start()
        self._task = asyncio.create_task(self.daemon.wait())
        return self.daemon

    async def __aexit__(self, *exc_info: object) -> None:
        self.daemon.request_stop("test over")
        assert self._task is not None
        await self._task
        await self.daemon.stop()


class RawClient:
    """A line-level asyncio client, to send anything at all."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self._ids = 0

    @classmethod
    async def open(cls, daemon: Daemon) -> RawClient:
        reader, writer = await asyncio.open_unix_connection(daemon.files.socket, limit=1 << 24)
        return cls(reader, writer)

    async def send(self, message: Any) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 10.0) -> Any:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            return None
        return json.loads(line)

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 10.0) -> Any:
        self._ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        while True:
            answer = await self.recv(timeout)
            if answer is None or answer.get("id") == self._ids:
                return answer

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, BrokenPipeError):
            pass


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll `predicate()` (sync or async) until true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
