"""EASE (Steck 2019): a closed-form item-item linear autoencoder with a zero diagonal.

B = argmin |X - XB|^2 + lambda |B|^2, diag(B) = 0, solved as P = (X'X + lambda I)^-1,
B_ij = -P_ij / P_jj. Scores are history @ B, so it serves through the item_knn component.
The solve is dense and cubic in items: above MAX_ITEMS only the most popular items take part
(the rest are rarely in a top-10 and still reach customers through the other components).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    blockwise_top_k,
    log_uniform,
    pick,
    sample_history,
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
    key = f"ease_gram:{params['transform']}:{params.get('train_half_life_days')}"
    if key not in train._cache:  # the Gram matrix does not depend on lambda: keep the last one
        for stale in [name for name in train._cache if name.startswith("ease_gram:")]:
            del train._cache[stale]
        sub = matrix[:, active].astype(np.float64)
        train._cache[key] = np.asarray((sub.T @ sub).toarray())
    gram = np.array(train._cache[key], copy=True)
    diagonal = np.arange(active.shape[0])
    regulariser = float(params["lambda_relative"]) * max(
        float(gram[diagonal, diagonal].mean()), 1e-9
    )
    gram[diagonal, diagonal] += regulariser
    inverse = linalg.inv(gram, overwrite_a=True, check_finite=False)
    weights = -inverse / np.diag(inverse)[None, :]
    weights[diagonal, diagonal] = 0.0
    # pruning keeps the strongest links by magnitude: EASE's negative weights carry signal too
    neighbours = blockwise_top_k(
        active.shape[0],
        lambda start, stop: weights[start:stop],
        int(params.get("neighbours") or active.shape[0]),
        shape=(train.n_items, train.n_items),
        rows_per_block=BLOCK_ROWS,
        by_magnitude=True,
        row_ids=active,
        column_ids=active,
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
