"""The MCP server of tldrf: tools for agents, answered by the project's daemon.

- `tldr.mcp.tools`: what each tool does (`Tools`), as blocking daemon calls
  that return budgeted text; no MCP SDK needed.
- `tldr.mcp.server`: `build_server()`, the SDK `MCPServer` with the tools,
  their descriptions and input schemas.
- `tldr.cli.mcp`: the `tldrf mcp` command.

Cheap to import: the SDK loads inside `build_server`.
"""

from tldr.mcp.server import INSTRUCTIONS, TOOL_DESCRIPTIONS, build_server
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
]
