#!/usr/bin/env python3
"""Scale ladder (issue 24): build and search cost against project size, on real code.

Every rung is a project made of real package sources that any machine can
get from the package registries (nothing in the repository): wheels fetched
with `pip download --no-deps` (requests, Django 5.1.13, sympy,
transformers, pandas, scipy, scikit-learn) and unpacked (a wheel is a zip of the sources), and the
sources of the installed torch package (its Python files, and its C/C++
headers for the header-heavy rung). Parts are hard-linked into one tree per
rung.

Per rung, one run through a real daemon (own runtime dir, fresh embedding
cache, the default model unless --model):

1. `tldrf warm`, then: first results (the first search returning rows),
   fast-tier coverage (a commit where every unit has a fast-tier vector:
   `dense.tiers` has `fast` and no file is pending), full-model coverage (the
   build completes); when it cannot complete, the full model's units/s is
   measured over --full-window seconds from its first batch (after the fast
   tier covers everything and the graph is resolved) and the completion
   time extrapolated from there (reported as such);
2. peak RSS of every tldrf process (daemon + build worker) during the build,
   sampled with psutil every 0.25 s;
3. steady state on a complete index (the first build's, or, when the full
   model could not finish, a complete build with the static model as the
   build's model, said so in the row): the daemon's idle RSS after the
   worker left, index bytes on disk per unit (the active build's files),
   warm search p50/p99 through the daemon, edit -> searchable p50, search
   p50 during a rebuild.

Writes a JSON file and a PNG plot (build cost and search cost against units)
and prints a table.

    scripts/bench_scale.py                        # default rungs
    scripts/bench_scale.py --rung small=requests --rung big=django+sympy --max-units 100000
    scripts/bench_scale.py --json docs/scale.json --plot docs/scale.png --full-window 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_REPO))

CACHE = Path(os.environ.get("TLDR_SCALE_CACHE", Path.home() / ".cache" / "tldrf-scale"))
WHEELS = {
    "requests": "requests==2.34.2",
    "django": "django==5.1.13",
    "sympy": "sympy==1.14.0",
    "transformers": "transformers==5.25.0",
    "pandas": "pandas==3.1.1",
    "scipy": "scipy==1.17.1",
    "scikit-learn": "scikit-learn==1.9.1",
}
SOURCE_SUFFIXES = {".py", ".pyi", ".h", ".hpp", ".c", ".cc", ".cpp", ".cuh", ".js", ".ts"}
DEFAULT_RUNGS = (
    "requests=requests",
    "django=django",
    "django-sympy=django+sympy",
    "python-100k=django+sympy+transformers",
    "python-large=django+sympy+transformers+torch",
    "headers=torch-headers",
    "huge=django+sympy+transformers+torch+pandas+scipy+scikit-learn+torch-headers",
)
QUERIES = ("parse the configuration file", "retry the request with backoff",
           "QuerySet filter", "matrix determinant", "tokenizer padding side",
           "register a forward hook", "http session cookies", "solve linear equations")
STATIC_MODEL = "static:all-MiniLM-L6-v2"


# --- sources ---------------------------------------------------------------------------------

def _wheel_tree(name: str) -> Path:
    """The unpacked sources of package `name`'s wheel (downloaded once)."""
    target = CACHE / "src" / name
    if target.is_dir():
        return target
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    requirement = WHEELS[name]
    stem = requirement.split("==")[0].lower().replace("-", "_")  # as wheel names spell it
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(stem + "-")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", str(wheels), requirement], check=True)
        found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(stem + "-")]
    scratch = target.with_name(target.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    with zipfile.ZipFile(found[0]) as wheel:
        for member in wheel.namelist():
            if Path(member).suffix in SOURCE_SUFFIXES and ".dist-info/" not in member:
                wheel.extract(member, scratch)
    scratch.rename(target)
    return target


def _torch_tree(headers: bool) -> Path:
    import torch

    package = Path(torch.__file__).parent
    name = "torch-headers" if headers else "torch"
    target = CACHE / "src" / name
    if target.is_dir():
        return target
    scratch = target.with_name(target.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    source = package / "include" if headers else package
    for path in source.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(source)
        if headers != (path.suffix in {".h", ".hpp", ".cuh"}):
            continue
        if not headers and (path.suffix not in {".py", ".pyi"} or relative.parts[0] == "include"):
            continue
        destination = scratch / "torch" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    scratch.rename(target)
    return target


def part_tree(name: str) -> Path:
    if name == "torch":
        return _torch_tree(headers=False)
    if name == "torch-headers":
        return _torch_tree(headers=True)
    return _wheel_tree(name)


def make_rung(root: Path, parts: list[str]) -> None:
    """Hard-link the parts into one project (a real tree: the walk skips symlinks)."""
    for part in parts:
        source = part_tree(part)
        shutil.copytree(source, root / part, copy_function=os.link, dirs_exist_ok=True)
    (root / ".tldr").mkdir(parents=True, exist_ok=True)


def count_lines(root: Path) -> tuple[int, int]:
    from tldr.units import walk_project

    walked = walk_project(root)
    lines = 0
    for source in walked.files:
        with open(source.abs_path, "rb") as handle:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return len(walked.files), lines


# --- measuring ---------------------------------------------------------------------------------

class RssSampler:
    """Peak RSS of the daemon and each process under it, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_total = 0
        self.peak_each: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        try:
            daemon = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                processes = [("daemon", daemon), *(("worker", child) for child in
                                                   daemon.children(recursive=True))]
                total = 0
                for role, process in processes:
                    rss = process.memory_info().rss
                    total += rss
                    self.peak_each[role] = max(self.peak_each.get(role, 0), rss)
                self.peak_total = max(self.peak_total, total)
            except psutil.Error:
                pass
            self._stop.wait(0.25)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(5)
        return {"all_mib": round(self.peak_total / 2**20),
                **{f"{role}_mib": round(rss / 2**20) for role, rss in self.peak_each.items()}}


def _pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return round(samples[0], 2) if samples else float("nan")
    return round(statistics.quantiles(sorted(samples), n=100, method="inclusive")[q - 1], 2)


def search_latencies(client: Any, count: int) -> list[float]:
    times = []
    for number in range(count):
        started = time.perf_counter()
        client.call("search", {"query": QUERIES[number % len(QUERIES)], "k": 10})
        times.append((time.perf_counter() - started) * 1000)
    return times


def active_bytes(root: Path) -> tuple[int, int]:
    """Bytes of the files the committed build names, and of the whole index directory."""
    from tldr.paths import IndexPaths
    from tldr.semantic.storage import read_metadata

    paths = IndexPaths(root)
    metadata = read_metadata(paths)
    assert metadata is not None
    names = {metadata.units_file, metadata.lexical_file, metadata.vector_store.index_file,
             metadata.graph_file, paths.metadata.name}
    if metadata.fast is not None:
        names.add(metadata.fast.index_file)
    active = sum((paths.semantic_dir / n).stat().st_size for n in names if n)
    everything = sum(p.stat().st_size for p in paths.semantic_dir.iterdir() if p.is_file())
    return active, everything


def first_build(root: Path, env: dict[str, str], args: argparse.Namespace,
                deadline: float) -> dict[str, Any]:
    """warm -> first results -> fast coverage -> full coverage (or a measured rate)."""
    from tldr.daemon.client import DaemonClient
    from tldr.paths import daemon_files

    figures: dict[str, Any] = {}
    command = [str(Path(sys.executable).with_name("tldrf")), "warm", str(root)]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    files = daemon_files(root)
    client = DaemonClient(files=files, timeout=120)
    while True:  # warm returns while the daemon is still starting
        try:
            client.connect()
            break
        except Exception:
            if time.perf_counter() - started > 120:
                raise
            time.sleep(0.05)
    with client:
        sampler = RssSampler(client.call("status")["pid"])
        fast_at: float | None = None
        window_start: tuple[float, int] | None = None
        last_embedded = (0.0, 0)
        embed_total = 0
        try:
            while True:
                now = time.perf_counter() - started
                if time.perf_counter() > deadline:
                    figures["stopped"] = "rung timeout"
                    break
                if fast_at is None:
                    try:
                        answer = client.call("search", {"query": QUERIES[0], "k": 5})
                    except Exception:  # no build committed yet
                        answer = None
                else:  # the search's `dense` field, without a search sharing the cores
                    answer = {"dense": client.call("status")["index"]["dense"]}
                if answer and answer.get("results") and "first_results_s" not in figures:
                    figures["first_results_s"] = round(now, 2)
                dense = answer["dense"] if answer else None
                if answer and dense is None:
                    figures["full_coverage_s"] = round(now, 2)
                    if fast_at is None:
                        figures["fast_coverage_s"] = None  # complete before any fast tier
                    break
                if dense:
                    # The embed stage's progress moves every batch; commits are far apart.
                    progress = client.call("status")["build"]["progress"] or {}
                    embedding = progress.get("stage") == "embed"
                    embedded = progress.get("done", 0) if embedding else dense["embedded"]
                    embed_total = progress.get("total", 0) if embedding else dense["total"]
                    last_embedded = (now, embedded)
                    if (fast_at is None and "fast" in dense.get("tiers", [])
                            and not dense.get("files_pending")):
                        fast_at = now
                        figures["fast_coverage_s"] = round(now, 2)
                    if fast_at is not None and window_start is None and embedding:
                        # The full model's rate: from its first batch (the graph is
                        # resolved between the fast-tier commit and the embedding).
                        window_start = (now, embedded)
                    if window_start and now - window_start[0] >= args.full_window:
                        break
                time.sleep(0.25)
        finally:
            figures["peak_rss"] = sampler.stop()
        status = client.call("status")
    if "full_coverage_s" in figures:
        last = status["build"].get("last") or {}
        figures["build_units"] = last.get("units")
        figures["full_units_per_s"] = round(last["units"] / figures["full_coverage_s"], 1) if (
            last.get("units")) else None
        figures["full_coverage_kind"] = "measured"
    elif window_start is not None and last_embedded[0] > window_start[0]:
        rate = (last_embedded[1] - window_start[1]) / (last_embedded[0] - window_start[0])
        total = embed_total
        figures["full_units_per_s"] = round(rate, 1)
        if rate > 0 and total:
            figures["full_coverage_s"] = round(
                last_embedded[0] + (total - last_embedded[1]) / rate, 0)
            window = last_embedded[0] - window_start[0]
            figures["full_coverage_kind"] = (
                f"extrapolated from {rate:.1f} units/s over {window:.0f} s")
    return figures


def steady_state(root: Path, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Idle RSS, disk per unit, warm search, edit -> searchable, search during a rebuild."""
    import psutil

    from tldr.daemon.client import DaemonClient, ensure_daemon
    from tldr.paths import daemon_files
    from tldr.settings import default_max_file_bytes

    os.environ.update(env)  # the daemon it starts takes the model from here
    files = daemon_files(root)
    ensure_daemon(files, timeout=120)
    figures: dict[str, Any] = {}
    with DaemonClient(files=files, timeout=300) as client:
        client.call("search", {"query": "warm up", "k": 10})
        deadline = time.monotonic() + 120
        while client.call("status")["build"]["worker_pid"] is not None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        client.call("search", {"query": "warm up again", "k": 10})
        status = client.call("status")
        figures["idle_rss_mib"] = round(psutil.Process(status["pid"]).memory_info().rss / 2**20)
        active, everything = active_bytes(root)
        units = status["index"]["units"] if status.get("index") else None
        figures["units"] = units
        figures["disk_active_bytes"] = active
        figures["disk_all_bytes"] = everything
        if units:
            figures["bytes_per_unit"] = round(active / units)
        warm = search_latencies(client, args.searches)
        figures["search_p50_ms"], figures["search_p99_ms"] = _pct(warm, 50), _pct(warm, 99)

        edits = []
        functions = {".py": "\n\ndef {name}(x):\n    return x\n",
                     ".h": "\nstatic inline int {name}(int x) {{ return x; }}\n"}
        # The largest file a build indexes: past TLDR_MAX_FILE_BYTES a file is
        # skipped, and an edit to it never becomes searchable.
        indexed = (p for p in root.rglob("*") if p.suffix in functions and p.is_file()
                   and p.stat().st_size < default_max_file_bytes() // 2)
        target = max(indexed, key=lambda p: (p.suffix == ".py", p.stat().st_size), default=None)
        if target is not None:  # a copy of its own: the rung's files are links to the cache
            data = target.read_bytes()
            target.unlink()
            target.write_bytes(data)
        for number in range(args.edits if target else 0):
            assert target is not None
            name = f"zebra_quantum_flux_{number}"
            wrote = time.perf_counter()
            with target.open("a") as handle:
                handle.write(functions[target.suffix].format(name=name))
            while time.perf_counter() - wrote <= args.edit_timeout:
                rows = client.call("search", {"query": name, "k": 3, "mode": "lexical"})["results"]
                if any(row["name"] == name for row in rows):
                    edits.append((time.perf_counter() - wrote) * 1000)
                    break
                time.sleep(0.05)
            else:
                figures["edit_timeouts"] = figures.get("edit_timeouts", 0) + 1
        if edits:
            figures["edit_to_searchable_ms"] = [round(e) for e in edits]
            figures["edit_p50_ms"] = round(statistics.median(edits))

        client.call("index", {"rebuild": True})
        busy: list[float] = []
        until = time.monotonic() + args.rebuild_window
        while time.monotonic() < until:
            busy += search_latencies(client, 5)
            if client.call("status")["build"]["state"] == "idle" and len(busy) > 20:
                break
        figures["search_during_rebuild_p50_ms"] = _pct(busy, 50)
        figures["search_during_rebuild_p99_ms"] = _pct(busy, 99)
    return figures


def run_rung(name: str, parts: list[str], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tldr.daemon.client import stop_daemon
    from tldr.paths import daemon_files

    root = work / name
    make_rung(root, parts)
    files_count, lines = count_lines(root)
    row: dict[str, Any] = {"rung": name, "parts": parts, "files": files_count, "lines": lines}
    print(f"[{name}] {files_count} files, {lines} lines ({'+'.join(parts)})", flush=True)
    runtime = work / "rt"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "TLDR_RUNTIME_DIR": str(runtime), "TLDR_IDLE_TIMEOUT": "0",
           "TLDR_WORKER_IDLE_TIMEOUT": str(args.worker_idle), "TLDR_MODEL": args.model,
           "TLDR_DEBOUNCE_MS": str(args.debounce_ms),
           "TLDR_EMBEDDING_CACHE": str(work / f"embeddings-{name}"), "HF_HUB_OFFLINE": "1"}
    os.environ.update(env)  # daemon_files() finds the runtime dir here
    deadline = time.perf_counter() + args.rung_timeout
    try:
        row.update(first_build(root, env, args, deadline))
    finally:
        stop_daemon(daemon_files(root), timeout=30)
    row["units"] = row.get("build_units")
    if row.get("full_coverage_kind") != "measured":
        # Steady state needs a complete index: build one with the static model.
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [str(Path(sys.executable).with_name("tldrf")), "semantic", "index", "-p",
                 str(root), "--model", STATIC_MODEL, "--json", "-q"], env=env,
                capture_output=True, text=True, check=True,
                timeout=max(60.0, deadline + args.steady_timeout - time.perf_counter()))
        except subprocess.TimeoutExpired:
            row["steady_model"] = "not reached (time bound)"
            print(f"[{name}] {json.dumps(row)}", flush=True)
            return row
        report = json.loads(done.stdout)
        row["steady_model"] = STATIC_MODEL
        row["static_build_s"] = round(time.perf_counter() - started, 1)
        row["units"] = report.get("units")
        env = {**env, "TLDR_MODEL": STATIC_MODEL}
    else:
        row["steady_model"] = args.model
    try:
        row.update({k: v for k, v in steady_state(root, env, args).items() if v is not None})
    finally:
        stop_daemon(daemon_files(root), timeout=30)
    units = row.get("units") or 0
    if units and row.get("fast_coverage_s"):
        row["fast_units_per_s"] = round(units / row["fast_coverage_s"], 1)
    print(f"[{name}] {json.dumps(row)}", flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'rung':<14} {'units':>8} {'files':>6} {'lines':>9} {'first s':>7} {'fast s':>7} "
          f"{'full s':>8} {'full u/s':>8} {'peak MiB':>8} {'idle MiB':>8} {'B/unit':>6} "
          f"{'p50 ms':>6} {'p99 ms':>6} {'edit ms':>7} {'rebuild p50':>11}")
    for r in rows:
        full = r.get("full_coverage_s")
        mark = "" if r.get("full_coverage_kind") == "measured" else "*"
        print(f"{r['rung']:<14} {r.get('units') or 0:>8} {r['files']:>6} {r['lines']:>9} "
              f"{r.get('first_results_s', float('nan')):>7} {r.get('fast_coverage_s') or '-':>7} "
              f"{(str(full) + mark) if full else '-':>8} {r.get('full_units_per_s') or '-':>8} "
              f"{r.get('peak_rss', {}).get('all_mib', '-'):>8} {r.get('idle_rss_mib', '-'):>8} "
              f"{r.get('bytes_per_unit', '-'):>6} {r.get('search_p50_ms', '-'):>6} "
              f"{r.get('search_p99_ms', '-'):>6} {r.get('edit_p50_ms', '-'):>7} "
              f"{r.get('search_during_rebuild_p50_ms', '-'):>11}")
    print("* extrapolated from the full model's units/s (see full_coverage_kind)")


def plot(rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("units")]
    fig, (build, search) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in (("first_results_s", "first results (lexical)"),
                       ("fast_coverage_s", "dense coverage, fast tier"),
                       ("full_coverage_s", "dense coverage, full model (open: extrapolated)")):
        points = [(r["units"], r[key], r.get("full_coverage_kind") == "measured"
                   or key != "full_coverage_s") for r in rows if r.get(key)]
        if not points:
            continue
        xs, ys, _ = zip(*points, strict=True)
        line = build.plot(xs, ys, "-", label=label)[0]
        for x, y, m in points:
            build.plot([x], [y], "o", color=line.get_color(), fillstyle="full" if m else "none")
    build.set(xscale="log", yscale="log", xlabel="units", ylabel="seconds after warm",
              title="build cost")
    build.legend(fontsize=8)
    for key, label in (("search_p50_ms", "warm search p50"), ("search_p99_ms", "warm search p99"),
                       ("search_during_rebuild_p50_ms", "search p50 during a rebuild")):
        pts = [(r["units"], r[key]) for r in rows if r.get(key)]
        if pts:
            search.plot(*zip(*pts, strict=True), "o-", label=label)
    search.set(xscale="log", yscale="log", xlabel="units", ylabel="ms (through the daemon)",
               title="search cost")
    search.legend(fontsize=8)
    for axis in (build, search):
        axis.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"tldrf scale ladder ({platform.machine()}, {os.cpu_count()} cores)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot: {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rung", action="append", default=[], metavar="NAME=PART+PART",
                        help=f"a rung made of parts: {', '.join(WHEELS)}, torch, torch-headers "
                             f"(default: {', '.join(DEFAULT_RUNGS)})")
    parser.add_argument("--max-units", type=int, default=0,
                        help="stop the ladder after a rung with at least this many units")
    parser.add_argument("--rung-timeout", type=float, default=1800,
                        help="seconds a rung's first build is watched")
    parser.add_argument("--full-window", type=float, default=60,
                        help="seconds the full model is timed after fast coverage when the "
                             "build cannot finish")
    parser.add_argument("--steady-timeout", type=float, default=900,
                        help="seconds past the rung's time a complete static build may take")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--edit-timeout", type=float, default=120)
    parser.add_argument("--rebuild-window", type=float, default=30)
    parser.add_argument("--debounce-ms", type=int, default=500)
    parser.add_argument("--worker-idle", type=float, default=10)
    parser.add_argument("--json", type=Path, default=_REPO / "docs" / "scale.json")
    parser.add_argument("--plot", type=Path, default=_REPO / "docs" / "scale.png")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rungs = [spec.partition("=") for spec in (args.rung or DEFAULT_RUNGS)]
    work = Path(tempfile.mkdtemp(prefix="tldrf-scale-"))
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} usable cores, "
                   f"Python {platform.python_version()}",
        "load_average_before": os.getloadavg(), "model": args.model, "rungs": []}
    try:
        for name, _, parts in rungs:
            row = run_rung(name, parts.split("+"), args, work)
            result["rungs"].append(row)
            args.json.write_text(json.dumps(result, indent=2))
            if args.max_units and (row.get("units") or 0) >= args.max_units:
                print(f"--max-units {args.max_units} reached", flush=True)
                break
    finally:
        result["load_average_after"] = os.getloadavg()
        args.json.write_text(json.dumps(result, indent=2))
        shutil.rmtree(work, ignore_errors=True)
    print_table(result["rungs"])
    try:
        plot(result["rungs"], args.plot)
    except ImportError:
        print("no plot: pip install matplotlib", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
