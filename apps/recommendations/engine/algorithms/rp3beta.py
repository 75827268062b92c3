"""RP3beta (Paudel et al. 2017): three-step random walk item -> user -> item, with the
transition probabilities raised to alpha and the arrival item's popularity discounted by
degree ** beta. Strong on temporal splits and cheap; serves through the item_knn component.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    blockwise_top_k,
    pick,
    sample_history,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

BLOCK_CELLS = 20_000_000


def _row_normalised_power(matrix: sparse.csr_matrix, alpha: float) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scaled = sparse.csr_matrix(
        sparse.diags(np.where(sums > 0, 1.0 / np.where(sums > 0, sums, 1), 0)) @ matrix
    )
    scaled.data = np.power(scaled.data, alpha)
    return scaled


def fit_rp3beta(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    matrix = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    )
    alpha, beta = float(params["alpha"]), float(params["beta"])
    user_to_item = _row_normalised_power(matrix, alpha)
    item_to_user = _row_normalised_power(matrix.T.tocsr(), alpha)
    degree = np.asarray((matrix > 0).sum(axis=0), dtype=np.float64).ravel()
    discount = np.where(degree > 0, np.power(np.maximum(degree, 1.0), -beta), 0.0)
    n = train.n_items

    def block_of(start: int, stop: int) -> np.ndarray:
        walk = (item_to_user[start:stop] @ user_to_item).toarray() * discount[None, :]
        walk[np.arange(stop - start), np.arange(start, stop)] = 0.0
        return walk

    similarity = blockwise_top_k(
        n,
        block_of,
        int(params["neighbours"]),
        shape=(n, n),
        rows_per_block=BLOCK_CELLS // max(n, 1),
    )
    if params.get("normalise"):
        similarity = _row_normalised_power(similarity, 1.0).astype(np.float32)
    model = base_model(train, params, algorithm="rp3beta", weights={"item_knn": 1.0})
    model.neighbours = similarity
    return model


RP3BETA = Algorithm(
    name="rp3beta",
    slot="item_knn",
    fit=fit_rp3beta,
    defaults={
        "transform": "log",
        "alpha": 0.5,
        "beta": 0.3,
        "neighbours": 200,
        "normalise": True,
        "history_half_life_events": 10.0,
    },
    sample=lambda rng: {
        **sample_history(rng),
        "alpha": float(rng.uniform(0.3, 1.5)),
        "beta": float(rng.uniform(0.0, 0.8)),
        "neighbours": pick(rng, [50, 100, 200, 400, 800]),
        "normalise": pick(rng, [False, True]),
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0, 720.0]),
    },
    budget_share=1.0,
    description="RP3beta random walk with popularity discount",
)
