"""A new project: lexical results while the first build embeds, a client that
waits for the first commit, and a build worker that leaves when idle
(specs/010-lexical-first.md)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for, write_project
from filelock import FileLock

from tldr._exceptions import IndexMissingError
from tldr.daemon.builder import BuildRequest, BuildWorker
from tldr.daemon.client import daemon_search
from tldr.paths import IndexPaths
from tldr.request import SearchRequest
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.models import embedders
from tldr.semantic.models.embedders import HashingEmbedder

SOURCES = {
    f"pkg/mod{n}.py": "".join(
        f"def handler_{n}_{i}(request):\n    \"\"\"Serve request {n}.{i}.\"\"\"\n"
        f"    return parse_config_{i}(request)\n\n"
        for i in range(6)
    )
    for n in range(8)
}


class SlowHashingEmbedder(HashingEmbedder):
    """The hash model at a model's pace: each batch takes a while."""

    def __init__(self, seconds_per_batch: float) -> None:
        super().__init__(256)
        self.seconds_per_batch = seconds_per_batch

    def embed_documents(self, texts):
        time.sleep(self.seconds_per_batch)
        return super().embed_documents(texts)


@pytest.fixture
def slow_first_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An unindexed project whose in-process build embeds slowly, committing as it goes."""
    monkeypatch.setenv("TLDR_MODEL", "hash-256")
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 4)
    monkeypatch.setattr(build_module, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(build_module, "_EMBED_BATCH", 8)
    monkeypatch.setitem(embedders._cache, ("hash-256", None), SlowHashingEmbedder(0.4))
    return write_project(tmp_path / "proj", SOURCES)


async def test_search_answers_lexically_while_the_first_build_embeds(
    slow_first_build: Path,
) -> None:
    async with running_daemon(slow_first_build, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        events = await RawClient.open(daemon)
        await events.call("subscribe", {"events": ["index.updated"]})
        partial: list[dict[str, Any]] = []

        async def partial_answer() -> bool:
            answer = await client.call("search", {"query": "handler_3_2", "k": 3})
            result = answer.get("result")
            if result and result["dense"] is not None:
                partial.append(result)
            return bool(result) and result["dense"] is None

        await wait_for(partial_answer, timeout=60)
        assert partial, "no search was served by a partial build"
        first = partial[0]
        assert first["results"][0]["name"] == "handler_3_2"
        assert first["dense"]["total"] == 48
        assert 0 <= first["dense"]["percent"] < 100
        assert {"embedded", "eta_s", "used", "model_loading"} <= set(first["dense"])
        updated = await events.recv()
        assert updated["method"] == "index.updated" and updated["params"]["partial"] is True
        status = (await client.call("status"))["result"]
        assert status["index"]["dense"] is None
        await client.close()
        await events.close()


async def test_client_waits_for_the_first_commit_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLDR_MODEL", "hash-256")
    project = write_project(tmp_path / "proj", SOURCES)
    paths = IndexPaths(project)
    paths.semantic_dir.mkdir(parents=True)
    lock = FileLock(str(paths.lock))
    lock.acquire()  # another builder holds the index: the daemon's first build waits
    try:
        async with running_daemon(project, build_in_worker=False):
            params = SearchRequest(query="handler_3_2", k=3)
            with pytest.raises(IndexMissingError, match="building now"):
                await asyncio.to_thread(daemon_search, project, params, autostart=False)
            started = time.monotonic()
            with pytest.raises(IndexMissingError, match="building now"):  # the wait is bounded
                await asyncio.to_thread(daemon_search, project, params, autostart=False,
                                        wait=1.0)
            assert time.monotonic() - started < 10
            events: list[tuple[str, int, int]] = []
            waiting = asyncio.create_task(asyncio.to_thread(
                daemon_search, project, params, autostart=False, wait=60,
                on_progress=lambda *event: events.append(event)))
            await asyncio.sleep(1.0)
            assert not waiting.done()
            lock.release()
            result = await asyncio.wait_for(waiting, 60)
            assert result["results"][0]["name"] == "handler_3_2"
            assert any(stage == "extract" for stage, _, _ in events)
    finally:
        if lock.is_locked:
            lock.release()


async def test_the_build_worker_leaves_when_idle_and_comes_back(built: Path) -> None:
    worker = BuildWorker(idle_timeout=0.5)
    try:
        report = await asyncio.to_thread(worker.build, BuildRequest(root=str(built)),
                                         lambda *a: None)
        assert report.status == "up_to_date"
        first = worker.pid
        assert first is not None
        await wait_for(lambda: worker.pid is None, timeout=15)
        report = await asyncio.to_thread(worker.build, BuildRequest(root=str(built),
                                                                    rebuild=True),
                                         lambda *a: None)
        assert report.status == "built"
        assert worker.pid not in (None, first)
    finally:
        worker.close()
    assert worker.pid is None


def test_worker_idle_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert BuildWorker().idle_timeout == 120
    monkeypatch.setenv("TLDR_WORKER_IDLE_TIMEOUT", "7.5")
    assert BuildWorker().idle_timeout == 7.5


async def test_cli_and_mcp_say_how_far_embedding_is(
    slow_first_build: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tldr import cli
    from tldr.mcp.tools import Tools

    monkeypatch.setitem(embedders._cache, ("hash-256", None), SlowHashingEmbedder(1.5))
    async with running_daemon(slow_first_build, build_in_worker=False):
        argv = ["semantic", "search", "handler_3_2", "--path", str(slow_first_build), "-k", "3"]
        assert await asyncio.to_thread(cli.main, argv) == 0  # waits for the first commit
        out, err = capsys.readouterr()
        assert "handler_3_2" in out
        assert "tldrf: dense: " in err and "% embedded" in err
        text = await asyncio.to_thread(Tools(slow_first_build).search,
                                       SearchRequest(query="handler_3_2", k=3))
        assert "handler_3_2" in text and "[dense: " in text
