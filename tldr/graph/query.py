"""Queries on a loaded graph: find a definition, callers, callees, context, code maps.

Every function takes a `CodeGraph` (see `load_graph`) and returns msgspec
structs or plain dicts, ready for JSON. A name that matches nothing raises
`UnknownNameError` with did-you-mean candidates; one that matches several
raises `AmbiguousNameError` listing them.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from typing import Any

import msgspec

from tldr._exceptions import AmbiguousNameError, UnknownNameError
from tldr.graph.load import CallRef, CodeGraph
from tldr.graph.symbols import CLASS_KINDS

__all__ = [
    "CallNode",
    "ContextEntry",
    "DefRef",
    "call_edges",
    "callees",
    "callers",
    "context",
    "def_ref",
    "extract",
    "find_definition",
    "importers",
    "imports",
    "is_test",
    "structure",
]

_TEST_PATH = re.compile(r"(^|/)(tests?|testing|spec|__tests__)(/|$)|(^|/)test_[^/]*$|"
                        r"_test\.[a-z]+$|\.(test|spec)\.[a-z]+$|Test\.java$|Tests?\.cs$")
_TEST_NAME = re.compile(r"^(test_|Test)|^test[A-Z]|_test$")
_CHARS_PER_TOKEN = 4
_MAX_LISTED = 12


class DefRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A definition as queries show it."""

    name: str
    qualified: str
    kind: str
    file: str
    line: int
    end_line: int = 0
    test: bool = False


class CallNode(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One step of a callers/callees tree: the definition, where the call is, what follows."""

    definition: DefRef
    call_file: str
    call_line: int
    kind: str
    children: list[CallNode] = []
    cycle: bool = False


class ContextEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A definition in a `context` answer: how far from the entry, and what it is."""

    definition: DefRef
    depth: int
    signature: str = ""
    doc: str = ""
    calls: list[str] = []
    called_at: str = ""


def is_test(path: str, name: str = "") -> bool:
    """Whether a definition is a test (by its file's path or its own name)."""
    return bool(_TEST_PATH.search(path)) or bool(name and _TEST_NAME.search(name))


def def_ref(graph: CodeGraph, gid: int) -> DefRef:
    """The `DefRef` of a definition id."""
    definition = graph.symbols.defs[gid]
    path = graph.path_of(gid)
    return DefRef(name=definition.name, qualified=definition.qualified, kind=definition.kind,
                  file=path, line=definition.line, end_line=definition.end_line,
                  test=is_test(path, definition.name))


def _describe(graph: CodeGraph, gid: int) -> str:
    definition = graph.symbols.defs[gid]
    return f"{definition.qualified} ({definition.kind}, {graph.path_of(gid)}:{definition.line})"


def find_definition(graph: CodeGraph, entry: str, *, file: str | None = None) -> int:
    """The one definition `entry` names: `name`, `Class.method` or `FILE:NAME`.

    Raises:
        UnknownNameError: nothing is called that ("did you mean" listed).
        AmbiguousNameError: several definitions are; `file` or a longer
            name picks one.
    """
    entry = entry.strip()
    if ":" in entry and not entry.startswith(":"):
        head, _, tail = entry.rpartition(":")
        if "/" in head or "." in head.rsplit("/", 1)[-1]:
            file, entry = head, tail
    symbols = graph.symbols
    name = entry.rsplit(".", 1)[-1]
    candidates = [gid for gid in symbols.by_name.get(name, ())]
    if "." in entry:
        candidates = [gid for gid in candidates
                      if symbols.defs[gid].qualified == entry
                      or symbols.defs[gid].qualified.endswith("." + entry)]
    if file:
        wanted = file.strip("/").removeprefix("./")
        candidates = [gid for gid in candidates
                      if graph.path_of(gid) == wanted or graph.path_of(gid).endswith("/" + wanted)]
    if not candidates:
        names = list(symbols.by_name)
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
        close += [n for n in names if name.lower() in n.lower() and n not in close][:5 - len(close)]
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        where = f" in {file}" if file else ""
        raise UnknownNameError(f"no definition named {entry}{where}{hint}", close)
    if len(candidates) > 1:
        listed = [_describe(graph, gid) for gid in candidates[:_MAX_LISTED]]
        more = f" and {len(candidates) - _MAX_LISTED} more" if len(candidates) > _MAX_LISTED else ""
        raise AmbiguousNameError(
            f"{entry} names {len(candidates)} definitions: {'; '.join(listed)}{more}; "
            "name one as Class.method or FILE:NAME",
            listed,
        )
    return candidates[0]


def _tree(graph: CodeGraph, gid: int, depth: int, *, up: bool) -> list[CallNode]:
    """Callers (up) or callees (down) of `gid` to `depth`, depth-first, cycles marked."""

    def grow(current: int, level: int, path: frozenset[int]) -> list[CallNode]:
        refs: list[CallRef] = (graph.callers if up else graph.callees).get(current, [])
        nodes: list[CallNode] = []
        seen: set[tuple[int, int]] = set()
        for ref in sorted(refs, key=lambda r: (graph.graph.files[r.file].path, r.site)):
            other = ref.caller if up else ref.callee
            line = graph.site_line(ref)
            if (other, line) in seen:
                continue
            seen.add((other, line))
            node = CallNode(definition=def_ref(graph, other),
                            call_file=graph.graph.files[ref.file].path, call_line=line,
                            kind=ref.kind)
            if other in path:
                node.cycle = True
            elif level < depth:
                node.children = grow(other, level + 1, path | {other})
            nodes.append(node)
        return nodes

    return grow(gid, 1, frozenset({gid}))


def callers(graph: CodeGraph, name: str, depth: int = 1, *,
            file: str | None = None) -> dict[str, object]:
    """Who calls `name` (impact), to `depth` levels, with file:line and tests marked.

    Ambiguous call sites that may reach it are listed apart (`maybe`).
    """
    gid = find_definition(graph, name, file=file)
    tree = _tree(graph, gid, max(1, depth), up=True)
    maybe = [
        {"caller": def_ref(graph, ref.caller), "file": graph.graph.files[ref.file].path,
         "line": graph.site_line(ref)}
        for ref in graph.maybe_callers.get(gid, [])[:_MAX_LISTED * 4]
    ]
    tests = sorted({(n.file, n.line, n.qualified) for n in _walk(tree) if n.test})
    return {"definition": def_ref(graph, gid), "callers": tree, "maybe": maybe,
            "tests": [{"file": f, "line": line, "name": q} for f, line, q in tests]}


def _walk(nodes: list[CallNode]) -> list[DefRef]:
    found: list[DefRef] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node.definition)
        stack.extend(node.children)
    return found


def callees(graph: CodeGraph, name: str, depth: int = 1, *,
            file: str | None = None) -> dict[str, object]:
    """What `name` calls, to `depth` levels, with file:line of each call."""
    gid = find_definition(graph, name, file=file)
    maybe = [
        {"candidate": def_ref(graph, ref.callee), "line": graph.site_line(ref)}
        for ref in graph.maybe_callees.get(gid, [])[:_MAX_LISTED * 4]
    ]
    return {"definition": def_ref(graph, gid),
            "callees": _tree(graph, gid, max(1, depth), up=False), "maybe": maybe}


def _source_lines(graph: CodeGraph, gid: int) -> list[str]:
    if graph.root is None:
        return []
    definition = graph.symbols.defs[gid]
    try:
        with (graph.root / graph.path_of(gid)).open("rb") as handle:
            data = handle.read(4 << 20)
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").split("\n")
    return lines[definition.line - 1 : definition.end_line]


def context(graph: CodeGraph, entry: str, depth: int = 2, budget_tokens: int = 1000, *,
            file: str | None = None) -> dict[str, object]:
    """What one needs to know to use or change `entry`, within a token budget.

    The entry's signature, docstring and a body summary, then what it calls
    to `depth`, nearest and smallest first, each with signature, first
    docstring line and file:line.
    """
    gid = find_definition(graph, entry, file=file)
    symbols = graph.symbols
    definition = symbols.defs[gid]
    body = _source_lines(graph, gid)
    direct = graph.callees.get(gid, [])
    summary = {
        "lines": definition.end_line - definition.line + 1,
        "calls": len({ref.callee for ref in direct}),
        "unresolved_calls": sorted({s.name for s in _sites_of(graph, gid)} -
                                   {symbols.defs[ref.callee].name for ref in direct})[:20],
    }
    head = {"definition": def_ref(graph, gid), "signature": definition.signature,
            "doc": definition.doc, "summary": summary}
    used = _tokens(head)
    entries: list[ContextEntry] = []
    seen = {gid}
    frontier: deque[tuple[int, int, str]] = deque()
    first = sorted({ref.callee: ref for ref in direct}.values(),
                   key=lambda r: _size(graph, r.callee))
    for ref in first:
        frontier.append((ref.callee, 1, f"{graph.graph.files[ref.file].path}:"
                                        f"{graph.site_line(ref)}"))
    truncated = 0
    while frontier:
        callee, level, called_at = frontier.popleft()
        if callee in seen:
            continue
        seen.add(callee)
        target = symbols.defs[callee]
        item = ContextEntry(definition=def_ref(graph, callee), depth=level,
                            signature=target.signature, doc=target.doc.split("\n", 1)[0],
                            called_at=called_at)
        cost = _tokens(item)
        if used + cost > budget_tokens:
            truncated += 1
            continue
        used += cost
        entries.append(item)
        if level < depth:
            nxt = sorted({r.callee: r for r in graph.callees.get(callee, [])}.values(),
                         key=lambda r: _size(graph, r.callee))
            for ref in nxt:
                frontier.append((ref.callee, level + 1,
                                 f"{graph.graph.files[ref.file].path}:{graph.site_line(ref)}"))
    code = "\n".join(body[:12])
    if code and used + _tokens(code) <= budget_tokens:
        used += _tokens(code)
    else:
        code = ""
    return {**head, "code": code, "calls": entries, "omitted": truncated, "tokens": used}


def _tokens(value: object) -> int:
    """A token estimate of a value as JSON (4 characters a token)."""
    return len(msgspec.json.encode(value)) // _CHARS_PER_TOKEN + 1


def _size(graph: CodeGraph, gid: int) -> tuple[int, str]:
    definition = graph.symbols.defs[gid]
    return (definition.end_line - definition.line, definition.qualified)


def _sites_of(graph: CodeGraph, gid: int) -> list[Any]:
    file_index = graph.symbols.file_of[gid]
    local = gid - graph.symbols.offsets[file_index]
    return [s for s in graph.graph.files[file_index].facts.sites if s.caller == local]


def call_edges(graph: CodeGraph, path_prefix: str = "") -> list[dict[str, object]]:
    """Every resolved call whose caller's file starts with `path_prefix`, in file order."""
    rows: list[dict[str, object]] = []
    symbols = graph.symbols
    prefix = path_prefix.strip("/").removeprefix("./") if path_prefix not in ("", ".") else ""
    for file_index, record in enumerate(graph.graph.files):
        if prefix and not (record.path == prefix or record.path.startswith(prefix + "/")):
            continue
        for edge in graph.graph.edges[file_index]:
            if edge.kind not in _resolved():
                continue
            site = record.facts.sites[edge.site]
            caller = symbols.offsets[file_index] + site.caller
            for target in edge.targets:
                callee = symbols.defs[target]
                rows.append({
                    "caller": symbols.defs[caller].qualified, "file": record.path,
                    "line": site.line, "callee": callee.qualified,
                    "callee_file": graph.path_of(target), "callee_line": callee.line,
                    "kind": edge.kind,
                })
    return rows


def _resolved() -> frozenset[str]:
    from tldr.graph.model import RESOLVED_KINDS

    return RESOLVED_KINDS


def _outline(graph: CodeGraph, gid: int) -> dict[str, object]:
    definition = graph.symbols.defs[gid]
    item: dict[str, object] = {"name": definition.name, "kind": definition.kind,
                               "line": definition.line, "signature": definition.signature}
    if definition.doc:
        item["doc"] = definition.doc.split("\n", 1)[0]
    members = [m for group in graph.symbols.children.get(gid, {}).values() for m in group]
    if definition.kind in CLASS_KINDS and members:
        item["members"] = [_outline(graph, m) for m in sorted(members)]
    return item


def structure(graph: CodeGraph, path: str = "") -> list[dict[str, object]]:
    """A code map of the files under `path`: classes, functions, signatures, first doc lines."""
    prefix = path.strip("/").removeprefix("./") if path not in ("", ".") else ""
    files = []
    for file_index, record in enumerate(graph.graph.files):
        if prefix and not (record.path == prefix or record.path.startswith(prefix + "/")):
            continue
        module = graph.symbols.offsets[file_index]
        tops = sorted(gid for group in graph.symbols.children.get(module, {}).values()
                      for gid in group)
        entry: dict[str, object] = {"file": record.path, "language": record.language,
                                    "definitions": [_outline(graph, gid) for gid in tops]}
        doc = record.defs[0].doc
        if doc:
            entry["doc"] = doc.split("\n", 1)[0]
        files.append(entry)
    return files


def _file_index(graph: CodeGraph, file: str) -> int:
    wanted = file.strip("/").removeprefix("./")
    index = graph.by_path.get(wanted)
    if index is None:
        matches = [i for p, i in graph.by_path.items() if p.endswith("/" + wanted)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousNameError(f"{file} names {len(matches)} files: "
                                     + ", ".join(graph.graph.files[i].path for i in matches[:8]))
        close = difflib.get_close_matches(wanted, list(graph.by_path), n=3)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise UnknownNameError(f"no file {file} in the code graph{hint}", close)
    return index


def extract(graph: CodeGraph, file: str, name: str | None = None) -> dict[str, object]:
    """Everything the graph knows of a file (or one definition in it)."""
    file_index = _file_index(graph, file)
    record = graph.graph.files[file_index]
    offset = graph.symbols.offsets[file_index]
    if name:
        gids = [find_definition(graph, name, file=record.path)]
    else:
        gids = list(range(offset, offset + len(record.defs)))
    definitions = []
    for gid in gids:
        item = _outline(graph, gid)
        item.pop("members", None)
        item["qualified"] = graph.symbols.defs[gid].qualified
        item["end_line"] = graph.symbols.defs[gid].end_line
        item["doc"] = graph.symbols.defs[gid].doc
        item["calls"] = [
            {"callee": graph.symbols.defs[r.callee].qualified, "file": graph.path_of(r.callee),
             "line": graph.site_line(r), "kind": r.kind}
            for r in graph.callees.get(gid, [])
        ]
        item["called_by"] = [
            {"caller": graph.symbols.defs[r.caller].qualified,
             "file": graph.graph.files[r.file].path, "line": graph.site_line(r)}
            for r in graph.callers.get(gid, [])
        ]
        local = gid - offset
        if local in record.facts.bases:
            item["bases"] = record.facts.bases[local]
        definitions.append(item)
    return {"file": record.path, "language": record.language, "module": record.module,
            "imports": imports(graph, record.path) if not name else [],
            "definitions": definitions}


def _import_targets(graph: CodeGraph, file_index: int) -> list[tuple[int, list[int]]]:
    """For each binding of a file, the project files it names."""
    resolver = graph.import_resolver()
    bindings = graph.graph.files[file_index].facts.imports
    return [(number, resolver.binding_files(file_index, binding))
            for number, binding in enumerate(bindings)]


def imports(graph: CodeGraph, file: str) -> list[dict[str, object]]:
    """What a file imports: each bound name, its module and the project file (if any)."""
    file_index = _file_index(graph, file)
    record = graph.graph.files[file_index]
    rows = []
    for number, files in _import_targets(graph, file_index):
        binding = record.facts.imports[number]
        rows.append({"name": binding.local, "module": binding.module, "symbol": binding.symbol,
                     "line": binding.line,
                     "file": graph.graph.files[files[0]].path if files else None})
    return rows


def importers(graph: CodeGraph, module: str) -> list[dict[str, object]]:
    """The files that import `module` (a dotted name, a path, or a file of the project)."""
    wanted = module.strip("/").removeprefix("./")
    targets = {i for p, i in graph.by_path.items()
               if p == wanted or graph.graph.files[i].module == wanted
               or graph.graph.files[i].module.endswith("." + wanted)}
    if not targets:
        close = difflib.get_close_matches(wanted, [f.module for f in graph.graph.files], n=3)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise UnknownNameError(f"no module {module} in the code graph{hint}", close)
    rows = []
    for file_index, record in enumerate(graph.graph.files):
        for number, files in _import_targets(graph, file_index):
            if targets & set(files):
                binding = record.facts.imports[number]
                rows.append({"file": record.path, "line": binding.line, "name": binding.local,
                             "module": binding.module})
    return rows
