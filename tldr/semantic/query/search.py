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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tldr._exceptions import (
    BackendError,
    ConfigError,
    IndexIncompatibleError,
    LegacyIndexError,
    TldrError,
)
from tldr.paths import IndexPaths, find_project_root
from tldr.request import MODES, SearchRequest
from tldr.semantic.models.devices import check_device
from tldr.semantic.models.embedders import Embedder, get_embedder
from tldr.semantic.query import ranking, tiers
from tldr.semantic.query.coverage import search_plan
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
        self.device = check_device(device)
        self._embedder = embedder
        self._fast_embedder: Embedder | None = None
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

    def fast_embedder(self, metadata: Metadata) -> Embedder | None:
        """The static model of the build's fast tier; None when it is not the one that built it.

        A fast index is queried only with the very model that made it (its
        `revision`): a model distilled again since would place queries in
        another space.
        """
        fast = metadata.fast
        if fast is None:
            return None
        if self._fast_embedder is None or self._fast_embedder.model_id != fast.model:
            self._fast_embedder = get_embedder(fast.model)
        if str(getattr(self._fast_embedder, "revision", "")) != fast.revision:
            logger.warning("the fast tier was built with another revision of %s; not used",
                           fast.model)
            return None
        return self._fast_embedder

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
        self,
        request: SearchRequest | str,
        /,
        *,
        per_file: int = 3,
        tiers: Collection[str] | None = None,
        graph: CodeGraph | None = None,
        **options: Any,
    ) -> SearchOutcome:
        """`search`, with the time spent embedding the query and any warnings.

        `tiers` limits the dense tiers used (`full`, `fast`; default: every
        tier the build has): the daemon leaves out one whose query model is
        still loading. `expand` links each hit to its callers and callees
        through the code graph of the build (`graph`, when the caller keeps
        one loaded, as the daemon does; else loaded here once per build), or
        by name for an index without a graph.
        """
        request = _request(request, options)
        build = self.build
        # A partial build: the same plan and `dense` fields as the daemon's.
        mode, coverage = search_plan(getattr(build.metadata, "dense", None), request.mode,
                                     fast=getattr(build.metadata, "fast", None))
        request = request.replace(mode=mode) if mode != request.mode else request
        warnings: list[str] = []
        dense, lexical_hits, embed_seconds, dense_weight = self._candidates(
            build, request, warnings, tiers)
        if request.files:
            hits = ranking.rank_files(
                request.query, build.units, dense=dense, lexical=lexical_hits, k=request.k,
                mode=request.mode, per_file=per_file, dense_weight=dense_weight,
            )
            rows = [
                {
                    "file": hit.file,
                    "score": round(float(hit.score), 6),
                    "units": [_unit_fields(build.units[position]) for position in hit.positions],
                }
                for hit in hits
            ]
            return SearchOutcome(rows, embed_seconds, tuple(warnings), coverage)
        wanted = max(request.k, RERANK_CANDIDATES) if request.rerank else request.k
        ranked = ranking.rank(
            request.query, build.units, dense=dense, lexical=lexical_hits, k=wanted,
            mode=request.mode, dense_weight=dense_weight,
        )
        if request.rerank:
            ranked = _reranked(request.query, build, ranked, warnings)
        rows = []
        if request.expand and graph is None:
            graph = self._committed_graph(build)
        for position, score in ranked[: request.k]:
            unit = build.units[position]
            row = _row(unit, score)
            if request.snippets:
                row["snippet"] = build.full_unit(position).code
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
        return SearchOutcome(rows, embed_seconds, tuple(warnings), coverage)

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
        self,
        build: LoadedBuild,
        request: SearchRequest,
        warnings: list[str],
        allowed: Collection[str] | None,
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]], float, float]:
        """Dense and lexical candidates, the embedding seconds, the dense fusion weight.

        When the vector engine fails (a server backend that is down), the
        lexical candidates of the same build still answer, with a warning.
        """
        keep = _filter(build.units, lang=request.lang, path_prefix=request.path_prefix,
                       unit_type=request.unit_type)
        dense: list[tuple[int, float]] = []
        embed_seconds, weight = 0.0, 1.0
        if request.mode != "lexical":
            try:
                dense, embed_seconds, weight = self._dense(build, request, keep, allowed)
            except BackendError as exc:
                if request.mode == "dense" or build.lexical_index is None:
                    raise
                message = f"vector search skipped, lexical results only: {exc}"
                logger.warning("%s", message)
                warnings.append(message)
        lexical_hits: list[tuple[int, float]] = []
        if request.mode != "dense" and build.lexical_index is not None:
            lexical_index = build.lexical_index
            lexical_hits = _candidates(
                lambda n: lexical_index.search(request.query, n),
                want=max(ranking.CANDIDATES_LEXICAL, request.k),
                total=len(build.units),
                keep=keep,
            )
        return dense, lexical_hits, embed_seconds, weight

    def _dense(
        self,
        build: LoadedBuild,
        request: SearchRequest,
        keep: Callable[[int], bool] | None,
        allowed: Collection[str] | None,
    ) -> tuple[list[tuple[int, float]], float, float]:
        """Dense hits of every usable tier, merged (spec 020); seconds; fusion weight."""
        want = max(ranking.CANDIDATES_DENSE, request.k)
        use = tiers.available_tiers(build, allowed)
        if build.fast_index is None and allowed is None:
            use = (tiers.FULL,)  # a build without a fast tier: exactly the pre-020 path
        fast_embedder = self.fast_embedder(build.metadata) if tiers.FAST in use else None
        share = tiers.full_share(build) if tiers.FULL in use else 0.0
        total = len(build.units)
        seconds = 0.0
        full: list[tuple[int, float]] = []
        if tiers.FULL in use:
            embedder = self.embedder(build.metadata)
            started = time.perf_counter()
            query_vector = embedder.embed_query(request.query)
            seconds += time.perf_counter() - started
            full = _candidates(
                lambda n: _dense_search(build, build.vector_index, query_vector, n),
                want=want if fast_embedder is None else tiers.share_of(want, share),
                total=total,
                keep=keep,
            )
        if fast_embedder is None:
            return full, seconds, tiers.dense_weight(build.metadata.model)
        started = time.perf_counter()
        fast_vector = fast_embedder.embed_query(request.query)
        seconds += time.perf_counter() - started
        # Hits the full model covers are dropped: ask for enough that `n` remain.
        widen = 1.0 / max(1.0 - share, 0.01)
        fast = _candidates(
            lambda n: _dense_search(build, build.fast_index, fast_vector,
                                    min(total, round(n * widen))),
            want=tiers.share_of(want, 1.0 - share),
            total=total,
            keep=_without_full(build, keep) if tiers.FULL in use else keep,
        )
        merged = tiers.merge_by_coverage(full, fast, share, want)
        return merged, seconds, tiers.dense_weight(build.metadata.model, share)

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
    """What `Searcher.run` found: rows best first, the query embedding's time, warnings.

    `dense` describes a partial build's vectors (`tldr.semantic.query.coverage.search_plan`;
    `tldr.output.dense_note` words it); None when every unit has a vector.
    """

    rows: list[dict[str, Any]]
    embed_seconds: float
    warnings: tuple[str, ...] = ()
    dense: dict[str, Any] | None = None


def _request(request: SearchRequest | str, options: dict[str, Any]) -> SearchRequest:
    """The request itself, or one made of a query string and keyword options."""
    if isinstance(request, SearchRequest):
        return request.replace(**options) if options else request
    return SearchRequest.from_params({"query": request, **options})


def _reranked(
    query: str, build: LoadedBuild, ranked: list[tuple[int, float]], warnings: list[str]
) -> list[tuple[int, float]]:
    from tldr.semantic.models.rerank import get_reranker
    from tldr.semantic.text import embedding_text

    try:
        texts = [embedding_text(build.full_unit(p)) for p, _ in ranked]
        scores = get_reranker().rerank(query, texts)
    except TldrError as exc:  # the reranker logged it, once; each answer says it
        warnings.append(str(exc))
        return ranked
    return sorted(
        ((position, score) for (position, _), score in zip(ranked, scores, strict=True)),
        key=lambda hit: -hit[1],
    )


def _dense_search(
    build: LoadedBuild, index: Any, query_vector: Any, n: int
) -> list[tuple[int, float]]:
    keys, scores = index.search(query_vector, n)
    positions = build.positions_of_keys(keys)
    return [
        (position, score)
        for position, score in zip(positions, scores.tolist(), strict=True)
        if position is not None
    ]


def _without_full(
    build: LoadedBuild, keep: Callable[[int], bool] | None
) -> Callable[[int], bool]:
    """`keep`, less the units the full model's index covers (the fast tier answers the rest)."""
    has_full = build.has_full

    def fast_only(position: int) -> bool:
        return not has_full[position] and (keep is None or keep(position))

    return fast_only


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
    """The whole unit a `get_unit` names (see `Searcher.get_unit`)."""
    units = build.units
    if qualified_name:
        matches = [
            position
            for position, unit in enumerate(units)
            if unit.qualified_name == qualified_name and (not file or unit.file == file)
        ]
        if not matches:
            short = qualified_name.rsplit(".", 1)[-1]
            near = sorted({units[p].qualified_name for p in build.positions_named(short)})
            hint = f"; units named {short!r}: {', '.join(near[:10])}" if near else ""
            raise ConfigError(f"no unit with qualified name {qualified_name!r}{hint}")
        heads = {position: units[position] for position in matches}
        return build.full_unit(min(matches, key=lambda p: (heads[p].file, heads[p].line)))
    if file and line is not None:
        spanning = {
            position: unit
            for position, unit in enumerate(units)
            if unit.file == file.strip("/") and unit.line <= line <= unit.end_line
        }
        if not spanning:
            raise ConfigError(f"no unit spans {file}:{line}")
        innermost = min(spanning, key=lambda p: spanning[p].end_line - spanning[p].line)
        return build.full_unit(innermost)
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
