"""Which dense tiers a search of a build can use, and how their hits are merged.

A partial build with a fast tier (specs/020-fast-tier-and-scale.md) has two
dense indexes: the full model's, covering the units embedded so far, and
the fast tier's static vectors of every unit. A unit with a full-model
vector is scored by the full model only; the fast tier answers for the rest.
The two models' cosines are not comparable, so the lists are merged by the
rank each hit would have in the whole project: with `c` the share of units
that have a full-model vector, rank `r` among them stands for `r / c`, rank
`r` among the others for `r / (1 - c)`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

__all__ = ["FAST", "FAST_DENSE_WEIGHT", "FULL", "TIERS", "available_tiers", "dense_weight",
           "full_share", "merge_by_coverage", "share_of"]

FULL = "full"
FAST = "fast"
TIERS = (FULL, FAST)
# How much a static model's dense list counts in the fusion, against a full
# model's 1.0. Measured on the development set (docs/benchmarks.md): with
# 1.0, the static model fused with BM25 scored below BM25 alone.
FAST_DENSE_WEIGHT = 0.5


def dense_weight(model: str, share: float = 1.0) -> float:
    """The fusion weight of a dense list: a static model's counts `FAST_DENSE_WEIGHT`.

    A merged list of both tiers weighs in proportion: `share` of it comes
    from the full model.
    """
    if model.startswith("static:"):
        return FAST_DENSE_WEIGHT
    return share + (1.0 - share) * FAST_DENSE_WEIGHT


def available_tiers(build: Any, allowed: Collection[str] | None = None) -> tuple[str, ...]:
    """The tiers `build` has (and `allowed` permits): `full` once its index holds a vector."""
    tiers = []
    if len(build.vector_index):
        tiers.append(FULL)
    if build.fast_index is not None:
        tiers.append(FAST)
    return tuple(t for t in tiers if allowed is None or t in allowed)


def full_share(build: Any) -> float:
    """The share of `build`'s units with a full-model vector (1.0 for a complete build)."""
    dense = build.metadata.dense
    if dense is None:
        return 1.0
    return dense.embedded / dense.total if dense.total else 1.0


def share_of(want: int, share: float) -> int:
    """How many candidates of `want` a list covering `share` of the units should give."""
    return max(1, math.ceil(want * share))


def merge_by_coverage(
    full: list[tuple[int, float]],
    fast: list[tuple[int, float]],
    share: float,
    want: int,
) -> list[tuple[int, float]]:
    """The best `want` of two disjoint ranked lists, ordered by estimated overall rank.

    `full` ranks the units with a full-model vector (`share` of all units),
    `fast` the others. Ties go to the full model's hit. Scores are kept as
    each model gave them (the ranking fuses by rank).
    """
    if not fast:
        return full[:want]
    if not full:
        return fast[:want]
    share = min(max(share, 1e-9), 1 - 1e-9)
    ranked = [((rank + 1) / share, 0, hit) for rank, hit in enumerate(full)]
    ranked += [((rank + 1) / (1 - share), 1, hit) for rank, hit in enumerate(fast)]
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [hit for _, _, hit in ranked[:want]]
