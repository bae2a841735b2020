"""The code-graph methods of an in-process daemon: answers, errors, a graph kept fresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for

from tldr.daemon import protocol

SOURCES = {
    "app/__init__.py": "",
    "app/core.py": "def parse(text):\n    return text.split()\n\n\ndef run(text):\n"
                   "    return parse(text)\n",
    "app/cli.py": "from app.core import run\n\n\ndef main():\n    return run('a b')\n",
    "app/tool.rb": "def hello(x)\n  x + 1\nend\n",
}


@pytest.fixture
async def graph_daemon(tmp_path: Path):  # type: ignore[no-untyped-def]
    from daemon_helpers import write_project

    from tldr.semantic import build_semantic_index

    root = write_project(tmp_path / "proj", SOURCES)
    build_semantic_index(root, model="hash-256")
    async with running_daemon(root, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        yield daemon, client, root
        await client.close()


async def test_impact_context_and_slice(graph_daemon) -> None:  # type: ignore[no-untyped-def]
    daemon, client, _ = graph_daemon
    answer = await client.call("impact", {"name": "parse"})
    result = answer["result"]
    assert result["definition"]["qualified"] == "parse"
    run = result["callers"][0]
    assert (run["definition"]["qualified"], run["call_line"]) == ("run", 6)
    assert run["children"][0]["definition"]["qualified"] == "main"
    context = (await client.call("context", {"entry": "main", "budget_tokens": 300}))["result"]
    assert [c["definition"]["qualified"] for c in context["calls"]] == ["run", "parse"]
    sliced = (await client.call("slice", {"file": "app/core.py", "function": "run",
                                          "line": 6}))["result"]
    assert sliced["lines"] == [5, 6] and sliced["text"].startswith("slice app/core.py:run")
    assert daemon.service.handlers.graphs.loads == 1  # loaded once, then kept
    assert daemon.service.counts["graph_queries"] == 3


async def test_errors_are_one_line_and_carry_the_exit_code(graph_daemon) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = graph_daemon
    error = (await client.call("impact", {"name": "pars"}))["error"]
    assert error["code"] == protocol.UNANSWERABLE
    assert error["message"] == "no definition named pars; did you mean: parse"
    error = (await client.call("cfg", {"file": "app/tool.rb", "function": "hello"}))["error"]
    assert error["code"] == protocol.UNANSWERABLE
    assert error["data"] == {"type": "UnsupportedLanguageError", "exit_code": 2}
    error = (await client.call("impact", {"name": "parse", "depht": 2}))["error"]
    assert error["code"] == protocol.INVALID_PARAMS and "did you mean 'depth'" in error["message"]
    error = (await client.call("cfg", {"file": "../../etc/passwd", "function": "f"}))["error"]
    assert error["code"] == protocol.INVALID_PARAMS and "outside the project" in error["message"]
    assert (await client.call("ping"))["result"]["pong"] is True  # the daemon is unaffected


async def test_graph_follows_the_committed_build(graph_daemon) -> None:  # type: ignore[no-untyped-def]
    daemon, client, root = graph_daemon
    await client.call("impact", {"name": "parse"})
    await wait_for(lambda: daemon.service.scheduler.idle)  # the startup check is over
    builds = daemon.service.counts["builds"]
    (root / "app" / "extra.py").write_text("from app.core import parse\n\n\n"
                                           "def again():\n    return parse('x')\n")

    async def sees_new_caller() -> bool:
        result = (await client.call("impact", {"name": "parse", "depth": 1}))["result"]
        return "again" in {c["definition"]["qualified"] for c in result["callers"]}

    await wait_for(sees_new_caller, timeout=20)  # the watcher's change, applied live
    graphs = daemon.service.graphs
    assert graphs.live_updates >= 1

    async def committed() -> bool:
        return daemon.service.counts["builds"] > builds and daemon.service.scheduler.idle

    await wait_for(committed, timeout=20)
    assert await sees_new_caller()  # now from the committed graph file, loaded again
    assert graphs.loads >= 2 and graphs.graph_file is not None


def test_client_error_keeps_the_exit_code() -> None:
    error = protocol.ErrorObject(code=protocol.UNANSWERABLE, message="cfg is not supported "
                                 "for ruby yet", data={"type": "UnsupportedLanguageError",
                                                       "exit_code": 2})
    exc = protocol.exception_for_error(error)
    assert exc.exit_code == 2 and str(exc) == "cfg is not supported for ruby yet"


async def test_an_edit_reaches_the_graph_before_any_build(tmp_path: Path) -> None:
    from daemon_helpers import write_project

    from tldr.semantic import build_semantic_index

    root = write_project(tmp_path / "proj", SOURCES)
    build_semantic_index(root, model="hash-256")
    # A debounce of a minute: no build runs during the test, only the live update.
    async with running_daemon(root, build_in_worker=False, debounce_ms=60_000) as daemon:
        client = await RawClient.open(daemon)
        await client.call("impact", {"name": "parse"})
        await wait_for(lambda: daemon.service.scheduler.idle)  # the startup check is over
        builds = daemon.service.counts["builds"]
        (root / "app" / "extra.py").write_text("from app.core import parse as p\n\n\n"
                                               "def again():\n    return p('x')\n")
        (root / "app" / "cli.py").unlink()
        answer = await client.call("notify", {"paths": ["app/extra.py", "app/cli.py"]})
        assert answer["result"]["accepted"] == 2
        result = (await client.call("impact", {"name": "parse", "depth": 2}))["result"]
        callers = {c["definition"]["qualified"]: c for c in result["callers"]}
        assert set(callers) == {"run", "again"}
        assert callers["again"]["kind"] == "via-import"
        assert not callers["run"].get("children")  # main went with app/cli.py
        graphs = daemon.service.graphs
        assert (graphs.loads, graphs.live_updates) == (1, 1)
        status = (await client.call("status"))["result"]["graph"]
        assert status["loaded"] and status["live_updates"] == 1 and status["pending_files"] == 0
        assert daemon.service.counts["builds"] == builds
        error = (await client.call("extract", {"file": "app/cli.py"}))["error"]
        assert error["code"] == protocol.UNANSWERABLE
        await client.close()


async def test_a_failed_live_update_keeps_the_graph_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from daemon_helpers import write_project

    from tldr.semantic import build_semantic_index

    root = write_project(tmp_path / "proj", SOURCES)
    build_semantic_index(root, model="hash-256")
    async with running_daemon(root, build_in_worker=False, debounce_ms=60_000) as daemon:
        client = await RawClient.open(daemon)
        before = (await client.call("impact", {"name": "parse"}))["result"]
        await wait_for(lambda: daemon.service.scheduler.idle)

        def failing(*args: object) -> None:
            raise RuntimeError("update failed")

        monkeypatch.setattr("tldr.daemon.graphs._updated", failing)
        (root / "app" / "extra.py").write_text("from app.core import parse\n\n\n"
                                               "def again():\n    return parse('x')\n")
        await client.call("notify", {"paths": ["app/extra.py"]})
        assert "error" in await client.call("impact", {"name": "parse"})
        graphs = daemon.service.graphs
        assert graphs.loaded is not None and graphs.loads == 1  # kept, not read again
        assert (await client.call("impact", {"name": "parse"}))["result"] == before
        monkeypatch.undo()
        await client.call("notify", {"paths": ["app/extra.py"]})
        result = (await client.call("impact", {"name": "parse"}))["result"]
        assert "again" in {c["definition"]["qualified"] for c in result["callers"]}
        await client.close()
