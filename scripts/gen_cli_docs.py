#!/usr/bin/env python3
"""Write the generated parts of the docs from the code they describe.

- docs/cli.md: the real `--help` output of every tldrf command;
- docs/protocol.md, the `search` params table: from `SearchRequest`; the
  params of each code-graph method: from `tldr.graph_request`;
- docs/usage.md, the environment variables table: from `tldr.settings`;
- docs/agents.md, each MCP tool's description and arguments: from the
  schemas `tldr.mcp` publishes (needs the `[mcp]` extra).

python scripts/gen_cli_docs.py           # rewrite them
python scripts/gen_cli_docs.py --check   # exit 1 if any is stale
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "cli.md"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((name, child))
    return found


def render() -> str:
    os.environ["COLUMNS"] = "100"  # help wraps at the terminal width
    from tldr.cli import build_parser

    sections = [
        "# tldrf command reference",
        "",
        "Generated from `--help` by `scripts/gen_cli_docs.py`; a test keeps it current.",
        "",
    ]
    pending = [("tldrf", build_parser())]
    while pending:
        name, parser = pending.pop(0)
        sections += [f"## `{name}`", "", "```", parser.format_help().rstrip(), "```", ""]
        pending[0:0] = [(f"{name} {child}", sub) for child, sub in _subcommands(parser)]
    return "\n".join(sections)


def _blocks() -> dict[Path, dict[str, Callable[[], str]]]:
    """{doc: {block name: renderer}} for the blocks between generated markers."""
    from tldr.daemon.protocol import graph_params_tables, search_params_table
    from tldr.settings import settings_table

    blocks = {DOCS / "protocol.md": {"search-params": search_params_table,
                                     "graph-params": graph_params_tables},
              DOCS / "usage.md": {"settings": settings_table}}
    if importlib.util.find_spec("mcp") is None:
        print("docs/agents.md skipped: its tool tables need the [mcp] extra", file=sys.stderr)
    else:
        from tldr.mcp.reference import tools_reference

        blocks[DOCS / "agents.md"] = {"mcp-tools": tools_reference}
    return blocks


def render_blocks(path: Path, renderers: dict[str, Callable[[], str]]) -> str:
    """`path`'s text with each `<!-- generated:NAME -->` block rendered anew."""
    text = path.read_text()
    for name, renderer in renderers.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(\n<!-- /generated -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{path}: no <!-- generated:{name} --> block")
        body = renderer()
        text = pattern.sub(lambda match, body=body: match.group(1) + body + match.group(2), text)
    return text


def main() -> int:
    outputs = {DOC: render()}
    for path, renderers in _blocks().items():
        outputs[path] = render_blocks(path, renderers)
    stale = [path for path, text in outputs.items() if path.read_text() != text]
    if "--check" in sys.argv[1:]:
        for path in stale:
            print(f"{path.relative_to(DOCS.parent)} is stale: run python scripts/gen_cli_docs.py",
                  file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path])
    return 0


if __name__ == "__main__":
    sys.exit(main())
