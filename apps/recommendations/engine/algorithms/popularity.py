"""Popularity baselines: global, trending (time-decayed), by category, by user segment.

They are also the cold-start floor of every other model: a customer with no history and no
factors gets popularity (or, in a segment, popular-in-segment).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    log_uniform,
    pick,
    sample_history,
)
from apps.recommendations.engine.dataset import DAY, TrainingSet
from apps.recommendations.engine.model import RecommenderModel

MIN_DERIVED_CLUSTERS = 2


class TrendTracker:
    """Time-decayed interaction counts per item at increasing points in time.

    `at(times)` with non-decreasing times across calls returns (len(times), n_items): for each
    time t, sum over interactions at or before t of 0.5 ** ((t - t_j) / half_life). Only the
    past counts, so a customer evaluated at their own time never sees later trends.
    """

    def __init__(self, train: TrainingSet, half_life_days: float) -> None:
        order = np.argsort(train.timestamps, kind="stable")
        self._times = train.timestamps[order]
        self._items = train.items[order]
        self._half_life = half_life_days * DAY
        self._state = np.zeros(train.n_items, dtype=np.float64)
        self._now = -np.inf
        self._next = 0

    def at(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, dtype=np.float64)
        out = np.empty((times.shape[0], self._state.shape[0]), dtype=np.float64)
        for row, time in enumerate(times):
            if time < self._now:
                raise ValueError("TrendTracker times must not decrease")
            if np.isfinite(self._now):
                self._state *= np.exp2(-(time - self._now) / self._half_life)
            stop = int(np.searchsorted(self._times, time, side="right"))
            if stop > self._next:
                ages = time - self._times[self._next : stop]
                np.add.at(
                    self._state, self._items[self._next : stop], np.exp2(-ages / self._half_life)
                )
                self._next = stop
            self._now = time
            out[row] = self._state
        return out


def fit_popularity(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    return base_model(train, params, algorithm="popularity", weights={"popularity": 1.0})


def fit_trending(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    model = base_model(train, params, algorithm="trending", weights={"trending": 1.0})
    half_life = float(params["trend_half_life_days"])
    model.trending = train.popularity(half_life_days=half_life).astype(np.float32)
    model.metadata["trend_half_life_days"] = half_life
    return model


def fit_category(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    model = base_model(train, params, algorithm="popularity_category", weights={"category": 1.0})
    model.category_popularity = model.popularity
    if not _has_categories(train):
        model.item_category = derived_categories(train, int(params["clusters"]), seed)
        model.metadata["item_category_derived"] = True
    return model


def fit_segment(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    assert train.user_segments is not None
    model = base_model(train, params, algorithm="popularity_segment", weights={"segment": 1.0})
    names, codes = np.unique(train.user_segments, return_inverse=True)
    half_life = params.get("popularity_half_life_days")
    weight = np.ones(train.n_interactions)
    if half_life:
        weight = np.exp2(-(train.end_time - train.timestamps) / (half_life * DAY))
    counts = sparse.csr_matrix(
        (weight, (codes[train.users], train.items)), shape=(names.shape[0], train.n_items)
    ).toarray()
    # shrink small segments towards the global popularity so a tiny segment is not noise
    shrink = float(params["segment_shrinkage"])
    totals = counts.sum(axis=1, keepdims=True)
    overall = counts.sum(axis=0, keepdims=True) / max(counts.sum(), 1.0)
    model.segment_popularity = ((counts + shrink * overall) / (totals + shrink) * 1000.0).astype(
        np.float32
    )
    model.segment_names = names
    return model


def derived_categories(train: TrainingSet, clusters: int, seed: int) -> np.ndarray:
    """Item clusters of the co-occurrence structure, standing in for missing categories."""
    key = f"derived_categories:{clusters}:{seed}"
    if key not in train._cache:  # tuning asks again and again: cluster once per training set
        train._cache[key] = _cluster_items(train, clusters, seed)
    labels: np.ndarray = train._cache[key]
    return labels


def _cluster_items(train: TrainingSet, clusters: int, seed: int) -> np.ndarray:
    matrix = train.matrix(transform="binary").T.tocsr().astype(np.float64)
    clusters = max(MIN_DERIVED_CLUSTERS, min(clusters, train.n_items // 2))
    components = max(1, min(32, train.n_users - 1, train.n_items - 1))
    if train.n_items < 2 * MIN_DERIVED_CLUSTERS or components < 2:
        return np.array(["cluster-0"] * train.n_items)
    vectors = TruncatedSVD(components, random_state=seed).fit_transform(matrix)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms > 0, norms, 1.0)
    clusters = min(clusters, np.unique(vectors.round(6), axis=0).shape[0])
    if clusters < MIN_DERIVED_CLUSTERS:
        return np.array(["cluster-0"] * train.n_items)
    labels = KMeans(clusters, n_init=2, random_state=seed).fit_predict(vectors)
    return np.array([f"cluster-{label}" for label in labels])


def _has_categories(train: TrainingSet) -> bool:
    categories = train.item_categories
    return categories is not None and bool(np.any(categories != ""))


POPULARITY = Algorithm(
    name="popularity",
    slot="popularity",
    fit=fit_popularity,
    defaults={"popularity_half_life_days": None},
    sample=lambda rng: {"popularity_half_life_days": pick(rng, [None, 7.0, 30.0, 90.0, 365.0])},
    budget_share=0.2,
    description="global popularity (optionally decayed by age)",
)

TRENDING = Algorithm(
    name="trending",
    slot="trending",
    fit=fit_trending,
    defaults={"trend_half_life_days": 7.0},
    sample=lambda rng: {"trend_half_life_days": log_uniform(rng, 0.25, 120.0)},
    budget_share=0.3,
    description="time-decayed popularity at the customer's point in time",
)

CATEGORY = Algorithm(
    name="popularity_category",
    slot="category",
    fit=fit_category,
    defaults={"transform": "binary", "clusters": 20, "history_half_life_events": None},
    sample=lambda rng: {
        **sample_history(rng),
        "clusters": pick(rng, [8, 20, 50, 100]),
        # short half-lives make it "trending within the customer's categories"
        "popularity_half_life_days": pick(rng, [None, 3.0, 7.0, 14.0, 30.0, 90.0, 180.0]),
    },
    budget_share=0.3,
    description="the customer's category mix x popularity within the category "
    "(item clusters stand in for missing categories)",
)

SEGMENT = Algorithm(
    name="popularity_segment",
    slot="segment",
    fit=fit_segment,
    defaults={"segment_shrinkage": 20.0},
    sample=lambda rng: {
        "segment_shrinkage": log_uniform(rng, 1.0, 500.0),
        "popularity_half_life_days": pick(rng, [None, 30.0, 180.0]),
    },
    budget_share=0.2,
    unavailable=lambda train: (
        None
        if train.user_segments is not None and bool(np.any(train.user_segments != ""))
        else "no user features to form segments"
    ),
    description="popularity among the customer's segment",
)
