"""Readable views of flow results for exact assertions."""

from __future__ import annotations

from tldr.graph.flow import Cfg, Dfg, cfg, dfg, program_slice


def label(result: Cfg, block_id: int) -> str:
    block = result.blocks[block_id]
    if block.kind == "exit":
        return "exit"
    if block.start_line == block.end_line:
        return f"{block.start_line}"
    return f"{block.start_line}-{block.end_line}"


def edges(source: str, language: str, function: str) -> set[tuple[str, str, str]]:
    """Edges as (source block lines, target block lines, kind)."""
    result = cfg(source.encode(), language, function)
    assert [b.id for b in result.blocks] == list(range(len(result.blocks)))
    assert result.blocks[result.entry].kind == "entry"
    assert result.blocks[result.exit].kind == "exit"
    return {(label(result, e.source), label(result, e.target), e.kind) for e in result.edges}


def chains(source: str, language: str, function: str) -> dict[tuple[str, int], list[int]]:
    result: Dfg = dfg(source.encode(), language, function)
    return {(c.var, c.def_line): c.use_lines for c in result.chains}


def lines(
    source: str,
    language: str,
    function: str,
    line: int,
    direction: str = "backward",
    var: str | None = None,
) -> list[int]:
    return program_slice(
        source.encode(),
        language,
        function,
        line,
        direction=direction,
        var=var,  # type: ignore[arg-type]
    ).lines
