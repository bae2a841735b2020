"""Compact text for the CLI and MCP: one line per block, chain or slice line."""

from __future__ import annotations

from tldr.graph.flow._model import Cfg, Dfg, FunctionRef, SliceResult

__all__ = ["render_text"]

_CHARS_PER_TOKEN = 4


def _where(ref: FunctionRef) -> str:
    place = f"{ref.file}:{ref.qualified_name}" if ref.file else ref.qualified_name
    return f"{place} ({ref.language}) lines {ref.line}-{ref.end_line}"


def _cfg_lines(result: Cfg) -> tuple[str, list[str]]:
    outgoing: dict[int, list[str]] = {}
    for edge in result.edges:
        label = f"B{edge.target}" if edge.kind == "fallthrough" else f"B{edge.target} {edge.kind}"
        outgoing.setdefault(edge.source, []).append(label)
    header = (
        f"cfg {_where(result.function)}: {len(result.blocks)} blocks, "
        f"{len(result.edges)} edges, complexity {result.complexity}"
    )
    lines: list[str] = []
    for block in result.blocks:
        if block.kind == "exit":
            lines.append(f"B{block.id} exit")
            continue
        span = (
            f"L{block.start_line}"
            if block.start_line == block.end_line
            else f"L{block.start_line}-{block.end_line}"
        )
        kind = "entry " if block.kind == "entry" else ""
        targets = ", ".join(outgoing.get(block.id, []))
        lines.append(
            f"B{block.id} {kind}{span} -> {targets}" if targets else f"B{block.id} {kind}{span}"
        )
    return header, lines


def _dfg_lines(result: Dfg) -> tuple[str, list[str]]:
    header = f"dfg {_where(result.function)}: {len(result.chains)} definitions"
    width = max((len(chain.var) for chain in result.chains), default=0)
    lines = [
        f"{chain.var:<{width}}  L{chain.def_line} -> "
        + (" ".join(str(line) for line in chain.use_lines) if chain.use_lines else "(unused)")
        for chain in result.chains
    ]
    return header, lines


def _slice_lines(result: SliceResult) -> tuple[str, list[str]]:
    var = f" (var {result.var})" if result.var else ""
    header = (
        f"slice {_where(result.function)}: {result.direction} from line {result.line}{var}: "
        f"{len(result.lines)} lines"
    )
    width = len(str(result.lines[-1])) if result.lines else 1
    lines = [
        f"{line:>{width}} | {code}" for line, code in zip(result.lines, result.code, strict=True)
    ]
    return header, lines


def render_text(result: Cfg | Dfg | SliceResult, *, budget_tokens: int | None = None) -> str:
    """A result as text; with a budget (about 4 characters a token) the list is cut short."""
    if isinstance(result, Cfg):
        header, lines = _cfg_lines(result)
    elif isinstance(result, Dfg):
        header, lines = _dfg_lines(result)
    else:
        header, lines = _slice_lines(result)
    if budget_tokens is None:
        return "\n".join([header, *lines])
    budget = max(0, budget_tokens * _CHARS_PER_TOKEN - len(header) - 1)
    kept: list[str] = []
    for index, line in enumerate(lines):
        if len(line) + 1 > budget:
            kept.append(f"... {len(lines) - index} more (raise --budget-tokens)")
            break
        kept.append(line)
        budget -= len(line) + 1
    return "\n".join([header, *kept])
