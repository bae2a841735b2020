"""A tiny real model2vec `StaticModel` for tests: the hash embedder's vectors of a
project's words, so the fast tier runs without distilling a real model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tldr.semantic.models.embedders import HashingEmbedder

DIMENSION = 64


def tiny_static_model(directory: Path, *sources: Path) -> Path:
    """Save a `StaticModel` whose vocabulary is every word of the files under `sources`."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words: set[str] = set()
    for source in sources:
        for path in source.rglob("*"):
            if path.is_file():
                text = path.read_text(errors="replace")
                words.update(word.lower() for word in re.findall(r"\w+", text))
    vocabulary = sorted(words)
    tokenizer = Tokenizer(models.WordLevel(
        vocab={"[UNK]": 0, **{word: i + 1 for i, word in enumerate(vocabulary)}},
        unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.vstack([np.zeros((1, DIMENSION), dtype=np.float32),
                         HashingEmbedder(DIMENSION).embed_documents(vocabulary)])
    StaticModel(vectors=vectors, tokenizer=tokenizer, normalize=True).save_pretrained(
        str(directory))
    return directory
