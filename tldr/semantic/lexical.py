"""Lexical retrieval: BM25 over identifier-aware tokens of code units.

Dense embeddings from a small general model blur exact identifiers
(`ClientSession`, `field_validator`) and file names; BM25 over tokens that
know how code spells words recovers them. Every unit becomes one BM25
document made of its name (weighted), qualified name, signature, docstring,
code preview and the words of its file path (file stem and directory names).

Tokens: words are split at camelCase, PascalCase-with-acronyms, snake_case
and digit boundaries, lowercased and lightly stemmed; a compound identifier
is also kept whole, so `getHTTPResponse` yields `get`, `http`, `respons`
and `gethttpresponse`. A unit's own name additionally yields a definition
token `=name` which a query word spelled the same way also yields, so the
definition of a queried symbol outranks the many places that mention it.

Scoring is bm25s' Lucene variant (k1=1.5, b=0.75). The sparse matrix is
built with vectorised numpy that reproduces bm25s' own builder exactly
(tested against `bm25s.BM25.build_index_from_ids`), because bm25s' builder
loops in Python per token and would not fit the daemon's rebuild budget.
The index is saved as one compressed `.npz` file (no pickle), written to a
temp sibling and moved into place with `os.replace`.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tldr._mapped import MappedFile

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tldr.units.model import Unit

__all__ = [
    "ARTICLES",
    "DEF_PREFIX",
    "LEXICAL_FORMAT",
    "MAX_QUERY_CHARS",
    "LexicalBuilder",
    "LexicalIndex",
    "PreviousPostings",
    "TokenCache",
    "path_tokens",
    "query_tokens",
    "split_identifier",
    "tokenize",
    "unit_tokens",
]

LEXICAL_FORMAT = "bm25-lucene-v3"
"""Version of the token scheme and file layout; bump when tokens change.

v2 (specs/019-compact-index.md) stored term frequencies and document lengths
instead of float32 weights, and the vocabulary as UTF-8, compressed. v3 is
the same arrays uncompressed and aligned, the vocabulary sorted, so a
loaded index maps the file instead of decompressing it; the weights are
computed per query token by the same arithmetic, so scores equal v1's."""

# BM25 parameters: the Lucene defaults, which bm25s also uses. Code units are
# short and uneven in length; b=0.75 keeps a 2,000-line class from winning on
# raw term counts while not over-rewarding one-line stubs. bench_quality
# --sweep over all 19 corpora (the index rebuilt per value): k1 1.0/2.0
# -0.002/-0.002, b 0.5/0.9 -0.000/-0.005, none positive with every language
# held out (specs/009-ranking.md).
_K1 = 1.5
_B = 0.75

# A unit's name is repeated this many times: a word in the name says far more
# about what the unit is than the same word in its body. Swept as above: 2 and
# 5 both lower (-0.001/-0.002).
_NAME_REPEAT = 3

# A TokenCache whose vocabulary outgrows this many ids per cached unit (plus a
# floor) is mostly stale words of deleted code: it is reset.
_CACHE_VOCAB_SLACK = 20

# A query is read up to this many characters. The embedding model reads 128
# word pieces (about 500 characters) anyway; the bound keeps tokenizing and
# ranking one query small whatever a client sends.
MAX_QUERY_CHARS = 2000

# Words skipped when adjacent query words are run together into a name: a
# user types "set a cookie" for `set_cookie`, "read the file" for `read_file`
# (issue 21: "set cookie" found the method first, "set a cookie" 23rd). Only
# articles: "validation and error" is two things, not `ValidationError`. On
# the development set no query's new pair names an identifier of its corpus,
# so its figures are unchanged (specs/015-new-user-mcp-fusion.md).
ARTICLES = frozenset({"a", "an", "the"})

# Prefix of definition tokens (`=clientsession`). `=` never occurs inside a
# word token, so these cannot collide with ordinary tokens.
DEF_PREFIX = "="

_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# English filler that carries no retrieval signal in a question ("how does
# X work") plus the few code keywords present in nearly every unit, which only
# inflate document lengths and posting lists.
_STOPWORDS = frozenset(
    """
    a an and are as at be been being but by can could did do does doing done
    for from had has have having how i if in into is it its me my no not of on
    or our should so than that the their them then there these they this those
    to was we were what when where which while who whom why will with would
    you your yes all any each some such only own same very also just about
    work works happen happens via per
    self cls def return none true false const let var function null undefined
    """.split()
)

# Bounded memo of word -> tokens; identifiers repeat heavily across a project.
_WORD_CACHE: dict[str, tuple[str, ...]] = {}
_WORD_CACHE_MAX = 500_000


def split_identifier(word: str) -> list[str]:
    """Split an identifier into its lowercase parts.

    Handles snake_case, camelCase, PascalCase with acronyms and digit runs:
    `getHTTPResponse2` -> `["get", "http", "response", "2"]`.

    Args:
        word: One identifier (letters, digits, underscores).

    Returns:
        The parts in order, lowercased; empty for a word of only underscores.
    """
    return [part.lower() for chunk in word.split("_") for part in _PART_RE.findall(chunk)]


def _stem(token: str) -> str:
    """Strip common English inflections so `routes`, `routing`, `route` meet."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith("sses"):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    for suffix in ("ing", "ed"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            if len(token) > 3 and token[-1] == token[-2] and token[-1] not in "lsz":
                token = token[:-1]  # running -> runn -> run
            break
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    return token


def _word_tokens(word: str) -> tuple[str, ...]:
    """Tokens of one word: stemmed parts, plus the whole word if compound."""
    cached = _WORD_CACHE.get(word)
    if cached is not None:
        return cached
    parts = split_identifier(word)
    out = [_stem(p) for p in parts if len(p) > 1 and p not in _STOPWORDS]
    if len(parts) > 1:
        whole = word.strip("_").lower()
        if whole:
            out.append(whole)
    result = tuple(out)
    if len(_WORD_CACHE) >= _WORD_CACHE_MAX:
        _WORD_CACHE.clear()
    _WORD_CACHE[word] = result
    return result


def tokenize(text: str) -> list[str]:
    """Identifier-aware, lowercase tokens of free text or code.

    Args:
        text: A query, docstring, signature or code.

    Returns:
        Tokens in order of appearance (repeats kept, English filler dropped).
    """
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        out.extend(_word_tokens(word))
    return out


def path_tokens(path: str) -> list[str]:
    """Tokens of a project-relative path: directory names and the file stem.

    Args:
        path: POSIX path such as `fastapi/security/oauth2.py`.

    Returns:
        Tokens of every directory name and of the file name without its
        extension (`index.test.ts` -> `index`, `test`).
    """
    dirs, _, name = path.rpartition("/")
    stem = name.split(".")
    if len(stem) > 1:
        stem = stem[:-1]
    return tokenize(dirs.replace("/", " ") + " " + " ".join(stem))


def _fold(word: str) -> str:
    """Case- and separator-insensitive spelling of a name.

    `client_session` and `ClientSession` both fold to `clientsession`.
    """
    return word.replace("_", "").replace("$", "").lower()


def query_tokens(query: str) -> list[str]:
    """Tokens of a search query: ordinary tokens plus definition tokens.

    Every content word yields a definition token, and so does every pair of
    adjacent content words run together: people type `client session` for
    `ClientSession` and `form data` for `FormData`. An article between them
    does not separate them (`ARTICLES`).
    """
    query = query[:MAX_QUERY_CHARS]
    tokens = tokenize(query)
    words = [w for w in map(_fold, _WORD_RE.findall(query)) if w not in ARTICLES]
    content = [w for w in words if w and w not in _STOPWORDS and not w.isdigit()]
    tokens.extend(DEF_PREFIX + w for w in content)
    tokens.extend(
        DEF_PREFIX + a + b for a, b in itertools.pairwise(words) if a in content and b in content
    )
    return list(dict.fromkeys(tokens))


def unit_tokens(unit: Unit, file_tokens: Sequence[str] = ()) -> list[str]:
    """The BM25 document of one unit, as a token list (see `_unit_counts`)."""
    return [tok for tok, n in _unit_counts(unit, file_tokens).items() for _ in range(n)]


def _unit_counts(unit: Unit, file_tokens: Sequence[str]) -> dict[str, int]:
    """Term counts of one unit's BM25 document.

    Name (repeated `_NAME_REPEAT` times) and its definition token, qualified
    name, signature, docstring, code, then the file's path tokens. Words are
    counted first (C-speed `Counter`) and expanded into tokens once per
    distinct word, which is what makes building 10k units cheap.
    """
    counts: dict[str, int] = {}
    get = counts.get
    for tok in tokenize(unit.name):
        counts[tok] = get(tok, 0) + _NAME_REPEAT
    def_tok = DEF_PREFIX + _fold(unit.name)
    counts[def_tok] = get(def_tok, 0) + 1
    text = " ".join(
        (
            unit.qualified_name if unit.qualified_name != unit.name else "",
            unit.signature,
            unit.docstring,
            unit.code,
        )
    )
    for word, n in Counter(_WORD_RE.findall(text)).items():
        toks = _WORD_CACHE.get(word)
        if toks is None:
            toks = _word_tokens(word)
        for tok in toks:
            counts[tok] = get(tok, 0) + n
    for tok in file_tokens:
        counts[tok] = get(tok, 0) + 1
    return counts


class TokenCache:
    """Per-unit token ids kept across rebuilds, keyed by unit content.

    The daemon rebuilds after every edit; with one `TokenCache` passed to
    every `LexicalBuilder`, only new or changed units are tokenized and the
    rest reuse their ids. Ids refer to the cache's own growing vocabulary;
    each build keeps only the entries it used, and the cache resets itself
    when most of its vocabulary is stale. An entry is a 16-byte digest of
    the unit's identity and one bytes object of its ids and counts (int32
    each), about a tenth of two arrays under a string key.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.entries: dict[bytes, bytes] = {}

    def __len__(self) -> int:
        return len(self.entries)


_DEFAULT_CACHE = TokenCache()
_DEFAULT_CACHE_LOCK = threading.Lock()


class PreviousPostings:
    """The previous build's BM25 postings, by document: what an unchanged unit had.

    An incremental build whose token cache lacks a unit (a build worker
    just started) takes the unit's token ids and counts from here instead of
    tokenizing it again: its text and file path are the same, so are its
    tokens. The postings are turned around (by document) at the first use,
    ~8 bytes per posting for the build's length.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._ptr: npt.NDArray[np.int64] | None = None
        self._terms: npt.NDArray[np.int32] = None  # type: ignore[assignment]
        self._tf: npt.NDArray[np.int32] = None  # type: ignore[assignment]
        self._ids: npt.NDArray[np.int32] = None  # type: ignore[assignment]
        self._failed = False

    def entry(self, document: int, vocab: dict[str, int]) -> bytes | None:
        """Document `document`'s token ids (in `vocab`, which grows) then counts; None if unknown.

        The whole previous vocabulary goes into `vocab` at the first call.
        """
        import numpy as np

        if self._ptr is None and not self._failed:
            self._prepare(vocab)
        if self._ptr is None or not 0 <= document < len(self._ptr) - 1:
            return None
        start, end = int(self._ptr[document]), int(self._ptr[document + 1])
        ids = self._ids[self._terms[start:end]]
        return ids.astype(np.int32).tobytes() + self._tf[start:end].tobytes()

    def _prepare(self, vocab: dict[str, int]) -> None:
        import numpy as np

        try:
            index = LexicalIndex.load(self._path)
        except (OSError, ValueError, KeyError, EOFError):
            self._failed = True  # tokenize instead: a cache loses nothing it cannot redo
            return
        order = np.argsort(index.indices, kind="stable")
        postings = np.diff(index.indptr)
        self._terms = np.repeat(np.arange(len(postings), dtype=np.int32), postings)[order]
        self._tf = np.ascontiguousarray(index.tf[order], dtype=np.int32)
        self._ptr = np.zeros(index.num_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(index.indices, minlength=index.num_docs), out=self._ptr[1:])
        setdefault = vocab.setdefault
        self._ids = np.fromiter((setdefault(word, len(vocab)) for word in index.vocab),
                                dtype=np.int32, count=len(postings))


class LexicalIndex:
    """BM25 index over units; positions are indexes into the built sequence.

    Postings are stored column-wise (CSC: one column per token, documents
    ascending) so a query touches only its own tokens' postings. A token's
    BM25 weights are computed when a query touches it, from the stored term
    frequencies and the per-document length norms (the same float64
    arithmetic a precomputed matrix would use), so a loaded index is the
    file's arrays mapped in place, not a matrix on the heap. The vocabulary
    is sorted by UTF-8 bytes and searched by bisection.
    """

    def __init__(
        self,
        *,
        words: npt.NDArray[np.uint8],
        word_ends: npt.NDArray[Any],
        indptr: npt.NDArray[Any],
        indices: npt.NDArray[Any],
        tf: npt.NDArray[Any],
        lengths: npt.NDArray[Any],
        mapped: MappedFile | None = None,
    ) -> None:
        """Arrays as `save` writes them: word `i` is `words[word_ends[i-1]:word_ends[i]]`.

        `mapped` is the file they are views into (`load`), checked before a search.
        """
        import numpy as np

        self._mapped = mapped

        self._words = words
        self._word_ends = word_ends
        self.indptr = indptr
        self.indices = indices
        self.tf = tf
        self.lengths = lengths
        self.num_docs = len(lengths)
        as_float = lengths.astype(np.float64)
        avg_len = as_float.mean() if self.num_docs else 1.0
        self._norm = _K1 * ((1 - _B) + _B * as_float / (avg_len or 1.0))
        df = np.diff(indptr)
        self._idf = np.log1p((self.num_docs - df + 0.5) / (df + 0.5))

    def __len__(self) -> int:
        return self.num_docs

    @property
    def vocab(self) -> list[str]:
        """Every token, in id order (sorted by UTF-8 bytes)."""
        starts = [0, *self._word_ends.tolist()]
        return [self._words[a:b].tobytes().decode("utf-8", "surrogatepass")
                for a, b in itertools.pairwise(starts)]

    def token_id(self, token: str) -> int | None:
        """The id of `token`, or None when no unit has it."""
        wanted = token.encode("utf-8", "surrogatepass")
        ends, words = self._word_ends, self._words

        def word(i: int) -> bytes:
            return words[int(ends[i - 1]) if i else 0:int(ends[i])].tobytes()

        at = bisect.bisect_left(range(len(ends)), wanted, key=word)
        return at if at < len(ends) and word(at) == wanted else None

    def weights(self, token_id: int) -> npt.NDArray[np.float32]:
        """BM25 weight of each posting of `token_id`, in `indices` order."""
        start, end = int(self.indptr[token_id]), int(self.indptr[token_id + 1])
        tf = self.tf[start:end]
        norm = self._norm[self.indices[start:end]]
        weights: npt.NDArray[np.float32] = (self._idf[token_id] * tf / (norm + tf)).astype(
            "float32")
        return weights

    @classmethod
    def build(cls, units: Sequence[Unit], *, token_cache: TokenCache | None = None) -> LexicalIndex:
        """Tokenize `units` and build the BM25 matrix (`LexicalBuilder` in one go).

        Args:
            units: The units, in index order.
            token_cache: Cache reused across rebuilds (see `LexicalBuilder`).

        Returns:
            The index.
        """
        builder = LexicalBuilder(token_cache=token_cache)
        builder.add(units)
        return builder.finish()

    @classmethod
    def from_tokens(cls, docs: Sequence[Sequence[str]]) -> LexicalIndex:
        """Build the BM25 matrix from already tokenized documents."""
        import numpy as np

        vocab: dict[str, int] = {}
        ids_parts = []
        tf_parts = []
        for doc in docs:
            counts = Counter(doc)
            ids_parts.append(
                np.fromiter((vocab.setdefault(t, len(vocab)) for t in counts), np.int32)
            )
            tf_parts.append(np.fromiter(counts.values(), np.int32))
        nnz = np.fromiter((len(p) for p in ids_parts), np.int64, len(ids_parts))
        tok = np.concatenate(ids_parts) if docs else np.zeros(0, np.int32)
        tf = np.concatenate(tf_parts) if docs else np.zeros(0, np.int32)
        return cls._from_postings(tok, tf, nnz, vocab)

    @classmethod
    def _from_postings(
        cls,
        tok: npt.NDArray[np.int32],
        tf: npt.NDArray[np.int32],
        nnz: npt.NDArray[np.int64],
        vocab: dict[str, int],
    ) -> LexicalIndex:
        """The index of documents given as their token ids and counts, one after another.

        `nnz[d]` is how many (token, count) pairs document `d` has.
        """
        import numpy as np

        n_docs = len(nnz)
        doc = np.repeat(np.arange(n_docs, dtype=np.int32), nnz)
        lengths = np.bincount(doc, weights=tf, minlength=n_docs).astype(np.uint32)
        # Keep only tokens this build uses, renumbered in the order of their bytes.
        used = np.zeros(len(vocab) + 1, dtype=bool)
        used[tok] = True
        encoded = [word.encode("utf-8", "surrogatepass")
                   for word, used_word in zip(vocab, used.tolist(), strict=False) if used_word]
        old_ids = np.flatnonzero(used[: len(vocab)])
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        new_id = np.zeros(len(vocab) + 1, dtype=np.int32)
        new_id[old_ids[order]] = np.arange(len(order), dtype=np.int32)
        tok = new_id[tok]
        del new_id, old_ids
        ranked = np.argsort(tok, kind="stable")  # docs stay ascending within a token
        tok, tf, doc = tok[ranked], tf[ranked], doc[ranked]
        del ranked
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(np.bincount(tok, minlength=len(order)), out=indptr[1:])
        words = [encoded[i] for i in order]
        return cls(
            words=np.frombuffer(b"".join(words), dtype=np.uint8),
            word_ends=np.cumsum([len(word) for word in words], dtype=np.uint64),
            indptr=indptr,
            indices=doc,
            tf=tf,
            lengths=lengths,
        )

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top `k` units for `query` by BM25 score.

        Args:
            query: Free text or an identifier.
            k: How many results at most.

        Returns:
            `(position, score)` pairs, best first; only positive scores.
        """
        import numpy as np

        if self._mapped is not None:
            self._mapped.check()
        ids = [i for i in map(self.token_id, query_tokens(query)) if i is not None]
        if not ids or k <= 0 or self.num_docs == 0:
            return []
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for tid in ids:
            scores[self.indices[self.indptr[tid]:self.indptr[tid + 1]]] += self.weights(tid)
        hit = np.flatnonzero(scores)
        if hit.size > k:
            hit = hit[np.argpartition(-scores[hit], k - 1)[:k]]
        order = hit[np.argsort(-scores[hit], kind="stable")]
        return [(int(i), float(scores[i])) for i in order]

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (temp sibling, then `os.replace`).

        The layout (`_MAGIC`, a u64 header length, a msgpack `_Header`, then
        8-byte aligned arrays) is read in place by `load`.
        """
        import numpy as np

        if self.tf.size and int(self.tf.max()) > np.iinfo(np.uint16).max:
            tf = self.tf.astype("<u4")  # a document repeating one token 65,536 times
        else:
            tf = self.tf.astype("<u2")
        arrays = {
            "words": self._words,
            "word_ends": self._word_ends.astype("<u8"),
            "indptr": self.indptr.astype("<i8"),
            "indices": self.indices.astype("<i4"),
            "tf": tf,
            "lengths": self.lengths.astype("<u4"),
        }
        layout: dict[str, tuple[str, int, int]] = {}
        offset = 0
        for name, array in arrays.items():
            layout[name] = (array.dtype.str, offset, len(array))
            offset += _aligned(array.nbytes)
        header = msgspec.msgpack.encode(_Header(format=LEXICAL_FORMAT, arrays=layout))
        header_end = len(_MAGIC) + 8 + len(header)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(_MAGIC + len(header).to_bytes(8, "little") + header)
                fh.write(bytes(_aligned(header_end) - header_end))
                for array in arrays.values():
                    fh.write(array.tobytes())
                    fh.write(bytes(-array.nbytes % 8))
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Map an index written by `save`; its arrays are read in place, not copied.

        Raises:
            ValueError: The file was written with another `LEXICAL_FORMAT`, or
                its header does not describe it.
        """
        import numpy as np

        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < len(_MAGIC) + 8 or fh.read(len(_MAGIC)) != _MAGIC:
                raise ValueError(f"not a lexical index of format {LEXICAL_FORMAT!r}")
        file = MappedFile(Path(path))
        mapped = file.map
        header_end = len(_MAGIC) + 8 + int.from_bytes(mapped[len(_MAGIC):len(_MAGIC) + 8],
                                                      "little")
        data_start = _aligned(header_end)
        if data_start > size:
            raise ValueError("lexical index header runs past the end of the file")
        try:
            header = _header_decoder.decode(mapped[len(_MAGIC) + 8:header_end])
        except msgspec.DecodeError as exc:
            raise ValueError(f"lexical index header: {exc}") from None
        if header.format != LEXICAL_FORMAT:
            raise ValueError(
                f"lexical index format {header.format!r}, expected {LEXICAL_FORMAT!r}")
        arrays = {}
        for name in ("words", "word_ends", "indptr", "indices", "tf", "lengths"):
            if name not in header.arrays:
                raise ValueError(f"lexical index has no {name!r} array")
            dtype_str, offset, count = header.arrays[name]
            dtype = np.dtype(dtype_str)
            if dtype.kind not in "iu" or offset < 0 or count < 0 or (
                    data_start + offset + count * dtype.itemsize > size):
                raise ValueError(f"lexical index array {name!r} does not fit the file")
            arrays[name] = np.frombuffer(mapped, dtype=dtype, count=count,
                                         offset=data_start + offset)
        words = arrays["words"]
        if (len(arrays["indptr"]) != len(arrays["word_ends"]) + 1
                or int(arrays["indptr"][-1]) != len(arrays["indices"])
                or len(arrays["tf"]) != len(arrays["indices"])
                or (len(words) and int(arrays["word_ends"][-1]) != len(words))):
            raise ValueError("lexical index arrays do not agree with each other")
        return cls(**arrays, mapped=file)


_MAGIC = b"TLDRBM25"


class _Header(msgspec.Struct, frozen=True):
    """What `LexicalIndex.save` writes before the arrays: their dtype, offset and length."""

    format: str
    arrays: dict[str, tuple[str, int, int]]


_header_decoder = msgspec.msgpack.Decoder(_Header)


def _aligned(size: int) -> int:
    """`size` rounded up to a multiple of 8: where the next array starts."""
    return -(-size // 8) * 8


class LexicalBuilder:
    """Builds a `LexicalIndex` from units fed in batches, in index order.

    Only each unit's token ids and counts are kept (8 bytes per distinct
    token of a unit; BM25's document frequencies and lengths are computed
    from them at the end), never its text: a build streams its units
    through `add` and lets them go.
    """

    def __init__(self, *, token_cache: TokenCache | None = None) -> None:
        """Start an empty index.

        Args:
            token_cache: Cache reused across rebuilds: unchanged units (same
                file, name, line and `content_hash`) skip tokenizing. Default:
                one process-wide cache, so a long-lived daemon gets this
                without holding a cache itself.
        """
        self._lock = _DEFAULT_CACHE_LOCK if token_cache is None else threading.Lock()
        cache = _DEFAULT_CACHE if token_cache is None else token_cache
        with self._lock:
            if len(cache.vocab) > _CACHE_VOCAB_SLACK * max(1, len(cache.entries)) + 100_000:
                # New objects, not cleared ones: another builder may still use the old.
                cache.vocab, cache.entries = {}, {}
            self._cache = cache
            self._vocab = cache.vocab
            self._old = cache.entries
        self._fresh: dict[bytes, bytes] = {}
        self._file_tokens: tuple[str, list[str]] = ("", [])  # the last unit's file
        self._ids = bytearray()  # int32 token ids, document after document
        self._tf = bytearray()  # int32 counts, in step with `_ids`
        self._nnz = bytearray()  # int64 (token, count) pairs per document

    def __len__(self) -> int:
        return len(self._nnz) // 8

    def add(self, units: Iterable[Unit], *,
            previous: tuple[PreviousPostings, int] | None = None) -> None:
        """Tokenize the next units (their documents follow those added before).

        `previous`: the units are the previous build's, from this document
        on; what the cache lacks is taken from its postings.
        """
        with self._lock:
            for offset, unit in enumerate(units):
                entry = self._entry(unit, previous and (previous[0], previous[1] + offset))
                half = len(entry) // 2
                self._ids += entry[:half]
                self._tf += entry[half:]
                self._nnz += (half // 4).to_bytes(8, "little")

    def _entry(self, unit: Unit, previous: tuple[PreviousPostings, int] | None) -> bytes:
        """The unit's token ids then counts, from the cache when it is unchanged.

        Else from the previous build's postings when the unit is one of its
        own (`previous`: its postings and the unit's document there).
        """
        import numpy as np

        key = None
        if unit.content_hash:
            identity = f"{unit.file}\0{unit.qualified_name}\0{unit.line}\0{unit.content_hash}"
            key = hashlib.blake2b(identity.encode("utf-8", "surrogatepass"),
                                  digest_size=16).digest()
            entry = self._fresh.get(key) or self._old.get(key)
            if entry is not None:
                self._fresh[key] = entry
                return entry
        if previous is not None:
            entry = previous[0].entry(previous[1], self._vocab)
            if entry is not None:
                if key is not None:
                    self._fresh[key] = entry
                return entry
        vocab = self._vocab
        setdefault = vocab.setdefault
        counts = _unit_counts(unit, self._path_tokens(unit.file))
        ids = np.fromiter((setdefault(t, len(vocab)) for t in counts), np.int32, len(counts))
        entry = ids.tobytes() + np.fromiter(counts.values(), np.int32, len(counts)).tobytes()
        if key is not None:
            self._fresh[key] = entry
        return entry

    def _path_tokens(self, path: str) -> list[str]:
        if self._file_tokens[0] != path:  # units come file by file
            self._file_tokens = (path, path_tokens(path))
        return self._file_tokens[1]

    def index(self) -> LexicalIndex:
        """The index of the units added so far (more may be added after)."""
        import numpy as np

        with self._lock:
            return LexicalIndex._from_postings(
                np.frombuffer(self._ids, dtype=np.int32),
                np.frombuffer(self._tf, dtype=np.int32),
                np.frombuffer(self._nnz, dtype=np.int64),
                self._vocab,
            )

    def finish(self) -> LexicalIndex:
        """The index of every unit added; the cache keeps only these units' entries."""
        index = self.index()
        with self._lock:
            self._cache.entries = self._fresh
        return index
