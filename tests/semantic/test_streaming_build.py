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
                    lexical_index.lengths.tolist(), lexical_index.data.tobytes()],
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

