"""The MCP code-graph tools, called through the SDK server against an in-process daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import running_daemon, write_project

pytest.importorskip("mcp")

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import TextContent

from tldr.mcp import build_server
from tldr.mcp.server import GRAPH_TOOLS, TOOL_DESCRIPTIONS

SOURCES = {
    "app/__init__.py": "",
    "app/core.py": "def parse(text):\n    \"\"\"Split text into words.\"\"\"\n"
                   "    return text.split()\n\n\ndef run(text):\n    words = parse(text)\n"
                   "    count = len(words)\n    return count\n",
    "app/cli.py": "from app.core import run\n\n\ndef main():\n    return run('a b')\n",
    "tests/test_core.py": "from app.core import run\n\n\ndef test_run():\n"
                          "    assert run('a') == 1\n",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    from tldr.semantic import build_semantic_index

    project = write_project(tmp_path / "proj", SOURCES)
    build_semantic_index(project, model="hash-256")
    return project


async def _text(server: Any, tool: str, **arguments: Any) -> str:
    result = await server.call_tool(tool, arguments)
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_graph_tools_listed_with_strict_schemas(root: Path) -> None:
    server = build_server(root)
    tools = {tool.name: tool for tool in await server.list_tools()}
    assert set(GRAPH_TOOLS) <= set(tools)
    for name in GRAPH_TOOLS:
        assert "search" in TOOL_DESCRIPTIONS[name], name  # says when to prefer it
        assert tools[name].input_schema["additionalProperties"] is False
        assert tools[name].annotations is not None and tools[name].annotations.read_only_hint
    assert tools["callers"].input_schema["required"] == ["name"]
    assert tools["program_slice"].input_schema["properties"]["direction"]["enum"] == [
        "backward", "forward"]
    assert tools["semantic_search"].input_schema["additionalProperties"] is False


async def test_unknown_and_bad_arguments_are_errors(root: Path) -> None:
    server = build_server(root)
    with pytest.raises(ToolError, match="deph"):
        await server.call_tool("callers", {"name": "parse", "deph": 2})
    with pytest.raises(ToolError, match="less than or equal to 10"):
        await server.call_tool("callees", {"name": "parse", "depth": 50})
    with pytest.raises(ToolError, match="outside the project"):
        await server.call_tool("program_slice", {"file": "../x.py", "function": "f", "line": 1})


async def test_graph_tools_answer_through_the_daemon(root: Path) -> None:
    server = build_server(root, index_wait=0)
    async with running_daemon(root, build_in_worker=False):
        # Compact: one line per item, the file:line to open next first.
        text = await _text(server, "callers", name="run")
        assert text.splitlines() == ["app/core.py:6 run", "  app/cli.py:5 main",
                                     "  tests/test_core.py:5 test_run [test]"]
        text = await _text(server, "code_context", entry="main")
        assert text.splitlines() == [
            "app/cli.py:4-5 main def main()",
            "  app/core.py:6 run def run(text)",
            "    app/core.py:1 parse def parse(text)  # Split text into words.",
        ]
        text = await _text(server, "program_slice", file="app/core.py", function="run", line=9)
        assert text.splitlines()[:2] == ["app/core.py:6-9 run", "6 def run(text):"]
        assert "8     count = len(words)" in text
        text = await _text(server, "code_structure", path="app", budget_tokens=100)
        assert text.splitlines() == ["app/cli.py:4 main", "app/core.py:1 parse",
                                     "app/core.py:6 run"]
        text = await _text(server, "callees", name="main")
        assert text.splitlines() == ["app/cli.py:4 main", "  app/core.py:6 run"]
        with pytest.raises(ToolError, match="no definition named pars; did you mean: parse"):
            await server.call_tool("callees", {"name": "pars"})
        text = await _text(server, "callers", name="parse", budget_tokens=100)
        assert len(text) // 4 <= 100


async def test_an_ambiguous_name_says_which_argument_picks_one(tmp_path: Path) -> None:
    from tldr.semantic import build_semantic_index

    root = write_project(tmp_path / "proj", {**SOURCES, "app/other.py": "def parse(x):\n"
                                                                         "    return x\n"})
    build_semantic_index(root, model="hash-256")
    server = build_server(root, index_wait=0)
    async with running_daemon(root, build_in_worker=False):
        with pytest.raises(ToolError) as raised:
            await server.call_tool("callers", {"name": "parse"})
        message = str(raised.value)
        assert "parse names 2 definitions" in message
        assert message.endswith("name one as Class.method or FILE:NAME, or pick one with file")
        assert "--file" not in message  # the command line's spelling, not this tool's
        text = await _text(server, "callers", name="parse", file="app/other.py")
        assert text == "app/other.py:1 parse"
