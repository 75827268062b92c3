"""What every algorithm declares: how to fit it, its default and random parameters.

An algorithm fills one slot (a `RecommenderModel` component); the blend combines the best
algorithm of each slot. Parameters shared by all: `transform` (how summed event weights of a
(user, item) pair become one value: binary / log / linear), `history_half_life_days` and
`history_half_life_events` (how much older items of a customer's history count; serving
applies the same decay to the live history), `train_half_life_days` (how much older
interactions count when learning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from apps.recommendations.engine.dataset import DAY, TrainingSet
from apps.recommendations.engine.model import RecommenderModel

Params = dict[str, Any]
TREND_HALF_LIFE_DAYS = 7.0  # trending vector stored with every model (cold start, reasons)


@dataclass(frozen=True)
class Algorithm:
    """An algorithm of the evaluation: its slot, fit function and search space."""

    name: str
    slot: str  # the RecommenderModel component it produces
    fit: Callable[[TrainingSet, Params, int], RecommenderModel]  # (train, params, seed)
    defaults: Params
    sample: Callable[[np.random.Generator], Params]
    budget_share: float  # relative share of the tuning time
    unavailable: Callable[[TrainingSet], str | None] = lambda train: None  # reason or None
    description: str = ""


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def pick(rng: np.random.Generator, options: list[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def sample_history(rng: np.random.Generator) -> Params:
    """Random history weighting (shared by the algorithms that read a history)."""
    return {
        "transform": pick(rng, ["binary", "log", "linear"]),
        "history_half_life_days": pick(rng, [None, None, 1.0, 7.0, 30.0, 180.0]),
        "history_half_life_events": pick(rng, [None, None, 5.0, 10.0, 20.0, 50.0]),
    }


def base_model(
    train: TrainingSet, params: Params, *, algorithm: str, weights: dict[str, float]
) -> RecommenderModel:
    """A model with the catalogue, popularity, trend, categories and history settings set."""
    history_days = params.get("history_half_life_days")
    model = RecommenderModel(
        item_ids=train.item_ids,
        user_ids=train.user_ids,
        weights=weights,
        algorithm=algorithm,
        popularity=train.popularity(half_life_days=params.get("popularity_half_life_days")).astype(
            np.float32
        ),
        trending=train.popularity(half_life_days=TREND_HALF_LIFE_DAYS).astype(np.float32),
        item_category=train.item_categories,
        content=train.item_content,
        metadata={"params": dict(params)},
        history_transform=str(params.get("transform", "log")),
        history_half_life_seconds=float(history_days) * DAY if history_days else None,
        history_half_life_events=params.get("history_half_life_events"),
    )
    return model


def top_k_rows(
    block: np.ndarray, k: int, *, by_magnitude: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k largest (or largest in magnitude) entries of each row of a dense block.

    Returns (row index, column, value) of the kept entries, zeros dropped.
    """
    n_rows, n_cols = block.shape
    k = min(k, n_cols)
    if k <= 0 or n_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    if k < n_cols:
        key = np.abs(block) if by_magnitude else block
        columns = np.argpartition(-key, k - 1, axis=1)[:, :k]
    else:
        columns = np.tile(np.arange(n_cols), (n_rows, 1))
    values = np.take_along_axis(block, columns, axis=1)
    rows = np.repeat(np.arange(n_rows), columns.shape[1])
    columns, values = columns.ravel(), values.ravel()
    keep = values != 0
    return rows[keep], columns[keep], values[keep].astype(np.float32)


def blockwise_top_k(
    n_rows: int,
    block_of: Callable[[int, int], np.ndarray],
    k: int,
    *,
    shape: tuple[int, int],
    rows_per_block: int,
    by_magnitude: bool = False,
    row_ids: np.ndarray | None = None,
    column_ids: np.ndarray | None = None,
) -> sparse.csr_matrix:
    """A csr of the k strongest entries per row of a dense matrix built block by block.

    `block_of(start, stop)` returns rows start..stop as a dense array; `row_ids` and
    `column_ids` map block positions to the result's indices (identity by default).
    """
    rows_parts, cols_parts, vals_parts = [], [], []
    for start in range(0, n_rows, max(1, rows_per_block)):
        stop = min(n_rows, start + max(1, rows_per_block))
        rows, cols, vals = top_k_rows(block_of(start, stop), k, by_magnitude=by_magnitude)
        rows = rows + start
        rows_parts.append(rows if row_ids is None else row_ids[rows])
        cols_parts.append(cols if column_ids is None else column_ids[cols])
        vals_parts.append(vals)
    if not rows_parts:
        return sparse.csr_matrix(shape, dtype=np.float32)
    return sparse.csr_matrix(
        (np.concatenate(vals_parts), (np.concatenate(rows_parts), np.concatenate(cols_parts))),
        shape=shape,
        dtype=np.float32,
    )
