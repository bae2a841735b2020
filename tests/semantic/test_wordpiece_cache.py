"""The word cache gives BERT's tokenizer's ids, text for text (specs/020 § Tokenizing by word)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

import tldr
from tldr.semantic.models import wordpiece_cache
from tldr.semantic.models.embedders import bundled_model_path
from tldr.semantic.models.static_embedder import StaticEmbedder
from tldr.semantic.models.wordpiece_cache import WordPieceCache

LIMIT = 512

AWKWARD = [
    "",
    "   \t\n",
    "def parse_headers(self, raw: bytes) -> dict[str, str]:\n    return {}",
    "café = naïve_Ünïcödé + '日本語' # accents and CJK",
    "emoji 🙂 in a comment",
    "nul\x00byte and bell\x07 and delete\x7f",
    "vertical\x0btab and form\x0cfeed",
    "windows\r\nline endings\r\n",
    "tokens [UNK] and [PAD] written in code, and [unk] [Pad] [MASK] [CLS]",
    "a" * 150 + " " + "x" * 100 + " " + "y" * 101,
    "CamelCaseWord snake_case_word kebab-case-word SCREAMING_CASE 0x1F 3.14e-10 ##hash",
    "a.b(c) " * 400,
    "word " * 600,
    "~`!@#$%^&*()-_=+[]{}\\|;:'\",<.>/?",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))


def _source_texts() -> list[str]:
    """Texts of 1,600 characters (the embedding texts' cut) from this package's sources."""
    texts = []
    for path in sorted(Path(tldr.__file__).parent.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        texts.extend(source[start:start + 1600] for start in range(0, len(source), 1600))
    return texts


def _tokenizer_ids(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    tokenizer.no_padding()
    tokenizer.enable_truncation(LIMIT)
    return [encoding.ids for encoding in tokenizer.encode_batch_fast(texts,
                                                                     add_special_tokens=False)]


def _cache_ids(cache: WordPieceCache, texts: list[str]) -> list[list[int]]:
    lengths, flat = cache.token_ids(texts, LIMIT)
    ends = np.cumsum(lengths)
    return [flat[end - length:end].tolist() for end, length in zip(ends, lengths, strict=True)]


def test_the_cache_gives_the_tokenizers_ids(tokenizer: Tokenizer) -> None:
    cache = WordPieceCache.for_tokenizer(tokenizer)
    assert cache is not None
    texts = AWKWARD + _source_texts()
    expected = _tokenizer_ids(tokenizer, texts)
    for start in range(0, len(texts), 500):  # words learnt in one batch serve the next
        assert _cache_ids(cache, texts[start:start + 500]) == expected[start:start + 500]
    assert any(len(ids) == LIMIT for ids in expected)  # the cut was exercised
    assert _cache_ids(cache, AWKWARD[::-1]) == expected[:len(AWKWARD)][::-1]


def test_the_cache_starts_again_past_its_size(tokenizer: Tokenizer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordpiece_cache, "MAX_WORDS", 10)
    cache = WordPieceCache.for_tokenizer(tokenizer)
    assert cache is not None
    texts = _source_texts()[:40]
    expected = _tokenizer_ids(tokenizer, texts)
    for text, ids in zip(texts, expected, strict=True):
        assert _cache_ids(cache, [text, "one more"])[0] == ids
        assert len(cache._index) < 10 + len(set(text.lower().split())) * 8


def test_other_tokenizers_get_no_cache(tmp_path: Path) -> None:
    from tokenizers import models, normalizers, pre_tokenizers

    word_level = Tokenizer(models.WordLevel(vocab={"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    word_level.normalizer = normalizers.Lowercase()
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    assert WordPieceCache.for_tokenizer(word_level) is None
    cased = Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))
    cased.normalizer = normalizers.BertNormalizer(lowercase=False)
    assert WordPieceCache.for_tokenizer(cased) is None


def test_documents_get_the_same_vectors_with_the_cache(tokenizer: Tokenizer,
                                                        tmp_path: Path) -> None:
    from model2vec import StaticModel

    vectors = np.random.default_rng(7).normal(
        size=(tokenizer.get_vocab_size(), 16)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(
        str(tmp_path / "model"))
    embedder = StaticEmbedder(f"static:{tmp_path / 'model'}", tmp_path / "model", revision="t")
    assert embedder._words is not None
    texts = AWKWARD + _source_texts()[:300]
    with_cache = embedder.embed_documents(texts)
    embedder._words = None
    assert np.array_equal(with_cache, embedder.embed_documents(texts))
