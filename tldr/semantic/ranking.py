"""Fusion and ranking of dense and lexical candidates.

`rank` turns the two candidate lists into the final order:

1. Reciprocal-rank fusion with weights that depend on the query kind
   (identifiers lean on BM25, questions on the embedding).
2. Boosts: the definition of a queried symbol, files whose path names the
   query's words.
3. Demotions: tests, examples, vendored/compat code and re-export modules,
   unless the query asks for them.
4. File support: a unit in a file with several strong hits rises.
5. Diversity: each further unit of an already ranked file is discounted, so
   the top 10 spans several files.

Every tunable constant lives in the "Ranking constants" block with the
reason for its value. Nothing here imports numpy: ranking ~200 candidates
in pure Python takes well under a millisecond.
"""

from __future__ import annotations

import enum
import functools
import heapq
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tldr.semantic.lexical import path_tokens, tokenize

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

MODES = ("hybrid", "dense", "lexical")

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

# Definitions of the queried symbol: exact spelling, same letters in another
# case or separator style, or an identifier named inside a question.
DEF_EXACT = 3.0
DEF_LOOSE = 2.0
DEF_IN_NATURAL = 1.6
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
# shims are real but rarely what a search means.
DEMOTIONS = {"test": 0.5, "example": 0.6, "vendor": 0.5, "compat": 0.7}
# A module unit that only imports/exports names (an `__init__.py` or
# `index.js` barrel) repeats words of the real definitions without being one.
REEXPORT_FACTOR = 0.5
REEXPORT_MIN_SHARE = 0.6
# A directory whose file names largely repeat its parent's (`pkg/v1/main.py`
# next to `pkg/main.py`, `pkg/deprecated/config.py` next to `pkg/config.py`)
# is an old copy of the API kept for compatibility: demoted like compat code.
MIRROR_MIN_COMMON = 3
MIRROR_MIN_SHARE = 0.5

# File support: a file's score is its best unit plus decaying shares of its
# next units; each unit then mixes in its file's score.
FILE_SUPPORT_DECAY = 0.5
FILE_SUPPORT_UNITS = 4
FILE_MIX = 0.3
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
_TEST_PARTS = frozenset(
    "test tests testing __tests__ __mocks__ spec specs testdata fixtures e2e".split()
)
_TEST_NAME = re.compile(
    r"^(test_.*|.*_test|.*_spec|conftest|.*\.(test|spec)|.*Tests?|.*_tests)$", re.IGNORECASE
)
_EXAMPLE_PARTS = frozenset("example examples demo demos sample samples docs_src".split())
_VENDOR_PARTS = frozenset(
    "vendor vendored _vendor third_party thirdparty third-party node_modules extern".split()
)
_COMPAT_PARTS = frozenset("compat _compat compatibility legacy deprecated polyfills".split())
_REEXPORT_FILES = frozenset("__init__ index mod lib".split())
_CODE_EXTENSIONS = frozenset(
    "py pyi js jsx mjs cjs ts tsx go rs java kt kts rb c h cc cpp hpp cs swift php scala "
    "lua sh md json toml yaml yml".split()
)
_IMPORT_LINE = re.compile(
    r"^\s*(from\s+\S+\s+import\b|import\b|export\b|module\.exports|exports\.|pub\s+use\b"
    r"|use\s|#include|__all__|(const|let|var)\s+[\w{}\s,]+=\s*require\("
    r"|[\w\"'.]+,\s*$|[)\]}];?\s*$)"
)
_ASKS = {
    "test": frozenset("test tests testing spec specs fixture fixtures mock mocks".split()),
    "example": frozenset("example examples demo demos sample samples tutorial".split()),
    "vendor": frozenset("vendor vendored third party".split()),
    "compat": frozenset("compat compatibility legacy deprecated deprecation old v1".split()),
    "reexport": frozenset("export exports reexport init package index".split()),
}


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


@dataclass(frozen=True)
class _FileInfo:
    tokens: frozenset[str]
    stem: str
    depth: int
    kinds: frozenset[str]


@functools.lru_cache(maxsize=65536)
def _file_info(path: str) -> _FileInfo:
    parts = path.split("/")
    name = parts[-1]
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    full_stem = name.rsplit(".", 1)[0] if "." in name else name
    dirs = {p.lower() for p in parts[:-1]}
    kinds: set[str] = set()
    if dirs & _TEST_PARTS or _TEST_NAME.match(full_stem):
        kinds.add("test")
    if dirs & _EXAMPLE_PARTS:
        kinds.add("example")
    if dirs & _VENDOR_PARTS:
        kinds.add("vendor")
    if dirs & _COMPAT_PARTS or stem.lower() in _COMPAT_PARTS:
        kinds.add("compat")
    return _FileInfo(
        tokens=frozenset(path_tokens(path)),
        stem=stem.lower(),
        depth=len(parts) - 1,
        kinds=frozenset(kinds),
    )


@functools.lru_cache(maxsize=65536)
def _is_reexport(file: str, unit_type: str, code: str) -> bool:
    if unit_type != "module":
        return False
    lines = [
        ln
        for ln in code.splitlines()
        if ln.strip() and not ln.lstrip().startswith(("#", "//", "/*", "*", '"""', "'''"))
    ]
    if not lines:
        return _file_info(file).stem in _REEXPORT_FILES
    share = sum(1 for ln in lines if _IMPORT_LINE.match(ln)) / len(lines)
    return share >= REEXPORT_MIN_SHARE


@dataclass(frozen=True)
class _Project:
    """Project-wide facts ranking needs, computed once per units sequence."""

    n_files: int
    path_df: dict[str, int]  # path token -> number of files whose path has it
    mirror_files: frozenset[str]  # files under a directory that mirrors its parent
    names: dict[str, frozenset[str]] = field(default_factory=dict)  # memo: informative
    similar: dict[str, frozenset[str]] = field(default_factory=dict)  # memo: word -> names


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
    files = sorted({u.file for u in units})
    path_df: dict[str, int] = {}
    stems: dict[str, set[str]] = {}
    for f in files:
        for tok in _file_info(f).tokens:
            path_df[tok] = path_df.get(tok, 0) + 1
        directory, _, name = f.rpartition("/")
        stem = name.split(".", 1)[0]
        if stem not in _REEXPORT_FILES:
            stems.setdefault(directory, set()).add(stem)
    mirrored = set()
    for directory, own in stems.items():
        if not directory:
            continue
        parent = directory.rpartition("/")[0]
        common = own & stems.get(parent, set())
        if len(common) >= MIRROR_MIN_COMMON and len(common) >= MIRROR_MIN_SHARE * len(own):
            mirrored.add(directory + "/")
    mirror_files = frozenset(f for f in files if any(f.startswith(d) for d in mirrored))
    project = _Project(n_files=len(files), path_df=path_df, mirror_files=mirror_files)
    _PROJECT = (units, project)
    return project


@functools.lru_cache(maxsize=65536)
def _norm_ident(word: str) -> str:
    return word.replace("_", "").replace("-", "").lower()


@functools.lru_cache(maxsize=65536)
def _similar(a: str, b: str) -> bool:
    """Whether two (stemmed) words name the same thing.

    Equal, the same stem-ish prefix (`routing`/`routes`, `resolution`/
    `resolver`), or one contains the other (`dispatch` in `urldispatcher`).
    """
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4:
        return False
    if len(long_) - len(short) <= 4:
        need = max(4, len(short) - 3)
        if long_[:need] == short[:need]:
            return True
    return short in long_


@dataclass
class _Query:
    kind: QueryKind
    raw: str
    symbol: str  # last segment of a symbol query, as typed
    tokens: list[str]  # content tokens (stemmed, no filler, no whole compounds)
    identifiers: set[str]  # folded names the query spells: `ClientSession`, `client session`
    asks: set[str]  # kinds of normally demoted files the query asks for


_WORDS = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_COMPOUND = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")


def _parse(query: str) -> _Query:
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
        a + b for a, b in itertools.pairwise(content) if a in content_set and b in content_set
    }
    lowered = set(content)
    asks = {name for name, trig in _ASKS.items() if lowered & trig}
    tokens = [t for t in dict.fromkeys(tokenize(q)) if t.isalpha() or not t.isalnum()]
    if len(tokens) > 1:
        tokens = [t for t in tokens if _norm_ident(t) not in spelled]
    return _Query(kind, q, symbol, tokens, spelled | joined, asks)


_FILLER = frozenset(
    "a an and are as at be by do does for from how i in is it of on or the to what when "
    "where which why with this that these those can".split()
)


def _fuse(
    q: _Query, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], mode: str
) -> dict[int, float]:
    w_dense, w_lex = WEIGHTS[q.kind.value]
    if q.kind is QueryKind.NATURAL and _spells_identifier(q):
        w_lex += IDENTIFIER_IN_QUERY_LEXICAL
    if mode == "dense":
        w_lex = 0.0
    elif mode == "lexical":
        w_dense = 0.0
    fused: dict[int, float] = {}
    for weight, hits in ((w_dense, dense), (w_lex, lexical)):
        if weight <= 0.0:
            continue
        for r, (pos, _score) in enumerate(hits, 1):
            fused[pos] = fused.get(pos, 0.0) + weight / (RRF_K + r)
    return fused


def _spells_identifier(q: _Query) -> bool:
    return any("_" in w.strip("_") or _COMPOUND.search(w) for w in _WORDS.findall(q.raw))


def _path_matches(q: _Query, files: set[str], project: _Project) -> dict[str, float]:
    """Share of the query's words that each file's path names.

    A path word shared by more than `PATH_MAX_FILE_SHARE` of the project's
    files (the root package, `src`) neither matches nor counts.
    """
    if not q.tokens or not files:
        return {}
    limit = max(1.0, PATH_MAX_FILE_SHARE * project.n_files)
    informative = [t for t in q.tokens if project.path_df.get(t, 0) <= limit]
    if not informative:
        return {}
    similar = []
    for t in informative:
        found = project.similar.get(t)
        if found is None:
            found = project.similar[t] = frozenset(
                p for p, df in project.path_df.items() if df <= limit and _similar(t, p)
            )
        similar.append(found)
    shares: dict[str, float] = {}
    for f in files:
        names = project.names.get(f)
        if names is None:
            names = project.names[f] = frozenset(
                p for p in _file_info(f).tokens if project.path_df.get(p, 0) <= limit
            )
        hit = sum(1 for found in similar if not found.isdisjoint(names))
        if hit:
            shares[f] = hit / len(informative)
    return shares


def _definition_factor(q: _Query, unit: Unit, min_depth: int) -> float:
    if unit.unit_type == "module":
        return 1.0
    name = unit.name
    if q.kind is QueryKind.SYMBOL:
        qualified_ok = "." not in q.raw or unit.qualified_name.endswith(
            _SPLIT_QUALIFIED.sub(".", q.raw.removesuffix("()"))
        )
        if name == q.symbol and qualified_ok:
            factor = DEF_EXACT
        elif _norm_ident(name) == _norm_ident(q.symbol):
            factor = DEF_LOOSE
        else:
            return 1.0
        return factor * DEF_DEPTH_DECAY ** (_file_info(unit.file).depth - min_depth)
    if q.identifiers and _norm_ident(name) in q.identifiers:
        return DEF_IN_NATURAL
    return 1.0


def _file_demotion(q: _Query, file: str, project: _Project) -> float:
    """Product of the demotions that apply to `file` and that `q` does not lift."""
    kinds = _file_info(file).kinds
    if file in project.mirror_files:
        kinds = kinds | {"compat"}
    factor = 1.0
    for kind in kinds:
        if kind not in q.asks:
            factor *= DEMOTIONS[kind]
    return factor


def _scored(
    query: str,
    units: Sequence[Unit],
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    mode: str,
) -> tuple[dict[int, float], dict[str, float]]:
    """Unit scores after fusion, boosts and demotions, and file scores."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    q = _parse(query)
    fused = _fuse(q, dense, lexical, mode)
    if not fused:
        return {}, {}
    top = max(fused.values())
    project = _project(units)
    files = {units[p].file for p in fused}
    path_share = _path_matches(q, files, project)
    stem_hit = _norm_ident(q.symbol) if q.kind is QueryKind.SYMBOL else ""
    defs = [p for p in fused if _norm_ident(units[p].name) == stem_hit] if stem_hit else []
    min_depth = min((_file_info(units[p].file).depth for p in defs), default=0)
    defs_possible = bool(stem_hit) or bool(q.identifiers)

    file_factor: dict[str, float] = {}
    for f in files:
        factor = _file_demotion(q, f, project) * (1.0 + PATH_BOOST * path_share.get(f, 0.0))
        if stem_hit and _norm_ident(_file_info(f).stem) == stem_hit:
            factor *= STEM_EXACT
        file_factor[f] = factor
    scores: dict[int, float] = {}
    by_file: dict[str, list[float]] = {}
    unit_file: dict[int, str] = {}
    check_reexport = "reexport" not in q.asks
    for pos, s in fused.items():
        unit = units[pos]
        f = unit.file
        s = s / top * file_factor[f]
        if defs_possible:
            s *= _definition_factor(q, unit, min_depth)
        if check_reexport and unit.unit_type == "module":
            if _is_reexport(f, unit.unit_type, unit.code):
                s *= REEXPORT_FACTOR
        scores[pos] = s
        unit_file[pos] = f
        vals = by_file.get(f)
        if vals is None:
            by_file[f] = [s]
        else:
            vals.append(s)

    file_scores: dict[str, float] = {}
    for f, vals in by_file.items():
        if len(vals) == 1:
            file_scores[f] = vals[0]
            continue
        vals.sort(reverse=True)
        file_scores[f] = sum(
            v * FILE_SUPPORT_DECAY**i for i, v in enumerate(vals[:FILE_SUPPORT_UNITS])
        )
    keep = 1.0 - FILE_MIX
    for pos, s in scores.items():
        scores[pos] = keep * s + FILE_MIX * file_scores[unit_file[pos]]
    return scores, file_scores


def rank(
    query: str,
    units: Sequence[Unit],
    *,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    k: int,
    mode: str = "hybrid",
) -> list[tuple[int, float]]:
    """Fuse, boost, demote and diversify candidates into the final top `k`.

    Args:
        query: The user's query.
        units: All units of the index; candidate positions index into it.
        dense: `(position, cosine similarity)` from the vector index, best first.
        lexical: `(position, BM25 score)` from `LexicalIndex.search`, best first.
        k: How many results to return.
        mode: `hybrid` (both lists), `dense` or `lexical` (one list; the
            ranking rules still apply).

    Returns:
        `(position, score)` pairs, best first, at most `k`; higher is better.
    """
    scores, _ = _scored(query, units, dense, lexical, mode)
    ordered = sorted(scores.items(), key=lambda it: (-it[1], it[0]))
    seen: dict[str, int] = {}
    diversified: list[tuple[int, float]] = []
    kth: list[float] = []  # min-heap of the best k diversified scores so far
    for pos, s in ordered:
        if len(kth) >= k and kth[0] > s:
            break  # every later unit scores below the current top k
        f = units[pos].file
        n = seen.get(f, 0)
        seen[f] = n + 1
        d = s * DIVERSITY**n
        diversified.append((pos, d))
        if len(kth) < k:
            heapq.heappush(kth, d)
        elif d > kth[0]:
            heapq.heapreplace(kth, d)
    diversified.sort(key=lambda it: (-it[1], it[0]))
    return diversified[:k]


def rank_files(
    query: str,
    units: Sequence[Unit],
    *,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    k: int,
    mode: str = "hybrid",
    per_file: int = 3,
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

    Returns:
        Files best first, each with its score and best unit positions.
    """
    scores, file_scores = _scored(query, units, dense, lexical, mode)
    best: dict[str, list[int]] = {}
    for pos, _s in sorted(scores.items(), key=lambda it: (-it[1], it[0])):
        best.setdefault(units[pos].file, []).append(pos)
    ordered = sorted(file_scores.items(), key=lambda it: (-it[1], it[0]))[:k]
    return [FileHit(file=f, score=s, positions=best[f][:per_file]) for f, s in ordered]
