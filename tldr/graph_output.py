"""Text, compact, JSON and JSON Lines for the answers of the code-graph requests.

One renderer per request kind and text format, on the JSON-ready answers of
`tldr.graph.answer` (the same whether they came from the daemon or were
computed in-process). The text form is what people read: headers, then one
line per definition, call or edge, with `file:line`. The compact form
(`tldr.graph_compact`) is for agents: only the lines, each starting with the
`file:line` to open next. Both are cut to a token budget with a note saying
how to see the rest. Standard library only (the thin client prints these).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tldr import graph_compact as compact
from tldr.request import Surface, argument_name

__all__ = ["CHARS_PER_TOKEN", "cut_lines", "fit_structure", "render_graph", "structure_lines"]

CHARS_PER_TOKEN = 4
_NOTE_TOKENS = 12


def _tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def render_graph(command: str, result: dict[str, Any], fmt: str = "text", *,
                 rows: str = "", budget_tokens: int | None = None,
                 surface: Surface = "cli") -> str:
    """`result` of `command` as text or compact (cut to `budget_tokens`), JSON or JSON Lines.

    `rows` names the list JSON Lines prints one item per line (the
    request's `ROWS`); the note after a cut names the budget as `surface`
    spells it.
    """
    if fmt == "json":
        return json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2)
    if fmt == "jsonl":
        items = result.get(rows) if rows else None
        if not isinstance(items, list):
            return json.dumps({k: v for k, v in result.items() if k != "text"})
        return "\n".join(json.dumps(item) for item in items)
    text, short = _RENDERERS[command]
    lines = (short(result) or ["no results"]) if fmt == "compact" else text(result)
    return "\n".join(cut_lines(lines, budget_tokens, argument_name("budget_tokens", surface)))


def cut_lines(lines: list[str], budget_tokens: int | None, option: str) -> list[str]:
    """The first lines that fit `budget_tokens`, then a note naming how many were left out."""
    if budget_tokens is None:
        return lines
    used = _NOTE_TOKENS
    for number, line in enumerate(lines):
        used += _tokens(line)
        if used > budget_tokens:
            left = len(lines) - number
            return [*lines[:number], f"... {left} more lines (raise {option})"]
    return lines


def _where(item: dict[str, Any]) -> str:
    return f"{item.get('file')}:{item.get('line')}"


def _name(definition: dict[str, Any]) -> str:
    test = " [test]" if definition.get("test") else ""
    return f"{definition['qualified']} ({definition['kind']}, {_where(definition)}){test}"


def _tree(nodes: list[dict[str, Any]], depth: int, verb: str) -> list[str]:
    """One line per definition of a callers/callees tree (its call lines joined), indented."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for node in nodes:
        definition = node["definition"]
        key = (definition["qualified"], definition["file"], definition["line"])
        groups.setdefault(key, []).append(node)
    lines: list[str] = []
    for (qualified, _, _), group in groups.items():
        first = group[0]
        test = " [test]" if first["definition"].get("test") else ""
        cycle = " (cycle)" if any(node.get("cycle") for node in group) else ""
        kind = "" if first.get("kind") in ("exact", None) else f" [{first['kind']}]"
        at = ", ".join(str(node["call_line"]) for node in group)
        lines.append(f"{'  ' * depth}{qualified}  {verb} {first['call_file']}:{at}"
                     f"{kind}{test}{cycle}")
        lines.extend(_tree(first.get("children") or [], depth + 1, verb))
    return lines


def _impact(result: dict[str, Any]) -> list[str]:
    tree = result.get("callers") or []
    lines = [f"callers of {_name(result['definition'])}: {len(tree)} direct calls"]
    lines += _tree(tree, 1, "calls it at")
    maybe = result.get("maybe") or []
    if maybe:
        lines.append(f"maybe ({len(maybe)} calls through a receiver of unknown type):")
        lines += [f"  {m['caller']['qualified']}  at {m['file']}:{m['line']}" for m in maybe]
    tests = result.get("tests") or []
    if tests:
        lines.append(f"tests reaching it: {len(tests)}")
        lines += [f"  {t['name']}  {t['file']}:{t['line']}" for t in tests]
    return lines


def _callees(result: dict[str, Any]) -> list[str]:
    tree = result.get("callees") or []
    lines = [f"callees of {_name(result['definition'])}: {len(tree)} direct calls"]
    lines += _tree(tree, 1, "called at")
    maybe = result.get("maybe") or []
    if maybe:
        lines.append(f"maybe ({len(maybe)} calls through a receiver of unknown type):")
        lines += [f"  {m['candidate']['qualified']} ({_where(m['candidate'])})  "
                  f"called at line {m['line']}" for m in maybe]
    return lines


def _context(result: dict[str, Any]) -> list[str]:
    definition = result["definition"]
    lines = [f"{definition['qualified']} ({definition['kind']}) "
             f"{definition['file']}:{definition['line']}-{definition.get('end_line', 0)}"]
    if result.get("signature"):
        lines.append(f"signature: {result['signature']}")
    if result.get("doc"):
        lines += ["doc: " + line if n == 0 else "     " + line
                  for n, line in enumerate(str(result["doc"]).splitlines())]
    summary = result.get("summary") or {}
    if summary:
        unresolved = summary.get("unresolved_calls") or []
        lines.append(f"body: {summary.get('lines')} lines, calls {summary.get('calls')} "
                     "project definitions"
                     + (f"; also calls {', '.join(unresolved)}" if unresolved else ""))
    calls = result.get("calls") or []
    if calls:
        lines.append(f"calls ({len(calls)}, nearest first):")
    for item in calls:
        target = item["definition"]
        doc = f"  # {item['doc']}" if item.get("doc") else ""
        signature = str(item.get("signature") or "")
        # A method's signature does not name its class: say which one it is.
        what = signature if target["qualified"] == target["name"] and signature else (
            f"{target['qualified']}: {signature}" if signature else target["qualified"])
        lines.append(f"  {'  ' * (item['depth'] - 1)}{target['file']}:{target['line']} "
                     f"{what}{doc}  (called at {item.get('called_at')})")
    if result.get("omitted"):
        lines.append(f"[{result['omitted']} more callees left out to fit the token budget]")
    return lines


def _calls(result: dict[str, Any]) -> list[str]:
    edges = result.get("edges") or []
    lines = [f"{e['file']}:{e['line']} {e['caller']} -> {e['callee']} "
             f"({e['callee_file']}:{e['callee_line']}, {e['kind']})" for e in edges]
    return [f"{len(edges)} call edges", *lines]


def _outline(item: dict[str, Any], depth: int) -> list[str]:
    doc = f"  # {item['doc']}" if item.get("doc") else ""
    signature = item.get("signature") or item["name"]
    lines = [f"{'  ' * depth}{item['line']}: {item['kind']} {signature}{doc}"]
    for member in item.get("members") or []:
        lines += _outline(member, depth + 1)
    return lines


def structure_lines(entry: dict[str, Any]) -> list[str]:
    """The text of one file of a code map: its name, then one line per definition."""
    doc = f"  # {entry['doc']}" if entry.get("doc") else ""
    lines = [f"{entry['file']} ({entry['language']}){doc}"]
    for item in entry.get("definitions") or []:
        lines += _outline(item, 1)
    return lines


def fit_structure(files: list[dict[str, Any]],
                  budget_tokens: int | None) -> tuple[list[dict[str, Any]], int]:
    """The files of a code map whose text fits `budget_tokens`, and how many were left out."""
    if budget_tokens is None:
        return files, 0
    used = _NOTE_TOKENS
    for number, entry in enumerate(files):
        used += sum(_tokens(line) for line in structure_lines(entry))
        if used > budget_tokens:
            return files[:number], len(files) - number
    return files, 0


def _structure(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for entry in result.get("files") or []:
        lines += structure_lines(entry)
    if result.get("omitted_files"):
        lines.append(f"[{result['omitted_files']} more files left out to fit the token budget;"
                     " raise it or name a directory]")
    return lines


def _extract(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['file']} ({result['language']}, module {result.get('module')})"]
    for binding in result.get("imports") or []:
        lines.append(f"  import {_binding(binding)}")
    for item in result.get("definitions") or []:
        lines.append(f"{item['line']}-{item.get('end_line')}: {item['kind']} {item['qualified']}"
                     + (f" ({', '.join(item['bases'])})" if item.get("bases") else ""))
        if item.get("signature"):
            lines.append(f"  signature: {item['signature']}")
        if item.get("doc"):
            lines.append(f"  doc: {str(item['doc']).splitlines()[0]}")
        for call in item.get("calls") or []:
            lines.append(f"  calls {call['callee']} ({call['file']}) at line {call['line']}")
        for call in item.get("called_by") or []:
            lines.append(f"  called by {call['caller']} at {call['file']}:{call['line']}")
    return lines


def _binding(binding: dict[str, Any]) -> str:
    symbol = f".{binding['symbol']}" if binding.get("symbol") else ""
    target = f" -> {binding['file']}" if binding.get("file") else " (outside the project)"
    return f"{binding['name']} = {binding['module']}{symbol} (line {binding['line']}){target}"


def _imports(result: dict[str, Any]) -> list[str]:
    rows = result.get("imports") or []
    return [f"{result.get('file')}: {len(rows)} imports",
            *(f"  {_binding(binding)}" for binding in rows)]


def _importers(result: dict[str, Any]) -> list[str]:
    rows = result.get("importers") or []
    return [f"{result.get('module')}: imported by {len(rows)}",
            *(f"  {r['file']}:{r['line']} {r['name']} = {r['module']}" for r in rows)]


def _arch(result: dict[str, Any]) -> list[str]:
    lines = [f"{result.get('packages')} packages in "
             f"{len(result.get('layers') or [])} layers (layer 0 depends on no other)"]
    for number, layer in enumerate(result.get("layers") or []):
        lines.append(f"layer {number}: {', '.join(layer)}")
    cycles = result.get("cycles") or []
    lines.append(f"cycles: {len(cycles)}")
    lines += [f"  {' <-> '.join(cycle)}" for cycle in cycles]
    dependencies = result.get("dependencies") or []
    if dependencies:
        lines.append("dependencies (imports and calls):")
        lines += [f"  {d['from']} -> {d['to']} ({d['weight']})" for d in dependencies]
    return lines


def _dead(result: dict[str, Any]) -> list[str]:
    rows = result.get("dead") or []
    lines = [f"{len(rows)} unreachable functions and methods "
             f"({result.get('entry_count')} entry points)"]
    lines += [f"  {r['file']}:{r['line']} {r['qualified']} ({r['kind']})" for r in rows]
    entries = result.get("entries") or []
    if entries:
        lines.append("entry points (first listed) and why they count:")
        lines += [f"  {e['definition']['qualified']}: {e['reason']}" for e in entries[:20]]
    return lines


def _change_impact(result: dict[str, Any]) -> list[str]:
    changed = result.get("changed") or []
    tests = result.get("tests") or []
    lines = [f"{len(result.get('files') or [])} changed files, {len(changed)} changed "
             f"definitions, {len(tests)} tests reach them"]
    lines += [f"  {t['test']['file']}:{t['test']['line']} {t['test']['qualified']} -> "
              f"{t['reaches']} ({t['calls_away']} calls away)" for t in tests]
    missing = result.get("not_in_graph") or []
    if missing:
        lines.append(f"not in the graph (not source, or not indexed): {', '.join(missing)}")
    return lines


def _flow(result: dict[str, Any]) -> list[str]:
    return str(result.get("text", "")).splitlines()


_Renderer = Callable[[dict[str, Any]], list[str]]
_RENDERERS: dict[str, tuple[_Renderer, _Renderer]] = {
    "impact": (_impact, compact.impact),
    "callees": (_callees, compact.callees),
    "context": (_context, compact.context),
    "calls": (_calls, compact.calls),
    "structure": (_structure, compact.structure),
    "extract": (_extract, compact.extract),
    "imports": (_imports, compact.imports),
    "importers": (_importers, compact.importers),
    "arch": (_arch, compact.arch),
    "dead": (_dead, compact.dead),
    "change-impact": (_change_impact, compact.change_impact),
    "cfg": (_flow, compact.cfg),
    "dfg": (_flow, compact.dfg),
    "slice": (_flow, compact.slice),
}
"""The text and compact renderers of each graph command, by `GraphRequest.COMMAND`."""
