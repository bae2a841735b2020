"""A build streams its units in bounded batches (specs/019 § Memory of a build).

The batch sizes change nothing a build writes, and the memory a build holds
grows by a bounded amount per unit, not by the units' texts.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from tldr.graph import read_graph
from tldr.paths import IndexPaths
from tldr.semantic import Searcher, build_semantic_index, fast_tier, lexical
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.storage import UnitsFile, read_metadata, read_units_file
from tldr.semantic.unit_table import BODY_BLOCK
from tldr.vector_store._exact import read_exact_file

MODEL = "hash-256"
QUERIES = ("stage value step", "parse config file", "fn_3_4", "duplicate helper", "route")


def _write_project(root: Path, files: int, functions: int = 12) -> None:
    """Python files whose functions call across files, each with two same-text twins."""
    for f in range(files):
        lines = []
        for g in range(functions):
            callee = f"fn_{(f * 7 + g) % files}_{(g * 5 + 1) % functions}"
            lines.append(
                f"def fn_{f}_{g}(value):\n"
                f'    """Step {g} of stage {f}: {"long words " * (g % 4)}."""\n'
                f"    total = {callee}(value) + {g}\n"
                f"    for item in range({g}):\n"
                f"        total += item\n"
                f"    return total\n"
            )
        twin = "def duplicate_helper(x):\n    return x\n"
        lines += [twin, twin]
        path = root / f"pkg{f % 3}" / f"mod_{f}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(lines))


def _outputs(root: Path) -> dict[str, Any]:
    """What a build wrote, less its build id: units, lexical index, graph, vectors, results."""
    paths = IndexPaths(root)
    metadata = read_metadata(paths)
    assert metadata is not None and metadata.dense is None
    units = read_units_file(paths, metadata)
    lexical_index = lexical.LexicalIndex.load(paths.semantic_dir / str(metadata.lexical_file))
    graph = read_graph(paths.semantic_dir / str(metadata.graph_file))
    vectors = read_exact_file(paths.semantic_dir / metadata.vector_store.index_file, view=False)
    order = np.argsort(vectors.keys())
    searcher = Searcher(root)
    return {
        "units": msgspec.msgpack.encode(msgspec.structs.replace(units, build_id="")),
        "lexical": [lexical_index.vocab, lexical_index.indices.tolist(),
                    lexical_index.indptr.tolist(), lexical_index.tf.tolist(),
                    lexical_index.lengths.tolist(),
                    [lexical_index.weights(i).tobytes() for i in range(len(lexical_index.vocab))]],
        "graph": msgspec.msgpack.encode(msgspec.structs.replace(graph, build_id="")),
        "keys": vectors.keys()[order].tolist(),
        "vectors": vectors.matrix[order].tobytes(),
        "results": [
            [(row["qualified_name"], row["file"], round(row["score"], 6))
             for row in searcher.search(query, k=8, mode=mode)]
            for query in QUERIES for mode in ("dense", "lexical", "hybrid")
        ],
    }


def _build(root: Path, monkeypatch: pytest.MonkeyPatch, *, tiny: bool, cache: Path) -> None:
    with monkeypatch.context() as patch:
        patch.setenv("TLDR_EMBEDDING_CACHE", str(cache))
        if tiny:
            patch.setattr(build_module, "_UNIT_BATCH", 3)
            patch.setattr(build_module, "_EMBED_BATCH", 2)
            patch.setattr(build_module, "_EXTRACT_CHUNK", 1)
            patch.setattr(fast_tier, "EMBED_BATCH", 2)
        report = build_semantic_index(root, model=MODEL, vector_backend="exact")
    assert report.status in ("built", "updated")


def test_batch_sizes_change_nothing_a_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tmp_path / "original"
    _write_project(original, files=12)
    roots = {tiny: Path(shutil.copytree(original, tmp_path / f"tiny-{tiny}"))
             for tiny in (True, False)}
    for tiny, root in roots.items():
        _build(root, monkeypatch, tiny=tiny, cache=tmp_path / f"cache-{tiny}")
    first = _outputs(roots[True])
    assert len(msgspec.msgpack.decode(first["units"], type=UnitsFile).keys) > 2 * BODY_BLOCK
    assert first == _outputs(roots[False])

    # An incremental build over each: one file edited, one removed.
    for tiny, root in roots.items():
        edited = root / "pkg1" / "mod_4.py"
        edited.write_text(edited.read_text() + "\n\ndef added(value):\n    return fn_0_1(value)\n")
        os.utime(edited, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))  # stamps alike
        (root / "pkg2" / "mod_5.py").unlink()
        _build(root, monkeypatch, tiny=tiny, cache=tmp_path / f"cache-{tiny}")
    assert _outputs(roots[True]) == _outputs(roots[False])


def _peak_of_build(root: Path) -> int:
    """Peak traced bytes of a first build of `root` (hash model, no fast tier)."""
    gc.collect()
    tracemalloc.start()
    try:
        build_semantic_index(root, model=MODEL)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_builds_memory_grows_by_a_bounded_amount_per_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doubling the units adds about what their records and indexes need, not their texts.

    Each synthetic unit carries ~150 bytes of code and docstring and its
    embedding text ~300; the graph's records of it cost ~350 bytes. Holding
    every `Unit`, text, token list and vector at once, as builds did before
    they streamed, cost ~4,400 bytes more per unit here; the streamed build
    ~2,400 (~1,700 from 60 to 120 files). No commits while parsing: their
    timing would move the peak.
    """
    monkeypatch.setattr(build_module, "PARTIAL_FIRST_S", float("inf"))
    started = time.monotonic()
    sizes = {}
    for files in (30, 60):
        root = tmp_path / f"p{files}"
        _write_project(root, files=files, functions=40)
        build_semantic_index(root, model=MODEL)  # imports and warm-up outside the trace
        shutil.rmtree(root / ".tldr")
        monkeypatch.setenv("TLDR_EMBEDDING_CACHE", str(tmp_path / f"cache-{files}"))
        sizes[files] = (_peak_of_build(root), _units(root))
        assert time.monotonic() - started < 300
    (small, small_units), (large, large_units) = sizes[30], sizes[60]
    per_unit = (large - small) / (large_units - small_units)
    assert per_unit < 3200, f"{per_unit:.0f} bytes more per unit"


def _units(root: Path) -> int:
    metadata = read_metadata(IndexPaths(root))
    assert metadata is not None
    return metadata.count



def test_parsing_in_worker_processes_writes_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spawned parse workers (specs/019 § Parsing in processes) change nothing a build writes."""
    from tldr import parse_workers as parsing

    original = tmp_path / "original"
    _write_project(original, files=24)
    (original / "pkg0" / "blob.py").write_bytes(b"def f():\n\0\0 binary\n")
    (original / "pkg1" / "latin.py").write_bytes("def caf\xe9():\n    return 'd\xe9j\xe0'\n"
                                                  .encode("latin-1"))
    roots = {workers: Path(shutil.copytree(original, tmp_path / f"workers-{workers}"))
             for workers in (0, 2)}
    pooled: list[int] = []
    in_workers = parsing.FileParser._parse_in_workers

    def counting(self: parsing.FileParser, jobs: list[parsing.ParseJob]) -> Any:
        pooled.append(len(jobs))
        return in_workers(self, jobs)

    monkeypatch.setattr(parsing.FileParser, "_parse_in_workers", counting)
    monkeypatch.setattr(parsing, "POOL_MIN_FILES", 4)

    def build_all() -> None:
        for workers, root in roots.items():
            monkeypatch.setenv("TLDR_PARSE_WORKERS", str(workers))
            _build(root, monkeypatch, tiny=False, cache=tmp_path / f"cache-{workers}")

    build_all()
    assert pooled == [26]  # every file of the workers-2 project, none of the other's
    first = _outputs(roots[2])
    assert first == _outputs(roots[0])
    for workers, root in roots.items():
        metadata = read_metadata(IndexPaths(root))
        assert metadata is not None, workers
        assert (metadata.files_skipped, metadata.files_replaced) == ({"binary": 1}, 1), workers

    # Incremental: one file edited, one touched with the same bytes, one removed.
    for root in roots.values():
        for number in range(6):  # enough changed files for the pool
            edited = root / f"pkg{number % 3}" / f"mod_{number}.py"
            edited.write_text(edited.read_text() + f"\n\ndef added_{number}(v):\n    return v\n")
            os.utime(edited, ns=(1_700_000_001 * 10**9, 1_700_000_001 * 10**9))  # stamps alike
        touched = root / "pkg1" / "mod_7.py"
        os.utime(touched, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
        (root / "pkg2" / "mod_8.py").unlink()
    pooled.clear()
    build_all()
    assert pooled == [8]  # the six edited, the touched one, the binary one (never stamped)
    assert _outputs(roots[2]) == _outputs(roots[0])


def test_parse_workers_import_nothing_from_the_project_and_survive_a_dead_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Workers run isolated (a planted module is never imported); a worker killed
    mid-build leaves the build to parse the rest itself, writing the same index."""
    from tldr import parse_workers as parsing

    original = tmp_path / "original"
    _write_project(original, files=40, functions=3)
    marker = tmp_path / "planted-ran"
    for planted in ("multiprocessing.py", "msgspec.py", "tree_sitter.py", "tldr/__init__.py",
                    "encodings/__init__.py", "sitecustomize.py"):
        path = original / planted
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(marker)!r}, 'a').write({planted!r})\n")
    roots = {kind: Path(shutil.copytree(original, tmp_path / kind))
             for kind in ("alone", "workers", "killed")}
    monkeypatch.setattr(parsing, "POOL_MIN_FILES", 4)
    monkeypatch.setattr(parsing, "_AHEAD", 1)  # the killed worker has chunks still to come
    results = parsing.FileParser._results
    killed: list[int] = []

    def kill_one_worker(self: parsing.FileParser, payload: Any, process: Any,
                        expected: int) -> Any:
        if roots["killed"] == Path.cwd() and not killed:
            process.kill()
            process.wait()
            killed.append(process.pid)
        return results(self, payload, process, expected)

    monkeypatch.setattr(parsing.FileParser, "_results", kill_one_worker)
    for kind, root in roots.items():
        monkeypatch.chdir(root)  # where a user runs `tldrf semantic index`
        monkeypatch.setenv("TLDR_PARSE_WORKERS", "0" if kind == "alone" else "2")
        _build(root, monkeypatch, tiny=False, cache=tmp_path / f"cache-{kind}")
    assert not marker.exists()
    err = capfd.readouterr().err  # the workers' stderr is the user's
    assert "Warning" not in err and "Traceback" not in err
    assert killed
    assert "a parse worker failed (exit status -9); parsing the rest here" in caplog.text
    alone = _outputs(roots["alone"])
    assert _outputs(roots["workers"]) == alone
    assert _outputs(roots["killed"]) == alone


def test_a_cold_update_takes_unchanged_units_tokens_from_the_previous_postings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build worker just started has no token cache: unchanged units are not tokenized again,
    and the BM25 index is the one a build from scratch makes."""
    project, scratch = tmp_path / "project", tmp_path / "scratch"
    _write_project(project, files=6)
    _build(project, monkeypatch, tiny=False, cache=tmp_path / "emb")
    edited = project / "pkg0" / "mod_0.py"
    edited.write_text(edited.read_text() + "\n\ndef fn_added(value):\n    return fn_1_1(value)\n")
    monkeypatch.setattr(lexical, "_DEFAULT_CACHE", lexical.TokenCache())  # a new worker's
    tokenized: list[str] = []
    count = lexical._unit_counts

    def counting(unit, file_tokens):  # type: ignore[no-untyped-def]
        tokenized.append(unit.file)
        return count(unit, file_tokens)

    monkeypatch.setattr(lexical, "_unit_counts", counting)
    _build(project, monkeypatch, tiny=False, cache=tmp_path / "emb")
    assert tokenized and set(tokenized) == {"pkg0/mod_0.py"}
    monkeypatch.setattr(lexical, "_unit_counts", count)
    shutil.copytree(project, scratch, ignore=shutil.ignore_patterns(".tldr"))
    _build(scratch, monkeypatch, tiny=False, cache=tmp_path / "emb")
    assert _outputs(project)["lexical"] == _outputs(scratch)["lexical"]


def _text_hashes(root: Path) -> list[str]:
    paths = IndexPaths(root)
    return read_units_file(paths, read_metadata(paths)).text_hashes


CALLER_EDITS = {
    "a new caller of another file's function": lambda text: text + (
        "\n\ndef fn_added(value):\n    return fn_1_1(value) + fn_2_3(value)\n"),
    "a caller removed": lambda text: text.replace("total = fn_", "total = gone_", 1),
    "a called function renamed": lambda text: text.replace("def fn_0_1(", "def fn_0_1_renamed("),
}


@pytest.mark.parametrize("edit", list(CALLER_EDITS))
def test_an_update_keeps_only_the_text_hashes_that_still_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """Unchanged units reuse their hashes unless the edit changes who calls them (their
    called-by line): every hash is the one a build from scratch computes."""
    project, scratch = tmp_path / "project", tmp_path / "scratch"
    _write_project(project, files=6)
    _build(project, monkeypatch, tiny=False, cache=tmp_path / "emb")
    before = _text_hashes(project)
    edited = project / "pkg0" / "mod_0.py"
    edited.write_text(CALLER_EDITS[edit](edited.read_text()))
    made: list[int] = []
    from tldr.semantic.indexing import stream

    original_at = stream.UnitTexts.at

    def counting_at(self, positions):  # type: ignore[no-untyped-def]
        made.append(len(positions))
        return original_at(self, positions)

    monkeypatch.setattr(stream.UnitTexts, "at", counting_at)
    _build(project, monkeypatch, tiny=False, cache=tmp_path / "emb")
    monkeypatch.setattr(stream.UnitTexts, "at", original_at)
    shutil.copytree(project, scratch, ignore=shutil.ignore_patterns(".tldr"))
    _build(scratch, monkeypatch, tiny=False, cache=tmp_path / "emb")
    after = _text_hashes(project)
    assert after == _text_hashes(scratch)
    assert after != before
    assert 0 < sum(made) < len(after) // 2  # most texts were not made again
