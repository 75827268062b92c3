"""EASE (Steck 2019): a closed-form item-item linear autoencoder with a zero diagonal.

B = argmin |X - XB|^2 + lambda |B|^2, diag(B) = 0, solved as P = (X'X + lambda I)^-1,
B_ij = -P_ij / P_jj. Scores are history @ B, so it serves through the item_knn component.
The solve is dense and cubic in items: above MAX_ITEMS only the most popular items take part
(the rest are rarely in a top-10 and still reach customers through the other components).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, sparse

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    log_uniform,
    pick,
    sample_history,
    top_k_rows,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

MAX_ITEMS = 4000
BLOCK_ROWS = 2000


def fit_ease(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    matrix = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    )
    counts = train.item_counts
    active = np.flatnonzero(counts > 0)
    if active.shape[0] > MAX_ITEMS:
        active = active[np.argsort(-counts[active], kind="stable")[:MAX_ITEMS]]
        active.sort()
    sub = matrix[:, active].astype(np.float64)
    gram = np.asarray((sub.T @ sub).toarray())
    diagonal = np.arange(active.shape[0])
    regulariser = float(params["lambda_relative"]) * max(
        float(gram[diagonal, diagonal].mean()), 1e-9
    )
    gram[diagonal, diagonal] += regulariser
    inverse = linalg.inv(gram, overwrite_a=True, check_finite=False)
    weights = -inverse / np.diag(inverse)[None, :]
    weights[diagonal, diagonal] = 0.0
    keep = int(params.get("neighbours") or active.shape[0])
    rows_parts, cols_parts, vals_parts = [], [], []
    for start in range(0, active.shape[0], BLOCK_ROWS):
        block = weights[start : start + BLOCK_ROWS]
        if keep < active.shape[0]:
            # keep the strongest links by magnitude: EASE's negative weights carry signal too
            order = np.argpartition(-np.abs(block), keep - 1, axis=1)[:, :keep]
            values = np.take_along_axis(block, order, axis=1)
            rows = np.repeat(np.arange(block.shape[0]), keep)
            cols, vals = order.ravel(), values.ravel()
        else:
            rows, cols, vals = top_k_rows(block, block.shape[1])
        rows_parts.append(active[rows + start])
        cols_parts.append(active[cols])
        vals_parts.append(vals.astype(np.float32))
    neighbours = sparse.csr_matrix(
        (np.concatenate(vals_parts), (np.concatenate(rows_parts), np.concatenate(cols_parts))),
        shape=(train.n_items, train.n_items),
        dtype=np.float32,
    )
    model = base_model(train, params, algorithm="ease", weights={"item_knn": 1.0})
    model.neighbours = neighbours
    return model


EASE = Algorithm(
    name="ease",
    slot="item_knn",
    fit=fit_ease,
    defaults={
        "transform": "log",
        "lambda_relative": 5.0,
        "neighbours": None,
        "history_half_life_events": 10.0,
    },
    sample=lambda rng: {
        **sample_history(rng),
        "lambda_relative": log_uniform(rng, 0.2, 60.0),
        "neighbours": None,
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0, 720.0]),
    },
    budget_share=1.0,
    description="EASE linear item-item autoencoder (closed form)",
)
