"""Search a committed build: dense and lexical candidates, fused and ranked.

`Searcher` keeps one project's build and model in memory and re-reads them
only when `metadata.json` changes (stat first, then build_id), which is what
the daemon serves from. `semantic_search` is the one-shot form.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._exceptions import (
    ConfigError,
    IndexIncompatibleError,
    LegacyIndexError,
    TldrError,
)
from tldr.paths import IndexPaths, find_project_root
from tldr.request import MODES, SearchRequest
from tldr.semantic.models.embedders import Embedder, get_embedder
from tldr.semantic.query import ranking
from tldr.semantic.query.loaded_build import LoadedBuild
from tldr.semantic.storage import (
    Metadata,
    require_metadata,
)
from tldr.units import Unit, unescape_path
from tldr.vector_store import get_backend

if TYPE_CHECKING:
    from tldr.graph import CodeGraph

__all__ = ["MODES", "ROW_FIELDS", "SearchOutcome", "SearchRequest", "Searcher",
           "semantic_search"]

logger = logging.getLogger(__name__)

RERANK_CANDIDATES = 30  # a cross-encoder costs ~ms per pair on CPU: rescore few
ROW_FIELDS = (
    "name",
    "qualified_name",
    "file",
    "line",
    "end_line",
    "unit_type",
    "language",
    "signature",
    "score",
)


class Searcher:
    """Answers searches for one project from its latest committed build."""

    def __init__(
        self,
        project: str | Path,
        *,
        view: bool = False,
        device: str | None = None,
        embedder: Embedder | None = None,
        paths: IndexPaths | None = None,
    ) -> None:
        self.root = find_project_root(project)
        self.paths = paths or IndexPaths(self.root)
        self.view = view and os.name != "nt"  # mapped files block renames on Windows
        self.device = device
        self._embedder = embedder
        self._build: LoadedBuild | None = None
        self._stat: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self._graph: tuple[str | None, CodeGraph | None] | None = None

    @property
    def build(self) -> LoadedBuild:
        """The current build, reloaded first if metadata.json changed."""
        self.refresh()
        assert self._build is not None
        return self._build

    def refresh(self) -> bool:
        """Reload when metadata.json points at another build; True if it did."""
        with self._lock:
            try:
                info = self.paths.metadata.stat()
                stat_key = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                stat_key = None
            if self._build is not None and stat_key == self._stat:
                return False
            try:
                metadata = require_metadata(self.paths)
            except LegacyIndexError:
                if not get_backend("faiss").is_available()[0]:
                    raise
                if self._build is None or self._stat != stat_key:
                    logger.warning(
                        "serving a legacy FAISS index read-only; migrate with: "
                        "tldrf semantic index --rebuild %s",
                        self.root,
                    )
                    self._build = LoadedBuild.open_legacy(self.paths)
                    self._stat = stat_key
                    return True
                return False
            self._stat = stat_key
            if self._build is not None and (
                self._build.metadata.vector_store.build_id == metadata.vector_store.build_id
            ):
                return False
            self._build = LoadedBuild.open(self.paths, metadata, view=self.view)
            return True

    def embedder(self, metadata: Metadata) -> Embedder:
        """The model the index was built with, validated against it."""
        if self._embedder is None or self._embedder.model_id != metadata.model:
            self._embedder = get_embedder(metadata.model, device=self.device)
        if self._embedder.dimension != metadata.dimension:
            raise IndexIncompatibleError(
                f"model {metadata.model} gives {self._embedder.dimension}-d vectors but the "
                f"index holds {metadata.dimension}-d ones; "
                f"run: tldrf semantic index --rebuild {self.root}"
            )
        return self._embedder

    def search(
        self, request: SearchRequest | str, /, **options: Any
    ) -> list[dict[str, Any]]:
        """Rows for the best `request.k` units (or files, with `files`), best first.

        `request` is a `SearchRequest`, or a query string with the request's
        other fields as keywords (`search("parse config", k=5)`). Unit rows
        have `ROW_FIELDS`; `snippets` adds each unit's code preview as
        `snippet`; `expand` adds `callers` and `callees` (project units linked
        by name, each `{qualified_name, file, line}`). File rows are
        `{file, score, units}` with up to `per_file` best units each.

        With `rerank`, the top `RERANK_CANDIDATES` are rescored by the
        cross-encoder reranker; if it cannot run, the plain ranking is kept
        and `run()` says so in its warnings.
        """
        return self.run(request, **options).rows

    def search_files(
        self, request: SearchRequest | str, /, *, per_file: int = 3, **options: Any
    ) -> list[dict[str, Any]]:
        """The best files, each `{file, score, units}` (`search` with `files=True`)."""
        return self.run(_request(request, options).replace(files=True), per_file=per_file).rows

    def run(
        self, request: SearchRequest | str, /, *, per_file: int = 3,
        graph: CodeGraph | None = None, **options: Any
    ) -> SearchOutcome:
        """`search`, with the time spent embedding the query and any warnings.

        `expand` links each hit to its callers and callees through the code
        graph of the build (`graph`, when the caller keeps one loaded, as
        the daemon does; else loaded here once per build), or by name for
        an index without a graph.
        """
        request = _request(request, options)
        build = self.build
        dense, lexical_hits, embed_seconds = self._candidates(build, request)
        warnings: list[str] = []
        if request.files:
            hits = ranking.rank_files(
                request.query, build.units, dense=dense, lexical=lexical_hits, k=request.k,
                mode=request.mode, per_file=per_file,
            )
            rows = [
                {
                    "file": hit.file,
                    "score": round(float(hit.score), 6),
                    "units": [_unit_fields(build.units[position]) for position in hit.positions],
                }
                for hit in hits
            ]
            return SearchOutcome(rows, embed_seconds, tuple(warnings))
        wanted = max(request.k, RERANK_CANDIDATES) if request.rerank else request.k
        ranked = ranking.rank(
            request.query, build.units, dense=dense, lexical=lexical_hits, k=wanted,
            mode=request.mode,
        )
        if request.rerank:
            ranked = _reranked(request.query, build.units, ranked, warnings)
        rows = []
        if request.expand and graph is None:
            graph = self._committed_graph(build)
        for position, score in ranked[: request.k]:
            unit = build.units[position]
            row = _row(unit, score)
            if request.snippets:
                row["snippet"] = unit.code
            linked = _graph_links(graph, unit) if request.expand and graph is not None else None
            if linked is not None:
                row["callers"], row["callees"] = linked
            elif request.expand:
                row["callers"] = _links(build, build.callers_of(unit.name), exclude=position)
                row["callees"] = _links(
                    build,
                    [p for name in unit.calls for p in build.positions_named(name)],
                    exclude=position,
                )
            rows.append(row)
        return SearchOutcome(rows, embed_seconds, tuple(warnings))

    def _committed_graph(self, build: LoadedBuild) -> CodeGraph | None:
        """The code graph committed with `build` (loaded once), or None when it has none."""
        key = build.metadata.graph_file
        if self._graph is None or self._graph[0] != key:
            loaded = None
            if key is not None:
                from tldr._exceptions import GraphCorruptError
                from tldr.graph import load_graph

                try:
                    loaded = load_graph(self.root, paths=self.paths, build_missing=False)
                except GraphCorruptError as exc:
                    logger.warning("expanding by name: %s", exc)
            self._graph = (key, loaded)
        return self._graph[1]

    def _candidates(
        self, build: LoadedBuild, request: SearchRequest
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float]:
        """Dense and lexical candidates that pass the filters, and the embedding seconds."""
        keep = _filter(build.units, lang=request.lang, path_prefix=request.path_prefix,
                       unit_type=request.unit_type)
        dense: list[tuple[int, float]] = []
        embed_seconds = 0.0
        if request.mode != "lexical":
            embedder = self.embedder(build.metadata)
            started = time.perf_counter()
            query_vector = embedder.embed_query(request.query)
            embed_seconds = time.perf_counter() - started
            dense = _candidates(
                lambda n: _dense_search(build, query_vector, n),
                want=max(ranking.CANDIDATES_DENSE, request.k),
                total=len(build.units),
                keep=keep,
            )
        lexical_hits: list[tuple[int, float]] = []
        if request.mode != "dense" and build.lexical_index is not None:
            lexical_index = build.lexical_index
            lexical_hits = _candidates(
                lambda n: lexical_index.search(request.query, n),
                want=max(ranking.CANDIDATES_LEXICAL, request.k),
                total=len(build.units),
                keep=keep,
            )
        return dense, lexical_hits, embed_seconds

    def get_unit(
        self,
        *,
        qualified_name: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> dict[str, Any]:
        """One unit with its full source, by qualified name or by file and line.

        By file and line, the innermost unit spanning that line wins. Raises
        `ConfigError` when nothing matches (the message lists near names).
        """
        build = self.build
        unit = _find_unit(build, qualified_name=qualified_name, file=file, line=line)
        row = _row(unit, 1.0)
        del row["score"]
        row["docstring"] = unit.docstring
        row["source"] = _read_span(self.root, unit)
        row["calls"] = list(unit.calls)
        row["imports"] = list(unit.imports)
        return row


def semantic_search(
    project: str | Path,
    query: str,
    *,
    device: str | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Search a project's committed index once (loads the model in-process).

    `options` are the fields of `SearchRequest` (k, lang, path_prefix, mode,
    rerank, unit_type, snippets, expand, files).
    """
    return Searcher(project, device=device).search(query, **options)


@dataclass(frozen=True)
class SearchOutcome:
    """What `Searcher.run` found: rows best first, the query embedding's time, warnings."""

    rows: list[dict[str, Any]]
    embed_seconds: float
    warnings: tuple[str, ...] = ()


def _request(request: SearchRequest | str, options: dict[str, Any]) -> SearchRequest:
    """The request itself, or one made of a query string and keyword options."""
    if isinstance(request, SearchRequest):
        return request.replace(**options) if options else request
    return SearchRequest.from_params({"query": request, **options})


def _reranked(
    query: str, units: Sequence[Unit], ranked: list[tuple[int, float]], warnings: list[str]
) -> list[tuple[int, float]]:
    from tldr.semantic.models.rerank import get_reranker
    from tldr.semantic.text import embedding_text

    try:
        scores = get_reranker().rerank(query, [embedding_text(units[p]) for p, _ in ranked])
    except TldrError as exc:
        message = f"reranking skipped, plain ranking kept: {exc}"
        logger.warning("%s", message)
        warnings.append(message)
        return ranked
    return sorted(
        ((position, score) for (position, _), score in zip(ranked, scores, strict=True)),
        key=lambda hit: -hit[1],
    )


def _dense_search(build: LoadedBuild, query_vector: Any, n: int) -> list[tuple[int, float]]:
    keys, scores = build.vector_index.search(query_vector, n)
    positions = map(build.position_of_key.get, keys.tolist())
    return [
        (position, score)
        for position, score in zip(positions, scores.tolist(), strict=True)
        if position is not None
    ]


_MAX_LINKS = 8


def _links(build: LoadedBuild, positions: list[int], *, exclude: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for position in dict.fromkeys(positions):
        if position == exclude:
            continue
        unit = build.units[position]
        seen.append({"qualified_name": unit.qualified_name, "file": unit.file, "line": unit.line})
        if len(seen) == _MAX_LINKS:
            break
    return seen


def _graph_links(graph: CodeGraph, unit: Unit
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """(callers, callees) of a unit through the code graph; None when the graph lacks it."""
    file_index = graph.by_path.get(unit.file)
    if file_index is None:
        return None
    offset = graph.symbols.offsets[file_index]
    found = [offset + local for local, definition in enumerate(graph.graph.files[file_index].defs)
             if definition.line == unit.line and definition.qualified == unit.qualified_name]
    if not found:
        return None
    gid = found[0]

    def links(ids: list[int]) -> list[dict[str, Any]]:
        listed = []
        for other in dict.fromkeys(ids):
            if other == gid:
                continue
            definition = graph.symbols.defs[other]
            listed.append({"qualified_name": definition.qualified, "file": graph.path_of(other),
                           "line": definition.line})
            if len(listed) == _MAX_LINKS:
                break
        return listed

    return (links([ref.caller for ref in graph.callers.get(gid, [])]),
            links([ref.callee for ref in graph.callees.get(gid, [])]))


def _find_unit(
    build: LoadedBuild, *, qualified_name: str | None, file: str | None, line: int | None
) -> Unit:
    if qualified_name:
        matches = [
            unit
            for unit in build.units
            if unit.qualified_name == qualified_name and (not file or unit.file == file)
        ]
        if not matches:
            short = qualified_name.rsplit(".", 1)[-1]
            near = sorted({build.units[p].qualified_name for p in build.positions_named(short)})
            hint = f"; units named {short!r}: {', '.join(near[:10])}" if near else ""
            raise ConfigError(f"no unit with qualified name {qualified_name!r}{hint}")
        return min(matches, key=lambda unit: (unit.file, unit.line))
    if file and line is not None:
        spanning = [
            unit
            for unit in build.units
            if unit.file == file.strip("/") and unit.line <= line <= unit.end_line
        ]
        if not spanning:
            raise ConfigError(f"no unit spans {file}:{line}")
        return min(spanning, key=lambda unit: unit.end_line - unit.line)
    raise ConfigError("give a qualified name, or a file and a line")


def _read_span(root: Path, unit: Unit) -> str:
    """The unit's current source lines; its indexed preview if the file is gone.

    Checked at read time, not only at index time: the file must still be a
    regular file inside the project (a symlink swapped in since, or a FIFO,
    gets the preview), and the one opened must be the one checked.
    """
    path = root / unescape_path(unit.file)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return unit.code
    with os.fdopen(fd, "rb") as handle:
        try:
            opened = os.fstat(fd)
            resolved = path.resolve(strict=True)
            checked = os.stat(resolved)
        except OSError:
            return unit.code
        inside = resolved.is_relative_to(root.resolve())
        same = (opened.st_dev, opened.st_ino) == (checked.st_dev, checked.st_ino)
        if not (inside and same and stat.S_ISREG(opened.st_mode)):
            return unit.code
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[unit.line - 1 : unit.end_line])


def _filter(
    units: Sequence[Unit],
    *,
    lang: str | None,
    path_prefix: str | None,
    unit_type: str | None = None,
) -> Callable[[int], bool] | None:
    if not lang and not path_prefix and not unit_type:
        return None
    prefix = path_prefix or ""
    language = lang

    def keep(position: int) -> bool:
        unit = units[position]
        if language and unit.language != language:
            return False
        if unit_type and unit.unit_type != unit_type:
            return False
        return not prefix or unit.file == prefix or unit.file.startswith(prefix + "/")

    return keep


def _candidates(
    fetch: Callable[[int], list[tuple[int, float]]],
    *,
    want: int,
    total: int,
    keep: Callable[[int], bool] | None,
) -> list[tuple[int, float]]:
    """`want` hits passing `keep`, over-fetching until enough survive the filter."""
    n = min(want, total)
    while True:
        hits = fetch(n)
        if keep is None:
            return hits
        kept = [hit for hit in hits if keep(hit[0])]
        if len(kept) >= want or n >= total:
            return kept
        n = min(total, n * 4)


def _row(unit: Unit, score: float) -> dict[str, Any]:
    row = _unit_fields(unit)
    row["score"] = round(float(score), 6)
    return row


def _unit_fields(unit: Unit) -> dict[str, Any]:
    return {
        "name": unit.name,
        "qualified_name": unit.qualified_name,
        "file": unit.file,
        "line": unit.line,
        "end_line": unit.end_line,
        "unit_type": unit.unit_type,
        "language": unit.language,
        "signature": unit.signature,
    }
