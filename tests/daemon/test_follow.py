"""A follower's daemon follows its shared index by itself (issue 23 item 4).

In-process daemons on real engines: Milvus Lite (a file, no server), a real
`chroma run` that is stopped to take the engine down, a port nobody listens
on, and a silent peer (accepts, never answers) for a hung engine.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for
from engine_servers import ChromaServer, SilentPeer, clone_with_backend, free_port, write_markers

from tldr.cli.daemon import _format_status
from tldr.daemon.runner import Daemon
from tldr.semantic import build_semantic_index
from tldr.vector_store import get_backend


def _served(daemon: Daemon) -> str | None:
    searcher = daemon.service.searchers.searcher
    return searcher.build.metadata.vector_store.build_id if searcher is not None else None


async def _search(client: RawClient, query: str) -> dict[str, Any]:
    answer = await client.call("search", {"query": query, "k": 1})
    assert "result" in answer, answer
    result: dict[str, Any] = answer["result"]
    return result


async def _publish(root: Path, generation: int) -> str:
    write_markers(root, generation)
    report = await asyncio.to_thread(build_semantic_index, root)
    return report.build_id


async def test_daemon_follows_new_builds_by_itself(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Milvus Lite: publish, the follower's daemon serves it; publish again, it follows."""
    if not get_backend("milvus").is_available()[0]:
        pytest.skip("pymilvus is not installed: pip install 'tldrf[milvus]'")
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0.2")
    common = {"uri": str(tmp_path / "team.db"), "shared_index": "team"}
    publisher = clone_with_backend(tmp_path, "ci", "milvus", shared_role="publish", **common)
    reader = clone_with_backend(tmp_path, "dev", "milvus", **common)
    first = await _publish(publisher, 0)
    async with running_daemon(reader, watch=False, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        await wait_for(lambda: _served(daemon) == first, timeout=20)
        listener = await RawClient.open(daemon)
        await listener.call("subscribe", {"events": ["index.updated"]})
        second = await _publish(publisher, 1)
        assert second != first
        await wait_for(lambda: _served(daemon) == second, timeout=20)
        event = await listener.recv()
        assert event["method"] == "index.updated"
        assert (event["params"]["status"], event["params"]["build_id"]) == ("followed", second)
        await listener.close()
        result = await _search(client, "marker_1")
        assert result["build_id"] == second
        assert result["results"][0]["name"] == "marker_1"
        status = (await client.call("status"))["result"]
        follow = status["follow"]
        assert follow["last_build_id"] == second and follow["last_error"] is None
        assert follow["interval_s"] == 0.2
        assert daemon.service.counts["builds"] == 1  # the startup check only: no local build
        await client.close()


async def test_no_shared_index_no_follow(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain index: the ticks find no follower; status has no follow, nothing is built."""
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0.05")
    async with running_daemon(built, watch=False, build_in_worker=False) as daemon:
        await wait_for(lambda: daemon.service.follower.ticks >= 3)
        status = daemon.service.status()
        assert status["follow"] is None and status["settings"]["follow_interval_s"] == 0.05
        assert daemon.service.counts["builds"] <= 1  # the startup check only
        assert "follow:" not in _format_status({**status, "socket": "s", "watcher": {
            "state": "off"}, "in_flight": 0, "connections": 0})


async def test_interval_zero_never_follows(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0")
    async with running_daemon(built, watch=False, build_in_worker=False) as daemon:
        await asyncio.sleep(0.3)
        assert daemon.service.follower.ticks == 0
        assert daemon.service.status()["follow"] is None


async def test_engine_down_keeps_serving_and_says_so(tmp_path: Path, chroma: ChromaServer,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """The server stops: the daemon serves its last build; status shows one error line."""
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0.2")
    common = {"url": chroma.url, "shared_index": "team"}
    publisher = clone_with_backend(tmp_path, "ci", "chromadb", shared_role="publish", **common)
    reader = clone_with_backend(tmp_path, "dev", "chromadb", **common)
    first = await _publish(publisher, 0)
    async with running_daemon(reader, watch=False, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        await wait_for(lambda: _served(daemon) == first, timeout=20)
        await wait_for(lambda: daemon.service.follower.snapshot().last_build_id == first)
        caplog.set_level(logging.WARNING, logger="tldr.daemon.follow")
        chroma.stop()
        await wait_for(lambda: daemon.service.follower.snapshot().last_error is not None,
                       timeout=30)
        ticks = daemon.service.follower.ticks
        await wait_for(lambda: daemon.service.follower.ticks >= ticks + 2, timeout=30)
        warnings = [r for r in caplog.records if r.name == "tldr.daemon.follow"]
        assert len(warnings) == 1  # once per outage
        result = await _search(client, "marker_0")
        assert result["build_id"] == first and result["results"]
        status = (await client.call("status"))["result"]
        assert status["follow"]["last_error"]
        text = _format_status(status)
        lines = [line for line in text.splitlines() if line.startswith("follow:")]
        assert len(lines) == 1 and "FAILED" in lines[0], text
        assert _served(daemon) == first
        await client.close()


def _follow_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the daemon logged at WARNING or above."""
    return [r for r in caplog.records
            if r.name.startswith("tldr.daemon") and r.levelno >= logging.WARNING]


async def test_startup_follow_failure_is_one_warning_per_outage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The engine is down from the start: the startup follow, its retry and every check
    after them fail, and the log has one line for all of them."""
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0.1")
    caplog.set_level(logging.WARNING)
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    reader = clone_with_backend(tmp_path, "dev", "chromadb", url=down, shared_index="team")
    async with running_daemon(reader, watch=False, build_in_worker=False) as daemon:
        follower = daemon.service.follower
        await wait_for(lambda: daemon.service.counts["build_failures"] >= 2
                       and follower.ticks >= 4, timeout=30)
        records = _follow_records(caplog)
        assert len(records) == 1, [r.getMessage() for r in records]
        assert "cannot follow the shared index" in records[0].getMessage()
        assert "not reachable" in str(follower.snapshot().last_error)
        assert "not reachable" in str(daemon.service.scheduler.snapshot().last_error)


async def test_silent_engine_times_out_and_frees_the_build_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An engine that accepts the connection and never answers: each follow gives up
    after TLDR_FOLLOW_TIMEOUT, the build thread is free, one warning for the outage."""
    monkeypatch.setenv("TLDR_FOLLOW_INTERVAL", "0.1")
    monkeypatch.setenv("TLDR_FOLLOW_TIMEOUT", "0.5")
    caplog.set_level(logging.WARNING)
    with SilentPeer() as silent:
        reader = clone_with_backend(tmp_path, "dev", "chromadb", url=silent.url,
                                    shared_index="team")
        async with running_daemon(reader, watch=False, build_in_worker=False) as daemon:
            follower = daemon.service.follower
            await wait_for(lambda: follower.snapshot().last_error is not None, timeout=10)
            assert "did not answer within 0.5s" in str(follower.snapshot().last_error)
            assert silent.connections >= 1
            free = daemon.service.scheduler.in_build_thread(lambda: "free")
            assert await asyncio.wait_for(free, timeout=5) == "free"
            ticks = follower.ticks
            await wait_for(lambda: follower.ticks >= ticks + 3, timeout=10)
            assert silent.connections == 1  # no second follow while the first still waits
            assert len(_follow_records(caplog)) == 1
            assert "TLDR_FOLLOW_TIMEOUT" in daemon.service.status()["follow"]["last_error"]
            silent.close()  # the waiting follow sees EOF and ends; the next one is refused
            await wait_for(lambda: "not reachable" in str(follower.snapshot().last_error),
                           timeout=10)
            assert len(_follow_records(caplog)) == 1  # still the same outage
