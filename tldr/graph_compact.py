"""The compact form of the code-graph answers (`--format compact`, the MCP tools).

One line per item, starting with the `file:line` to open next: where a
caller calls (impact), where a callee or a definition is (callees, context,
structure, dead), where a call or an import is written (calls, extract,
imports, importers). An answer about one function (cfg, dfg, slice) names
it once, `file:line-end name`, and its items by line number. No headers, no
counts, no labels; a tree keeps its depth as two spaces a level. Names and
locations stay; signatures only where they are the point (context, extract),
docstrings only in context, and resolution kinds, call counts and the
reasons behind `dead` not at all: `--format text` has them. Standard
library only (the thin client prints these).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "arch",
    "callees",
    "calls",
    "cfg",
    "change_impact",
    "context",
    "dead",
    "dfg",
    "extract",
    "impact",
    "importers",
    "imports",
    "slice",
    "structure",
]

_Lines = list[str]


def _at(file: Any, line: Any, what: str) -> str:
    return f"{file}:{line} {what}".rstrip()


def _def(definition: dict[str, Any]) -> str:
    """`file:line qualified` of a definition reference."""
    return _at(definition["file"], definition["line"], definition["qualified"])


def _tree(nodes: list[dict[str, Any]], depth: int, *, at_call: bool) -> _Lines:
    """A callers (`at_call`: located at the call) or callees tree, one line per definition."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for node in nodes:
        definition = node["definition"]
        groups.setdefault((definition["qualified"], definition["file"], definition["line"]),
                          []).append(node)
    lines: _Lines = []
    for (qualified, file, line), group in groups.items():
        first = group[0]
        where = (_at(first["call_file"], first["call_line"], qualified) if at_call
                 else _at(file, line, qualified))
        test = " [test]" if first["definition"].get("test") else ""
        cycle = " (cycle)" if any(node.get("cycle") for node in group) else ""
        lines.append(f"{'  ' * depth}{where}{test}{cycle}")
        lines += _tree(first.get("children") or [], depth + 1, at_call=at_call)
    return lines


def impact(result: dict[str, Any]) -> _Lines:
    """Its `file:line`, then each caller at its call (indented by depth), `[maybe]` calls."""
    lines = [_def(result["definition"]), *_tree(result.get("callers") or [], 1, at_call=True)]
    lines += [f"  {_at(m['file'], m['line'], m['caller']['qualified'])} [maybe]"
              for m in result.get("maybe") or []]
    return lines  # `tests` lists the tree's tests again


def callees(result: dict[str, Any]) -> _Lines:
    """Its `file:line`, then each callee where it is defined (indented by depth), `[maybe]` ones."""
    lines = [_def(result["definition"]), *_tree(result.get("callees") or [], 1, at_call=False)]
    lines += [f"  {_def(m['candidate'])} [maybe]" for m in result.get("maybe") or []]
    return lines


def _signed(definition: dict[str, Any], signature: Any, doc: Any) -> str:
    """`file:line qualified signature  # doc`, as search's compact form heads a hit."""
    note = f"  # {str(doc).splitlines()[0]}" if doc else ""
    return f"{_def(definition)} {signature or ''}".rstrip() + note


def context(result: dict[str, Any]) -> _Lines:
    """The entry `file:line-end name signature  # doc`, then each callee so (indented by depth)."""
    definition = result["definition"]
    entry = {**definition, "line": f"{definition['line']}-{definition.get('end_line', 0)}"}
    lines = [_signed(entry, result.get("signature"), result.get("doc"))]
    for item in result.get("calls") or []:
        lines.append("  " * item["depth"]
                     + _signed(item["definition"], item.get("signature"), item.get("doc")))
    if result.get("omitted"):
        lines.append(f"[{result['omitted']} more callees left out to fit the token budget]")
    return lines


def calls(result: dict[str, Any]) -> _Lines:
    """`file:line caller -> callee` per resolved call."""
    return [_at(e["file"], e["line"], f"{e['caller']} -> {e['callee']}")
            for e in result.get("edges") or []]


def _outline(file: str, item: dict[str, Any], owner: str) -> _Lines:
    qualified = f"{owner}.{item['name']}" if owner else item["name"]
    lines = [_at(file, item["line"], qualified)]
    for member in item.get("members") or []:
        lines += _outline(file, member, qualified)
    return lines


def structure(result: dict[str, Any]) -> _Lines:
    """`file:line qualified_name` per class, function and method."""
    lines: _Lines = []
    for entry in result.get("files") or []:
        for item in entry.get("definitions") or []:
            lines += _outline(entry["file"], item, "")
    if result.get("omitted_files"):
        lines.append(f"[{result['omitted_files']} more files left out to fit the token budget]")
    return lines


def _bindings(file: str, bindings: list[dict[str, Any]]) -> _Lines:
    """One line per import statement: `file:line module: names -> project file`."""
    groups: dict[tuple[int, str, str], list[str]] = {}
    for binding in bindings:
        symbol, name = binding.get("symbol") or "", binding["name"]
        shown = name if not symbol or symbol == name else f"{symbol} as {name}"
        key = (binding["line"], binding["module"], binding.get("file") or "")
        groups.setdefault(key, []).append(shown)
    lines = []
    for (line, module, target), names in groups.items():
        listed = "" if names == [module] else f": {', '.join(names)}"
        lines.append(_at(file, line, f"{module}{listed}" + (f" -> {target}" if target else "")))
    return lines


def extract(result: dict[str, Any]) -> _Lines:
    """The file's imports, then each definition and the calls into and out of it."""
    file = result["file"]
    lines = _bindings(file, result.get("imports") or [])
    for item in result.get("definitions") or []:
        span = f"{item['line']}-{item.get('end_line')}"
        lines.append(_at(file, span, f"{item['qualified']} {item.get('signature') or ''}"))
        lines += [_at(file, call["line"], f"{item['qualified']} -> {call['callee']}")
                  for call in item.get("calls") or []]
        lines += [_at(call["file"], call["line"], f"{call['caller']} -> {item['qualified']}")
                  for call in item.get("called_by") or []]
    return list(dict.fromkeys(lines))  # a call inside the file is a call and a called-by


def imports(result: dict[str, Any]) -> _Lines:
    """One line per import statement: `file:line module: names -> project file`."""
    return _bindings(str(result.get("file")), result.get("imports") or [])


def importers(result: dict[str, Any]) -> _Lines:
    """`file:line names` per import statement of the module."""
    groups: dict[tuple[str, int], list[str]] = {}
    for row in result.get("importers") or []:
        groups.setdefault((row["file"], row["line"]), []).append(row["name"])
    return [_at(file, line, ", ".join(names)) for (file, line), names in groups.items()]


def arch(result: dict[str, Any]) -> _Lines:
    """One line per layer (packages), then one per dependency cycle."""
    lines = [f"layer {number}: {', '.join(layer)}"
             for number, layer in enumerate(result.get("layers") or [])]
    return lines + [f"cycle: {' <-> '.join(cycle)}" for cycle in result.get("cycles") or []]


def dead(result: dict[str, Any]) -> _Lines:
    """`file:line qualified_name` per unreachable function or method."""
    return [_def(row) for row in result.get("dead") or []]


def change_impact(result: dict[str, Any]) -> _Lines:
    """`file:line test -> changed definition` per test that reaches one."""
    lines = [f"{_def(t['test'])} -> {t['reaches']}" for t in result.get("tests") or []]
    missing = result.get("not_in_graph") or []
    if missing:
        lines.append(f"[not in the graph: {', '.join(missing)}]")
    return lines


def _function(result: dict[str, Any]) -> str:
    """The first line of a flow answer: `file:line-end qualified`; its items go by line."""
    ref = result["function"]
    return _at(ref["file"], f"{ref['line']}-{ref['end_line']}", ref["qualified_name"])


def cfg(result: dict[str, Any]) -> _Lines:
    """The function, then `lines B<id> -> successors` per basic block."""
    outgoing: dict[int, list[str]] = {}
    for edge in result.get("edges") or []:
        kind = "" if edge["kind"] == "fallthrough" else f" {edge['kind']}"
        outgoing.setdefault(edge["source"], []).append(f"B{edge['target']}{kind}")
    lines = [_function(result)]
    for block in result.get("blocks") or []:
        if block["kind"] == "exit":
            continue  # no lines of its own; the edges into it name it
        span = (f"{block['start_line']}" if block["start_line"] == block["end_line"]
                else f"{block['start_line']}-{block['end_line']}")
        entry = " entry" if block["kind"] == "entry" else ""
        targets = ", ".join(outgoing.get(block["id"], []))
        lines.append(f"{span} B{block['id']}{entry}" + (f" -> {targets}" if targets else ""))
    return lines


def dfg(result: dict[str, Any]) -> _Lines:
    """The function, then `line var -> lines that read it` per definition."""
    return [_function(result), *(
        f"{chain['def_line']} {chain['var']} -> "
        + (" ".join(map(str, chain["use_lines"])) or "(unused)")
        for chain in result.get("chains") or [])]


def slice(result: dict[str, Any]) -> _Lines:
    """The function, then `line code` per line of the slice."""
    return [_function(result), *(
        f"{line} {code}".rstrip()
        for line, code in zip(result.get("lines") or [], result.get("code") or [], strict=True))]
