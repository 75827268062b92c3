"""Sequential item-to-item: what customers touch next after an item.

Counts ordered pairs (i, then j) within the next `window` interactions of the same customer,
a pair `lag` steps apart weighing `lag_decay ** (lag - 1)` (backward pairs, j then i, weigh
`backward` as much), normalises like an asymmetric cosine with shrinkage and keeps the top-K
followers of each item. Scored with a history that stresses the latest items, it answers
"what next" where item-kNN and EASE answer "what else"; it serves through the sequence
component, and the blend adds it to them.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    blockwise_top_k,
    log_uniform,
    pick,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

BLOCK_ROWS = 2048
# Up to this many items the pair counts are one dense n x n array (8192 items: 512 MiB), far
# smaller and faster than summing sparse matrices with tens of millions of entries.
DENSE_ITEMS_MAX = 8192


def _timeline(train: TrainingSet) -> tuple[np.ndarray, np.ndarray]:
    """Users and items of the log ordered by customer, then time."""
    order = np.lexsort((np.arange(train.n_interactions), train.timestamps, train.users))
    return train.users[order], train.items[order]


def dense_transition_counts(
    train: TrainingSet, *, window: int, backward: float, lag_decay: float
) -> np.ndarray:
    """`transition_counts` as a dense float64 n x n array (for catalogues up to
    DENSE_ITEMS_MAX): one bincount per lag into a single buffer."""
    users, items = _timeline(train)
    n = train.n_items
    forward = np.zeros(n * n, dtype=np.float64)
    for lag in range(1, window + 1):
        same = users[lag:] == users[:-lag]
        if not same.any():
            break
        codes = items[:-lag][same].astype(np.int64) * n + items[lag:][same]
        forward += np.bincount(codes, minlength=n * n) * lag_decay ** (lag - 1)
        del codes, same
    counts = forward.reshape(n, n)
    if backward:
        counts += backward * counts.T.copy()
    np.fill_diagonal(counts, 0.0)
    return counts


def transition_counts(
    train: TrainingSet, *, window: int, backward: float, lag_decay: float
) -> sparse.csr_matrix:
    """Decayed counts of (i, then j) within `window` steps of one customer's timeline."""
    users, items = _timeline(train)
    shape = (train.n_items, train.n_items)
    forward = sparse.csr_matrix(shape, dtype=np.float64)
    for lag in range(1, window + 1):
        same = users[lag:] == users[:-lag]
        if not same.any():
            break
        # one lag at a time, summed as we go: memory stays at the size of the result
        pairs = sparse.csr_matrix(
            (
                np.full(int(same.sum()), lag_decay ** (lag - 1)),
                (items[:-lag][same], items[lag:][same]),
            ),
            shape=shape,
        )
        forward = forward + pairs
    counts = sparse.csr_matrix(forward + backward * forward.T)
    counts.setdiag(0.0)
    counts.eliminate_zeros()
    return counts


def _fit_dense(train: TrainingSet, params: Params) -> sparse.csr_matrix:
    counts = dense_transition_counts(
        train,
        window=int(params["window"]),
        backward=float(params["backward"]),
        lag_decay=float(params["lag_decay"]),
    )
    degree = counts.sum(axis=1)
    alpha, shrink = float(params["alpha"]), float(params["shrink"])
    left, right = degree**alpha, degree ** (1.0 - alpha)

    def block(start: int, stop: int) -> np.ndarray:
        return counts[start:stop] / (left[start:stop, None] * right[None, :] + shrink)

    return blockwise_top_k(
        train.n_items,
        block,
        int(params["neighbours"]),
        shape=counts.shape,
        rows_per_block=BLOCK_ROWS,
    )


def fit_sequence(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    model = base_model(train, params, algorithm="sequence", weights={"sequence": 1.0})
    if train.n_items <= DENSE_ITEMS_MAX:
        model.transitions = _fit_dense(train, params)
        return model
    counts = transition_counts(
        train,
        window=int(params["window"]),
        backward=float(params["backward"]),
        lag_decay=float(params["lag_decay"]),
    )
    degree = np.asarray(counts.sum(axis=1)).ravel()
    alpha, shrink = float(params["alpha"]), float(params["shrink"])
    coo = counts.tocoo()
    values = coo.data / (degree[coo.row] ** alpha * degree[coo.col] ** (1.0 - alpha) + shrink)
    similarity = sparse.csr_matrix((values, (coo.row, coo.col)), shape=counts.shape)
    model.transitions = blockwise_top_k(
        train.n_items,
        lambda start, stop: similarity[start:stop].toarray(),
        int(params["neighbours"]),
        shape=counts.shape,
        rows_per_block=BLOCK_ROWS,
    )
    return model


SEQUENCE = Algorithm(
    name="sequence",
    slot="sequence",
    fit=fit_sequence,
    defaults={
        "transform": "log",
        "window": 20,
        "backward": 0.5,
        "lag_decay": 0.95,
        "alpha": 0.6,
        "shrink": 1.0,
        "neighbours": 400,
        "history_half_life_events": 3.0,
    },
    sample=lambda rng: {
        "transform": pick(rng, ["binary", "binary", "log"]),
        "window": pick(rng, [3, 5, 10, 20, 40]),
        "backward": pick(rng, [0.0, 0.25, 0.5, 1.0]),
        "lag_decay": pick(rng, [0.7, 0.85, 0.95, 1.0]),
        "alpha": float(rng.uniform(0.3, 0.9)),
        "shrink": log_uniform(rng, 0.1, 100.0),
        "neighbours": pick(rng, [50, 100, 200, 400]),
        "history_half_life_events": pick(rng, [1.0, 2.0, 3.0, 5.0, 10.0]),
        "history_half_life_days": pick(rng, [None, None, 1.0, 7.0]),
    },
    budget_share=1.0,
    description="sequential item-to-item: what customers touch next after an item",
)
