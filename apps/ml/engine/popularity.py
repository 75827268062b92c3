"""Time-decayed product popularity: recent purchases count most, old views least.

score(product) = sum over its interactions of weight(type) * 0.5 ** (age_days / half_life_days)

Purchases weigh more than add-to-carts, which weigh more than views. Ranking is invariant
to the reference time (every score shifts by the same factor), so the newest interaction
is used as "now" and results are reproducible from the data alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class PopularityScores:
    """Products ranked by decayed popularity, most popular first."""

    item_ids: np.ndarray  # int64, sorted by score descending (ties: smaller id first)
    scores: np.ndarray  # float64, same order
    reference_time: float  # epoch seconds that ages were measured from

    def top(self, k: int) -> np.ndarray:
        return self.item_ids[:k]


def popularity_scores(
    item_ids: np.ndarray,
    timestamps: np.ndarray,
    weights: np.ndarray,
    *,
    half_life_days: float,
    reference_time: float | None = None,
) -> PopularityScores:
    """Score items by the sum of their interactions' weights, halved every `half_life_days`.

    `item_ids`, `timestamps` (epoch seconds) and `weights` are parallel 1-D arrays, one
    entry per interaction (a purchase line's weight may already include its quantity).
    Interactions after `reference_time` count as age 0.
    """
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    item_ids = np.asarray(item_ids, dtype=np.int64)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if not (item_ids.shape == timestamps.shape == weights.shape) or item_ids.ndim != 1:
        raise ValueError("item_ids, timestamps and weights must be 1-D arrays of equal length")
    if item_ids.size == 0:
        empty = np.empty(0)
        return PopularityScores(empty.astype(np.int64), empty, float(reference_time or 0.0))
    now = float(timestamps.max()) if reference_time is None else float(reference_time)
    age_days = np.clip((now - timestamps) / SECONDS_PER_DAY, 0.0, None)
    decayed = weights * np.exp2(-age_days / half_life_days)
    unique_ids, inverse = np.unique(item_ids, return_inverse=True)
    totals = np.bincount(inverse, weights=decayed, minlength=unique_ids.size)
    # lexsort sorts by the last key first: score descending, then id ascending for ties.
    order = np.lexsort((unique_ids, -totals))
    return PopularityScores(unique_ids[order], totals[order], now)


def hit_rate_at_k(
    ranked_item_ids: np.ndarray, held_out_item_ids: np.ndarray, k: int
) -> float | None:
    """Share of held-out interactions whose item is among the first `k` ranked items.

    None when there is nothing held out to evaluate on.
    """
    held_out = np.asarray(held_out_item_ids, dtype=np.int64)
    if held_out.size == 0:
        return None
    top = np.asarray(ranked_item_ids, dtype=np.int64)[:k]
    return float(np.isin(held_out, top).mean())
