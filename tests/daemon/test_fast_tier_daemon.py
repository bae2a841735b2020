"""The daemon answers densely from a partial build's fast tier before the full
model has embedded anything, and says which tiers it used
(specs/020-fast-tier-and-scale.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import RawClient, running_daemon, wait_for, write_project
from static_models import tiny_static_model

from tldr.output import dense_note
from tldr.semantic.indexing import pipeline as build_module
from tldr.semantic.models import embedders
from tldr.semantic.models.embedders import HashingEmbedder

SOURCES = {
    f"pkg/mod{n}.py": "".join(
        f"def handler_{n}_{i}(request):\n    \"\"\"Serve request {n}.{i}.\"\"\"\n"
        f"    return parse_config_{i}(request)\n\n"
        for i in range(6)
    )
    for n in range(8)
}


class SlowHashingEmbedder(HashingEmbedder):
    """The hash model at a model's pace: each batch takes a while."""

    def embed_documents(self, texts):
        time.sleep(0.5)
        return super().embed_documents(texts)


@pytest.fixture
def slow_first_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An unindexed project with a fast tier, whose full model embeds slowly."""
    project = write_project(tmp_path / "proj", SOURCES)
    model = tiny_static_model(tmp_path / "tiny-static", project)
    monkeypatch.setenv("TLDR_MODEL", "hash-256")
    monkeypatch.setenv("TLDR_FAST_MODEL", f"static:{model}")
    monkeypatch.setattr(build_module, "PARTIAL_MIN_UNITS", 4)
    monkeypatch.setattr(build_module, "PARTIAL_EVERY_S", 0.0)
    monkeypatch.setattr(build_module, "_EMBED_BATCH", 8)
    monkeypatch.setitem(embedders._cache, ("hash-256", None), SlowHashingEmbedder(256))
    return project


async def test_a_partial_build_answers_densely_from_its_fast_tier(slow_first_build: Path) -> None:
    async with running_daemon(slow_first_build, build_in_worker=False) as daemon:
        client = await RawClient.open(daemon)
        served: list[dict[str, Any]] = []

        async def answered_by_the_fast_tier() -> bool:
            answer = await client.call("search", {"query": "serve request", "k": 3})
            result = answer.get("result")
            if result and result["dense"] is not None:
                served.append(result)
                return "fast" in result["dense"]["tiers"]
            return False

        await wait_for(answered_by_the_fast_tier, timeout=60)
        result = served[-1]
        dense = result["dense"]
        assert dense["used"] and dense["fast_model"].startswith("static:")
        assert dense["embedded"] < dense["total"] == 48
        assert result["results"]
        note = dense_note(dense)
        assert note is not None and "fast tier" in note

        async def complete() -> bool:
            answer = await client.call("search", {"query": "serve request", "k": 3})
            return answer["result"]["dense"] is None

        await wait_for(complete, timeout=60)
        await client.close()
