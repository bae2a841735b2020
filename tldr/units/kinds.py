"""The kinds of unit extraction produces: one list, read by requests and the CLI.

Standard library only: the thin client validates `--unit-type` with it.
"""

from __future__ import annotations

__all__ = ["UNIT_TYPES"]

# "section": a Markdown heading's text, a config file's top-level key or
# table, a Terraform block; "chunk": a window of lines of any other text.
UNIT_TYPES = ("function", "method", "class", "module", "section", "chunk")
