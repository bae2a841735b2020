"""Build the code graph from per-file units and facts, in full or per changed file.

The index build hands over each file's units and facts from the one parse
it makes (`tldr.units.extract_file`); `build_graph` resolves every call
site; `update_graph` re-resolves only the files a change can affect
(specs/016-code-graph.md § Incremental update). `graph_from_tree` does the
whole thing without an index (a missing or damaged graph file, benchmarks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from tldr.graph.model import Def, Edge, FileRecord, GraphFile
from tldr.graph.modules import module_name
from tldr.graph.plugins import resolvers_for
from tldr.graph.symbols import Symbols
from tldr.units import SkippedFile, Unit, load_source, walk_project
from tldr.units.extract import extract_file
from tldr.units.facts import CallSite, FileFacts, VarType
from tldr.units.languages import SPECS

__all__ = ["GraphUpdate", "build_graph", "file_record", "graph_from_tree", "record_from_disk",
           "update_graph"]

_CODE_KINDS = {"function": "function", "method": "method", "class": "class", "module": "module"}
_DOC_CHARS = 400


def _first_paragraph(text: str) -> str:
    return text.strip().split("\n\n", 1)[0][:_DOC_CHARS]


def file_record(path: str, language: str, units: list[Unit], facts: FileFacts) -> FileRecord | None:
    """A file's graph record from its units and facts; None for a language without a grammar."""
    if language not in SPECS:
        return None
    shift = 0 if units and units[0].unit_type == "module" else 1
    defs: list[Def] = []
    if shift:
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        defs.append(Def(stem, module_name(path, language), "module", 1, 1, -1))
    parents = facts.parents
    for index, unit in enumerate(units):
        kind = _CODE_KINDS.get(unit.unit_type, "function")
        parent = parents[index] if index < len(parents) else -1
        parent = parent + shift if parent >= 0 else (0 if index + shift else -1)
        local_names = (" ".join(dict.fromkeys(n for n in (*unit.params, *unit.assigns)
                                              if n and " " not in n))
                       if kind in ("function", "method") else "")
        defs.append(Def(unit.name, unit.qualified_name, kind, unit.line, unit.end_line, parent,
                        unit.signature, _first_paragraph(unit.docstring), local_names))
    if shift:
        defs[0] = Def(defs[0].name, defs[0].qualified, "module", 1,
                      max((d.end_line for d in defs), default=1), -1)
        facts = FileFacts(
            sites=[CallSite(s.line, s.col, s.caller + 1 if s.caller >= 0 else 0, s.name,
                            s.receiver) for s in facts.sites],
            imports=facts.imports,
            types=[VarType(t.scope + 1 if t.scope >= 0 else 0, t.var, t.type)
                   for t in facts.types],
            parents=[-1, *((p + 1 if p >= 0 else 0) for p in facts.parents)],
            bases={index + 1: bases for index, bases in facts.bases.items()},
        )
    else:
        facts = FileFacts(
            sites=[s if s.caller >= 0 else CallSite(s.line, s.col, 0, s.name, s.receiver)
                   for s in facts.sites],
            imports=facts.imports,
            types=[t if t.scope >= 0 else VarType(0, t.var, t.type) for t in facts.types],
            parents=[p if p >= 0 or i == 0 else 0 for i, p in enumerate(facts.parents)],
            bases=facts.bases,
        )
    return FileRecord(path=path, language=language, module=module_name(path, language),
                      defs=defs, facts=facts)


def _resolve(files: list[FileRecord], indexes: Iterable[int],
             symbols: Symbols | None = None) -> tuple[dict[int, list[Edge]], dict[str, str]]:
    symbols = symbols or Symbols(files)
    resolvers = resolvers_for(symbols)
    used: dict[str, str] = {}
    edges: dict[int, list[Edge]] = {}
    for index in indexes:
        language = files[index].language
        resolver = resolvers(language)
        used[language] = resolver.id
        edges[index] = resolver.resolve_file(index)
    return edges, used


def build_graph(files: list[FileRecord], *, build_id: str = "") -> GraphFile:
    """Resolve every call site of `files` (a full build)."""
    files = sorted(files, key=lambda f: f.path)
    edges, used = _resolve(files, range(len(files)))
    return GraphFile(build_id=build_id, files=files,
                     edges=[edges[i] for i in range(len(files))], resolvers=used)


class GraphUpdate:
    """What `update_graph` did: the new graph, files re-resolved, the symbols it resolved with."""

    def __init__(self, graph: GraphFile, reresolved: int, symbols: Symbols) -> None:
        """Record the new graph, how many files were resolved again, and its symbol table.

        The table is the new graph's own: a `CodeGraph` of it takes this one
        rather than building a second (`CodeGraph(update.graph, symbols=...)`).
        """
        self.graph = graph
        self.reresolved = reresolved
        self.symbols = symbols


def _defined_names(record: FileRecord | None) -> set[str]:
    if record is None:
        return set()
    names = {d.name for d in record.defs}
    names.add(record.module.rsplit(".", 1)[-1].rsplit("/", 1)[-1])
    return names


def _referenced_names(record: FileRecord) -> set[str]:
    facts = record.facts
    names = {s.name for s in facts.sites}
    names.update(s.receiver.split(".", 1)[0] for s in facts.sites if s.receiver)
    names.update(t.type.rsplit(".", 1)[-1] for t in facts.types)
    for binding in facts.imports:
        names.add(binding.symbol)
        names.update(_split_module(binding.module))
    for bases in facts.bases.values():
        names.update(b.rsplit(".", 1)[-1] for b in bases)
    return names


def _split_module(module: str) -> list[str]:
    for separator in ("::", "/", "."):
        module = module.replace(separator, " ")
    return module.split()


def _shape(record: FileRecord | None) -> tuple[object, ...] | None:
    """What other files' edges can depend on: definitions, bases, field types, imports.

    An edit that keeps it (a changed function body, the common case) cannot
    change how another file's calls resolve, nor the ids they point at.
    """
    if record is None:
        return None
    defs = [(d.name, d.qualified, d.kind, d.parent) for d in record.defs]
    classes = {i for i, d in enumerate(record.defs) if d.kind == "class"}
    fields = sorted((t.scope, t.var, t.type) for t in record.facts.types if t.scope in classes)
    imports = [(b.local, b.module, b.symbol) for b in record.facts.imports]
    return (defs, record.facts.bases, fields, imports)


def _exports(record: FileRecord) -> tuple[object, ...]:
    """The shape less the definitions (bases, class field types, imports), by class name.

    By qualified name, not definition id: a definition inserted before a
    class changes no export.
    """
    defs = record.defs
    classes = {i: d.qualified for i, d in enumerate(defs) if d.kind == "class"}
    bases = sorted((defs[i].qualified, tuple(names)) for i, names in record.facts.bases.items()
                   if i < len(defs))
    fields = sorted((classes[t.scope], t.var, t.type) for t in record.facts.types
                    if t.scope in classes)
    imports = [(b.local, b.module, b.symbol) for b in record.facts.imports]
    return (bases, fields, imports)


def _def_keys(record: FileRecord) -> list[tuple[str, str, str, str]]:
    """Each definition as name, qualified name, kind and its parent's qualified name."""
    defs = record.defs
    return [(d.name, d.qualified, d.kind,
             defs[d.parent].qualified if 0 <= d.parent < len(defs) else "") for d in defs]


def _moved_defs(old: FileRecord, new: FileRecord) -> tuple[set[str], list[int | None]]:
    """Names whose definitions differ, in order, between `old` and `new`; where each old one went.

    A name whose definitions are the same ones in the same order resolves
    as before: the k-th definition of an identity is the k-th after.
    """
    old_keys, new_keys = _def_keys(old), _def_keys(new)
    old_by_name: dict[str, list[tuple[str, str, str, str]]] = {}
    new_by_name: dict[str, list[tuple[str, str, str, str]]] = {}
    for key in old_keys:
        old_by_name.setdefault(key[0], []).append(key)
    for key in new_keys:
        new_by_name.setdefault(key[0], []).append(key)
    names = {name for name in old_by_name.keys() | new_by_name.keys()
             if old_by_name.get(name) != new_by_name.get(name)}
    places: dict[tuple[str, str, str, str], list[int]] = {}
    for index, key in enumerate(new_keys):
        places.setdefault(key, []).append(index)
    seen: dict[tuple[str, str, str, str], int] = {}
    moves: list[int | None] = []
    for key in old_keys:
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        moves.append(None if key[0] in names else places[key][occurrence])
    return names, moves


def _hierarchy(record: FileRecord | None) -> dict[str, list[str]]:
    if record is None:
        return {}
    return {record.defs[i].qualified: b for i, b in record.facts.bases.items()
            if i < len(record.defs)}


def update_graph(previous: GraphFile, changed: dict[str, FileRecord | None], *,
                 build_id: str = "") -> GraphUpdate:
    """The graph after `changed` files (path -> new record, None if removed).

    Files that cannot be affected keep their edges (targets renumbered);
    the changed files and every file referring to a name they define (before
    or after), or to their module, are resolved again. A change to a class
    hierarchy resolves everything again.
    """
    old_index = {f.path: i for i, f in enumerate(previous.files)}
    records = {f.path: f for f in previous.files}
    touched: set[str] = set()
    full = False
    # Changed files whose definitions or exports changed -> where each old
    # definition went (None: edges into the file are resolved again).
    reshaped: dict[str, list[int | None] | None] = {}
    for path, record in changed.items():
        old = records.get(path)
        if _shape(old) != _shape(record):
            if old is not None and record is not None and _exports(old) == _exports(record):
                names, moves = _moved_defs(old, record)
                touched |= names
                reshaped[path] = moves
            else:
                touched |= _defined_names(old) | _defined_names(record)
                reshaped[path] = None
        if _hierarchy(old) != _hierarchy(record):
            full = True
        if record is None:
            records.pop(path, None)
        else:
            records[path] = record
    files = sorted(records.values(), key=lambda f: f.path)
    symbols = Symbols(files)
    if full:
        edges, used = _resolve(files, range(len(files)), symbols)
        return GraphUpdate(GraphFile(build_id=build_id, files=files,
                                     edges=[edges[i] for i in range(len(files))],
                                     resolvers=used), len(files), symbols)
    new_offsets = {f.path: symbols.offsets[i] for i, f in enumerate(files)}
    new_ids = _new_ids(previous.files, new_offsets, reshaped)
    kept: dict[int, list[Edge]] = {}
    redo: list[int] = []
    for index, record in enumerate(files):
        path = record.path
        if path in changed or path not in old_index or _referenced_names(record) & touched:
            redo.append(index)
            continue
        remapped = _remap(previous.edges[old_index[path]], new_ids)
        if remapped is None:
            redo.append(index)
        else:
            kept[index] = remapped
    edges, used = _resolve(files, redo, symbols)
    kept.update(edges)
    resolvers = dict(previous.resolvers)
    resolvers.update(used)
    graph = GraphFile(build_id=build_id, files=files,
                      edges=[kept[i] for i in range(len(files))], resolvers=resolvers)
    return GraphUpdate(graph, len(redo), symbols)


def _new_ids(old_files: list[FileRecord], new_offsets: dict[str, int],
             reshaped: dict[str, list[int | None] | None]) -> list[int]:
    """The new id of every old definition id; -1 where edges into it must be resolved again.

    A definition of a reshaped file moves with it (or is gone); a file
    removed, or whose exports changed, has none.
    """
    ids: list[int] = []
    for record in old_files:
        start = new_offsets.get(record.path)
        count = len(record.defs)
        if start is None or (record.path in reshaped and reshaped[record.path] is None):
            ids.extend([-1] * count)
        elif record.path in reshaped:
            ids.extend(-1 if moved is None else start + moved
                       for moved in reshaped[record.path] or ())
        else:
            ids.extend(range(start, start + count))
    return ids


def _remap(edges: list[Edge], new_ids: list[int]) -> list[Edge] | None:
    """Edges with targets renumbered (`new_ids`); None if one pointed at a change.

    An edge whose targets keep their ids is kept itself, and the list when
    all are (a body edit renumbers nothing): a live update in the daemon
    then holds no second copy of the unchanged files' edges.
    """
    result = []
    for edge in edges:
        targets = [new_ids[target] for target in edge.targets]
        if -1 in targets:
            return None
        result.append(edge if targets == edge.targets else Edge(edge.site, edge.kind, targets))
    return edges if all(new is old for new, old in zip(result, edges, strict=True)) else result


def records_from_tree(root: Path) -> list[FileRecord]:
    """Walk and parse a project: every grammar file's record (one parse per file)."""
    records = []
    for source_file in walk_project(root).files:
        record = _parse(source_file.abs_path, source_file.rel_path, source_file.language)
        if record is not None:
            records.append(record)
    return records


def record_from_disk(root: Path, rel_path: str) -> FileRecord | None:
    """One file's record as it is on disk now; None when it is gone or has no grammar.

    For a live update between builds (the daemon's watcher): the same parse
    the index build makes, of one file. The file must be a regular file
    inside `root` (a link leading out of the project is not followed).
    """
    from tldr.units import detect_language

    path = root / rel_path
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return _parse(resolved, rel_path, detect_language(rel_path))


def _parse(path: Path, rel_path: str, language: str | None) -> FileRecord | None:
    if language is None or language not in SPECS:
        return None
    try:
        data = load_source(path).data
    except SkippedFile:
        return None
    units, facts = extract_file(data, path=rel_path, language=language)
    return file_record(rel_path, language, units, facts)


def graph_from_tree(root: str | Path) -> GraphFile:
    """The graph of a project read straight from its tree (no index involved)."""
    records = records_from_tree(Path(root))
    digest = hashlib.sha256("\0".join(r.path for r in records).encode()).hexdigest()[:8]
    return build_graph(records, build_id=f"tree-{digest}")
