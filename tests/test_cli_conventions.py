"""The CLI behaves like the tools people already use: rg, fd, git, uv."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tldr import __version__
from tldr.cli import main
from tldr.cli._support import use_color

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "projects" / "mini"
TLDRF = [sys.executable, "-m", "tldr.cli"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project indexed with hash-256 (searched in-process here)."""
    from tldr.semantic import build_semantic_index

    root = shutil.copytree(FIXTURE, tmp_path_factory.mktemp("conv") / "mini")
    (root / ".tldr").mkdir()
    build_semantic_index(root, model="hash-256")
    return root


def _search(*args: str) -> list[str]:
    return ["semantic", "search", *args, "--no-daemon"]


def test_version_short_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-V"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"tldrf {__version__}"


@pytest.mark.parametrize("query", ["", "   ", "?!", "..."])
def test_meaningless_query_is_a_usage_error(indexed: Path, query: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(_search(query, "-p", str(indexed)))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "no words or identifiers" in err and "Traceback" not in err


def test_unknown_language_lists_the_valid_ones(indexed: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for extra in ([], ["--no-daemon"]):
        with pytest.raises(SystemExit) as exited:
            main(["semantic", "search", "retry", "-p", str(indexed), "--lang", "klingon",
                  *extra])
        assert exited.value.code == 2
        assert "choose one of: bash, c, clojure" in capsys.readouterr().err


def test_path_prefix_as_typed(indexed: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    def files(*prefix_args: str) -> set[str]:
        assert main(_search("retry", "-p", str(indexed), "--json", *prefix_args)) == 0
        return {row["file"] for row in json.loads(capsys.readouterr().out)}

    monkeypatch.chdir(indexed)
    assert files("--path-prefix", "./src") and files("--path-prefix", "./src") == files(
        "--path-prefix", "src")
    assert files("--path-prefix", str(indexed / "src")) == files("--path-prefix", "src")
    monkeypatch.chdir(indexed / "src")
    assert files("--path-prefix", "retry.py") == {"src/retry.py"}  # typed from inside src/
    assert all(name.startswith("src/") for name in files("--path-prefix", "."))


def test_one_way_to_name_the_project(indexed: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    for spelling in (["-p", str(indexed)], ["--project", str(indexed)], [str(indexed)],
                     ["--path", str(indexed)]):
        assert main(["semantic", "info", *spelling, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["root"] == str(indexed.resolve())
    assert main(["semantic", "info", "-p", str(indexed), str(tmp_path)]) == 1
    assert "named twice" in capsys.readouterr().err


def test_mistyped_command_suggests_the_right_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["semantic", "serch", "q"])
    assert "did you mean 'search'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["deamon", "status"])
    assert "did you mean 'daemon'?" in capsys.readouterr().err


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Terminal()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())
    assert use_color(io.StringIO(), "always") and not use_color(Terminal(), "never")


def test_color_always_and_never(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_search("retry", "-p", str(indexed), "--color", "always")) == 0
    assert "\x1b[35msrc/retry.py" in capsys.readouterr().out
    assert main(_search("retry", "-p", str(indexed))) == 0  # captured: not a terminal
    assert "\x1b[" not in capsys.readouterr().out


def test_quiet_and_verbose(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", *_search("retry", "-p", str(indexed))]) == 0
    assert capsys.readouterr().err == ""
    assert main(["semantic", "index", "-q", "-p", str(indexed)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("up to date") and captured.err == ""


def test_files_honours_the_format(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_search("http server", "-p", str(indexed), "--files", "--format", "jsonl")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all("units" in json.loads(line) for line in lines)
    assert main(_search("http server", "-p", str(indexed), "--files", "--format",
                        "compact")) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("web/server.go (") and ":" in first


def test_budget_says_how_many_hits_were_cut(indexed: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_search("function", "-p", str(indexed), "-k", "20", "--format", "compact",
                        "--budget-tokens", "60")) == 0
    out = capsys.readouterr().out
    assert "more hits cut to fit --budget-tokens=60" in out.splitlines()[-1]


def test_output_into_a_closed_pipe_exits_quietly() -> None:
    with subprocess.Popen([*TLDRF, "completion", "bash"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before anything is written, as with `| head`
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("words", [["--help"], ["--version"], ["semantic", "search", "--help"],
                                   ["completion", "fish"], ["semantic", "--no-such-option"]])
def test_every_kind_of_output_into_a_closed_pipe_is_quiet(words: list[str], unbuffered: bool
                                                          ) -> None:
    # Whether the pipe's closing shows depends on buffering: test both ways.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    with subprocess.Popen([*TLDRF, *words], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    usage_error = "--no-such-option" in words
    assert code == (2 if usage_error else 0), err
    assert "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert bool(err) == usage_error, err


def test_output_into_head_exits_quietly(indexed: Path) -> None:
    shell = (f"{' '.join(TLDRF)} semantic search function -p {indexed} -k 200 "
             "--no-daemon --format jsonl --snippets | head -1")
    completed = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True,
                               text=True, check=False)
    assert completed.stdout.count("\n") == 1
    assert "Traceback" not in completed.stderr, completed.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "semantic" in script and "path-prefix" in script and "hybrid" in script
    runner = shutil.which(shell)
    if runner is not None and shell != "fish":
        check = subprocess.run([runner, "-n"], input=script, text=True, capture_output=True,
                               check=False)
        assert check.returncode == 0, check.stderr


def test_bash_completion_completes_commands_and_values(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    main(["completion", "bash"])
    script = capsys.readouterr().out

    def complete(*words: str) -> set[str]:
        line = " ".join(f"'{w}'" for w in ("tldrf", *words))
        program = (f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; _shtab_tldrf; "
                   'printf "%s\\n" "${COMPREPLY[@]}"')
        out = subprocess.run(["bash", "-c", program], capture_output=True, text=True,
                             check=True, env={**os.environ, "LC_ALL": "C"}).stdout
        return set(out.split())

    assert "semantic" in complete("sem")
    assert complete("semantic", "se") == {"search"}
    assert "--path-prefix" in complete("semantic", "search", "--pa")
    assert complete("semantic", "search", "--mode", "") == {"hybrid", "dense", "lexical"}
    assert complete("--color", "") == {"auto", "always", "never"}


def test_fish_completion_offers_each_level_its_own_subcommands(
        capsys: pytest.CaptureFixture[str]) -> None:
    # The hand-written fish script offered `index list|info|rm|gc` after
    # `tldrf semantic index`: subcommands must be scoped by their whole path.
    main(["completion", "fish"])
    script = capsys.readouterr().out
    offered: dict[str, set[str]] = {}
    for line in script.splitlines():
        if line.startswith("complete -c tldrf -n '_shtab_tldrf_using") and " -a " in line:
            path = line.split("_shtab_tldrf_using", 1)[1].split(";", 1)[0].strip()
            offered.setdefault(path, set()).add(line.split(" -a ", 1)[1].split()[0])
    assert {"list", "info", "rm", "gc"} <= offered["index"]
    assert not {"list", "rm", "gc"} & offered.get("semantic index", set())
    assert {"index", "search", "info"} <= offered["semantic"]


def test_a_search_that_finds_nothing_exits_1_as_grep_does(indexed: Path) -> None:
    assert main(_search("retry", "-p", str(indexed), "--path-prefix", "no/such/dir")) == 1
    assert main(_search("retry", "-p", str(indexed))) == 0


def test_a_bad_language_is_a_usage_error_on_index_as_on_search(indexed: Path) -> None:
    for words in (["semantic", "index", str(indexed)], _search("retry", "-p", str(indexed))):
        with pytest.raises(SystemExit) as exited:
            main([*words, "--lang", "klingon"])
        assert exited.value.code == 2


def test_user_config_is_below_the_project_config(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tldr.settings import read_config_file

    user = tmp_path / "user.toml"
    user.write_text('[semantic]\nmodel = "hash-64"\nlang = ["go"]\n'
                    '[vector_store.usearch]\nconnectivity = 8\n')
    project = tmp_path / "config.toml"
    project.write_text('[semantic]\nmodel = "hash-256"\n')
    monkeypatch.setenv("TLDR_USER_CONFIG", str(user))
    merged = read_config_file(project)
    assert merged["semantic"] == {"model": "hash-256", "lang": ["go"]}
    assert merged["vector_store"] == {"usearch": {"connectivity": 8}}
    assert read_config_file(tmp_path / "none.toml")["semantic"]["model"] == "hash-64"


def test_config_values_are_applied_or_rejected_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = shutil.copytree(FIXTURE, tmp_path / "mini")
    (root / ".tldr").mkdir()
    config = root / ".tldr" / "config.toml"
    assert main(["semantic", "index", str(root), "--model", "hash-256", "-q"]) == 0
    capsys.readouterr()
    config.write_text('[semantic]\nlang = ["go"]\n')
    assert main(["-v", "semantic", "index", str(root)]) == 0
    err = capsys.readouterr().err
    assert "the config sets lang = ['go']" in err and "--rebuild" in err  # said, not ignored
    assert "lang from metadata.json" in err and "timings:" not in err  # nothing was built
    assert main(["-v", "semantic", "index", str(root), "--rebuild"]) == 0
    err = capsys.readouterr().err
    assert "lang from config" in err and "model from metadata.json" in err and "timings:" in err
    for text, named in (("model = 42", "[semantic] model = 42"),
                        ('lang = "klingon"', "unknown language(s): klingon"),
                        ('modle = "x"', "unknown key [semantic] modle")):
        config.write_text(f"[semantic]\n{text}\n")
        assert main(["semantic", "index", str(root)]) == 1
        err = capsys.readouterr().err
        assert str(config) in err and named in err


def test_verbose_in_process_search_names_the_build_and_its_timing(
        indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", *_search("retry", "-p", str(indexed), "-k", "1")]) == 0
    err = capsys.readouterr().err
    assert "tldrf: build " in err and "ms embedding the query" in err
