"""RFM scoring: recency, frequency and monetary value as 1-5 quintiles, and the named cells.

Input is one row per customer who bought at least once (customers without orders get no
RFM): days since the last purchase, number of purchases, money spent. Each dimension is
scored independently:

    score = 1 + floor(5 * (mid_rank - 0.5) / n), clipped to 1..5

where `mid_rank` is the 1-based rank of the customer's value among the n customers, ties
sharing the average rank of their block (recency is ranked on minus the days, so the most
recent buyers score 5). With distinct values this is exact quintiles (n = 10: two customers
per score); tied values always get the same score (every one-order customer has the same F),
which means a big tied block can skip a score (F of 2, 4, 5 when 60% bought once): that is
deliberate, a customer's score never depends on the id order of the customers tied with them.

The named cell comes from R and FM = round-half-up((F + M) / 2) on this 5 x 5 grid
(the usual 11-cell RFM map: rows are R, columns FM):

    R \\ FM  1                2                    3                    4          5
    5       new              potential_loyalists  potential_loyalists  champions  champions
    4       promising        potential_loyalists  potential_loyalists  loyal      loyal
    3       about_to_sleep   about_to_sleep       need_attention       loyal      loyal
    2       hibernating      hibernating          at_risk              at_risk    cant_lose_them
    1       lost             hibernating          at_risk              at_risk    cant_lose_them

Pure numpy: no Django, so it runs in a notebook as it runs in the service.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCORES = (1, 2, 3, 4, 5)

# RFM_CELL_GRID[r - 1][fm - 1] is the cell of recency score r and frequency/monetary score fm.
# Values are apps.segments.choices.RfmCell values (plain strings: engines import no Django).
RFM_CELL_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "at_risk", "cant_lose_them"),  # R = 1
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),  # R = 2
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),  # R = 3
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),  # R = 4
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),  # R = 5
)

# Every cell in the order the UI lists them (best first).
RFM_CELLS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
)


@dataclass(frozen=True)
class RfmResult:
    """Scores and cells, parallel to the input arrays (one entry per customer)."""

    recency: np.ndarray  # int8 1-5, 5 = bought most recently
    frequency: np.ndarray  # int8 1-5, 5 = most purchases
    monetary: np.ndarray  # int8 1-5, 5 = most money spent
    frequency_monetary: np.ndarray  # int8 1-5, round-half-up of (F + M) / 2
    cells: np.ndarray  # object array of cell names (RfmCell values)
    # Per dimension, the smallest value that earned each score (None when no one got it),
    # so a user can read "R 5 = bought in the last 12 days".
    boundaries: dict[str, list[float | None]]


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """1-5 scores of `values` (higher value, higher score) by mid-rank quintiles.

    Ties share their average rank, so equal values always get equal scores and the result
    does not depend on the order of the input.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("values must be a 1-D array")
    count = values.size
    if count == 0:
        return np.empty(0, dtype=np.int8)
    if not np.isfinite(values).all():
        raise ValueError("values must be finite numbers")
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    # 1-based average rank of each distinct value: the ranks below it, plus the middle of its
    # own block of ties.
    below = np.concatenate(([0], np.cumsum(counts)[:-1]))
    mid_rank = below + (counts + 1) / 2.0
    scores = 1 + np.floor(5.0 * (mid_rank - 0.5) / count)
    return np.clip(scores, 1, 5).astype(np.int8)[inverse]


def frequency_monetary_scores(frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """The FM axis of the grid: (F + M) / 2 rounded half up (F 3, M 4 -> 4)."""
    total = np.asarray(frequency, dtype=np.int16) + np.asarray(monetary, dtype=np.int16)
    return ((total + 1) // 2).astype(np.int8)


def rfm_cell(recency: int, frequency_monetary: int) -> str:
    """The named cell of one (R, FM) pair."""
    if recency not in SCORES or frequency_monetary not in SCORES:
        raise ValueError(f"scores must be 1-5, got R={recency} FM={frequency_monetary}")
    return RFM_CELL_GRID[recency - 1][frequency_monetary - 1]


def _boundaries(values: np.ndarray, scores: np.ndarray) -> list[float | None]:
    bounds: list[float | None] = []
    for score in SCORES:
        chosen = values[scores == score]
        bounds.append(float(chosen.min()) if chosen.size else None)
    return bounds


def rfm_scores(
    *, recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray
) -> RfmResult:
    """Score every customer: R (fewer days since the last purchase is better), F, M, the cell.

    `recency_days`, `frequency` (purchases) and `monetary` (money spent) are parallel 1-D
    arrays with one entry per customer who has bought.
    """
    recency_days = np.asarray(recency_days, dtype=np.float64)
    frequency = np.asarray(frequency, dtype=np.float64)
    monetary = np.asarray(monetary, dtype=np.float64)
    if not (recency_days.shape == frequency.shape == monetary.shape) or recency_days.ndim != 1:
        raise ValueError("recency_days, frequency and monetary must be 1-D arrays of equal length")
    recency = quintile_scores(-recency_days)
    frequency_score = quintile_scores(frequency)
    monetary_score = quintile_scores(monetary)
    frequency_monetary = frequency_monetary_scores(frequency_score, monetary_score)
    grid = np.array(RFM_CELL_GRID, dtype=object)
    cells = (
        grid[recency.astype(np.intp) - 1, frequency_monetary.astype(np.intp) - 1]
        if recency.size
        else np.empty(0, dtype=object)
    )
    # Recency boundaries in days: the largest number of days that still earned each score.
    recency_bounds: list[float | None] = []
    for score in SCORES:
        chosen = recency_days[recency == score]
        recency_bounds.append(float(chosen.max()) if chosen.size else None)
    return RfmResult(
        recency=recency,
        frequency=frequency_score,
        monetary=monetary_score,
        frequency_monetary=frequency_monetary,
        cells=cells,
        boundaries={
            "recency_days_at_most": recency_bounds,
            "frequency_at_least": _boundaries(frequency, frequency_score),
            "monetary_at_least": _boundaries(monetary, monetary_score),
        },
    )


def rfm_grid_counts(recency: np.ndarray, frequency_monetary: np.ndarray) -> list[list[int]]:
    """Customers per (R, FM) square: counts[r - 1][fm - 1]."""
    counts = np.zeros((5, 5), dtype=np.int64)
    if len(recency):
        np.add.at(
            counts,
            (np.asarray(recency, dtype=np.intp) - 1, np.asarray(frequency_monetary, np.intp) - 1),
            1,
        )
    return counts.tolist()
