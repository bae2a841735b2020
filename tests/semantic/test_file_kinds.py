from __future__ import annotations

import random
import time

import pytest

from tldr.semantic.query import file_kinds
from tldr.semantic.query.file_kinds import (
    ProjectFiles,
    file_info,
    mirror_directories,
    similar_words,
)


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("pkg/client.py", set()),
        ("tests/test_client.py", {"test"}),
        ("pkg/client_test.go", {"test"}),
        ("src/client.spec.ts", {"test"}),
        ("src/ClientTests.java", {"test"}),
        ("conftest.py", {"test"}),
        ("pkg/latest.py", set()),
        ("pkg/test.py", {"test"}),
        ("src/Test.java", {"test"}),
        ("examples/client.py", {"example"}),
        ("docs_src/app/main.py", {"example"}),
        ("vendor/lib/client.go", {"vendor"}),
        ("node_modules/x/index.js", {"vendor"}),
        ("pkg/_compat.py", {"compat"}),
        ("pkg/deprecated/client.py", {"compat"}),
        ("examples/tests/test_demo.py", {"example", "test"}),
        ("pkg/test_client.py", {"test"}),
        ("lib/bats-core/test_functions.bash", set()),
        ("test/run.bats", {"test"}),
        ("cli.bats", {"test"}),
        ("README.md", {"docs"}),
        ("config/settings.yaml", {"docs"}),
        ("build.zig.zon", {"docs"}),
        ("Dockerfile", set()),
        ("scripts/deploy", set()),
    ],
)
def test_file_kinds(path: str, kinds: set[str]) -> None:
    assert file_info(path).kinds == kinds
    assert kinds <= set(file_kinds.KINDS)


def test_file_info_fields() -> None:
    info = file_info("src/lib/index.test.ts")
    assert info.stem == "index"
    assert info.depth == 2
    assert {"src", "lib", "index", "test"} <= info.tokens


def test_mirror_directories() -> None:
    names = ["main", "fields", "types", "config"]
    files = [f"pkg/{n}.py" for n in names] + [f"pkg/v1/{n}.py" for n in names]
    files += ["pkg/other/main.py", "pkg/other/a.py", "pkg/other/b.py"]
    assert mirror_directories(files) == {"pkg/v1/"}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("rout", "routing", True),
        ("websocket", "websockets", True),
        ("resolution", "resolver", True),
        ("dispatch", "urldispatcher", True),
        ("api", "apis", False),  # under 4 letters: only equality
        ("api", "api", True),
        ("client", "server", False),
    ],
)
def test_similar_words(a: str, b: str, same: bool) -> None:
    assert similar_words(a, b) is same
    assert similar_words(b, a) is same


def _brute_force(project: ProjectFiles, word: str) -> frozenset[int]:
    return frozenset(
        i
        for i, f in enumerate(project.files)
        if any(project.informative(p) and similar_words(word, p) for p in file_info(f).tokens)
    )


def test_files_naming_matches_brute_force() -> None:
    rnd = random.Random(7)
    stems = [
        "routing", "routes", "router", "web_urldispatcher", "websocket", "websockets",
        "resolver", "resolution", "dispatch", "client", "client_session", "helpers",
        "http_parser", "httpx", "multipart", "formdata", "config", "app", "api", "io",
    ]  # fmt: skip
    dirs = ["pkg", "pkg/web", "pkg/http", "pkg/internal", "tests", "lib/src"]
    files = {f"{rnd.choice(dirs)}/{rnd.choice(stems)}.py" for _ in range(120)}
    project = ProjectFiles(files, max_share=0.3)
    words = "rout route dispatch urldispatcher websocket session pars form data http".split()
    words += "resolv clientsess api pkg xyz helper".split()
    for word in words:
        assert project.files_naming(word) == _brute_force(project, word), word


def test_root_package_word_is_not_informative() -> None:
    files = [f"model2vec/{n}.py" for n in ("a", "b", "c", "d")]
    project = ProjectFiles(files, max_share=0.3)
    assert not project.informative("model2vec")
    assert project.files_naming("model2vec") == frozenset()
    assert project.informative("unseen")


def test_match_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_kinds, "_MATCH_MEMO_MAX", 5)
    project = ProjectFiles(["pkg/a.py"], max_share=0.3)
    for i in range(20):
        project.files_naming(f"word{i}")
    assert len(project._matches) <= 5


def test_one_long_query_word_costs_linear_time() -> None:
    # Every substring of a 4,000-letter token used to be looked up (cubic:
    # about 4 s on an idle machine); the lookups are now bounded by the longest path word.
    files = ProjectFiles(
        [f"pkg/mod{i}/handler{i}.py" for i in range(300)] + ["pkg/dispatcher.py"],
        max_share=0.3,
    )
    word = "x" * 2000 + "dispatcher" + "y" * 2000
    t0 = time.perf_counter()
    found = files.files_naming(word)
    assert time.perf_counter() - t0 < 1.0  # ~5 ms; was 4 s (77 s on a loaded machine)
    assert files.files_naming("dispatch") == found == {files.id_of["pkg/dispatcher.py"]}
