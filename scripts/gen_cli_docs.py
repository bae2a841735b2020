#!/usr/bin/env python3
"""Write docs/cli.md from the real `--help` output of every tldrf command.

python scripts/gen_cli_docs.py           # rewrite docs/cli.md
python scripts/gen_cli_docs.py --check   # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


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


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if DOC.read_text() != text:
            print("docs/cli.md is stale: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
