"""Word pieces of code texts, word by word: BERT's tokenizer at a fraction of its cost.

A static model's vector is the mean of its text's token rows, so a build
spends most of its fast-tier time in the tokenizer (~2.5 MB of text a
second per core). Code repeats its words: each distinct word is
word-pieced once, by the model's own tokenizer, and remembered; a text is
then its words' ids in order (specs/020-fast-tier-and-scale.md).

That gives the tokenizer's ids exactly where BERT's uncased pipeline does
nothing but lowercase and split: texts of printable ASCII, tab and
newlines that name no added token. Its normalizer then only lowercases,
and its pre-tokenizer splits at whitespace and at every punctuation
character (all printable ASCII that is not a letter or a digit), so the
words are runs of `[a-z0-9]` and single other characters. Other texts go
through the tokenizer.
"""

from __future__ import annotations

import json
import re
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["WordPieceCache"]

_WORD = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
_NOT_PLAIN = re.compile(r"[^\x20-\x7e\t\n\r]")
MAX_WORDS = 500_000
"""Distinct words remembered; past this the cache starts again (memory stays bounded)."""


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indexes `starts[i] .. starts[i] + lengths[i]` of every i, concatenated."""
    import numpy as np

    ends = np.cumsum(lengths)
    return np.repeat(starts - ends + lengths, lengths) + np.arange(int(ends[-1]) if len(ends)
                                                                   else 0)


class WordPieceCache:
    """Token ids of texts for one tokenizer, each distinct word word-pieced once."""

    def __init__(self, tokenizer: Any) -> None:
        import numpy as np
        from tokenizers import Tokenizer

        # A copy, unpadded, whose truncation is set here (the model's own is shared).
        self._tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._tokenizer.no_padding()
        self._added = [token.content.lower()
                       for token in tokenizer.get_added_tokens_decoder().values()]
        self._index: dict[str, int] = {}  # word -> its number
        self._offsets = np.zeros(1, dtype=np.int64)  # word number -> its first piece in _pieces
        self._pieces = np.zeros(0, dtype=np.int64)

    def _forget(self) -> None:
        import numpy as np

        self._index = {}
        self._offsets, self._pieces = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)

    @classmethod
    def for_tokenizer(cls, tokenizer: Any) -> WordPieceCache | None:
        """A cache for `tokenizer` when it is BERT's uncased pipeline; None otherwise."""
        config = json.loads(tokenizer.to_str())
        normalizer = config.get("normalizer") or {}
        plain = (
            normalizer.get("type") == "BertNormalizer"
            and normalizer.get("lowercase") is True
            and (config.get("pre_tokenizer") or {}).get("type") == "BertPreTokenizer"
            and (config.get("model") or {}).get("type") == "WordPiece"
        )
        return cls(tokenizer) if plain else None

    def token_ids(self, texts: list[str], limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Each text's number of ids, and all ids in text order (the first `limit` of each).

        Not thread-safe: the caller holds a lock.
        """
        import numpy as np

        if len(self._index) > MAX_WORDS:
            self._forget()
        words, others = self._words(texts)
        count = len(texts)
        lengths = np.zeros(count, dtype=np.int64)
        plain = np.array([i for i in range(count) if words[i] is not None], dtype=np.int64)
        per_text = np.fromiter((len(words[i]) for i in plain), dtype=np.int64, count=len(plain))
        numbers = np.fromiter(chain.from_iterable(words[i] for i in plain), dtype=np.int64,
                              count=int(per_text.sum()))
        word_lengths = np.diff(self._offsets)[numbers]
        pieces = self._pieces[_ragged(self._offsets[numbers], word_lengths)]
        text_lengths = np.zeros(len(plain), dtype=np.int64)
        if len(plain):
            owners = np.repeat(np.arange(len(plain)), per_text)
            text_lengths = np.bincount(owners, weights=word_lengths,
                                       minlength=len(plain)).astype(np.int64)
            if limit is not None and int(text_lengths.max()) > limit:
                starts = np.cumsum(text_lengths) - text_lengths
                keep = (np.arange(len(pieces)) - np.repeat(starts, text_lengths)) < limit
                pieces, text_lengths = pieces[keep], np.minimum(text_lengths, limit)
            lengths[plain] = text_lengths
        other_ids: list[list[int]] = []
        if others:
            if limit is None:
                self._tokenizer.no_truncation()
            else:
                self._tokenizer.enable_truncation(limit)
            encodings = self._tokenizer.encode_batch_fast([texts[i] for i in others],
                                                          add_special_tokens=False)
            other_ids = [encoding.ids for encoding in encodings]
            lengths[others] = [len(ids) for ids in other_ids]
        offsets = np.cumsum(lengths) - lengths
        flat = np.empty(int(lengths.sum()), dtype=np.int64)
        flat[_ragged(offsets[plain], text_lengths)] = pieces
        if others:
            at = np.asarray(others, dtype=np.int64)
            flat[_ragged(offsets[at], lengths[at])] = np.fromiter(
                chain.from_iterable(other_ids), dtype=np.int64, count=int(lengths[at].sum()))
        return lengths, flat

    def _words(self, texts: list[str]) -> tuple[list[list[int] | None], list[int]]:
        """The word numbers of each text the cache can take (None for the others), and the others.

        Words not seen before are word-pieced here, in one batch.
        """
        index, known = self._index, self._index.__getitem__
        words: list[list[int] | None] = []
        others: list[int] = []
        new: list[str] = []
        for position, text in enumerate(texts):
            lowered = text.lower()
            if _NOT_PLAIN.search(text) or any(token in lowered for token in self._added):
                words.append(None)
                others.append(position)
                continue
            found = _WORD.findall(lowered)
            try:
                words.append(list(map(known, found)))
            except KeyError:
                for word in found:
                    if word not in index:
                        index[word] = len(index)
                        new.append(word)
                words.append(list(map(known, found)))
        if new:
            self._learn(new)
        return words, others

    def _learn(self, new: list[str]) -> None:
        """Word-piece the words just numbered (in number order)."""
        import numpy as np

        self._tokenizer.no_truncation()  # a word's pieces are never cut
        encodings = self._tokenizer.encode_batch_fast(new, add_special_tokens=False)
        ids = [encoding.ids for encoding in encodings]
        sizes = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        self._offsets = np.concatenate([self._offsets, self._offsets[-1] + np.cumsum(sizes)])
        self._pieces = np.concatenate([
            self._pieces,
            np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(sizes.sum())),
        ])
