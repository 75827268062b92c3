"""LightFM (Kula 2015): hybrid factorisation where users and items are sums of feature
embeddings (identity + category, brand, price band, tags, text topic; user segment features).

The fitted representations are folded in at export: item_factors = item features @ item
embeddings, item_bias likewise, so serving needs no LightFM and a new catalogue item with
features still has a vector (item cold start).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    log_uniform,
    pick,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

THREADS = 2
TEXT_TOPICS = 50  # text embeddings enter LightFM as one of this many topic (cluster) features


def feature_matrices(
    train: TrainingSet, *, use_features: bool, seed: int
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Item and user feature matrices: identity plus side features, rows summing to one."""
    items: list[sparse.csr_matrix] = [sparse.identity(train.n_items, format="csr")]
    users: list[sparse.csr_matrix] = [sparse.identity(train.n_users, format="csr")]
    if use_features:
        if train.item_features is not None:
            items.append(train.item_features)
        topics = _text_topics(train, seed)
        if topics is not None:
            items.append(topics)
        if train.user_features is not None:
            users.append(train.user_features)
    return _row_normalised(sparse.hstack(items)), _row_normalised(sparse.hstack(users))


def fit_lightfm(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    from lightfm import LightFM

    item_features, user_features = feature_matrices(
        train, use_features=bool(params.get("use_features", True)), seed=seed
    )
    interactions = train.matrix(
        transform=params["transform"], half_life_days=params.get("train_half_life_days")
    ).tocoo()
    learner = LightFM(
        no_components=int(params["components"]),
        loss=str(params["loss"]),
        learning_rate=float(params["learning_rate"]),
        item_alpha=float(params["item_alpha"]),
        user_alpha=float(params["user_alpha"]),
        max_sampled=int(params["max_sampled"]),
        random_state=np.random.RandomState(seed),
    )
    weighted = params["transform"] != "binary" and params["loss"] != "warp-kos"
    learner.fit(
        sparse.coo_matrix(
            (np.ones_like(interactions.data), (interactions.row, interactions.col)),
            shape=interactions.shape,
        ),
        user_features=user_features,
        item_features=item_features,
        sample_weight=interactions.astype(np.float32) if weighted else None,
        epochs=int(params["epochs"]),
        num_threads=THREADS,
    )
    item_bias, item_factors = learner.get_item_representations(item_features)
    _, user_factors = learner.get_user_representations(user_features)
    model = base_model(train, params, algorithm="lightfm", weights={"mf": 1.0})
    model.user_factors = np.asarray(user_factors, dtype=np.float32)
    model.item_factors = np.asarray(item_factors, dtype=np.float32)
    model.item_bias = np.asarray(item_bias, dtype=np.float32)
    return model


def _text_topics(train: TrainingSet, seed: int) -> sparse.csr_matrix | None:
    content = train.item_content
    if content is None:
        return None
    has_text = np.flatnonzero(np.abs(content).sum(axis=1) > 0)
    distinct = np.unique(content[has_text], axis=0).shape[0]
    topics = min(TEXT_TOPICS, has_text.shape[0] // 4, distinct)
    if topics < 2:
        return None
    labels = KMeans(topics, n_init=2, random_state=seed).fit_predict(content[has_text])
    return sparse.csr_matrix(
        (np.ones(has_text.shape[0], dtype=np.float32), (has_text, labels)),
        shape=(train.n_items, topics),
    )


def _row_normalised(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.where(sums > 0, 1.0 / np.where(sums > 0, sums, 1.0), 0.0)
    return sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ matrix)


LIGHTFM = Algorithm(
    name="lightfm",
    slot="mf",
    fit=fit_lightfm,
    defaults={
        "loss": "warp",
        "transform": "binary",
        "components": 64,
        "learning_rate": 0.05,
        "item_alpha": 1e-6,
        "user_alpha": 1e-6,
        "max_sampled": 30,
        "epochs": 20,
        "use_features": True,
    },
    sample=lambda rng: {
        "loss": pick(rng, ["warp", "warp", "bpr"]),
        "transform": pick(rng, ["binary", "binary", "log"]),
        "components": pick(rng, [16, 32, 64, 128]),
        "learning_rate": log_uniform(rng, 0.01, 0.12),
        "item_alpha": pick(rng, [0.0, log_uniform(rng, 1e-8, 1e-4)]),
        "user_alpha": pick(rng, [0.0, log_uniform(rng, 1e-8, 1e-4)]),
        "max_sampled": pick(rng, [10, 30, 50]),
        "epochs": pick(rng, [10, 20, 30, 50, 80]),
        "use_features": pick(rng, [True, False]),
        "train_half_life_days": pick(rng, [None, None, 180.0]),
    },
    budget_share=1.2,
    description="LightFM hybrid factorisation (WARP/BPR) with item and user features",
)
