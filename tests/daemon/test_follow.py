"""A follower's daemon follows its shared index by itself (issue 23 item 4).

In-process daemons on real engines: Milvus Lite (a file, no server) and a
real `chroma run` that is stopped to take the engine down.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for
from engine_servers import ChromaServer, clone_with_backend, write_markers

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
