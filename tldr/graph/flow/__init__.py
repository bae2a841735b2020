"""Control flow, data flow and program slices inside one function.

Computed on demand from one tree-sitter parse (the units layer's grammars);
see specs/017-flow-analysis.md and docs/flow.md. Typical use::

    from tldr.graph.flow import cfg_file, render_text, slice_file

    print(render_text(cfg_file(root, "pkg/mod.py", "Session.send")))
    result = slice_file(root, "pkg/mod.py", "Session.send", 120, var="resp")
"""

from __future__ import annotations

from tldr.graph.flow._api import (
    Direction,
    cfg,
    cfg_file,
    dfg,
    dfg_file,
    program_slice,
    read_project_file,
    slice_file,
)
from tldr.graph.flow._errors import (
    AmbiguousFunctionError,
    FlowError,
    FlowInputError,
    FunctionNotFoundError,
    LineOutsideFunctionError,
    UnsupportedLanguageError,
)
from tldr.graph.flow._model import (
    EDGE_KINDS,
    Block,
    Cfg,
    DefUse,
    Dfg,
    Edge,
    FunctionRef,
    SliceResult,
)
from tldr.graph.flow._render import render_text
from tldr.graph.flow._tables import FLOW_LANGUAGES

__all__ = [
    "EDGE_KINDS",
    "FLOW_LANGUAGES",
    "AmbiguousFunctionError",
    "Block",
    "Cfg",
    "DefUse",
    "Dfg",
    "Direction",
    "Edge",
    "FlowError",
    "FlowInputError",
    "FunctionNotFoundError",
    "FunctionRef",
    "LineOutsideFunctionError",
    "SliceResult",
    "UnsupportedLanguageError",
    "cfg",
    "cfg_file",
    "dfg",
    "dfg_file",
    "program_slice",
    "read_project_file",
    "render_text",
    "slice_file",
]
