"""The code-graph commands, run in-process through `tldr.cli.main` (`--no-daemon`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tldr.cli import main
from tldr.cli.graph import COMMANDS
from tldr.graph_request import request_for_command


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--no-daemon"])
    out, err = capsys.readouterr()
    return code, out, err


def test_impact_tree_with_tests_marked(pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "impact", "Session.request", "-p", str(pyproj))
    assert code == 0
    assert out.splitlines()[0].startswith("callers of Session.request (method, "
                                          "shop/net/sessions.py:13)")
    assert "  fetch  calls it at shop/net/sessions.py:27" in out
    assert "    main  calls it at shop/main.py:7" in out  # depth 2 by default
    assert "test_request  calls it at tests/test_sessions.py:5 [via-receiver-type] [test]" in out


def test_impact_json_and_jsonl(pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "impact", "Session.request", "-p", str(pyproj), "--json",
                        "--depth", "1")
    assert code == 0
    answer = json.loads(out)
    assert {c["definition"]["qualified"] for c in answer["callers"]} == {"fetch", "test_request"}
    assert all(not c.get("children") for c in answer["callers"])
    code, out, _ = _run(capsys, "calls", "shop/main.py", "-p", str(pyproj), "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"caller": "main", "file": "shop/main.py", "line": 7, "callee": "fetch",
            "callee_file": "shop/net/sessions.py", "callee_line": 26,
            "kind": "via-import"} in rows
    assert all(row["file"] == "shop/main.py" for row in rows)


def test_unknown_name_exit_1_with_did_you_mean(pyproj: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "context", "fetchh", "-p", str(pyproj))
    assert code == 1 and out == ""
    assert err.strip() == "tldrf: error: no definition named fetchh; did you mean: fetch"
    code, _, err = _run(capsys, "impact", "send", "-p", str(pyproj))
    assert code == 1 and "send names 4 definitions" in err and "Traceback" not in err
    assert err.strip().endswith("name one as Class.method or FILE:NAME, or pick one with --file")
    code, _, err = _run(capsys, "impact", "send", "--file", "shop/net/sessions.py",
                        "-p", str(pyproj))  # still two: the hint would not help
    assert code == 1 and err.strip().endswith("name one as Class.method or FILE:NAME")


def test_context_fits_its_budget(pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "context", "main", "-p", str(pyproj), "--budget-tokens", "200")
    assert code == 0
    assert out.startswith("main (function) shop/main.py:5-8")
    assert "(called at shop/main.py:7)" in out
    assert len(out) // 4 <= 220


def test_flow_commands(pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "slice", "shop/net/sessions.py", "Session.request", "15",
                        "-p", str(pyproj))
    assert code == 0
    assert out.splitlines()[0].startswith("slice shop/net/sessions.py:Session.request")
    assert "14 |         prepared = self.prepare(url)" in out
    code, out, _ = _run(capsys, "cfg", "shop/main.py", "main", "-p", str(pyproj), "--json")
    assert code == 0 and json.loads(out)["function"]["qualified_name"] == "main"
    assert "text" not in json.loads(out)


def test_unsupported_language_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".tldr").mkdir()
    (tmp_path / "a.rb").write_text("def hello(x)\n  x + 1\nend\n")
    code, out, err = _run(capsys, "dfg", "a.rb", "hello", "-p", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.strip() == "tldrf: error: dfg is not supported for ruby yet"


def test_bad_input_is_one_line(pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pyproj / "blob.py").write_bytes(b"\x00\x01\x02" * 100)
    code, _, err = _run(capsys, "cfg", "blob.py", "f", "-p", str(pyproj))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "blob.py" in err
    code, _, err = _run(capsys, "slice", "shop/main.py", "main", "99", "-p", str(pyproj))
    assert code == 1 and "line 99 is outside main" in err
    with pytest.raises(SystemExit) as exited:
        main(["impact", "main", "--depth", "0", "-p", str(pyproj)])
    assert exited.value.code == 2
    assert "depth must be between 1 and 10" in capsys.readouterr().err


def test_structure_budget_and_change_impact(pyproj: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "structure", "shop", "-p", str(pyproj))
    assert code == 0 and "shop/net/sessions.py (python)" in out
    assert "  13: method def request(self, url)" in out
    code, out, _ = _run(capsys, "structure", "-p", str(pyproj), "--budget-tokens", "60")
    assert "more files left out to fit the token budget" in out
    code, out, _ = _run(capsys, "change-impact", "shop/util.py", "-p", str(pyproj), "--json")
    answer = json.loads(out)
    assert answer["files"] == ["shop/util.py"]
    assert [t["test"]["qualified"] for t in answer["tests"]] == ["test_request"]


def test_imports_importers_arch_dead_extract(pyproj: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "imports", "shop/main.py", "-p", str(pyproj))
    assert code == 0 and "fetch = shop.net.sessions.fetch (line 1) -> shop/net/sessions.py" in out
    code, out, _ = _run(capsys, "importers", "shop.net.sessions", "-p", str(pyproj))
    assert "shop/main.py:1 Session = shop.net.sessions" in out
    code, out, _ = _run(capsys, "arch", "-p", str(pyproj), "--json")
    assert json.loads(out)["packages"] >= 2
    code, out, _ = _run(capsys, "dead", "-p", str(pyproj), "--no-public")
    assert code == 0 and "unreachable functions and methods" in out
    code, out, _ = _run(capsys, "extract", "shop/net/sessions.py", "Session.request",
                        "-p", str(pyproj))
    assert "calls Session.prepare (shop/net/sessions.py) at line 14" in out


def test_the_thin_client_path_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom tldr.cli import build_parser\n"
            "build_parser(['impact', 'x']).parse_args(['impact', 'x'])\n"
            "import tldr.cli.graph, tldr.daemon.client, tldr.graph_output\n"
            "print(sorted(m for m in ('msgspec', 'numpy', 'tree_sitter', 'tldr.graph', "
            "'tldr.semantic') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


COMPACT = {
    ("structure", "shop/net/sessions.py"): [
        "shop/net/sessions.py:6 Session",
        "shop/net/sessions.py:7 Session.__init__",
        "shop/net/sessions.py:10 Session.send",
        "shop/net/sessions.py:13 Session.request",
        "shop/net/sessions.py:17 Session.prepare",
        "shop/net/sessions.py:21 Retrying",
        "shop/net/sessions.py:22 Retrying.send",
        "shop/net/sessions.py:26 fetch",
        "shop/net/sessions.py:30 unknown",
    ],
    ("extract", "shop/main.py"): [
        "shop/main.py:1 shop.net.sessions: Session, fetch -> shop/net/sessions.py",
        "shop/main.py:2 shop: slugify as make_slug -> shop/__init__.py",
        "shop/main.py:1-12 shop.main",
        "shop/main.py:12 shop.main -> main",
        "shop/main.py:5-8 main def main()",
        "shop/main.py:6 main -> Session",
        "shop/main.py:6 main -> Session.__init__",
        "shop/main.py:7 main -> fetch",
        "shop/main.py:7 main -> slugify",
    ],
    ("context", "fetch"): [
        "shop/net/sessions.py:26-27 fetch def fetch(url, session: Session)",
        "  shop/net/sessions.py:13 Session.request def request(self, url)",
        "    shop/net/sessions.py:17 Session.prepare def prepare(self, url)",
        "    shop/net/sessions.py:10 Session.send def send(self, request)",
    ],
    ("calls", "shop/main.py"): [
        "shop/main.py:6 main -> Session",
        "shop/main.py:6 main -> Session.__init__",
        "shop/main.py:7 main -> fetch",
        "shop/main.py:7 main -> slugify",
        "shop/main.py:12 shop.main -> main",
    ],
    ("impact", "Session.request"): [
        "shop/net/sessions.py:13 Session.request",
        "  shop/net/sessions.py:27 fetch",
        "    shop/main.py:7 main",
        "  tests/test_sessions.py:5 test_request [test]",
    ],
    ("impact", "BaseAdapter.send"): [
        "shop/net/adapters.py:2 BaseAdapter.send",
        "  shop/net/sessions.py:31 unknown [maybe]",
    ],
    ("callees", "unknown"): [
        "shop/net/sessions.py:30 unknown",
        "  shop/net/adapters.py:2 BaseAdapter.send [maybe]",
        "  shop/net/adapters.py:10 HTTPAdapter.send [maybe]",
        "  shop/net/sessions.py:10 Session.send [maybe]",
        "  shop/net/sessions.py:22 Retrying.send [maybe]",
    ],
    ("callees", "Session.request"): [
        "shop/net/sessions.py:13 Session.request",
        "  shop/net/sessions.py:17 Session.prepare",
        "  shop/net/sessions.py:10 Session.send",
    ],
    ("imports", "shop/main.py"): [
        "shop/main.py:1 shop.net.sessions: Session, fetch -> shop/net/sessions.py",
        "shop/main.py:2 shop: slugify as make_slug -> shop/__init__.py",
    ],
    ("importers", "shop.net.sessions"): [
        "shop/main.py:1 Session, fetch",
        "tests/test_sessions.py:1 Session",
    ],
    ("arch",): ["layer 0: shop, shop/net", "layer 1: tests", "cycle: shop <-> shop/net"],
    ("dead", "--no-public"): [
        "shop/net/adapters.py:2 BaseAdapter.send",
        "shop/net/sessions.py:30 unknown",
        "shop/util.py:9 unused_helper",
    ],
    # One function: named once, its items by line.
    ("cfg", "shop/main.py", "main"): ["shop/main.py:5-8 main", "5-8 B0 entry -> B1"],
    ("dfg", "shop/main.py", "main"): ["shop/main.py:5-8 main", "6 s -> 7 8"],
    ("slice", "shop/main.py", "main", "7"): [
        "shop/main.py:5-8 main",
        "6     s = Session()",
        '7     fetch(make_slug("Hello World"), s)',
    ],
    ("change-impact", "shop/util.py"): ["tests/test_sessions.py:4 test_request -> slugify"],
}


def test_every_graph_command_has_a_compact_case() -> None:
    from tldr.graph_request import GRAPH_REQUESTS

    assert {argv[0] for argv in COMPACT} == {kind.COMMAND for kind in GRAPH_REQUESTS}


@pytest.mark.parametrize("argv", list(COMPACT), ids=" ".join)
def test_compact_is_one_line_per_item_file_line_first(
        argv: tuple[str, ...], pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *argv, "-p", str(pyproj), "--format", "compact")
    assert (code, err) == (0, "")
    assert out.splitlines() == COMPACT[argv]
    code, text, _ = _run(capsys, *argv, "-p", str(pyproj))
    assert code == 0 and len(out) < len(text)


def test_compact_keeps_to_the_budget_and_says_how_to_see_more(
        pyproj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "slice", "shop/net/sessions.py", "Session.request", "15",
                        "-p", str(pyproj), "--format", "compact", "--budget-tokens", "50")
    assert code == 0
    assert out.splitlines() == ["shop/net/sessions.py:13-15 Session.request",
                                "13     def request(self, url):",
                                "14         prepared = self.prepare(url)",
                                "... 1 more lines (raise --budget-tokens)"]
    code, out, _ = _run(capsys, "dead", "shop/main.py", "-p", str(pyproj), "--format", "compact")
    assert (code, out) == (0, "no results\n")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_offers_the_search_formats(command: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from tldr.output import FORMATS

    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    offered = re.search(r"--format \{([a-z,]+)\}", help_text)
    assert offered is not None
    assert offered.group(1).split(",") == [
        fmt for fmt in FORMATS if fmt != "jsonl" or request_for_command(command).ROWS]
    assert "compact (one line per item, file:line first, for agents)" in help_text
