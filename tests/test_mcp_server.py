"""`tldrf mcp`, driven over stdio by the MCP SDK's own client.

Each test copies the mini fixture project, indexes it with the deterministic
`hash-256` model (no neural model loads), talks to `python -m tldr.cli.mcp`
as an agent host would, and stops the daemon the server started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import LATEST_PROTOCOL_VERSION, TextContent

from tldr._exceptions import ConfigError
from tldr.cli import mcp as mcp_server
from tldr.daemon.client import stop_daemon
from tldr.daemon.lifecycle import read_pid_info
from tldr.mcp import build_server
from tldr.mcp.tools import _render_unit
from tldr.output import estimate_tokens
from tldr.paths import daemon_files

MINI = Path(__file__).parent / "fixtures" / "projects" / "mini"
TOOLS = {"semantic_search", "get_unit", "index_status", "reindex", "code_context", "callers",
         "callees", "code_structure", "program_slice"}


def _copy_mini(path: Path) -> Path:
    shutil.copytree(MINI, path)
    (path / ".tldr").mkdir(exist_ok=True)
    return path


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Path]:
    """The mini project without an index; its daemon is stopped at teardown."""
    root = _copy_mini(tmp_path / "mini")
    yield root
    stop_daemon(daemon_files(root), timeout=5.0)


@pytest.fixture
def project(bare: Path) -> Path:
    """The mini project indexed with hash-256."""
    from tldr.semantic import build_semantic_index

    build_semantic_index(bare, model="hash-256")
    return bare


@asynccontextmanager
async def session(root: Path, *args: str, **env: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session with `python -m tldr.cli.mcp` on `root`."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tldr.cli.mcp", "--project", str(root), *args],
        env={**os.environ, "TLDR_DEBOUNCE_MS": "100", **env},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        yield client


async def call(client: ClientSession, tool: str, **arguments: Any) -> tuple[bool, str]:
    """(is_error, text) of one tool call."""
    result = await client.call_tool(tool, arguments)
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    assert texts, result
    return bool(result.is_error), "\n".join(texts)


# -- without the SDK client -----------------------------------------------------


def test_import_is_cheap() -> None:
    code = ("import sys, tldr.cli.mcp; "
            "heavy = {'mcp', 'numpy', 'torch', 'usearch', 'pydantic', 'anyio'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tldrf")
    mcp_server.add_commands(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["mcp", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--project" in text and "--index-wait" in text
    args = parser.parse_args(["mcp", "--project", "/x"])
    assert args.handler is not None and args.project == "/x"


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from tldr._extras import install_hint

    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)
    hint = install_hint("mcp")  # this checkout is an editable install: pip install -e CLONE[mcp]
    assert hint.startswith("pip install -e '") and hint.endswith("[mcp]'")
    with pytest.raises(ConfigError, match=re.escape(hint)):
        build_server(tmp_path)
    assert mcp_server.main(["--project", str(tmp_path)]) == 1
    assert hint in capsys.readouterr().err


def test_bad_project_and_wait(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert mcp_server.main(["--project", str(tmp_path / "nope")]) == 1
    assert "not a directory" in capsys.readouterr().err
    assert mcp_server.main(["--project", str(tmp_path), "--index-wait", "-1"]) == 1
    assert "--index-wait" in capsys.readouterr().err


def test_render_unit_cuts_source_at_budget() -> None:
    unit = {"file": "a.py", "line": 10, "end_line": 409, "unit_type": "function",
            "qualified_name": "big", "language": "python", "signature": "def big()",
            "docstring": "Big.\n\nMore.", "calls": ["f"], "imports": [],
            "source": "\n".join(f"    x{i} = {i} * 2  # some padding" for i in range(400))}
    text = _render_unit(unit, 300)
    assert estimate_tokens(text) <= 300
    assert "not shown" in text and "of a.py" in text and "docstring: Big. ..." in text


# -- through the SDK client -------------------------------------------------------


async def test_lists_tools_and_searches(project: Path) -> None:
    async with session(project) as client:
        listed = (await client.list_tools()).tools
        by_name = {tool.name: tool for tool in listed}
        assert set(by_name) == TOOLS
        search = by_name["semantic_search"]
        assert "grep" in (search.description or "")
        assert "budget_tokens" in (search.description or "")
        props = search.input_schema["properties"]
        assert search.input_schema["required"] == ["query"]
        assert props["k"]["maximum"] == 50 and props["budget_tokens"]["default"] == 1500
        assert "method" in json.dumps(props["unit_type"])
        assert "python" in props["lang"]["description"]
        assert by_name["get_unit"].annotations is not None
        assert all(tool.input_schema["additionalProperties"] is False for tool in listed)
        assert by_name["get_unit"].annotations.read_only_hint is True

        error, text = await call(client, "semantic_search", query="retry with exponential backoff",
                                 k=3)
        assert not error, text
        first = text.splitlines()[0]
        assert first.startswith("src/retry.py:4-11 retry_with_backoff (")
        assert "def retry_with_backoff(" in first
        assert "| " in text  # snippet lines
        error, text = await call(client, "semantic_search", query="config", path_prefix="src",
                                 lang="Python", unit_type="function", snippets=False)
        assert not error, text
        lines = text.splitlines()
        assert lines and all(line.startswith("src/") for line in lines)
        assert "| " not in text
        error, text = await call(client, "semantic_search", query="retry backoff",
                                 mode="lexical", k=1, expand=True)
        assert not error and text.startswith("src/retry.py:4-11"), text
        error, text = await call(client, "semantic_search", query="anything at all",
                                 path_prefix="no/such/dir")
        assert not error and text.startswith("no results with path_prefix=no/such/dir"), text

        error, text = await call(client, "semantic_search", query="function", k=50,
                                 budget_tokens=100)
        assert not error, text
        assert estimate_tokens(text) <= 100
        assert "more hits cut to fit budget_tokens=100" in text


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("semantic_search", {"query": "x", "k": 0}, "greater than or equal to 1"),
    ("semantic_search", {"query": "x", "k": 500}, "less than or equal to 50"),
    ("semantic_search", {"query": "x", "unit_type": "lambda"},
     "'function', 'method', 'class', 'module', 'section' or 'chunk'"),
    ("semantic_search", {"query": "x", "mode": "fuzzy"}, "'hybrid', 'dense' or 'lexical'"),
    ("semantic_search", {"query": "x", "lang": "klingon"}, "choose one of: bash, c, clojure"),
    ("semantic_search", {"query": "x", "lang": "pyton"}, "did you mean 'python'?"),
    ("semantic_search", {"query": "x", "path_prefix": "../elsewhere"}, "outside the project"),
    ("semantic_search", {"query": "x", "budget_tokens": 5}, "greater than or equal to 100"),
    ("semantic_search", {"query": "   "}, "no words or identifiers"),
    ("semantic_search", {"query": "?!"}, "no words or identifiers"),
    ("semantic_search", {}, "query"),
    ("get_unit", {"qualified_name": "retry_with_backof"}, "no unit with qualified name"),
    ("get_unit", {"file": "src/retry.py"}, "give qualified_name"),
    ("get_unit", {"file": "src/retry.py", "line": 0}, "greater than or equal to 1"),
    ("get_unit", {"file": "src/retry.py", "line": 1000}, "no unit spans src/retry.py:1000"),
    ("reindex", {"timeout_s": 0}, "greater than or equal to 1"),
    ("reindex", {"wait": "later"}, "valid boolean"),
    ("no_such_tool", {}, "no_such_tool"),
    # Arguments a tool does not take: an error naming the valid ones, never dropped.
    ("semantic_search", {"query": "x", "language": "python"},
     "unknown argument(s) of semantic_search: language; did you mean 'lang'?; its arguments "
     "are: query, k, lang, path_prefix, mode, unit_type, snippets, expand, budget_tokens"),
    ("semantic_search", {"query": "x", "rerank": True}, "unknown argument(s) of semantic_search"),
    ("get_unit", {"name": "retry_with_backoff"},
     "unknown argument(s) of get_unit: name; its arguments are: qualified_name, file, line"),
    ("index_status", {"verbose": True}, "unknown argument(s) of index_status: verbose; it takes "
                                        "no arguments"),
    ("reindex", {"force": True}, "its arguments are: rebuild, wait, timeout_s"),
]


async def test_bad_arguments_are_tool_errors_naming_valid_values(project: Path) -> None:
    async with session(project) as client:
        for tool, arguments, expected in BAD_CALLS:
            error, text = await call(client, tool, **arguments)
            assert error, (tool, arguments, text)
            assert expected in text, (tool, arguments, text)


async def test_get_unit(project: Path) -> None:
    async with session(project) as client:
        error, text = await call(client, "get_unit", qualified_name="retry_with_backoff")
        assert not error, text
        assert text.startswith("src/retry.py:4-11 function retry_with_backoff (python)")
        assert 'raise RuntimeError("gave up")' in text and "```python" in text
        assert "docstring: Call action until it succeeds" in text
        error, by_line = await call(client, "get_unit", file="src/retry.py", line=8)
        assert not error and by_line == text
        error, text = await call(client, "get_unit", qualified_name="retry_with_backoff",
                                 budget_tokens=150)
        assert not error and "not shown" in text and estimate_tokens(text) <= 150, text
        assert "```python" in text and "lines 5-11 of src/retry.py not shown" in text


async def test_index_status_and_reindex(project: Path) -> None:
    async with session(project) as client:
        error, text = await call(client, "index_status")
        assert not error and f"project: {project}" in text, text
        error, text = await call(client, "reindex")
        assert not error and text.startswith("build scheduled"), text
        error, text = await call(client, "reindex", wait=True, timeout_s=60)
        assert not error and text.startswith("build "), text
        assert "units" in text
        error, text = await call(client, "index_status")
        assert not error and "index: " in text and "hash-256" in text, text
        error, text = await call(client, "reindex", timeout_s=0)
        assert error and "greater than or equal to 1" in text


async def test_missing_index_answers_progress_then_results(bare: Path) -> None:
    async with session(bare, "--index-wait", "0", TLDR_MODEL="hash-256") as client:
        error, text = await call(client, "semantic_search", query="retry backoff")
        assert error, text
        assert f"indexing {bare}: " in text and "% done" in text and "Retry" in text
        for _ in range(200):
            error, text = await call(client, "semantic_search", query="retry backoff")
            if not error:
                break
            await asyncio.sleep(0.05)
        assert not error and "retry_with_backoff" in text, text


async def test_missing_index_waits_for_a_small_first_build(bare: Path) -> None:
    async with session(bare, TLDR_MODEL="hash-256") as client:
        error, text = await call(client, "get_unit", qualified_name="parse_config_file")
    assert not error and text.startswith("src/config.py:"), text


async def test_two_sessions_share_one_daemon(project: Path) -> None:
    async with session(project) as first, session(project) as second:
        answers = await asyncio.gather(
            call(first, "index_status"), call(second, "index_status"),
            call(first, "semantic_search", query="shopping cart total"),
            call(second, "semantic_search", query="shopping cart total"),
        )
    assert all(not error for error, _ in answers), answers
    pids = {line for _, text in answers[:2] for line in text.splitlines()
            if line.startswith("daemon:")}
    info = read_pid_info(daemon_files(project))
    assert info is not None
    assert len({line.split("(pid ")[1].split(",")[0] for line in pids}) == 1
    assert answers[2][1] == answers[3][1]


async def test_stdout_carries_only_protocol_messages(project: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tldr.cli.mcp", "--project", str(project),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "TLDR_MCP_LOG_LEVEL": "DEBUG"},
    )
    assert process.stdin is not None and process.stdout is not None

    async def send(message: dict[str, Any]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        await process.stdin.drain()

    answers: dict[int, dict[str, Any]] = {}

    async def answer(request_id: int) -> dict[str, Any]:
        assert process.stdout is not None
        while request_id not in answers:
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line, "the server closed stdout"
            message = json.loads(line)
            assert message["jsonrpc"] == "2.0"
            if "id" in message:
                answers[message["id"]] = message
        return answers[request_id]

    await send({"id": 1, "method": "initialize", "params": {
        "protocolVersion": LATEST_PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"}}})
    assert "result" in await answer(1)
    await send({"method": "notifications/initialized"})
    await send({"id": 2, "method": "tools/call",
                "params": {"name": "semantic_search", "arguments": {"query": "backoff"}}})
    await send({"id": 3, "method": "tools/call",
                "params": {"name": "semantic_search", "arguments": {"query": "x", "k": -1}}})
    assert "retry_with_backoff" in json.dumps(await answer(2))
    assert (await answer(3))["result"]["isError"] is True
    process.stdin.close()
    rest, stderr = await asyncio.wait_for(process.communicate(), 30)
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert process.returncode == 0, stderr.decode()


def test_parser_default_wait_matches_the_tools() -> None:
    from tldr.mcp.tools import DEFAULT_INDEX_WAIT_S

    assert mcp_server._DEFAULT_INDEX_WAIT_S == DEFAULT_INDEX_WAIT_S


def test_agents_doc_tool_tables_are_generated_from_the_schemas() -> None:
    from tldr.mcp.reference import tools_reference

    doc = (Path(__file__).resolve().parents[1] / "docs" / "agents.md").read_text()
    block = re.search(r"<!-- generated:mcp-tools -->\n(.*?)\n<!-- /generated -->", doc, re.S)
    assert block is not None
    assert block.group(1) == tools_reference(), "run: python scripts/gen_cli_docs.py"
    # The prose names arguments too ("narrow with `lang`"): a lowercase word in
    # backticks is a tool, an argument, or one of the few other words it uses.
    schemas = {tool.name: tool.input_schema for tool in anyio.run(build_server(".").list_tools)}
    arguments = {name for schema in schemas.values() for name in schema["properties"]}
    prose = re.sub(r"```.*?```", "", doc.replace(block.group(1), ""), flags=re.S)
    named = set(re.findall(r"`([a-z][a-z_]*)(?:=[^`]*)?`", prose))
    other_words = {"tldrf", "claude", "handle", "process", "util", "maybe"}  # "maybe": a field
    assert named - other_words <= arguments | set(schemas), named - arguments - set(schemas)


def test_ctrl_c_stops_the_server_at_once(tmp_path: Path) -> None:
    """Run by hand, `tldrf mcp` waits on stdin; Ctrl-C (SIGINT) ends it: 130, one line."""
    with subprocess.Popen(
        [sys.executable, "-m", "tldr.cli.mcp", "--project", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": LATEST_PROTOCOL_VERSION, "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"}}}).encode() + b"\n")
        process.stdin.flush()
        assert b'"id":1' in process.stdout.readline()  # serving, idle on stdin
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)  # stdin stays open: no EOF to help it stop
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            pytest.fail("the server ignored Ctrl-C")
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
    assert process.returncode == 130, stderr
    assert stderr == "tldrf mcp: interrupted\n"
