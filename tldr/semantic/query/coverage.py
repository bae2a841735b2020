"""How much of a partial build has vectors, and what a search can use of it.

A first build commits partial builds while it embeds, and an interrupted one
stays partial (specs/010-lexical-first.md). The daemon, an in-process search
and `semantic info` describe such a build with the same fields, made here,
and the same words (`tldr.output.dense_note`), so the user reads one thing
whichever path answered (specs/015-new-user-defects.md).
"""

from __future__ import annotations

from typing import Any

from tldr.semantic.storage import DenseCoverage, FastTierMeta

__all__ = ["dense_fields", "search_plan"]


def dense_fields(coverage: DenseCoverage | None) -> dict[str, Any] | None:
    """`{embedded, total, percent, files_pending}` of a partial build; None for a complete one."""
    if coverage is None:
        return None
    total = coverage.total
    return {
        "embedded": coverage.embedded,
        "total": total,
        "percent": 100 * coverage.embedded // total if total else 100,
        "files_pending": coverage.files_pending,
    }


def search_plan(
    coverage: DenseCoverage | None,
    mode: str,
    *,
    model_ready: bool = True,
    eta_s: float | None = None,
    fast: FastTierMeta | None = None,
    fast_ready: bool = True,
) -> tuple[str, dict[str, Any] | None]:
    """The mode to search a build with, and the search result's `dense` field.

    A hybrid search of a partial build with no usable dense tier (no vectors
    of the full model, or its query model still loading, and no fast tier
    ready) answers lexically rather than rank by vectors few units have.
    `dense` is None for a complete build; otherwise `dense_fields` plus
    `used` (vectors took part), `mode` (the one searched with), `tiers` (the
    dense tiers used: `full`, `fast`; an explicit dense search waits for
    whatever model it needs), `fast_model`, `model_loading` and `eta_s` (of
    the running build, when known).
    """
    fields = dense_fields(coverage)
    if fields is None:
        return mode, None
    ready = (["full"] if fields["embedded"] > 0 and model_ready else []) + (
        ["fast"] if fast is not None and fast_ready else [])
    available = (["full"] if fields["embedded"] > 0 else []) + (["fast"] if fast else [])
    effective = "lexical" if mode == "hybrid" and not ready else mode
    fields.update(
        eta_s=None if eta_s is None else round(eta_s, 1),
        used=effective != "lexical",
        mode=effective,
        tiers=(ready if mode == "hybrid" else available) if effective != "lexical" else [],
        fast_model=fast.model if fast is not None else None,
        model_loading=not model_ready,
    )
    return effective, fields
