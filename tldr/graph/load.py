"""The query side's entry: load a committed graph once, index it for cheap queries.

`load_graph` follows metadata.json like every reader (DESIGN.md § On
disk): the graph file it names, checked against its recorded stamp. A
missing or damaged graph is never partly read: the graph is built from
the tree in memory instead and the index is marked dirty, so the next
build writes a whole one.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from pathlib import Path

from tldr._exceptions import GraphCorruptError
from tldr.graph.build import graph_from_tree
from tldr.graph.model import AMBIGUOUS, RESOLVED_KINDS, GraphFile
from tldr.graph.resolve import Tier1Resolver
from tldr.graph.store import read_graph
from tldr.graph.symbols import Symbols
from tldr.paths import IndexPaths, find_project_root

__all__ = ["CallRef", "CodeGraph", "load_graph"]

logger = logging.getLogger(__name__)


class CallRef:
    """One resolved call: caller id, callee id, the site's file index and site index, kind."""

    __slots__ = ("callee", "caller", "file", "kind", "site")

    def __init__(self, caller: int, callee: int, file: int, site: int, kind: str) -> None:
        """Record one call edge."""
        self.caller = caller
        self.callee = callee
        self.file = file
        self.site = site
        self.kind = kind


class CodeGraph:
    """A loaded graph with the lookups queries need (built once, on load)."""

    def __init__(self, graph: GraphFile, *, root: Path | None = None, source: str = "") -> None:
        """Index `graph`; `root` lets queries read source text; `source` says where it came from."""
        self.graph = graph
        self.root = root
        self.source = source
        self.symbols = Symbols(graph.files)
        self.callers: dict[int, list[CallRef]] = defaultdict(list)
        self.callees: dict[int, list[CallRef]] = defaultdict(list)
        self.maybe_callers: dict[int, list[CallRef]] = defaultdict(list)
        self.maybe_callees: dict[int, list[CallRef]] = defaultdict(list)
        self._import_resolver: Tier1Resolver | None = None
        self.by_path = {record.path: index for index, record in enumerate(graph.files)}
        offsets = self.symbols.offsets
        for file_index, (record, edges) in enumerate(zip(graph.files, graph.edges, strict=True)):
            sites = record.facts.sites
            for edge in edges:
                if edge.site >= len(sites):
                    raise GraphCorruptError(f"the code graph names call site {edge.site} of "
                                            f"{record.path}, which has {len(sites)}")
                caller = offsets[file_index] + sites[edge.site].caller
                resolved = edge.kind in RESOLVED_KINDS
                if not resolved and edge.kind != AMBIGUOUS:
                    continue
                for target in edge.targets:
                    ref = CallRef(caller, target, file_index, edge.site, edge.kind)
                    if resolved:
                        self.callers[target].append(ref)
                        self.callees[caller].append(ref)
                    else:
                        self.maybe_callers[target].append(ref)
                        self.maybe_callees[caller].append(ref)

    def import_resolver(self) -> Tier1Resolver:
        """A tier-1 resolver over this graph, for import questions (made once)."""
        if self._import_resolver is None:
            self._import_resolver = Tier1Resolver(self.symbols)
        return self._import_resolver

    @property
    def edge_count(self) -> int:
        """Resolved call edges (caller, site, callee)."""
        return sum(len(refs) for refs in self.callees.values())

    def path_of(self, gid: int) -> str:
        """The file a definition is in."""
        return self.graph.files[self.symbols.file_of[gid]].path

    def site_line(self, ref: CallRef) -> int:
        """The line of a call."""
        return self.graph.files[ref.file].facts.sites[ref.site].line


def _committed(paths: IndexPaths) -> tuple[Path, int | None, int | None] | None:
    """The committed graph file and its stamp, or None when metadata names none."""
    try:
        document = json.loads(paths.metadata.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("graph_file"), str):
        return None
    name = document["graph_file"]
    if "/" in name or "\\" in name or not name.startswith("graph."):
        return None
    stamp = (document.get("artifacts") or {}).get(name) or {}
    size, crc = stamp.get("size"), stamp.get("crc32")
    return (paths.semantic_dir / name,
            size if isinstance(size, int) else None, crc if isinstance(crc, int) else None)


def load_graph(
    project: str | os.PathLike[str], *, cache_root: str | os.PathLike[str] | None = None,
    index: str | None = None, build_missing: bool = True, paths: IndexPaths | None = None,
) -> CodeGraph:
    """The project's code graph, from the committed build (or built from the tree).

    Args:
        project: The project root or any path inside it.
        cache_root: Where the index lives when it is kept outside the tree.
        index: A named index (as `--index`).
        build_missing: Without a committed graph (no index yet, an index
            from before the graph, a damaged file): build one from the tree
            in memory (True) or raise `GraphCorruptError` (False).
        paths: Where the index is, as computed once by the caller (then
            `project`, `cache_root` and `index` are not read again).
    """
    if paths is None:
        paths = IndexPaths(find_project_root(project), cache_root, index)
    root = paths.root
    committed = _committed(paths)
    problem = "no index has a code graph yet"
    if committed is not None:
        path, size, crc = committed
        try:
            return CodeGraph(read_graph(path, size=size, crc32=crc), root=root,
                             source=path.name)
        except GraphCorruptError as exc:
            problem = str(exc)
            logger.warning("%s; building the graph from the tree", problem)
            try:
                paths.dirty.touch()  # the next build writes a whole graph again
            except OSError:
                pass
    if not build_missing:
        raise GraphCorruptError(f"{problem}; run: tldrf semantic index {root}")
    return CodeGraph(graph_from_tree(root), root=root, source="tree")
