"""Code graph: hand-checked call sites (precision) in one corpus, beside llm-tldr 1.5.2.

Builds our graph of a corpus, draws a fixed-seed sample of call sites that
we resolve (any kind but ambiguous), and keeps a verdict file,
`scripts/graph_handcheck/<corpus>.json`, where a person records per site
whether the target is the definition the call reaches (`verdict`:
`correct` or `wrong`; `reason`: one line), and the same for llm-tldr's
answer (`llm_verdict`, `llm_reason`). The sample is the first N resolved
sites of one seeded shuffle of every call site, so a change that turns a
site ambiguous replaces it with the next resolved site and keeps the
others (and their verdicts). A verdict is kept only while the answer it judged is unchanged;
a changed answer comes back unchecked.

llm-tldr's edges name functions, not sites: at each sampled site its
answer is every edge from the enclosing function (same file; or the
innermost enclosing one it files the call under) to a function of the
callee's name.

    python3 -m venv /tmp/llmtldr && /tmp/llmtldr/bin/pip install llm-tldr==1.5.2
    python scripts/bench_graph_handcheck.py --corpus vitest=DIR --language typescript \\
        --revision 596f73986abe2161a9a06f0ca03df68e82690b21 --llm-tldr /tmp/llmtldr/bin/tldr

Prints the figures (precision = correct / checked) and rewrites the
verdict file. llm-tldr's edges are cached beside the corpus
(`DIR/../<corpus>.llm-tldr-edges.json`); it runs on a scratch copy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from bench_graph import build_llm_tldr  # scripts/ is on the path when run as a script

HERE = Path(__file__).resolve().parent
VERDICTS = HERE / "graph_handcheck"
_CODE_CHARS = 160


def _graph(root: Path) -> Any:
    from tldr.graph import CodeGraph, graph_from_tree

    return CodeGraph(graph_from_tree(root), root=root)


def _target(graph: Any, gid: int) -> str:
    definition = graph.symbols.defs[gid]
    return f"{graph.path_of(gid)}:{definition.line} {definition.qualified}"


def _census(graph: Any, language: str) -> tuple[list[tuple[int, int]], dict[str, int],
                                                  dict[tuple[int, int], Any]]:
    """Every call site of `language` (file index, site index), counts by kind, edges by site."""
    from tldr.graph.model import AMBIGUOUS, RESOLVED_KINDS

    sites, edges = [], {}
    counts = {"sites": 0, "resolved": 0, "ambiguous": 0, "unresolved": 0}
    for file_index, record in enumerate(graph.graph.files):
        if record.language != language:
            continue
        for edge in graph.graph.edges[file_index]:
            edges[(file_index, edge.site)] = edge
        for number in range(len(record.facts.sites)):
            sites.append((file_index, number))
            edge = edges.get((file_index, number))
            kind = edge.kind if edge else "unresolved"
            counts["sites"] += 1
            counts["resolved" if kind in RESOLVED_KINDS else
                   "ambiguous" if kind == AMBIGUOUS else "unresolved"] += 1
    return sites, counts, edges


def _sample(graph: Any, sites: list[tuple[int, int]], edges: dict[tuple[int, int], Any],
            size: int, seed: int) -> list[tuple[int, int, Any]]:
    """The first `size` resolved sites of one seeded shuffle of all sites (stable order first)."""
    from tldr.graph.model import RESOLVED_KINDS

    files = graph.graph.files

    def key(item: tuple[int, int]) -> tuple[str, int, int, str]:
        site = files[item[0]].facts.sites[item[1]]
        return files[item[0]].path, site.line, site.col, site.name

    order = sorted(sites, key=key)
    random.Random(seed).shuffle(order)
    chosen = []
    for file_index, number in order:
        edge = edges.get((file_index, number))
        if edge is not None and edge.kind in RESOLVED_KINDS:
            chosen.append((file_index, number, edge))
            if len(chosen) == size:
                break
    return chosen


# -- llm-tldr -----------------------------------------------------------------


def llm_tldr_edges(root: Path, tldr: str, language: str,
                   cache: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """llm-tldr's figures and call edges of `root` (`tldr warm`, `tldr calls`), cached."""
    if cache.exists():
        document = json.loads(cache.read_text())
        return document["figures"], document["edges"]
    figures, edges = build_llm_tldr(root, tldr, language)
    if not edges:
        raise SystemExit(f"llm-tldr gave no call graph: {figures}")
    cache.write_text(json.dumps({"figures": figures, "edges": edges}))
    return figures, edges


def _llm_index(edges: list[dict[str, str]]) -> dict[tuple[str, str], set[str]]:
    """(file, caller as llm-tldr names it: `f`, `Class.m`) -> {"file:callee"}."""
    index: dict[tuple[str, str], set[str]] = {}
    for edge in edges:
        index.setdefault((edge.get("from_file", ""), edge.get("from_func", "")), set()).add(
            f"{edge.get('to_file', '')}:{edge.get('to_func', '')}")
    return index


def _llm_answer(graph: Any, index: dict[tuple[str, str], set[str]], path: str, caller: int,
                name: str) -> list[str]:
    """llm-tldr's targets of `name` called from `caller` (or, as it files nested code, from
    the innermost enclosing definition it has an edge of that name from)."""
    symbols = graph.symbols
    for gid in symbols.ancestors(caller):
        definition = symbols.defs[gid]
        if definition.kind == "module":
            break
        keys = {definition.name, definition.qualified,
                ".".join(definition.qualified.rsplit(".", 2)[-2:])}
        found = sorted(t for key in keys for t in index.get((path, key), ())
                       if t.rsplit(":", 1)[-1].rsplit(".", 1)[-1] == name)
        if found:
            return found
    return []


# -- the verdict file -----------------------------------------------------------


def _entries(graph: Any, root: Path, chosen: list[tuple[int, int, Any]],
             llm: dict[tuple[str, str], set[str]] | None) -> list[dict[str, Any]]:
    lines: dict[str, list[str]] = {}
    entries = []
    for file_index, number, edge in chosen:
        record = graph.graph.files[file_index]
        site = record.facts.sites[number]
        caller_id = graph.symbols.offsets[file_index] + site.caller
        caller = graph.symbols.defs[caller_id]
        if record.path not in lines:
            lines[record.path] = (root / record.path).read_text(
                encoding="utf-8", errors="replace").splitlines()
        code = lines[record.path][site.line - 1].strip()[:_CODE_CHARS]
        entry: dict[str, Any] = {
            "site": f"{record.path}:{site.line}:{site.col}",
            "call": f"{site.receiver}.{site.name}" if site.receiver else site.name,
            "caller": caller.qualified, "code": code, "kind": edge.kind,
            "ours": [_target(graph, gid) for gid in edge.targets],
            "verdict": "", "reason": "",
        }
        if llm is not None:
            entry.update(llm_tldr=_llm_answer(graph, llm, record.path, caller_id, site.name),
                         llm_verdict="", llm_reason="")
        entries.append(entry)
    return entries


def _merge(entries: list[dict[str, Any]], previous: list[dict[str, Any]]) -> None:
    """Carry verdicts over from `previous` where the judged answer is the same."""
    old = {e["site"]: e for e in previous}
    for entry in entries:
        before = old.get(entry["site"])
        if before is None:
            continue
        if before.get("ours") == entry["ours"] and before.get("call") == entry["call"]:
            entry["verdict"], entry["reason"] = before.get("verdict", ""), before.get("reason", "")
        if "llm_tldr" in entry and before.get("llm_tldr") == entry["llm_tldr"]:
            entry["llm_verdict"] = before.get("llm_verdict", "")
            entry["llm_reason"] = before.get("llm_reason", "")
        elif "llm_tldr" not in entry and "llm_tldr" in before:
            for key in ("llm_tldr", "llm_verdict", "llm_reason"):
                entry[key] = before[key]


def scores(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision of ours and llm-tldr's over the checked sites, and llm-tldr's coverage."""
    correct = sum(e["verdict"] == "correct" for e in entries)
    wrong = sum(e["verdict"] == "wrong" for e in entries)
    covered = [e for e in entries if e.get("llm_tldr")]
    llm_correct = sum(e.get("llm_verdict") == "correct" for e in covered)
    llm_wrong = sum(e.get("llm_verdict") == "wrong" for e in covered)
    return {
        "checked": correct + wrong, "correct": correct, "wrong": wrong,
        "unchecked": len(entries) - correct - wrong,
        "precision": round(correct / (correct + wrong), 3) if correct + wrong else None,
        "llm_tldr": {
            "answered": len(covered), "checked": llm_correct + llm_wrong,
            "correct": llm_correct, "wrong": llm_wrong,
            "unchecked": len(covered) - llm_correct - llm_wrong,
            "precision": round(llm_correct / (llm_correct + llm_wrong), 3)
            if llm_correct + llm_wrong else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Build, sample, merge the verdicts, write the file, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, metavar="NAME=DIR")
    parser.add_argument("--language", required=True, help="the language of the sites to sample")
    parser.add_argument("--revision", default="", help="the corpus' commit, recorded in the file")
    parser.add_argument("--llm-tldr", metavar="TLDR", help="llm-tldr's `tldr` executable")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--verdicts", type=Path, help="the verdict file (default: "
                        "scripts/graph_handcheck/NAME.json)")
    args = parser.parse_args(argv)
    name, _, directory = args.corpus.partition("=")
    root = Path(directory).resolve()
    if not name or not directory or not root.is_dir():
        parser.error(f"--corpus {args.corpus}: expected NAME=DIR with an existing DIR")
    verdicts = args.verdicts or VERDICTS / f"{name}.json"
    started = time.perf_counter()
    graph = _graph(root)
    build_s = time.perf_counter() - started
    sites, counts, edges = _census(graph, args.language)
    chosen = _sample(graph, sites, edges, args.sample, args.seed)
    llm, llm_figures = None, None
    if args.llm_tldr:
        cache = root.parent / f"{name}.llm-tldr-edges.json"
        llm_figures, llm_edges = llm_tldr_edges(root, args.llm_tldr, args.language, cache)
        llm = _llm_index(llm_edges)
    entries = _entries(graph, root, chosen, llm)
    previous = json.loads(verdicts.read_text()) if verdicts.exists() else {}
    _merge(entries, previous.get("sites", []))
    document = {
        "corpus": name, "language": args.language,
        "revision": args.revision or previous.get("revision", ""),
        "seed": args.seed, "sample": args.sample, "census": counts, "sites": entries,
    }
    verdicts.parent.mkdir(parents=True, exist_ok=True)
    verdicts.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for entry in entries:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    figures = {"corpus": name, "census": counts, "sample_kinds": kinds,
               "build_s": round(build_s, 1), "load": round(os.getloadavg()[0], 1),
               **scores(entries), "llm_tldr_build": llm_figures}
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
