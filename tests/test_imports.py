"""The package's import graph: no cycles, in `tldr/daemon/` or anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tldr"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str], *, deferred: bool) -> set[str]:
    """Modules of the package that `path` imports (TYPE_CHECKING aside).

    With `deferred`, imports inside functions count too: they cannot break
    loading, but a module that imports its own importer back inside a
    function is still a tangle (as `lifecycle.stop_daemon` importing the
    client was). `from pkg import sub`
    of a submodule depends on `pkg.sub` (and on `pkg`'s `__init__` only when
    that is not the importer's own package, which is loading already).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    own = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if not deferred and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                              ast.ClassDef)):
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.Import):
                found |= {alias.name for alias in child.names if alias.name in modules}
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = own.split(".")
                    base = ".".join([*parts[: len(parts) - child.level + 1], base]).strip(".")
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    if sub in modules:
                        found.add(sub)
                    elif base in modules:
                        found.add(base)
    return {module for module in found
            if not own.startswith(module) or (module == own and path.name == "__init__.py")
            } - {name}


def _graph(*, deferred: bool = False) -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(paths), deferred=deferred) for name, path in paths.items()}


def _cycles(graph: dict[str, set[str]], within: str) -> list[list[str]]:
    nodes = {name for name in graph if name == within or name.startswith(within + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node] & nodes):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(nodes):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles_in_the_package() -> None:
    assert _cycles(_graph(), "tldr") == []


def test_no_import_cycles_in_the_daemon_even_inside_functions() -> None:
    assert _cycles(_graph(deferred=True), "tldr.daemon") == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"tldr.daemon.a": {"tldr.daemon.b"}, "tldr.daemon.b": {"tldr.daemon.a"},
             "tldr.daemon.c": set()}
    assert _cycles(graph, "tldr.daemon") == [
        ["tldr.daemon.a", "tldr.daemon.b", "tldr.daemon.a"]]


# What each package may never import (specs/014-layout.md): the CLI sits on
# top and nothing imports it; units and vector_store know nothing of each
# other or of anything above them.
_NEVER = {
    "tldr.units": ("tldr.vector_store", "tldr.semantic", "tldr.daemon", "tldr.mcp", "tldr.cli",
                   "tldr.request", "tldr.graph"),
    "tldr.vector_store": ("tldr.units", "tldr.semantic", "tldr.daemon", "tldr.mcp", "tldr.cli",
                          "tldr.graph"),
    "tldr.semantic": ("tldr.daemon", "tldr.mcp", "tldr.cli"),
    "tldr.graph": ("tldr.semantic", "tldr.daemon", "tldr.mcp", "tldr.cli"),
    "tldr.daemon": ("tldr.mcp", "tldr.cli"),
    "tldr.mcp": ("tldr.cli",),
}


def test_no_package_imports_what_sits_above_it() -> None:
    graph = _graph(deferred=True)
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for package, forbidden in _NEVER.items()
        if module == package or module.startswith(package + ".")
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    )
    assert wrong == []


def test_only_the_cli_imports_the_cli() -> None:
    graph = _graph(deferred=True)
    outside = sorted(f"{module} -> {target}" for module, targets in graph.items()
                     if not module.startswith("tldr.cli") for target in targets
                     if target == "tldr.cli" or target.startswith("tldr.cli."))
    assert outside == []
