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
from array import array
from collections.abc import Iterator, Mapping
from itertools import accumulate
from pathlib import Path
from typing import TypeVar, overload

from tldr._exceptions import GraphCorruptError
from tldr.graph.build import graph_from_tree
from tldr.graph.model import AMBIGUOUS, EDGE_KINDS, RESOLVED_KINDS, GraphFile
from tldr.graph.resolve import Tier1Resolver
from tldr.graph.store import read_graph
from tldr.graph.symbols import Symbols
from tldr.paths import IndexPaths, find_project_root

__all__ = ["CallIndex", "CallRef", "CodeGraph", "load_graph"]

logger = logging.getLogger(__name__)
_KIND_CODES = {kind: code for code, kind in enumerate(EDGE_KINDS)}
_T = TypeVar("_T")


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


class _Calls:
    """Call edges (caller, callee, file, site, kind) as parallel arrays, in graph order.

    An object per call costs ~130 bytes with its slot in a per-id list; a
    row here costs 17, and the two indexes over it 8 more (Django's 64k
    calls and ambiguous candidates: 8.3 MiB against 1.8).
    """

    __slots__ = ("callee", "caller", "file", "kind", "site")

    def __init__(self) -> None:
        """No calls yet."""
        self.caller, self.callee = array("i"), array("i")
        self.file, self.site, self.kind = array("i"), array("i"), array("B")

    def add(self, caller: int, targets: list[int], file: int, site: int, kind: int) -> None:
        """One call site's edges: one row per target."""
        count = len(targets)
        self.caller.extend([caller] * count)
        self.callee.extend(targets)
        self.file.extend([file] * count)
        self.site.extend([site] * count)
        self.kind.extend([kind] * count)

    def ref(self, row: int) -> CallRef:
        """The `CallRef` of one row."""
        return CallRef(self.caller[row], self.callee[row], self.file[row], self.site[row],
                       EDGE_KINDS[self.kind[row]])


class CallIndex(Mapping[int, list[CallRef]]):
    """The calls of a table grouped by one end (callee or caller id), read-only.

    Compressed rows: the table's row numbers ordered by that end (graph
    order kept within one id), and where each id's run starts; a lookup
    makes the `CallRef`s of one id.
    """

    __slots__ = ("_calls", "_order", "_starts")

    def __init__(self, calls: _Calls, keys: array[int], size: int) -> None:
        """Group `calls` by `keys` (one id per row, each below `size`)."""
        self._calls = calls
        self._order = array("i", sorted(range(len(keys)), key=keys.__getitem__))
        counts = array("i", bytes(4 * (size + 1)))
        for key in keys:
            counts[key + 1] += 1
        self._starts = array("i", accumulate(counts))

    def __getitem__(self, gid: int) -> list[CallRef]:
        """The calls of `gid`; KeyError when it has none."""
        found = self.get(gid)
        if found is None:
            raise KeyError(gid)
        return found

    @overload
    def get(self, gid: int, /) -> list[CallRef] | None: ...

    @overload
    def get(self, gid: int, /, default: list[CallRef] | _T) -> list[CallRef] | _T: ...

    def get(self, gid: int, /, default: object = None) -> object:
        """The calls of `gid`, or `default` when it has none.

        Without raising KeyError on the way: most definitions at the last
        level of a callers tree have none.
        """
        starts = self._starts
        if 0 <= gid < len(starts) - 1 and starts[gid] != starts[gid + 1]:
            ref = self._calls.ref
            return [ref(row) for row in self._order[starts[gid]:starts[gid + 1]]]
        return default

    def __iter__(self) -> Iterator[int]:
        """The ids that have calls, ascending."""
        starts = self._starts
        return (gid for gid in range(len(starts) - 1) if starts[gid] != starts[gid + 1])

    def __len__(self) -> int:
        """How many ids have calls."""
        return sum(1 for _ in self)


class CodeGraph:
    """A loaded graph with the lookups queries need (built once, on load)."""

    def __init__(self, graph: GraphFile, *, root: Path | None = None, source: str = "",
                 symbols: Symbols | None = None) -> None:
        """Index `graph`; `root` lets queries read source text; `source` says where it came from.

        `symbols`: the graph's symbol table when one was built already (by
        `update_graph`, which resolves with it).
        """
        self.graph = graph
        self.root = root
        self.source = source
        self.symbols = symbols if symbols is not None else Symbols(graph.files)
        self._import_resolver: Tier1Resolver | None = None
        self.by_path = {record.path: index for index, record in enumerate(graph.files)}
        resolved, ambiguous = _Calls(), _Calls()
        offsets = self.symbols.offsets
        for file_index, (record, edges) in enumerate(zip(graph.files, graph.edges, strict=True)):
            sites = record.facts.sites
            for edge in edges:
                if edge.site >= len(sites):
                    raise GraphCorruptError(f"the code graph names call site {edge.site} of "
                                            f"{record.path}, which has {len(sites)}")
                table = (resolved if edge.kind in RESOLVED_KINDS
                         else ambiguous if edge.kind == AMBIGUOUS else None)
                if table is not None:
                    table.add(offsets[file_index] + sites[edge.site].caller, edge.targets,
                              file_index, edge.site, _KIND_CODES[edge.kind])
        size = len(self.symbols.defs)
        for table in (resolved, ambiguous):
            if table.callee and not 0 <= min(table.callee) <= max(table.callee) < size:
                raise GraphCorruptError(f"the code graph names definitions {min(table.callee)} "
                                        f"to {max(table.callee)}; it has {size}")
        self._resolved = resolved
        self.callers = CallIndex(resolved, resolved.callee, size)
        self.callees = CallIndex(resolved, resolved.caller, size)
        self.maybe_callers = CallIndex(ambiguous, ambiguous.callee, size)
        self.maybe_callees = CallIndex(ambiguous, ambiguous.caller, size)

    def import_resolver(self) -> Tier1Resolver:
        """A tier-1 resolver over this graph, for import questions (made once)."""
        if self._import_resolver is None:
            self._import_resolver = Tier1Resolver(self.symbols)
        return self._import_resolver

    @property
    def edge_count(self) -> int:
        """Resolved call edges (caller, site, callee)."""
        return len(self._resolved.caller)

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
