"""A hostile project or client cannot take over, crash or starve the daemon (issue 11)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from daemon_helpers import RawClient

from tldr._exceptions import IndexCorruptError
from tldr.daemon.client import DaemonClient, ensure_daemon, search_via_daemon
from tldr.daemon.lifecycle import read_pid_info
from tldr.daemon.runner import Daemon
from tldr.daemon.server import MAX_IN_FLIGHT, Method, RpcServer
from tldr.paths import IndexPaths, daemon_files
from tldr.semantic.storage import read_metadata

PLANTED = ("filelock.py", "pathspec.py", "watchfiles.py", "msgspec.py", "tldr/__init__.py")


def _plant(root: Path, marker: Path) -> None:
    for rel in PLANTED:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"open({str(marker)!r}, 'a').write({rel!r} + '\\n')\nraise ImportError('planted')\n"
        )


def test_planted_modules_never_run_in_daemon_or_build_worker(
    built: Path, tmp_path: Path, stop_after: list[Path]
) -> None:
    stop_after.append(built)
    marker = tmp_path / "executed.txt"
    _plant(built, marker)
    files = daemon_files(built)
    ensure_daemon(files)
    with DaemonClient(built, timeout=120, autostart=False) as client:
        report = client.call("index", {"rebuild": True, "wait": True, "timeout": 100})
    assert report["status"] == "built"  # the build worker ran (and imported filelock, ...)
    rows = search_via_daemon(built, "retry backoff", k=1)
    assert rows
    assert not marker.exists(), marker.read_text()


def test_truncated_index_under_a_live_daemon(built: Path, stop_after: list[Path]) -> None:
    # A subprocess daemon: a SIGBUS would kill it, not the test run.
    stop_after.append(built)
    files = daemon_files(built)
    assert search_via_daemon(built, "retry backoff", k=1)
    pid = read_pid_info(files)["pid"]  # type: ignore[index]
    metadata = read_metadata(IndexPaths(built))
    assert metadata is not None
    index_file = IndexPaths(built).semantic_dir / metadata.vector_store.index_file
    os.truncate(index_file, 64)
    with pytest.raises(IndexCorruptError, match="changed on disk"):
        search_via_daemon(built, "retry backoff", k=1)
    os.kill(pid, 0)  # still alive
    deadline = time.monotonic() + 60
    while True:  # it rebuilds by itself
        try:
            if search_via_daemon(built, "retry backoff", k=1):
                break
        except IndexCorruptError:
            pass
        assert time.monotonic() < deadline, "the daemon did not repair the index"
        time.sleep(0.2)
    assert read_pid_info(files)["pid"] == pid  # type: ignore[index]


async def test_deep_nesting_gets_an_error(raw: RawClient) -> None:
    depth = 100_000
    await raw.send(b"[" * depth + b"]" * depth + b"\n")
    answer = await raw.recv()
    assert answer is not None and answer["error"]["code"] in (-32700, -32600)
    await raw.send(b'{"jsonrpc":"2.0","id":1,"method":"x","params":' + b"[" * depth
                   + b"]" * depth + b"}\n")
    answer = await raw.recv()
    assert answer is not None and "error" in answer
    assert (await raw.call("ping"))["result"]["pong"] is True


async def test_overlong_line_still_being_written_gets_the_size_error(daemon: Daemon) -> None:
    limit = daemon.server.max_request_bytes
    reader, writer = await asyncio.open_unix_connection(daemon.files.socket)
    chunk = b"x" * (1 << 16)
    try:
        for _ in range(limit // len(chunk) + 32):  # well past the limit, no newline yet
            writer.write(chunk)
            await writer.drain()
        writer.write(b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert json.loads(line)["error"]["code"] == -32003


async def test_burst_of_1000_connections_is_queued_not_refused(daemon: Daemon) -> None:
    def burst() -> int:
        socks = []
        try:
            for _ in range(1000):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.setblocking(False)  # a full backlog would raise, not wait
                socks.append(sock)
                sock.connect(daemon.files.socket)
            return len(socks)
        finally:
            for sock in socks:
                sock.close()

    assert await asyncio.get_running_loop().run_in_executor(None, burst) == 1000


async def test_batch_entries_count_against_the_in_flight_cap(tmp_path: Path) -> None:
    running = [0]
    peak = [0]

    class Empty(msgspec.Struct):
        pass

    async def slow(params: Any, conn: Any) -> int:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1
        return 1

    server = RpcServer({"slow": Method(Empty, slow)}, max_request_bytes=1 << 22,
                       request_timeout=30)
    address = str(tmp_path / "s.sock")
    await server.start(address)
    try:
        reader, writer = await asyncio.open_unix_connection(address, limit=1 << 24)
        batch = [{"jsonrpc": "2.0", "id": i, "method": "slow"} for i in range(1000)]
        writer.write(json.dumps(batch).encode() + b"\n")
        writer.write(json.dumps(batch[:300]).encode() + b"\n")
        await writer.drain()
        sizes = sorted([len(json.loads(await asyncio.wait_for(reader.readline(), 30)))
                        for _ in range(2)])
        writer.close()
    finally:
        await server.close()
    assert sizes == [300, 1000]
    assert peak[0] <= MAX_IN_FLIGHT
