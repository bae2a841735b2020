"""Code graph: build cost beside llm-tldr 1.5.2, and call-edge accuracy against jedi.

(a) Build: our graph of each project (walk, one parse per file, resolve)
in a child process: wall and CPU seconds, peak RSS, resolved edges; then,
in the same run, llm-tldr's `tldr warm` and `tldr calls` from its own venv
(`--llm-tldr /tmp/x/bin/tldr`), timed the same way.

(b) Accuracy: a fixed-seed sample of call sites per project; for each,
jedi's `Script.goto(follow_imports=True)` at the callee name is the
reference. Precision: of the sites where we name a definition and jedi
names a function or class (in the project or outside it), the share where
jedi names the same definition (same file and
name, its line inside our definition). Recall: of the sites where jedi
names a project function or class, the share where we name it too.
A constructor edge names the class (and the `__init__` that runs).

    .venv/bin/pip install -e '.[graph-bench]'
    .venv/bin/python scripts/bench_graph.py --project django=/tmp/src/django \\
        --project requests=/tmp/src/requests --llm-tldr /tmp/llm/bin/tldr --json out.json

Projects are directories holding the package (unzip a wheel: `pip download
django==5.1.13 --no-deps`). Never run on code you do not trust more than
your editor: jedi only parses, llm-tldr is run as its CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_BUILD_CHILD = """
import json, sys, time
started, cpu = time.perf_counter(), time.process_time()
from pathlib import Path
from tldr.graph import CodeGraph, build_graph
from tldr.graph.build import records_from_tree
records = records_from_tree(Path(sys.argv[1]))
parsed = time.process_time() - cpu
built = build_graph(records)
graph = CodeGraph(built)
cpu_total = time.process_time() - cpu
import statistics, tracemalloc
from tldr.graph import callers, context, encode_graph
from tldr.graph.store import decode_graph
data = encode_graph(built)
tracemalloc.start()
loaded = CodeGraph(decode_graph(data))
held = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
names = sorted({d.qualified for d in loaded.symbols.defs if d.kind in ("function", "method")})
counts = {}
for d in loaded.symbols.defs:
    counts[d.qualified] = counts.get(d.qualified, 0) + 1
names = [n for n in names if counts[n] == 1][:: max(1, len(names) // 200)]
timings = {"callers": [], "context": []}
for name in names:
    for query, run in (("callers", lambda: callers(loaded, name, depth=2)),
                       ("context", lambda: context(loaded, name))):
        started_q = time.perf_counter()
        try:
            run()
        except Exception:
            continue
        timings[query].append((time.perf_counter() - started_q) * 1000)
print(json.dumps({"files": len(records), "defs": len(graph.symbols.defs),
                  "graph_file_mib": round(len(data) / 2**20, 1),
                  "loaded_graph_mib": round(held / 2**20, 1),
                  "callers_p50_ms": round(statistics.median(timings["callers"]), 2),
                  "context_p50_ms": round(statistics.median(timings["context"]), 2),
                  "sites": sum(len(r.facts.sites) for r in records),
                  "edges": graph.edge_count, "parse_cpu_s": round(parsed, 2),
                  "cpu_s": round(cpu_total, 2),
                  "wall_s": round(time.perf_counter() - started, 2)}))
"""


def _run_measured(command: list[str], *, cwd: Path | None = None, timeout: float = 600,
                  env: dict[str, str] | None = None,
                  ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a child; return it, its wall seconds and its peak RSS (MiB).

    Each child runs alone after the previous one ended, so RUSAGE_CHILDREN's
    maximum is this child's own peak once it exceeds every earlier one; the
    children are run biggest-first-unknown, so the figure is an upper bound.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return done, wall, max(after, before) / 1024


def _rss_of(command: list[str], *, cwd: Path | None = None, timeout: float = 600,
            env: dict[str, str] | None = None,
            ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Like `_run_measured`, with the peak RSS from GNU time when it is installed."""
    if Path("/usr/bin/time").exists():
        done, wall, _ = _run_measured(["/usr/bin/time", "-f", "%M", *command], cwd=cwd,
                                      timeout=timeout, env=env)
        lines = done.stderr.strip().splitlines()
        try:
            return done, wall, int(lines[-1]) / 1024
        except (IndexError, ValueError):
            pass
    return _run_measured(command, cwd=cwd, timeout=timeout, env=env)


def build_ours(root: Path) -> dict[str, Any]:
    """Our graph build of `root` in a child process."""
    done, wall, rss = _rss_of([sys.executable, "-c", _BUILD_CHILD, str(root)])
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(wall_s=round(wall, 2), peak_rss_mib=round(rss, 1))
    return result


def build_llm_tldr(root: Path, tldr: str, language: str = "",
                   ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """llm-tldr's `warm` then `calls` on a scratch copy of `root` (it writes into the tree).

    Returns its figures and its edges (`from_file, from_func, to_file, to_func`).
    `language` is its `--lang` (default: it detects).
    """
    import shutil
    import tempfile

    lang = ["--lang", language] if language else []
    # its package is also called `tldr`: ours (PYTHONPATH=worktree) must not shadow it
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="llm-tldr-") as scratch:
        copy = Path(shutil.copytree(root, Path(scratch) / root.name))
        done, wall, rss = _rss_of([tldr, "warm", str(copy), *lang], cwd=copy, env=env)
        result: dict[str, Any] = {"warm_wall_s": round(wall, 2), "warm_peak_rss_mib": round(rss, 1),
                                  "warm_rc": done.returncode}
        if done.returncode != 0:
            result["warm_error"] = (done.stderr or done.stdout).strip()[-300:]
        calls, calls_wall, _ = _rss_of([tldr, "calls", str(copy), *lang], cwd=copy, env=env)
        result["calls_wall_s"] = round(calls_wall, 2)
        edges = _llm_edges(calls.stdout)
        result["edges"] = len(edges)
    return result, edges


def _llm_edges(text: str) -> list[dict[str, str]]:
    try:
        document = json.loads(text[text.find("{"):])
    except ValueError:
        return []
    edges = document.get("edges") if isinstance(document, dict) else None
    return [e for e in edges or [] if isinstance(e, dict)]


def incremental(root: Path, changed: str) -> list[dict[str, Any]]:
    """One file edited two ways (a body, a new function): `update_graph` beside a full resolve."""
    from tldr.graph import build_graph, file_record, update_graph
    from tldr.graph.build import records_from_tree
    from tldr.units import extract_file

    records = records_from_tree(root)
    started = time.process_time()
    full = build_graph(records)
    full_s = time.process_time() - started
    record = next(r for r in records if r.path == changed)
    original = (root / changed).read_bytes()
    edits = {
        "new function": original + b"\n\ndef _bench_added(value):\n    return value\n",
        "body edit": _body_edit(original),
    }
    rows = []
    for edit, source in edits.items():
        started = time.process_time()
        units, facts = extract_file(source, path=changed, language=record.language)
        new_record = file_record(changed, record.language, units, facts)
        assert new_record is not None
        update = update_graph(full, {changed: new_record})
        update_s = time.process_time() - started
        rebuilt = build_graph([new_record if r.path == changed else r for r in records])
        rows.append({"changed": changed, "edit": edit, "files": len(records),
                     "full_resolve_cpu_s": round(full_s, 3), "update_cpu_s": round(update_s, 3),
                     "files_reresolved": update.reresolved,
                     "update_equals_full": update.graph.edges == rebuilt.edges})
    return rows


def _body_edit(source: bytes) -> bytes:
    """The source with one more statement in its first function body (same definitions)."""
    lines = source.split(b"\n")
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(b"def ") and line.rstrip().endswith(b":"):
            indent = line[: len(line) - len(stripped)] + b"    "
            lines.insert(number + 1, indent + b"_bench_unused = len('x')")
            return b"\n".join(lines)
    return source + b"\n"


# -- accuracy ---------------------------------------------------------------


def _our_sites(root: Path) -> tuple[Any, list[tuple[int, int, Any]]]:
    from tldr.graph import CodeGraph, graph_from_tree

    graph = CodeGraph(graph_from_tree(root), root=root)
    sites = []
    for file_index, record in enumerate(graph.graph.files):
        if record.language != "python":
            continue
        for number, site in enumerate(record.facts.sites):
            sites.append((file_index, number, site))
    return graph, sites


def _our_answer(graph: Any, file_index: int, number: int) -> tuple[str, list[tuple[str, str, int,
                                                                                      int]]]:
    """(kind, [(path, name, line, end_line)]) of our edge for one site."""
    from tldr.graph.model import RESOLVED_KINDS

    for edge in graph.graph.edges[file_index]:
        if edge.site != number:
            continue
        targets = []
        for target in edge.targets:
            definition = graph.symbols.defs[target]
            targets.append((graph.path_of(target), definition.name, definition.line,
                            definition.end_line))
        return ("resolved" if edge.kind in RESOLVED_KINDS else edge.kind), targets
    return "unresolved", []


def _jedi_answer(root: Path, path: str, line: int, column: int,
                 cache: dict[str, Any]) -> tuple[str, list[tuple[str, str, int]]]:
    """("project"|"external"|"none", [(path, name, line)]) for one call site."""
    import jedi

    script = cache.get(path)
    if script is None:
        source = (root / path).read_text(encoding="utf-8", errors="replace")
        project = cache.setdefault("__project__", jedi.Project(str(root)))
        script = cache[path] = jedi.Script(source, path=str(root / path), project=project)
    try:
        names = script.goto(line, column, follow_imports=True)
    except Exception:  # jedi's own failures are "no answer", not ours to judge
        return "none", []
    found, external = [], False
    for name in names:
        if name.type not in ("function", "class"):
            continue  # a parameter, a variable, an instance: jedi did not reach a definition
        module_path = name.module_path
        if module_path is None:
            external = True
            continue
        try:
            relative = Path(module_path).resolve().relative_to(root.resolve()).as_posix()
            line = name.line or 0
        except ValueError:
            relative, line = _stub_source(Path(module_path), root), 0
            if not relative:
                external = True
                continue
        found.append((relative, name.name, line))
    if found:
        return "project", found
    return ("external" if external else "none"), []


def _stub_source(path: Path, root: Path) -> str:
    """The project file a stub jedi ships stands for (`django-stubs/db/x.pyi` -> `django/db/x.py`).

    jedi answers from its bundled stubs for Django; the stub's lines are
    not the source's, so such an answer is matched by file and name.
    """
    parts = path.parts
    for index, part in enumerate(parts):
        if part.endswith("-stubs") and index + 1 < len(parts):
            package = part[: -len("-stubs")]
            relative = Path(package, *parts[index + 1 :]).with_suffix(".py").as_posix()
            if (root / relative).is_file():
                return relative
    return ""


def accuracy(root: Path, *, sample: int, seed: int, budget_s: float,
             llm_edges: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Precision and recall of our resolved edges against jedi on sampled call sites.

    With `llm_edges`, llm-tldr is scored on the same sites: its edges name
    functions, not sites, so a site counts as answered when llm-tldr has an
    edge from the enclosing function's name (same file) to the callee's name.
    """
    llm: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge in llm_edges or []:
        llm.setdefault((edge.get("from_file", ""), edge.get("from_func", "")), []).append(
            (edge.get("to_file", ""), edge.get("to_func", "")))
    other = {"answered": 0, "judged": 0, "true_positive": 0}
    graph, sites = _our_sites(root)
    chosen = random.Random(seed).sample(sites, min(sample, len(sites)))
    cache: dict[str, Any] = {}
    counts = {"sampled": 0, "ours_resolved": 0, "ours_ambiguous": 0, "jedi_project": 0,
              "jedi_external": 0, "jedi_none": 0, "true_positive": 0, "judged": 0,
              "false_positive": 0, "missed": 0}
    examples: dict[str, list[str]] = {"false_positive": [], "missed": []}
    started = time.perf_counter()
    for file_index, number, site in chosen:
        if time.perf_counter() - started > budget_s:
            break
        path = graph.graph.files[file_index].path
        counts["sampled"] += 1
        kind, ours = _our_answer(graph, file_index, number)
        jedi_kind, theirs = _jedi_answer(root, path, site.line, site.col, cache)
        counts[f"jedi_{jedi_kind}"] += 1
        counts["ours_resolved"] += kind == "resolved"
        counts["ours_ambiguous"] += kind == "ambiguous"
        match = any(
            our_path == their_path and our_name == their_name
            and (their_line == 0 or start <= their_line <= end)
            for our_path, our_name, start, end in ours
            for their_path, their_name, their_line in theirs
        )
        where = f"{path}:{site.line} {site.receiver + '.' if site.receiver else ''}{site.name}"
        if kind == "resolved" and jedi_kind != "none":
            counts["judged"] += 1
            if match:
                counts["true_positive"] += 1
            else:
                counts["false_positive"] += 1
                examples["false_positive"].append(f"{where} ours={ours[:2]} jedi={theirs[:2]}")
        if jedi_kind == "project" and not (kind == "resolved" and match):
            counts["missed"] += 1
            examples["missed"].append(f"{where} ({kind}) jedi={theirs[:1]}")
        if llm_edges is not None:
            caller = graph.symbols.defs[graph.symbols.offsets[file_index] + site.caller].name
            answers = [(f, n) for f, n in llm.get((path, caller), []) if n == site.name]
            other["answered"] += bool(answers)
            hit = any((f, n) == (p, t) for f, n in answers for p, t, _ in theirs)
            if answers and jedi_kind != "none":
                other["judged"] += 1
                other["true_positive"] += hit
            other.setdefault("recall_hits", 0)
            other["recall_hits"] += jedi_kind == "project" and hit
    precision = counts["true_positive"] / counts["judged"] if counts["judged"] else None
    recall = (counts["true_positive"] / counts["jedi_project"]) if counts["jedi_project"] else None
    llm_scores = None
    if llm_edges is not None:
        llm_scores = {
            **other,
            "precision": round(other["true_positive"] / other["judged"], 3)
            if other["judged"] else None,
            "recall": round(other.get("recall_hits", 0) / counts["jedi_project"], 3)
            if counts["jedi_project"] else None,
        }
    return {"sites_in_project": len(sites), **counts, "llm_tldr": llm_scores,
            "precision": round(precision, 3) if precision is not None else None,
            "recall": round(recall, 3) if recall is not None else None,
            "seconds": round(time.perf_counter() - started, 1),
            "examples": {k: v[:15] for k, v in examples.items()}}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen parts, print (and save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", required=True, metavar="NAME=DIR",
                        help="a project to measure (repeatable)")
    parser.add_argument("--llm-tldr", metavar="TLDR", help="llm-tldr's `tldr` executable")
    parser.add_argument("--sample", type=int, default=400, help="call sites per project")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--budget", type=float, default=900.0,
                        help="seconds of jedi time per project at most")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--incremental", metavar="NAME=FILE", action="append", default=[],
                        help="time a one-file update of project NAME's FILE (repeatable)")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": os.uname().machine, "cpus": os.cpu_count(),
                               "load_before": os.getloadavg()[0], "projects": {}}
    for spec in args.project:
        name, _, directory = spec.partition("=")
        root = Path(directory).resolve()
        entry: dict[str, Any] = {}
        llm_edges = None
        if not args.skip_build:
            entry["ours"] = build_ours(root)
            if args.llm_tldr:
                entry["llm_tldr"], llm_edges = build_llm_tldr(root, args.llm_tldr)
        for item in args.incremental:
            target, _, changed = item.partition("=")
            if target == name:
                entry.setdefault("incremental", []).extend(incremental(root, changed))
        if not args.skip_accuracy:
            entry["accuracy"] = accuracy(root, sample=args.sample, seed=args.seed,
                                         budget_s=args.budget, llm_edges=llm_edges)
        results["projects"][name] = entry
        print(json.dumps({name: entry}, indent=1), flush=True)
    results["load_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
