from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from unit_factory import make_unit

from tldr.semantic import lexical
from tldr.semantic.lexical import (
    DEF_PREFIX,
    LEXICAL_FORMAT,
    LexicalIndex,
    TokenCache,
    path_tokens,
    query_tokens,
    split_identifier,
    tokenize,
)
from tldr.units.model import Unit


def _unit(name: str, file: str, code: str = "", doc: str = "", kind: str = "function") -> Unit:
    return make_unit(
        name, file, code=code, docstring=doc, unit_type=kind, signature=f"def {name}()"
    )


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("getHTTPResponse2", ["get", "http", "response", "2"]),
        ("snake_case_name", ["snake", "case", "name"]),
        ("XMLHttpRequest", ["xml", "http", "request"]),
        ("ClientSession", ["client", "session"]),
        ("__init__", ["init"]),
        ("model2vec", ["model", "2", "vec"]),
        ("HTTPServer", ["http", "server"]),
        ("ALL_CAPS", ["all", "caps"]),
        ("_", []),
    ],
)
def test_split_identifier(word: str, parts: list[str]) -> None:
    assert split_identifier(word) == parts


def test_tokenize_keeps_whole_compound_identifiers() -> None:
    toks = tokenize("ClientSession.get_connection")
    assert "clientsession" in toks
    assert "get_connection" in toks
    assert {"client", "session", "connection"} <= set(toks)


def test_tokenize_lowercases_stems_and_drops_filler() -> None:
    assert tokenize("How does the Router work") == ["router"]
    assert tokenize("routes") == tokenize("route")
    assert tokenize("routing") == tokenize("route")
    assert tokenize("dependencies") == ["dependency"]


def test_tokenize_drops_single_letters_but_keeps_whole() -> None:
    assert tokenize("x") == []
    assert tokenize("OAuth2") == ["auth", "oauth2"]


def test_path_tokens_dirs_and_stem() -> None:
    assert path_tokens("fastapi/security/oauth2.py") == ["fastapi", "security", "oauth", "oauth2"]
    assert path_tokens("src/index.test.ts") == ["src", "index", "test"]
    assert path_tokens("README") == tokenize("readme")


def test_query_tokens_add_definition_tokens_for_words_and_pairs() -> None:
    toks = query_tokens("how does the client session work")
    assert DEF_PREFIX + "clientsession" in toks
    assert DEF_PREFIX + "client" in toks
    assert DEF_PREFIX + "how" not in toks
    assert DEF_PREFIX + "field_validator".replace("_", "") in query_tokens("field_validator")


def test_an_article_does_not_separate_words_run_together() -> None:
    # Issue 21: "set cookie" found `set_cookie` first, "set a cookie" 23rd.
    assert DEF_PREFIX + "setcookie" in query_tokens("set a cookie")
    assert DEF_PREFIX + "readfile" in query_tokens("read the file")
    assert DEF_PREFIX + "validationerror" not in query_tokens("validation and error")


def _corpus() -> list[Unit]:
    return [
        _unit("ClientSession", "pkg/client.py", "class ClientSession: pass", kind="class"),
        _unit("request", "pkg/client.py", "session = ClientSession()\nreturn session.get(url)"),
        _unit("parse_url", "pkg/url.py", "def parse_url(text): return split(text)"),
        _unit("render", "pkg/view.py", "template lookup and rendering of views"),
        _unit("main", "pkg/routing.py", "register route handlers"),
    ]


def test_search_definition_ranks_first() -> None:
    index = LexicalIndex.build(_corpus())
    hits = index.search("ClientSession", 5)
    assert hits[0][0] == 0
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(hits))
    assert index.search("client session", 1)[0][0] == 0


def test_search_matches_file_path_words() -> None:
    index = LexicalIndex.build(_corpus())
    assert index.search("how are routes registered", 1)[0][0] == 4


def test_search_edge_cases() -> None:
    index = LexicalIndex.build(_corpus())
    assert index.search("zzzunknownzzz", 5) == []
    assert index.search("", 5) == []
    assert index.search("session", 0) == []
    assert len(index.search("session", 1)) == 1
    empty = LexicalIndex.build([])
    assert len(empty) == 0
    assert empty.search("session", 5) == []


def test_save_load_round_trip(tmp_path: Path) -> None:
    index = LexicalIndex.build(_corpus())
    path = tmp_path / "lexical.b1.bm25"
    index.save(path)
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    loaded = LexicalIndex.load(path)
    assert len(loaded) == len(index)
    for query in ("ClientSession", "template rendering", "parse url"):
        assert loaded.search(query, 5) == index.search(query, 5)
    # The file stores term frequencies, not weights: the weights come back bit for bit.
    assert loaded.vocab == index.vocab == sorted(index.vocab, key=str.encode)
    assert _all_weights(loaded) == _all_weights(index)
    assert loaded.indices.tolist() == index.indices.tolist()
    assert all(loaded.token_id(word) == i for i, word in enumerate(index.vocab))
    assert loaded.token_id("no-such-token") is None


def _all_weights(index: LexicalIndex) -> list[bytes]:
    return [index.weights(i).tobytes() for i in range(len(index.vocab))]


def test_save_load_unicode_vocabulary_and_empty_index(tmp_path: Path) -> None:
    index = LexicalIndex.from_tokens([["héllo", "wörld", "héllo"], ["日本", "=x"], []])
    index.save(tmp_path / "a.bm25")
    loaded = LexicalIndex.load(tmp_path / "a.bm25")
    assert loaded.vocab == index.vocab
    assert _all_weights(loaded) == _all_weights(index)
    assert loaded.token_id("日本") == index.token_id("日本") is not None
    LexicalIndex.build([]).save(tmp_path / "empty.bm25")
    empty = LexicalIndex.load(tmp_path / "empty.bm25")
    assert len(empty) == 0 and empty.search("session", 5) == []


def test_load_refuses_a_v2_file_and_damaged_headers(tmp_path: Path) -> None:
    import io
    import zipfile

    v2 = tmp_path / "v2.bm25"  # v2 was a compressed .npz: a zip
    with zipfile.ZipFile(v2, "w") as archive:
        archive.writestr("format.npy", b"bm25-lucene-v2")
    with pytest.raises(ValueError, match="not a lexical index"):
        LexicalIndex.load(v2)
    good = tmp_path / "good.bm25"
    LexicalIndex.build(_corpus()).save(good)
    data = good.read_bytes()
    damaged = {
        "header past the end": data[:8] + (1 << 40).to_bytes(8, "little") + data[16:],
        "header garbled": data[:16] + b"\xc1" * 8 + data[24:],
        "arrays cut short": data[: len(data) - 16],
        "empty": b"",
    }
    for what, payload in damaged.items():
        path = tmp_path / f"{what}.bm25"
        path.write_bytes(payload)
        with pytest.raises(ValueError):
            LexicalIndex.load(path)
    assert io.BytesIO(data).read(8) == b"TLDRBM25"


def test_load_rejects_other_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lexical.bm25"
    monkeypatch.setattr(lexical, "LEXICAL_FORMAT", "old-format")
    LexicalIndex.build(_corpus()).save(path)
    monkeypatch.setattr(lexical, "LEXICAL_FORMAT", LEXICAL_FORMAT)
    with pytest.raises(ValueError, match="format"):
        LexicalIndex.load(path)


def test_token_cache_reuses_unchanged_units(monkeypatch: pytest.MonkeyPatch) -> None:
    units = _corpus()
    cache = TokenCache()
    first = LexicalIndex.build(units, token_cache=cache)
    assert len(cache) == len(units)
    calls: list[str] = []
    real = lexical._unit_counts

    def counting(unit: Unit, file_tokens: list[str]) -> dict[str, int]:
        calls.append(unit.name)
        return real(unit, file_tokens)

    monkeypatch.setattr(lexical, "_unit_counts", counting)
    changed = [*units[:-1], _unit("main", "pkg/routing.py", "register route handlers again")]
    second = LexicalIndex.build(changed, token_cache=cache)
    assert calls == ["main"]
    assert len(cache) == len(units)
    assert [p for p, _ in second.search("ClientSession", 3)] == [
        p for p, _ in first.search("ClientSession", 3)
    ]
    fresh = LexicalIndex.build(changed)
    for query in ("route handlers again", "session", "template"):
        got, want = second.search(query, 5), fresh.search(query, 5)
        assert [p for p, _ in got] == [p for p, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want])


def test_scores_match_bm25s_reference() -> None:
    bm25s = pytest.importorskip("bm25s")
    docs = [
        ["client", "session", "client", "get"],
        ["path", "handler", "path"],
        ["client", "path"],
        ["view", "view", "render", "view", "handler"],
    ]
    ours = LexicalIndex.from_tokens(docs)
    vocab = {t: i for i, t in enumerate(ours.vocab)}
    ref = bm25s.BM25(method="lucene", k1=lexical._K1, b=lexical._B)
    ref.scores = ref.build_index_from_ids(
        unique_token_ids=list(range(len(vocab))),
        corpus_token_ids=[[vocab[t] for t in d] for d in docs],
        show_progress=False,
    )
    for token in ("client", "path", "view", "get", "handler"):
        expected = ref.get_scores_from_ids([vocab[token]])
        got = [0.0] * len(docs)
        for pos, score in ours.search(token, 10):
            got[pos] = score
        assert got == pytest.approx(expected.tolist(), rel=1e-5)


def test_module_import_is_cheap() -> None:
    code = (
        "import sys, tldr.semantic.lexical as m; print('numpy' in dir(m), 'bm25s' in sys.modules)"
    )

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
