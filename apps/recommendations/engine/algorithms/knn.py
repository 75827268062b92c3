"""Neighbourhood collaborative filtering: item-based and user-based k-nearest neighbours.

item_knn  (asymmetric) cosine between items' user vectors with shrinkage, top-K per item;
          a customer's score is their history weights @ neighbours, so the live history counts.
user_knn  cosine between users with shrinkage, top-K per user (drawn from the most active
          NEIGHBOUR_POOL users on large logs); a known customer's score is the neighbours'
          interactions, weighted by similarity.
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
    sample_history,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

BLOCK_CELLS = 20_000_000  # dense cells per block of a similarity computation (~160 MB float64)
NEIGHBOUR_POOL = 10_000  # user-kNN draws neighbours from this many of the most active users


def user_weighted(matrix: sparse.csr_matrix, exponent: float) -> sparse.csr_matrix:
    """Rows (users) scaled by degree ** -exponent: heavy users say less about each pair."""
    if not exponent:
        return matrix
    degree = np.asarray((matrix > 0).sum(axis=1), dtype=np.float64).ravel()
    scale = np.where(degree > 0, np.power(np.maximum(degree, 1.0), -exponent), 0.0)
    return sparse.csr_matrix(sparse.diags(scale) @ matrix)


def cosine_top_k(
    vectors: sparse.csr_matrix,
    *,
    k: int,
    shrink: float,
    alpha: float = 0.5,
    candidates: np.ndarray | None = None,
) -> sparse.csr_matrix:
    """Top-k similarities per row of `vectors` (rows = entities) as a csr.

    sim(a, b) = a.b / (|a|^(2 alpha) |b|^(2 (1 - alpha)) + shrink); alpha 0.5 is the cosine.
    With `candidates` (sorted row indices) the neighbours are drawn from those rows only and
    the result is (n, len(candidates)); otherwise it is square.
    """
    vectors = sparse.csr_matrix(vectors, dtype=np.float64)
    n = vectors.shape[0]
    squared = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    pool = np.arange(n) if candidates is None else np.asarray(candidates, dtype=np.int64)
    transposed = vectors[pool].T.tocsr()
    left_norm = np.power(squared, alpha)
    right_norm = np.power(squared[pool], 1.0 - alpha)
    self_column = np.full(n, -1, dtype=np.int64)
    self_column[pool] = np.arange(pool.shape[0])

    def block_of(start: int, stop: int) -> np.ndarray:
        gram = (vectors[start:stop] @ transposed).toarray()
        denominator = left_norm[start:stop, None] * right_norm[None, :] + shrink
        similarity = np.divide(gram, denominator, out=np.zeros_like(gram), where=denominator > 0)
        own = self_column[start:stop]
        mine = own >= 0
        similarity[np.flatnonzero(mine), own[mine]] = 0.0
        return similarity

    return blockwise_top_k(
        n,
        block_of,
        k,
        shape=(n, pool.shape[0]),
        rows_per_block=BLOCK_CELLS // max(pool.shape[0], 1),
    )


def fit_item_knn(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    matrix = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    )
    vectors = user_weighted(matrix, float(params.get("user_exponent", 0.0))).T.tocsr()
    alpha = float(params["alpha"])
    if params.get("prune") == "target":
        # keep, for every item, the k items that explain it best (top-k per column)
        similarity = cosine_top_k(
            vectors, k=int(params["neighbours"]), shrink=params["shrink"], alpha=1.0 - alpha
        ).T.tocsr()
    else:
        similarity = cosine_top_k(
            vectors, k=int(params["neighbours"]), shrink=params["shrink"], alpha=alpha
        )
    model = base_model(train, params, algorithm="item_knn", weights={"item_knn": 1.0})
    model.neighbours = similarity
    return model


def fit_user_knn(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    matrix = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    )
    degree = np.diff(matrix.indptr)
    pool = None
    if train.n_users > NEIGHBOUR_POOL:
        pool = np.sort(np.argsort(-degree, kind="stable")[:NEIGHBOUR_POOL])
    similarity = cosine_top_k(
        matrix, k=int(params["neighbours"]), shrink=params["shrink"], candidates=pool
    )
    if params.get("exponent", 1.0) != 1.0:
        similarity.data = np.power(similarity.data, float(params["exponent"]))
    model = base_model(train, params, algorithm="user_knn", weights={"user_knn": 1.0})
    model.user_neighbours = similarity
    model.user_items = (matrix if pool is None else matrix[pool]).astype(np.float32)
    return model


ITEM_KNN = Algorithm(
    name="item_knn",
    slot="item_knn",
    fit=fit_item_knn,
    defaults={
        "transform": "log",
        "neighbours": 200,
        "shrink": 20.0,
        "alpha": 0.65,
        "user_exponent": 0.0,
        "prune": "target",
        "history_half_life_events": 10.0,
    },
    sample=lambda rng: {
        **sample_history(rng),
        "neighbours": pick(rng, [20, 50, 100, 200, 400, 800]),
        "shrink": log_uniform(rng, 0.1, 200.0),
        "alpha": float(rng.uniform(0.2, 0.8)),
        "user_exponent": pick(rng, [0.0, 0.0, 0.5, 1.0]),
        "prune": pick(rng, ["source", "target"]),
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0, 720.0]),
    },
    budget_share=1.0,
    description="item-based CF: cosine with shrinkage, top-K neighbours per item",
)

USER_KNN = Algorithm(
    name="user_knn",
    slot="user_knn",
    fit=fit_user_knn,
    defaults={"transform": "log", "neighbours": 100, "shrink": 20.0, "exponent": 2.0},
    sample=lambda rng: {
        "transform": pick(rng, ["binary", "log", "linear"]),
        "neighbours": pick(rng, [20, 50, 100, 200, 400]),
        "shrink": log_uniform(rng, 0.1, 200.0),
        "exponent": pick(rng, [1.0, 1.0, 2.0, 3.0]),
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0, 720.0]),
    },
    budget_share=0.7,
    description="user-based CF: cosine with shrinkage, top-K neighbours per user",
)
