"""Whole-graph analyses: architecture layers and cycles, dead code, change impact."""

from __future__ import annotations

import fnmatch
import posixpath
import subprocess
from collections import defaultdict, deque
from pathlib import Path

from tldr._exceptions import ConfigError
from tldr.graph.load import CodeGraph
from tldr.graph.query import def_ref, is_test
from tldr.graph.symbols import CLASS_KINDS, FUNCTION_KINDS

__all__ = ["arch", "change_impact", "changed_files", "dead"]

_FRAMEWORK_HOOKS = frozenset({
    "setUp", "tearDown", "setUpClass", "tearDownClass", "setUpTestData", "main", "handle",
    "get", "post", "put", "patch", "delete", "dispatch", "get_queryset", "get_context_data",
    "form_valid", "save", "clean", "run", "execute", "ready", "setup", "teardown",
})
_VIEW_FILES = ("views.py", "admin.py", "urls.py", "signals.py", "management/commands/",
               "conftest.py", "migrations/", "settings.py", "apps.py")


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.strip("/").removeprefix("./") if prefix not in ("", ".") else ""
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _package(path: str) -> str:
    return posixpath.dirname(path) or "."


def _sccs(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
    return result


def arch(graph: CodeGraph, path: str = "") -> dict[str, object]:
    """Packages (directories) under `path`, their dependencies, layers and cycles.

    A package depends on another when one of its files imports a file of
    the other or calls a definition in it (resolved edges only). Layer 0
    depends on no other package; each next layer only on earlier ones (a
    cycle is one unit, listed in `cycles`).
    """
    edges: dict[str, set[str]] = defaultdict(set)
    weights: dict[tuple[str, str], int] = defaultdict(int)
    packages: set[str] = set()
    files = graph.graph.files
    for file_index, record in enumerate(files):
        if not _under(record.path, path):
            continue
        source = _package(record.path)
        packages.add(source)
        targets = [t for _, found in _import_files(graph, file_index) for t in found]
        targets += [graph.symbols.file_of[ref.callee]
                    for gid in range(graph.symbols.offsets[file_index],
                                     graph.symbols.offsets[file_index] + len(record.defs))
                    for ref in graph.callees.get(gid, [])]
        for target in targets:
            target_path = files[target].path
            if not _under(target_path, path):
                continue
            destination = _package(target_path)
            if destination != source:
                edges[source].add(destination)
                weights[(source, destination)] += 1
    components = _sccs(sorted(packages), edges)
    component_of = {member: n for n, component in enumerate(components) for member in component}
    level: dict[int, int] = {}
    for n, component in enumerate(components):  # dependencies come first (Tarjan's order)
        deps = {component_of[d] for member in component for d in edges.get(member, ())} - {n}
        level[n] = 1 + max((level[d] for d in deps), default=-1)
    layers: dict[int, list[str]] = defaultdict(list)
    for n, component in enumerate(components):
        layers[level[n]].extend(component)
    return {
        "packages": len(packages),
        "layers": [sorted(layers[k]) for k in sorted(layers)],
        "cycles": [c for c in components if len(c) > 1],
        "dependencies": [{"from": a, "to": b, "weight": w}
                         for (a, b), w in sorted(weights.items())],
    }


def _import_files(graph: CodeGraph, file_index: int) -> list[tuple[int, list[int]]]:
    resolver = graph.import_resolver()
    return [(n, resolver.binding_files(file_index, b))
            for n, b in enumerate(graph.graph.files[file_index].facts.imports)]


def _entry_reason(graph: CodeGraph, gid: int, patterns: tuple[str, ...]) -> str:
    """Why a definition counts as an entry point ("" if it does not)."""
    symbols = graph.symbols
    definition = symbols.defs[gid]
    path = graph.path_of(gid)
    name = definition.name
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(definition.qualified,
                                                                     pattern):
            return f"matches --entry {pattern}"
    if definition.kind == "module":
        return "module-level code runs on import (main guards included)"
    if is_test(path, name):
        return "a test"
    if name.startswith("__") and name.endswith("__"):
        return "a dunder method, called by the language"
    if name in _FRAMEWORK_HOOKS:
        return "a framework hook name"
    if any(marker in path for marker in _VIEW_FILES):
        return "in a file a framework loads (views, admin, urls, commands, migrations)"
    owner = symbols.owner.get(gid)
    if owner is not None:
        resolver = graph.import_resolver()
        for base in resolver._class_bases(owner):
            if symbols.members(base, name):
                return "overrides a base-class method (called through the base)"
        if not resolver.direct_bases(owner) and graph.graph.files[
                symbols.file_of[owner]].facts.bases.get(owner - symbols.offsets[
                    symbols.file_of[owner]]):
            return "a method of a class with a library base (may override a hook)"
    if not name.startswith("_") and (symbols.parent[gid] == symbols.module_def(
            symbols.file_of[gid]) or owner is not None):
        return "public API (no leading underscore)"
    return ""


def dead(graph: CodeGraph, path: str = "", entry_patterns: tuple[str, ...] | list[str] = (),
         *, public_is_entry: bool = True) -> dict[str, object]:
    """Functions and methods under `path` that no entry point reaches.

    Entry points: module-level code (main guards), tests, dunder methods,
    framework hooks, overrides of base-class methods, `entry_patterns`
    (fnmatch on name or qualified name) and, with `public_is_entry`, every
    public (no leading underscore) function or method. Reachability follows
    resolved edges and every candidate of an ambiguous call, so a report is
    conservative: what it lists has no caller the graph can see.
    """
    patterns = tuple(entry_patterns)
    symbols = graph.symbols
    entries: list[dict[str, object]] = []
    reached: set[int] = set()
    queue: deque[int] = deque()
    for gid, definition in enumerate(symbols.defs):
        if definition.kind in CLASS_KINDS:
            continue
        reason = _entry_reason(graph, gid, patterns)
        if reason and (public_is_entry or not reason.startswith("public")):
            reached.add(gid)
            queue.append(gid)
            if _under(graph.path_of(gid), path) and definition.kind != "module":
                entries.append({"definition": def_ref(graph, gid), "reason": reason})
    while queue:
        current = queue.popleft()
        for ref in graph.callees.get(current, []) + graph.maybe_callees.get(current, []):
            target = ref.callee
            if symbols.defs[target].kind in CLASS_KINDS:
                continue
            if target not in reached:
                reached.add(target)
                queue.append(target)
        if symbols.defs[current].kind not in FUNCTION_KINDS:
            continue
        for child_group in symbols.children.get(current, {}).values():
            for child in child_group:  # nested functions live or die with their parent
                if child not in reached and symbols.defs[child].kind not in CLASS_KINDS:
                    reached.add(child)
                    queue.append(child)
    unreachable = [
        def_ref(graph, gid) for gid, definition in enumerate(symbols.defs)
        if definition.kind in FUNCTION_KINDS and gid not in reached
        and _under(graph.path_of(gid), path)
    ]
    return {"dead": unreachable, "entries": entries[:200], "entry_count": len(entries)}


def change_impact(graph: CodeGraph, files: list[str],
                  lines: dict[str, list[tuple[int, int]]] | None = None) -> dict[str, object]:
    """The tests that reach definitions in changed files (or changed line ranges).

    Follows callers transitively through resolved edges; each test found
    names the changed definition it reaches and how many calls away.
    """
    symbols = graph.symbols
    changed: list[int] = []
    missing: list[str] = []
    for file in files:
        wanted = file.strip("/").removeprefix("./")
        file_index = graph.by_path.get(wanted)
        if file_index is None:
            missing.append(file)
            continue
        offset = symbols.offsets[file_index]
        ranges = (lines or {}).get(wanted)
        for local, definition in enumerate(graph.graph.files[file_index].defs):
            if definition.kind not in FUNCTION_KINDS:
                continue
            if ranges and not any(a <= definition.end_line and definition.line <= b
                                  for a, b in ranges):
                continue
            changed.append(offset + local)
    distance: dict[int, tuple[int, int]] = {gid: (0, gid) for gid in changed}
    queue = deque(changed)
    while queue:
        current = queue.popleft()
        steps, origin = distance[current]
        for ref in graph.callers.get(current, []):
            if ref.caller not in distance:
                distance[ref.caller] = (steps + 1, origin)
                queue.append(ref.caller)
    tests = []
    for gid, (steps, origin) in sorted(distance.items(), key=lambda item: item[1][0]):
        reference = def_ref(graph, gid)
        if reference.test and reference.kind in FUNCTION_KINDS:
            tests.append({"test": reference, "reaches": symbols.defs[origin].qualified,
                          "calls_away": steps})
    return {"changed": [def_ref(graph, gid) for gid in changed], "tests": tests,
            "not_in_graph": missing}


def changed_files(root: str | Path, ref: str = "HEAD") -> list[str]:
    """Files that differ from git `ref` (committed, staged or not), project-relative."""
    if ref.startswith("-"):
        raise ConfigError(f"bad git ref {ref!r}")
    try:
        done = subprocess.run(
            ["git", "diff", "--name-only", "--relative", ref, "--"],
            cwd=root, capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot run git in {root}: {exc}") from exc
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["git diff failed"])[-1]
        raise ConfigError(f"git diff {ref}: {message}")
    return [line for line in done.stdout.splitlines() if line]
