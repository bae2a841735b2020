"""Watch -> rebuild -> search, settings kept, lock contention, failures, missing index."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for

from tldr.daemon import protocol
from tldr.daemon.runner import Daemon
from tldr.paths import IndexPaths

NEW_FUNCTION = "\n\ndef frobnicate_widgets(count):\n    return count * 3\n"


async def _top(client: RawClient, query: str) -> dict[str, Any]:
    answer = await client.call("search", {"query": query, "k": 1})
    assert "result" in answer, answer
    return answer["result"]


async def _sees(client: RawClient, query: str, name: str) -> bool:
    answer = await client.call("search", {"query": query, "k": 1})
    rows = answer.get("result", {}).get("results")
    return bool(rows) and rows[0]["name"] == name


async def test_watch_rebuild_search_sees_change(daemon: Daemon, raw: RawClient,
                                                built: Path) -> None:
    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    before = (await _top(raw, "frobnicate widgets"))["build_id"]
    with (built / "app" / "http.py").open("a") as handle:
        handle.write(NEW_FUNCTION)
    await wait_for(lambda: _sees(raw, "frobnicate widgets", "frobnicate_widgets"), timeout=15)
    result = await _top(raw, "frobnicate widgets")
    assert result["build_id"] != before
    status = (await raw.call("status"))["result"]
    last = status["build"]["last"]
    assert last["status"] == "updated" and "watch" in last["reason"]
    assert last["extracted_files"] == 1 and last["embedded"] >= 1  # incremental
    assert status["index"]["model"] == "hash-256"  # settings kept


async def test_settings_preserved_even_with_env(built: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLDR_MODEL", "hash-128")  # a daemon rebuild must not switch to this
    async with running_daemon(built) as daemon:
        client = await RawClient.open(daemon)
        (built / "app" / "extra.py").write_text("def gizmo_factory():\n    return 1\n")
        await wait_for(lambda: _sees(client, "gizmo factory", "gizmo_factory"), timeout=15)
        status = (await client.call("status"))["result"]
        assert status["index"]["model"] == "hash-256"
        await client.close()


async def test_ignored_paths_do_not_rebuild(daemon: Daemon, built: Path) -> None:
    await wait_for(lambda: daemon.service.counts["builds"] >= 1)  # the startup check
    (built / ".gitignore").write_text("generated/\n")
    await wait_for(lambda: daemon.service.counts["builds"] >= 2
                   and daemon.service.build_state == "idle" and _settled(daemon))
    builds = daemon.service.counts["builds"]
    (built / "generated").mkdir()
    (built / "generated" / "x.py").write_text("def x():\n    pass\n")
    (built / "logo.png").write_bytes(b"\x89PNG\r\n")  # binary: never indexed
    (built / "node_modules").mkdir()
    (built / "node_modules" / "y.js").write_text("function y() {}")
    import asyncio

    await asyncio.sleep(0.8)
    assert _settled(daemon)
    assert daemon.service.counts["builds"] == builds


async def test_notify_schedules_rebuild(built: Path) -> None:
    async with running_daemon(built, watch=False) as daemon:
        client = await RawClient.open(daemon)
        (built / "app" / "http.py").write_text("def teapot_brewer():\n    return 418\n")
        answer = await client.call("notify", {"paths": ["app/http.py", "logo.png",
                                                        str(built / "app" / "http.py")],
                                              "debounce": False})
        assert answer["result"] == {"accepted": 2, "ignored": 1}
        await wait_for(lambda: _sees(client, "teapot brewer", "teapot_brewer"), timeout=15)
        await client.close()


async def test_lock_contention_with_a_cli_build(daemon: Daemon, raw: RawClient,
                                                built: Path) -> None:
    from filelock import FileLock

    lock = FileLock(str(IndexPaths(built).lock))
    with lock:  # what `tldrf semantic index` holds while it builds
        (built / "app" / "extra.py").write_text("def quux_resolver():\n    return 2\n")
        await wait_for(lambda: daemon.service.build_state == "waiting", timeout=10)
        status = (await raw.call("status"))["result"]
        assert status["build"]["state"] == "waiting"
        # queries are still served from the previous build
        assert (await _top(raw, "parse configuration"))["results"][0]["name"] == "parse_config"
    await wait_for(lambda: _sees(raw, "quux resolver", "quux_resolver"), timeout=15)


async def test_failed_rebuild_is_retried(daemon: Daemon, raw: RawClient, built: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tldr.daemon.builder import BuildWorker, WorkerError

    real = BuildWorker.build
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise WorkerError("OSError: disk on fire")
        return real(*args, **kwargs)

    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    monkeypatch.setattr(BuildWorker, "build", flaky)
    (built / "app" / "extra.py").write_text("def zorp_handler():\n    return 2\n")
    await wait_for(lambda: daemon.service.build_state == "failed", timeout=10)
    status = (await raw.call("status"))["result"]
    assert "disk on fire" in status["build"]["last_error"]
    assert status["build"]["failures"] == 1
    assert (await raw.call("ping"))["result"]["pong"]
    await wait_for(lambda: _sees(raw, "zorp handler", "zorp_handler"), timeout=15)
    # A partial commit may show the unit before the build ends: wait for its end.
    await wait_for(lambda: daemon.service.build_state == "idle", timeout=15)
    assert (await raw.call("status"))["result"]["build"]["last_error"] is None


async def test_missing_index_builds_and_says_so(project: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLDR_MODEL", "hash-256")  # first build: no metadata to keep yet
    async with running_daemon(project) as daemon:
        client = await RawClient.open(daemon)
        first = await client.call("search", {"query": "retry backoff"})
        if "error" in first:
            assert first["error"]["code"] == protocol.INDEX_MISSING
            assert "building now" in first["error"]["message"]
        await wait_for(lambda: _sees(client, "retry backoff", "backoff"), timeout=30)
        await client.close()


async def test_deleting_tldr_dir_rebuilds(daemon: Daemon, raw: RawClient, built: Path) -> None:
    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    shutil.rmtree(built / ".tldr")
    # served from the previous build meanwhile, then rebuilt with the same settings
    await wait_for(lambda: IndexPaths(built).metadata.exists(), timeout=15)
    await wait_for(lambda: daemon.service.build_state == "idle", timeout=15)
    assert await _sees(raw, "retry backoff", "backoff")
    status = (await raw.call("status"))["result"]
    assert status["index"]["model"] == "hash-256"


async def test_index_wait_and_info(raw: RawClient) -> None:
    answer = await raw.call("index", {"wait": True, "timeout": 30})
    assert answer["result"]["status"] == "up_to_date"
    info = (await raw.call("info"))["result"]
    assert info["model"] == "hash-256" and info["count"] == 4
    answer = await raw.call("index", {"wait": False})
    assert answer["result"]["scheduled"] is True


async def test_shutdown_method(built: Path) -> None:
    async with running_daemon(built) as daemon:
        client = await RawClient.open(daemon)
        answer = await client.call("shutdown")
        assert answer["result"] == {"stopping": True}
        await wait_for(lambda: daemon.stop_reason is not None, timeout=5)
        await client.close()


async def test_builds_run_in_a_worker_process(daemon: Daemon, raw: RawClient) -> None:
    import os

    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    answer = (await raw.call("index", {"wait": True, "rebuild": True, "timeout": 30}))["result"]
    assert answer["status"] == "built"
    pid = (await raw.call("status"))["result"]["build"]["worker_pid"]
    assert pid is not None and pid != os.getpid()


async def test_worker_errors_keep_their_type(built: Path) -> None:
    import asyncio

    from tldr._exceptions import UnknownBackendError
    from tldr.daemon.builder import BuildRequest, BuildWorker

    worker = BuildWorker()
    try:
        with pytest.raises(UnknownBackendError):
            await asyncio.to_thread(worker.build, BuildRequest(root=str(built),
                                                               vector_backend="nope"),
                                    lambda *a: None)
        report = await asyncio.to_thread(worker.build, BuildRequest(root=str(built)),
                                         lambda *a: None)
        assert report.status in ("built", "updated", "up_to_date")
    finally:
        worker.close()
    assert worker.pid is None


async def test_a_worker_killed_while_idle_is_replaced_for_the_next_build(built: Path) -> None:
    import asyncio
    import os
    import signal

    from tldr.daemon.builder import BuildRequest, BuildWorker

    worker = BuildWorker(idle_timeout=0)  # kept: only the kill ends it
    try:
        worker.prestart()
        pid = worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # no wait: the next build may still see it alive
        report = await asyncio.to_thread(worker.build, BuildRequest(root=str(built),
                                                                    rebuild=True),
                                         lambda *a: None)
        assert report.status == "built"
        assert worker.pid not in (None, pid)
    finally:
        worker.close()


def test_a_request_left_in_a_dead_workers_pipe_does_not_break_the_reap() -> None:
    """The kill lands between the liveness check and the flush: the reap still closes both pipes."""
    import os
    import signal

    from tldr.daemon.builder import BuildWorker

    worker = BuildWorker(idle_timeout=0)
    try:
        worker.prestart()
        proc = worker._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        os.kill(proc.pid, signal.SIGKILL)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
        proc.stdin.write(b"{}\n")  # buffered: the close will try to flush it
        worker._reap()
        assert proc.stdin.closed and proc.stdout.closed
        assert worker.pid is None
    finally:
        worker.close()


async def test_in_process_builds_still_work(built: Path) -> None:
    async with running_daemon(built, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        try:
            answer = await client.call("index", {"wait": True, "rebuild": True, "timeout": 30})
            assert answer["result"]["status"] == "built"
            assert (await client.call("status"))["result"]["build"]["worker_pid"] is None
        finally:
            await client.close()


def _settled(daemon: Daemon) -> bool:
    """No build pending."""
    return daemon.service.scheduler.snapshot().pending is None


async def test_bad_index_settings_are_refused_before_scheduling(daemon: Daemon, raw: RawClient,
                                                                built: Path) -> None:
    from tldr.semantic.storage import read_metadata

    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    for params, expected in (({"lang": "klingon"}, "supported: bash, c, clojure"),
                             ({"vector_backend": "nope"}, "unknown vector store backend")):
        answer = await raw.call("index", {**params, "wait": True, "timeout": 5})
        assert answer["error"]["code"] == -32602 and expected in answer["error"]["message"]
        assert _settled(daemon) and daemon.service.build_state == "idle"
    (built / "app" / "later.py").write_text("def glorp_parser():\n    return 3\n")
    await wait_for(lambda: _sees(raw, "glorp parser", "glorp_parser"), timeout=15)
    metadata = read_metadata(IndexPaths(built))
    assert metadata is not None and metadata.model == "hash-256" and metadata.lang is None


async def test_failed_explicit_settings_are_not_retried(daemon: Daemon, raw: RawClient,
                                                        built: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tldr.daemon.builder import BuildWorker, WorkerError
    from tldr.semantic.storage import read_metadata

    real = BuildWorker.build
    asked: list[str | None] = []

    def no_such_model(self: BuildWorker, request: Any, progress: Any) -> Any:
        asked.append(request.model)
        if request.model == "hash-128":
            raise WorkerError("EmbedderError: model hash-128 is not on this machine")
        return real(self, request, progress)

    await wait_for(lambda: daemon.service.counts["builds"] >= 1 and _settled(daemon))
    monkeypatch.setattr(BuildWorker, "build", no_such_model)
    answer = await raw.call("index", {"model": "hash-128", "wait": True, "timeout": 10})
    assert "not on this machine" in answer["error"]["message"]
    await asyncio.sleep(1.5)  # a retry with those settings would have come after 1 s
    assert asked.count("hash-128") == 1 and _settled(daemon)
    (built / "app" / "later.py").write_text("def blorp_encoder():\n    return 3\n")
    await wait_for(lambda: _sees(raw, "blorp encoder", "blorp_encoder"), timeout=15)
    assert asked.count("hash-128") == 1
    metadata = read_metadata(IndexPaths(built))
    assert metadata is not None and metadata.model == "hash-256"
