"""What kind of file a path is, and which files a query word names.

Ranking demotes tests, examples, vendored and compat code, docs and old
copies of an API unless the query asks for them, and boosts files
whose path names the query's words. This module holds the classification
rules and the per-project index of path words; `ranking` owns the factors
applied to each kind.

`ProjectFiles` is built once per units list (the searcher passes the same
list for every query of a build), so a query pays only dictionary and set
lookups: no regex and no tokenizing per candidate.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from tldr.semantic.lexical import path_tokens

__all__ = [
    "ASKS",
    "KINDS",
    "MAX_PIECE",
    "MIRROR_MIN_COMMON",
    "MIRROR_MIN_SHARE",
    "FileInfo",
    "ProjectFiles",
    "file_info",
    "mirror_directories",
    "similar_words",
]

# ---------------------------------------------------------- Classification constants
# Directory names and file names that mark a kind of file. Matched on whole
# path segments, lowercased, so `contest/` or `latest.py` are not tests.
_TEST_PARTS = frozenset(
    "test tests testing __tests__ __mocks__ spec specs testdata fixtures e2e".split()
)
# `ClientTest`/`ClientTests` only in that case: `latest.py` is not a test.
_TEST_NAME = re.compile(
    r"^(tests?|.*_test|.*_spec|conftest|.*\.(test|spec)|(?-i:.*Tests?)|.*_tests)$",
    re.IGNORECASE,
)
# `test_*` names a test only where a test runner collects that prefix
# (pytest, unittest): bats-core's `lib/bats-core/test_functions.bash` is the
# library itself. Files with these extensions are always tests (bats).
_TEST_PREFIX_EXTENSIONS = frozenset({"py", "pyi"})
_TEST_EXTENSIONS = frozenset({"bats"})
_EXAMPLE_PARTS = frozenset("example examples demo demos sample samples docs_src".split())
_VENDOR_PARTS = frozenset(
    "vendor vendored _vendor third_party thirdparty third-party node_modules extern".split()
)
_COMPAT_PARTS = frozenset("compat _compat compatibility legacy deprecated polyfills".split())
# The kinds a file can have; `ranking.DEMOTIONS` gives each its factor.
KINDS = ("test", "example", "vendor", "compat", "docs")
# Prose and configuration (indexed as `section`/`chunk` units, tldr.units.chunks):
# searchable, but a search usually means the code they describe.
_DOC_EXTENSIONS = frozenset(
    "md markdown mdx rst txt adoc yml yaml json jsonc toml ini cfg conf zon".split()
)

# Words of a query that ask for a normally demoted kind ("client tests",
# "deprecated config"), which lifts that kind's demotion.
ASKS = {
    "test": frozenset("test tests testing spec specs fixture fixtures mock mocks".split()),
    "example": frozenset("example examples demo demos sample samples tutorial".split()),
    "vendor": frozenset("vendor vendored third party".split()),
    "compat": frozenset("compat compatibility legacy deprecated deprecation old v1".split()),
    "docs": frozenset(
        "doc docs documentation readme guide changelog config configuration settings install"
        .split()
    ),
}

# Conventional package entry files (`__init__.py`, `index.ts`, `mod.rs`):
# every directory has one, so sharing them says nothing about a mirror.
_BARREL_FILES = frozenset("__init__ index mod lib".split())

# A directory whose file names largely repeat its parent's (`pkg/v1/main.py`
# next to `pkg/main.py`, `pkg/deprecated/config.py` next to `pkg/config.py`)
# is an old copy of the API kept for compatibility: it counts as compat.
# At least MIRROR_MIN_COMMON shared stems and MIRROR_MIN_SHARE of its own.
MIRROR_MIN_COMMON = 3
MIRROR_MIN_SHARE = 0.5

# Bound on the per-project memo of query word -> matching files; a daemon
# serving arbitrary queries must not grow without limit.
_MATCH_MEMO_MAX = 8192
# Longest path word looked up inside a query word. The lookups cost
# (query word length) x (this) slices, so one pathological 4,000-letter token
# stays linear instead of enumerating all of its substrings; longer path words
# still match by prefix, by containing the query word, or exactly.
MAX_PIECE = 32
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    """What a path says about its file."""

    tokens: frozenset[str]
    """Words of the directory names and file stem (`lexical.path_tokens`)."""
    stem: str
    """File name up to its first dot, lowercased (`index.test.ts` -> `index`)."""
    depth: int
    """Number of directories above the file."""
    kinds: frozenset[str]
    """Kinds (of `KINDS`) the path alone shows; mirror directories need the project."""


@functools.lru_cache(maxsize=65536)
def file_info(path: str) -> FileInfo:
    """Classify a project-relative POSIX path (cached)."""
    parts = path.split("/")
    name = parts[-1]
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    full_stem = name.rsplit(".", 1)[0] if "." in name else name
    dirs = {p.lower() for p in parts[:-1]}
    kinds: set[str] = set()
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if (
        dirs & _TEST_PARTS
        or _TEST_NAME.match(full_stem)
        or (ext in _TEST_PREFIX_EXTENSIONS and full_stem.lower().startswith("test_"))
        or ext in _TEST_EXTENSIONS
    ):
        kinds.add("test")
    if dirs & _EXAMPLE_PARTS:
        kinds.add("example")
    if dirs & _VENDOR_PARTS:
        kinds.add("vendor")
    if dirs & _COMPAT_PARTS or stem.lower() in _COMPAT_PARTS:
        kinds.add("compat")
    if ext in _DOC_EXTENSIONS:
        kinds.add("docs")
    return FileInfo(
        tokens=frozenset(path_tokens(path)),
        stem=stem.lower(),
        depth=len(parts) - 1,
        kinds=frozenset(kinds),
    )


def mirror_directories(files: Iterable[str]) -> set[str]:
    """Directories (with a trailing `/`) that mirror their parent's file names."""
    stems: dict[str, set[str]] = {}
    for f in files:
        directory, _, name = f.rpartition("/")
        stem = name.split(".", 1)[0]
        if stem not in _BARREL_FILES:
            stems.setdefault(directory, set()).add(stem)
    mirrored = set()
    for directory, own in stems.items():
        if not directory:
            continue
        parent = directory.rpartition("/")[0]
        common = own & stems.get(parent, set())
        if len(common) >= MIRROR_MIN_COMMON and len(common) >= MIRROR_MIN_SHARE * len(own):
            mirrored.add(directory + "/")
    return mirrored


@functools.lru_cache(maxsize=65536)
def similar_words(a: str, b: str) -> bool:
    """Whether two (stemmed) words name the same thing.

    Equal, the same stem-ish prefix (`routing`/`routes`, `resolution`/
    `resolver`), or one contains the other (`dispatch` in `urldispatcher`).
    Words shorter than 4 letters only match themselves.
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


class ProjectFiles:
    """Facts about a project's files that ranking needs, computed once.

    Files are numbered (`id_of`); per-file lists (`kinds`, `stems`,
    `depths`) are indexed by that number. A path word is *informative* when
    at most `max_share` of the files (and at least one) have it: the root
    package or `src` names every file and says nothing.
    """

    def __init__(self, files: Iterable[str], *, max_share: float) -> None:
        self.files = sorted(set(files))
        self.id_of = {f: i for i, f in enumerate(self.files)}
        infos = [file_info(f) for f in self.files]
        self.path_df: Counter[str] = Counter(t for info in infos for t in info.tokens)
        self.limit = max(1.0, max_share * len(self.files))
        mirrored = tuple(mirror_directories(self.files))
        self.mirror_files = frozenset(f for f in self.files if f.startswith(mirrored))
        self.kinds = [
            info.kinds | {"compat"} if f in self.mirror_files else info.kinds
            for f, info in zip(self.files, infos, strict=True)
        ]
        self.stems = [info.stem.replace("_", "").replace("-", "") for info in infos]
        """Folded stems, comparable with folded names."""
        self.depths = [info.depth for info in infos]
        self._with_word: dict[str, list[int]] = {}
        for i, info in enumerate(infos):
            for t in info.tokens:
                if self.path_df[t] <= self.limit:
                    self._with_word.setdefault(t, []).append(i)
        vocab = sorted(self._with_word)
        self._by_prefix: dict[str, list[str]] = {}
        for w in vocab:
            if len(w) >= 4:
                self._by_prefix.setdefault(w[:4], []).append(w)
        self._joined = "\n".join(vocab)
        self._starts = list(_offsets(vocab))
        self._vocab = vocab
        self._longest = min(max(map(len, vocab), default=0), MAX_PIECE)
        self._matches: dict[str, frozenset[int]] = {}
        self._demotions: dict[frozenset[str], list[float]] = {}

    def demotions(self, asks: frozenset[str], factors: Mapping[str, float]) -> list[float]:
        """Per file id: the product of `factors` of its kinds that `asks` does not lift.

        Memoized per `asks` (there are at most 2^len(ASKS) of them); `factors`
        must be the same mapping on every call.
        """
        found = self._demotions.get(asks)
        if found is None:
            per_kinds: dict[frozenset[str], float] = {}
            for kinds in set(self.kinds):
                factor = 1.0
                for kind in sorted(kinds - asks):
                    factor *= factors[kind]
                per_kinds[kinds] = factor
            found = self._demotions[asks] = [per_kinds[kinds] for kinds in self.kinds]
        return found

    def informative(self, word: str) -> bool:
        """Whether `word` is rare enough among path words to mean something."""
        return self.path_df.get(word, 0) <= self.limit

    def files_naming(self, word: str) -> frozenset[int]:
        """Ids of files with an informative path word similar to `word` (memoized)."""
        found = self._matches.get(word)
        if found is None:
            if len(self._matches) >= _MATCH_MEMO_MAX:
                self._matches.clear()
            ids: set[int] = set()
            for w in self._similar_vocab(word):
                ids.update(self._with_word[w])
            found = self._matches[word] = frozenset(ids)
        return found

    def _similar_vocab(self, word: str) -> set[str]:
        """Informative path words `similar_words` pairs with `word`.

        Only plausible words are checked: a shared prefix needs the same first
        4 letters, containment is found by substring lookups both ways.
        """
        vocab = self._with_word
        out = {word} if word in vocab else set()
        n = len(word)
        if n < 4:
            return out
        candidates = set(self._by_prefix.get(word[:4], ()))
        # Path words inside `word`, no longer than the longest path word.
        for size in range(4, min(n, self._longest + 1)):
            for start in range(n - size + 1):
                piece = word[start : start + size]
                if piece in vocab:
                    candidates.add(piece)
        # Path words containing `word`.
        joined = self._joined
        at = joined.find(word)
        while at >= 0:
            i = bisect.bisect_right(self._starts, at) - 1
            candidates.add(self._vocab[i])
            at = joined.find(word, at + 1)
        out.update(w for w in candidates if similar_words(word, w))
        return out


def _offsets(vocab: list[str]) -> Iterator[int]:
    """Start offset of each word of `vocab` in the newline-joined vocabulary."""
    at = 0
    for w in vocab:
        yield at
        at += len(w) + 1
