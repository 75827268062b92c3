"""Implicit-feedback matrix factorisation with `implicit`: ALS (Hu, Koren, Volinsky 2008)
and BPR (Rendle et al. 2009). Both serve through the mf component (known customers)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    log_uniform,
    pick,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel


def fit_als(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    from implicit.cpu.als import AlternatingLeastSquares

    matrix = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    ).astype(np.float32)
    with threadpool_limits(1, "blas"):  # implicit parallelises itself; nested BLAS threads thrash
        learner = AlternatingLeastSquares(
            factors=int(params["factors"]),
            regularization=float(params["regularization"]),
            alpha=float(params["alpha"]),
            iterations=int(params["iterations"]),
            random_state=seed,
        )
        learner.fit(matrix, show_progress=False)
    model = base_model(train, params, algorithm="als", weights={"mf": 1.0})
    model.user_factors = np.asarray(learner.user_factors, dtype=np.float32)
    model.item_factors = np.asarray(learner.item_factors, dtype=np.float32)
    return model


def fit_bpr(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    matrix = train.matrix(
        transform="binary", half_life_days=params.get("train_half_life_days")
    ).astype(np.float32)
    with threadpool_limits(1, "blas"):
        learner = BayesianPersonalizedRanking(
            factors=int(params["factors"]),
            learning_rate=float(params["learning_rate"]),
            regularization=float(params["regularization"]),
            iterations=int(params["iterations"]),
            random_state=seed,
        )
        learner.fit(matrix, show_progress=False)
    model = base_model(train, params, algorithm="bpr", weights={"mf": 1.0})
    # implicit's BPR keeps the item bias as the last factor (users hold a constant 1 there)
    model.user_factors = np.asarray(learner.user_factors, dtype=np.float32)
    model.item_factors = np.asarray(learner.item_factors, dtype=np.float32)
    return model


ALS = Algorithm(
    name="als",
    slot="mf",
    fit=fit_als,
    defaults={
        "transform": "log",
        "factors": 64,
        "regularization": 5.0,
        "alpha": 3.0,
        "iterations": 15,
    },
    sample=lambda rng: {
        "transform": pick(rng, ["binary", "log", "linear"]),
        "factors": pick(rng, [16, 32, 64, 128, 256, 512]),
        "regularization": log_uniform(rng, 1e-3, 50.0),
        "alpha": log_uniform(rng, 0.5, 100.0),
        "iterations": pick(rng, [10, 15, 25]),
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0, 720.0]),
    },
    budget_share=1.2,
    description="implicit ALS matrix factorisation (confidence 1 + alpha x weight)",
)

BPR = Algorithm(
    name="bpr",
    slot="mf",
    fit=fit_bpr,
    defaults={"factors": 64, "learning_rate": 0.02, "regularization": 0.001, "iterations": 100},
    sample=lambda rng: {
        "factors": pick(rng, [16, 32, 64, 128]),
        "learning_rate": log_uniform(rng, 0.005, 0.2),
        "regularization": log_uniform(rng, 1e-4, 0.3),
        "iterations": pick(rng, [50, 100, 200, 400]),
        "train_half_life_days": pick(rng, [None, None, 30.0, 180.0]),
    },
    budget_share=0.8,
    description="implicit BPR matrix factorisation",
)
