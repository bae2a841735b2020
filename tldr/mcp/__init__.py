"""The MCP server of tldrf: tools for agents, answered by the project's daemon.

- `tldr.mcp.tools`: what each tool does (`Tools`), as blocking daemon calls
  that return budgeted text; no MCP SDK needed.
- `tldr.mcp.server`: `build_server()`, the SDK `MCPServer` with the tools,
  their descriptions and input schemas (an argument a tool does not take is
  an error); `serve_stdio()` runs it until EOF or Ctrl-C.
- `tldr.mcp.reference`: the tools' reference in docs/agents.md, from the
  published schemas.
- `tldr.cli.mcp`: the `tldrf mcp` command.

Cheap to import: the SDK loads inside `build_server`.
"""

from tldr.mcp.server import INSTRUCTIONS, TOOL_DESCRIPTIONS, build_server, serve_stdio
from tldr.mcp.tools import (
    DEFAULT_BUDGET_TOKENS,
    DEFAULT_INDEX_WAIT_S,
    DEFAULT_UNIT_BUDGET_TOKENS,
    ToolFailure,
    Tools,
)

__all__ = [
    "DEFAULT_BUDGET_TOKENS",
    "DEFAULT_INDEX_WAIT_S",
    "DEFAULT_UNIT_BUDGET_TOKENS",
    "INSTRUCTIONS",
    "TOOL_DESCRIPTIONS",
    "ToolFailure",
    "Tools",
    "build_server",
    "serve_stdio",
]
