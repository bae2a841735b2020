"""Fusion and ranking of dense and lexical candidates.

`rank` turns the two candidate lists into the final order:

1. Reciprocal-rank fusion with weights that depend on the query kind
   (identifiers lean on BM25, questions on the embedding, less so when
   BM25 has one clear winner); a retriever's clear first hit keeps a place
   near the top even when the other list misses it.
2. Boosts: the definition of a queried symbol, files whose path names the
   query's words. An exact-case type-like definition of a symbol query
   (`TYPE_LIKE`) goes above everything.
3. Demotions: tests, examples, vendored/compat code and docs, unless the
   query asks for them.
4. File support: a unit in a file with several strong hits rises.
5. Diversity: each further unit of an already ranked file is discounted, so
   the top 10 spans several files.

Every factor lives in the "Ranking constants" block with the reason for
its value; what makes a file a test, an example, vendored or compat code,
docs or an old API copy is `file_kinds`' job. Nothing here
imports numpy: facts about units and files are computed once per units list,
so ranking ~200 candidates in pure Python takes 0.2-0.3 ms at 10k units.
"""

from __future__ import annotations

import enum
import functools
import heapq
import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tldr.semantic.lexical import ARTICLES, MAX_QUERY_CHARS, tokenize
from tldr.semantic.query.file_kinds import ASKS, ProjectFiles

if TYPE_CHECKING:
    from tldr.units.model import Unit

__all__ = [
    "CANDIDATES_DENSE",
    "CANDIDATES_LEXICAL",
    "MODES",
    "FileHit",
    "QueryKind",
    "classify_query",
    "rank",
    "rank_files",
]

# ---------------------------------------------------------------- Ranking constants
# How many candidates each retriever contributes. 100 + 100 covers the
# relevant units for nearly every query while keeping ranking well under 1 ms.
CANDIDATES_DENSE = 100
CANDIDATES_LEXICAL = 100

from tldr.request import MODES  # noqa: E402  (the one definition)

# Reciprocal-rank fusion: score = sum of weight / (RRF_K + rank). 60 is the
# value of the original RRF paper; lower sharpens the head of each list.
RRF_K = 20.0
# Retriever weights (dense, lexical) per query kind. Identifiers are spelled
# exactly in code, so BM25 leads for them. For questions the embedding leads:
# unit-level BM25 on English words is noisy (every unit says "model" or
# "request"), and the words that matter also reach the ranking through the
# path and definition boosts; at 0.5 BM25 still breaks ties between
# near-equal dense hits (measured: 0.3-1.0 all within 0.015 NDCG@10).
WEIGHTS = {
    "symbol": (0.5, 1.0),
    "natural": (1.0, 0.5),
    "path": (0.3, 1.0),
}
# A natural-language query that names an identifier (`ClientSession`,
# `model_post_init`) gives BM25 this much more weight.
IDENTIFIER_IN_QUERY_LEXICAL = 0.3
# How sure BM25 is, per question: when its best score stands far above its
# 10th (a rare word of the query matched), its list is worth more; when the
# scores are flat (every unit says "request"), less is lost by leaning on the
# embedding. The lexical weight is multiplied by 1 + LEXICAL_CONFIDENCE * (1 -
# 10th score / best score). --sweep over all 19 corpora, leave-one-language-
# out: 0.5 +0.0031 overall, worst held-out +0.0012 (c +0.015, kotlin +0.022,
# lua +0.037, ruby +0.018; typescript -0.029, python -0.005); 0.25 and 2 do
# not generalize, 1 gains less, 0.75 one query-rank more (kept the smaller
# change); the 5th or 20th score instead of the 10th lower it; the same rule
# for the embedding's scores loses everywhere (specs/009-ranking.md).
LEXICAL_CONFIDENCE = 0.5
# A retriever's first hit that stands clear of its next ones (best score minus
# the 2nd at least WINNER_MARGIN of best minus the 10th) is fused no lower
# than the WINNER_FLOOR-th best other candidate: RRF counts agreement, so a
# unit both lists put near their 10th place outscores one list's clear winner
# that the other list misses ("set a cookie", issue 21). Only a floor, not the
# top: such a winner is right less often than the agreement (spec 015).
# --sweep over all 22 corpora, leave-one-language-out: 0.3 +0.0007, worst
# held-out +0.0003 (kotlin, lua, php up; c, scala -0.001); 0.5 +0.0005; a
# floor at the best other candidate, or a bonus by margin, lower it.
WINNER_MARGIN = 0.3
WINNER_FLOOR = 3

# Definitions of the queried symbol: exact spelling, same letters in another
# case or separator style, or an identifier named inside a question.
DEF_EXACT = 3.0
DEF_LOOSE = 2.0
# 1.3 (was 1.6): a question that names an identifier, or runs two of its words
# together (`coverage provider`), is about more than that one definition.
# --sweep over all 19 corpora: +0.0014 overall, positive with every language
# held out (kotlin, ruby, scala, typescript +0.01, csharp -0.018); 1.15 and
# 1.45 both lower (specs/009-ranking.md).
DEF_IN_NATURAL = 1.3
# Unit types that define a type (or a macro): for a symbol query, such a unit
# spelled exactly as typed is what the user names (`Serialize` the Rust trait,
# not the hundred `serialize` impl methods), so these come first, whatever
# their fused score; their order among themselves is the usual score.
TYPE_LIKE = frozenset(
    "class struct trait interface enum protocol type typedef union macro record object".split()
)
# A natural-language query ("how does X work") is answered by code that does
# X; a declaration of X's data (a struct, a TypeScript interface or type, a
# class without methods or calls) names X as well and crowds out the code,
# even when the question names it ("how CoverageProvider is set up").
# --sweep over all 19 corpora, leave-one-language-out: 0.55 +0.0039 overall,
# worst held-out +0.0020 (cpp +0.035, haskell +0.039, typescript +0.022,
# c +0.008; python -0.006, ruby -0.009); 0.85 does not generalize, 0.7, 0.4
# and 0.25 gain less; sparing declarations the query names gained less
# (+0.0026) (specs/009-ranking.md).
DECLARATION_FACTOR = 0.55
# Among several definitions of one name, the least nested file is usually the
# canonical one (`pkg/main.py` over `pkg/v1/main.py`): per extra directory level.
DEF_DEPTH_DECAY = 0.9
# A symbol query that equals a file stem (`response` -> lib/response.js).
STEM_EXACT = 2.0
# Files whose path names the query's words: up to (1 + PATH_BOOST).
PATH_BOOST = 1.0
# A query word that matches more than this share of the candidate files'
# paths (the project's root package, `model` in model2vec) says nothing.
PATH_MAX_FILE_SHARE = 0.3

# Demotions, lifted when the query asks for that kind of file (its words name
# it: "tests", "example", "deprecated"...). Tests and vendored code repeat the
# words of the code under test or of another project; examples and compat
# shims are real but rarely what a search means. Docs and configuration files
# (Markdown, YAML...) describe the code in the query's own words and would
# crowd it out; 0.3 was measured on the development set (specs/009-ranking.md).
DEMOTIONS = {"test": 0.5, "example": 0.6, "vendor": 0.5, "compat": 0.7, "docs": 0.3}
# Old API copies (`pkg/v1/` mirroring `pkg/`) count as compat
# (`file_kinds.mirror_directories`).
# Module units that only import/export names (`__init__.py`, `index.ts`
# barrels) are not demoted: demoting them x0.5 lost NDCG@10 on the whole
# development set (specs/009-ranking.md, "Weak languages"): a public barrel is
# often the answer (vitest `public/reporters.ts`, tokio's `mod.rs` files).

# File support: a file's score is its best unit plus decaying shares of its
# next units; each unit then mixes in its file's score. 0.3 (was 0.5):
# bench_quality --sweep over 10 corpora in 7 languages, no language lower,
# higher with each language held out (bash +0.028, lua +0.012, python +0.001);
# more aggregation (0.7, 8 units, FILE_MIX 0.4-0.5) lowered every held-out mean.
FILE_SUPPORT_DECAY = 0.3
FILE_SUPPORT_UNITS = 4
# Share of a unit's score that comes from its file's score, per query kind: a
# question about how something works is answered by a file as much as by one
# unit; a symbol query by its definition.
FILE_MIX = {"symbol": 0.3, "natural": 0.3, "path": 0.3}
# Diversity: the n-th further unit of one file is multiplied by DIVERSITY^n.
# Users scan the first results for the right *file*; ten hits from one file
# hide the second file they need. 0.4 lets a file's second unit through only
# when it clearly beats every other file's best (0.3-0.5 measured flat).
DIVERSITY = 0.4
# --------------------------------------------------------------------------------


class QueryKind(enum.Enum):
    """What a query looks like."""

    SYMBOL = "symbol"
    """One identifier or qualified name (`ClientSession`, `a.b.run`, `A::new`)."""
    NATURAL = "natural"
    """Words: a question or a description."""
    PATH = "path"
    """A file path or file name (`routing.py`, `src/lib`)."""


@dataclass(frozen=True)
class FileHit:
    """One file in `--files` output: its score and best unit positions."""

    file: str
    score: float
    positions: list[int] = field(default_factory=list)


_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*"
_SYMBOL_RE = re.compile(rf"{_IDENT}(?:(?:\.|::|#|->){_IDENT})*(?:\(\))?")
_PATH_RE = re.compile(r"(?:[\w.-]+/)+[\w.-]*|[\w-]+\.[A-Za-z][A-Za-z0-9]{0,4}")
_SPLIT_QUALIFIED = re.compile(r"\.|::|#|->")
_CODE_EXTENSIONS = frozenset(
    "py pyi js jsx mjs cjs ts tsx go rs java kt kts rb c h cc cpp hpp cs swift php scala "
    "lua sh md json toml yaml yml".split()
)
_WORDS = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_COMPOUND = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")
_FILLER = frozenset(
    "a an and are as at be by do does for from how i in is it of on or the to what when "
    "where which why with this that these those can".split()
)


def classify_query(query: str) -> QueryKind:
    """Tell identifier and path queries from natural-language ones.

    Args:
        query: The raw query.

    Returns:
        `SYMBOL` for one identifier or qualified name (optionally with `()`),
        `PATH` for something shaped like a file path or file name, otherwise
        `NATURAL`.
    """
    q = query.strip()
    if not q or any(c.isspace() for c in q):
        return QueryKind.NATURAL
    if _SYMBOL_RE.fullmatch(q) and not _looks_like_filename(q):
        return QueryKind.SYMBOL
    if _PATH_RE.fullmatch(q):
        return QueryKind.PATH
    return QueryKind.NATURAL


def _looks_like_filename(q: str) -> bool:
    head, _, ext = q.rpartition(".")
    return bool(head) and "." not in head and ext.lower() in _CODE_EXTENSIONS


@functools.lru_cache(maxsize=65536)
def _norm_ident(word: str) -> str:
    return word.replace("_", "").replace("-", "").lower()


class _Project:
    """Facts about every unit and file that ranking needs, computed once.

    Per unit position: its file's id in `files` and its folded name; the
    positions of module units and of data declarations (class-like units
    with no member units, calls or control flow).
    """

    def __init__(self, units: Sequence[Unit]) -> None:
        self.files = ProjectFiles((u.file for u in units), max_share=PATH_MAX_FILE_SHARE)
        id_of = self.files.id_of
        self.file_of = [id_of[u.file] for u in units]
        self.folded = [_norm_ident(u.name) for u in units]
        self.modules = frozenset(i for i, u in enumerate(units) if u.unit_type == "module")
        owners = {
            (u.file, u.qualified_name.rpartition(".")[0])
            for u in units
            if u.unit_type in ("function", "method")
        }
        self.declarations = frozenset(
            i
            for i, u in enumerate(units)
            if u.unit_type == "class"
            and not (u.calls or u.branches or u.loops)
            and (u.file, u.qualified_name) not in owners
        )


_PROJECT: tuple[Sequence[Unit], _Project] | None = None


def _project(units: Sequence[Unit]) -> _Project:
    """The `_Project` of `units`, cached for the last sequence seen.

    The search path passes the same sequence object for every query of one
    build, so an identity check is enough; a new build computes it once.
    """
    global _PROJECT
    cached = _PROJECT
    if cached is not None and cached[0] is units:
        return cached[1]
    project = _Project(units)
    _PROJECT = (units, project)
    return project


@dataclass(frozen=True)
class _Query:
    kind: QueryKind
    raw: str
    symbol: str  # last segment of a symbol query, as typed
    tokens: list[str]  # content tokens (stemmed, no filler, no whole compounds)
    spelled: frozenset[str]  # folded identifiers written as such: `ClientSession`
    identifiers: frozenset[str]  # spelled, plus adjacent words run together
    asks: frozenset[str]  # kinds of normally demoted files the query asks for


def _parse(query: str) -> _Query:
    query = query[:MAX_QUERY_CHARS]
    kind = classify_query(query)
    q = query.strip()
    symbol = ""
    if kind is QueryKind.SYMBOL:
        symbol = _SPLIT_QUALIFIED.split(q.removesuffix("()"))[-1]
    words = _WORDS.findall(q)
    spelled = {_norm_ident(w) for w in words if "_" in w.strip("_") or _COMPOUND.search(w)}
    content = [w.lower() for w in words]
    content_set = {w for w in content if w not in _FILLER}
    joined = {
        a + b
        for a, b in itertools.pairwise(w for w in content if w not in ARTICLES)
        if a in content_set and b in content_set
    }
    lowered = set(content)
    asks = frozenset(name for name, trig in ASKS.items() if lowered & trig)
    tokens = [t for t in dict.fromkeys(tokenize(q)) if t.isalpha() or not t.isalnum()]
    if len(tokens) > 1:
        tokens = [t for t in tokens if _norm_ident(t) not in spelled]
    return _Query(kind, q, symbol, tokens, frozenset(spelled), frozenset(spelled | joined), asks)


def _fuse(
    q: _Query,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    mode: str,
    dense_weight: float = 1.0,
) -> dict[int, float]:
    w_dense, w_lex = WEIGHTS[q.kind.value]
    w_dense *= dense_weight
    if q.kind is QueryKind.NATURAL:
        if q.spelled:
            w_lex += IDENTIFIER_IN_QUERY_LEXICAL
        if len(lexical) > 1 and lexical[0][1] > 0.0:
            tenth = lexical[min(9, len(lexical) - 1)][1]
            w_lex *= 1.0 + LEXICAL_CONFIDENCE * (1.0 - tenth / lexical[0][1])
    if mode == "dense":
        w_lex = 0.0
    elif mode == "lexical":
        w_dense = 0.0
    fused: dict[int, float] = {}
    get = fused.get
    lists = [(w, hits) for w, hits in ((w_dense, dense), (w_lex, lexical)) if w > 0.0 and hits]
    for weight, hits in lists:
        for (pos, _score), c in zip(hits, _rrf(weight, len(hits), RRF_K), strict=True):
            fused[pos] = get(pos, 0.0) + c
    if len(lists) == 2:
        for _weight, hits in lists:
            _keep_clear_winner(fused, hits)
    return fused


def _keep_clear_winner(fused: dict[int, float], hits: list[tuple[int, float]]) -> None:
    """Lift `hits`' first to the `WINNER_FLOOR`-th best other fused score if it stands clear."""
    if len(hits) < 3:
        return
    best, second, tenth = hits[0][1], hits[1][1], hits[min(9, len(hits) - 1)][1]
    if best <= tenth or best - second < WINNER_MARGIN * (best - tenth):
        return
    winner = hits[0][0]
    others = heapq.nlargest(WINNER_FLOOR, (v for p, v in fused.items() if p != winner))
    if len(others) == WINNER_FLOOR:
        fused[winner] = max(fused[winner], others[-1])


@functools.lru_cache(maxsize=8)
def _support(decay: float, n: int) -> tuple[float, ...]:
    """Weights of a file's best units in its score: 1, decay, decay^2... (n of them)."""
    return tuple(decay**i for i in range(n))


@functools.lru_cache(maxsize=64)
def _rrf(weight: float, n: int, k: float) -> tuple[float, ...]:
    """`weight / (k + rank)` for ranks 1..n."""
    return tuple(weight / (k + r) for r in range(1, n + 1))


def _path_shares(q: _Query, fids: set[int], files: ProjectFiles) -> dict[int, float]:
    """Share of the query's informative words that each candidate file's path names.

    A path word shared by more than `PATH_MAX_FILE_SHARE` of the project's
    files (the root package, `src`) neither matches nor counts.
    """
    informative = [t for t in q.tokens if files.informative(t)]
    if not informative:
        return {}
    hits: dict[int, int] = {}
    for t in informative:
        for fid in files.files_naming(t) & fids:
            hits[fid] = hits.get(fid, 0) + 1
    n = len(informative)
    return {fid: hit / n for fid, hit in hits.items()}


def _file_factors(q: _Query, fids: set[int], project: _Project) -> dict[int, float]:
    """Per candidate file: demotions not lifted by `q`, path boost, stem boost."""
    files = project.files
    shares = _path_shares(q, fids, files) if q.tokens else {}
    stem_hit = _norm_ident(q.symbol) if q.kind is QueryKind.SYMBOL else ""
    demotion = files.demotions(q.asks, DEMOTIONS)
    factors = {fid: demotion[fid] for fid in fids}
    for fid, share in shares.items():
        factors[fid] *= 1.0 + PATH_BOOST * share
    if stem_hit:
        stems = files.stems
        for fid in fids:
            if stems[fid] == stem_hit:
                factors[fid] *= STEM_EXACT
    return factors


def _definition_factors(
    q: _Query, units: Sequence[Unit], fused: dict[int, float], project: _Project
) -> tuple[dict[int, float], set[int]]:
    """Boosts of candidates that define the queried symbol or a named identifier.

    Also returns the exact-case type-like definitions of a symbol query,
    which rank first (`TYPE_LIKE`).
    """
    folded = project.folded
    modules = project.modules
    first: set[int] = set()
    if q.kind is QueryKind.SYMBOL:
        target = _norm_ident(q.symbol)
        defs = [p for p in fused if folded[p] == target] if target else []
        if not defs:
            return {}, first
        depths, file_of = project.files.depths, project.file_of
        min_depth = min(depths[file_of[p]] for p in defs)
        qualified = _SPLIT_QUALIFIED.sub(".", q.raw.removesuffix("()")) if "." in q.raw else ""
        out = {}
        for p in defs:
            if p in modules:
                continue
            unit = units[p]
            exact = unit.name == q.symbol and unit.qualified_name.endswith(qualified)
            factor = DEF_EXACT if exact else DEF_LOOSE
            out[p] = factor * DEF_DEPTH_DECAY ** (depths[file_of[p]] - min_depth)
            if exact and unit.unit_type in TYPE_LIKE:
                first.add(p)
        return out, first
    if q.identifiers:
        names = q.identifiers
        factors = {p: DEF_IN_NATURAL for p in fused if folded[p] in names and p not in modules}
        return factors, first
    return {}, first


def _scored(
    query: str,
    units: Sequence[Unit],
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    mode: str,
    dense_weight: float = 1.0,
) -> tuple[dict[int, float], dict[int, float], _Project]:
    """Unit scores after fusion, boosts and demotions, file scores by file id."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    q = _parse(query)
    fused = _fuse(q, dense, lexical, mode, dense_weight)
    project = _project(units)
    if not fused:
        return {}, {}, project
    top = max(fused.values())
    file_of = project.file_of
    file_factor = _file_factors(q, set(map(file_of.__getitem__, fused)), project)
    definition, first = _definition_factors(q, units, fused, project)

    declarations = (
        project.declarations
        if q.kind is QueryKind.NATURAL and DECLARATION_FACTOR != 1.0
        else frozenset()
    )
    scores: dict[int, float] = {}
    by_file: dict[int, list[float]] = {}
    for pos, s in fused.items():
        fid = file_of[pos]
        s = s / top * file_factor[fid]
        if definition and pos in definition:
            s *= definition[pos]
        if pos in declarations:
            s *= DECLARATION_FACTOR
        scores[pos] = s
        vals = by_file.get(fid)
        if vals is None:
            by_file[fid] = [s]
        else:
            vals.append(s)

    support = _support(FILE_SUPPORT_DECAY, FILE_SUPPORT_UNITS)
    file_scores = {
        fid: vals[0]
        if len(vals) == 1
        else sum(map(operator.mul, sorted(vals, reverse=True), support))
        for fid, vals in by_file.items()
    }
    mix = FILE_MIX[q.kind.value]
    keep = 1.0 - mix
    scores = {pos: keep * s + mix * file_scores[file_of[pos]] for pos, s in scores.items()}
    if first:
        # Above every other unit (and file), in their own order.
        lead = max(scores.values())
        for pos in first:
            scores[pos] += lead
        file_lead = max(file_scores.values())
        for fid in {file_of[pos] for pos in first}:
            file_scores[fid] += file_lead
    return scores, file_scores, project


def rank(
    query: str,
    units: Sequence[Unit],
    *,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    k: int,
    mode: str = "hybrid",
    dense_weight: float = 1.0,
) -> list[tuple[int, float]]:
    """Fuse, boost, demote and diversify candidates into the final top `k`.

    Args:
        query: The user's query.
        units: All units of the index; candidate positions index into it.
            Pass the same sequence object for every query of one build: facts
            about its units and files are computed once per object.
        dense: `(position, cosine similarity)` from the vector index, best first.
        lexical: `(position, BM25 score)` from `LexicalIndex.search`, best first.
        k: How many results to return.
        mode: `hybrid` (both lists), `dense` or `lexical` (one list; the
            ranking rules still apply).
        dense_weight: Multiplies the dense list's fusion weight (below 1 for
            a weaker model: the fast tier, spec 020).

    Returns:
        `(position, score)` pairs, best first, at most `k`; higher is better.
    """
    scores, _, project = _scored(query, units, dense, lexical, mode, dense_weight)
    file_of = project.file_of
    seen: dict[int, int] = {}
    diversified: list[tuple[int, float]] = []
    kth: list[float] = []  # min-heap of the best k diversified scores so far
    for pos in _best_positions(scores):
        s = scores[pos]
        if len(kth) >= k and kth[0] > s:
            break  # every later unit scores below the current top k
        f = file_of[pos]
        n = seen.get(f, 0)
        seen[f] = n + 1
        d = s * DIVERSITY**n
        diversified.append((pos, d))
        if len(kth) < k:
            heapq.heappush(kth, d)
        elif d > kth[0]:
            heapq.heapreplace(kth, d)
    diversified.sort(key=_best_first)
    return diversified[:k]


def _best_first(item: tuple[int, float]) -> tuple[float, int]:
    return -item[1], item[0]


def _best_positions(scores: dict[int, float]) -> list[int]:
    """Positions by descending score, ties by position (two C-keyed stable sorts)."""
    return sorted(sorted(scores), key=scores.__getitem__, reverse=True)


def rank_files(
    query: str,
    units: Sequence[Unit],
    *,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    k: int,
    mode: str = "hybrid",
    per_file: int = 3,
    dense_weight: float = 1.0,
) -> list[FileHit]:
    """Rank files instead of units (`--files`).

    Args:
        query: The user's query.
        units: All units of the index.
        dense: Dense candidates, as for `rank`.
        lexical: Lexical candidates, as for `rank`.
        k: How many files.
        mode: As for `rank`.
        per_file: How many best unit positions to keep per file.
        dense_weight: As for `rank`.

    Returns:
        Files best first, each with its score and best unit positions.
    """
    scores, file_scores, project = _scored(query, units, dense, lexical, mode, dense_weight)
    names, file_of = project.files.files, project.file_of
    best: dict[int, list[int]] = {}
    for pos in _best_positions(scores):
        best.setdefault(file_of[pos], []).append(pos)
    ordered = sorted(file_scores.items(), key=lambda it: (-it[1], names[it[0]]))[:k]
    return [FileHit(file=names[f], score=s, positions=best[f][:per_file]) for f, s in ordered]
