"""The tools' reference in docs/agents.md, rendered from the schemas the server publishes.

`scripts/gen_cli_docs.py` writes `tools_reference()` between the
`<!-- generated:mcp-tools -->` markers of docs/agents.md and a test checks
that the file holds what it renders, so the names, types, bounds and
defaults an agent reads in the docs are those of the live `tools/list`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["tools_reference"]

_JSON_TYPES = {"string": "string", "integer": "int", "boolean": "bool", "number": "number"}


def tools_reference() -> str:
    """Markdown: per tool, its description and a table of its arguments.

    Raises:
        ConfigError: the MCP SDK is not installed.
    """
    import anyio

    from tldr.mcp.server import build_server

    tools = anyio.run(build_server(".").list_tools)
    sections: list[str] = []
    for tool in tools:
        sections += [f"### `{tool.name}`", "", tool.description or "", ""]
        properties: dict[str, Any] = tool.input_schema.get("properties") or {}
        if not properties:
            sections += ["No arguments.", ""]
            continue
        required = set(tool.input_schema.get("required") or ())
        sections += ["| argument | type | default | |", "| --- | --- | --- | --- |"]
        for name, schema in properties.items():
            default = ("required" if name in required else
                       "none" if schema.get("default") is None else
                       f"`{json.dumps(schema['default'])}`")
            description = str(schema.get("description") or "").replace("|", "\\|")
            sections.append(f"| `{name}` | {_kind(schema)} | {default} | {description} |")
        sections.append("")
    return "\n".join(sections).rstrip()


def _kind(schema: dict[str, Any]) -> str:
    """A property's type as a reader wants it: `int 1..50`, `` `a`, `b` ``, `string`."""
    # An optional value is `anyOf: [{...}, {"type": "null"}]`; "none" is its default.
    variants = [part for part in schema.get("anyOf", [schema]) if part.get("type") != "null"]
    merged: dict[str, Any] = {key: value for part in variants for key, value in part.items()}
    if merged.get("enum"):
        return ", ".join(f"`{choice}`" for choice in merged["enum"])
    kind = _JSON_TYPES.get(str(merged.get("type")), str(merged.get("type")))
    low, high = merged.get("minimum"), merged.get("maximum")
    if low is not None or high is not None:
        kind += f" {'' if low is None else low}..{'' if high is None else high}"
    return kind
