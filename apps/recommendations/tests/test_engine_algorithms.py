"""Every algorithm learns a planted structure better than a random ranking.

The planted shop: items in 4 groups with a Zipf appeal inside each group, every customer
belongs to one group and interacts with items of it (plus one random item), recent items are
more popular late in time. Each customer's latest interactions are held out.
"""

from __future__ import annotations

import numpy as np
import pytest

from apps.recommendations.engine.algorithms.base import Algorithm
from apps.recommendations.engine.data import InteractionLog, ItemFeatures, UserFeatures
from apps.recommendations.engine.dataset import TrainingSet, training_set_build
from apps.recommendations.engine.evaluation import Ranker, target_build
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.engine.split import temporal_split
from apps.recommendations.engine.train import ALGORITHMS

DAY = 86_400.0
GROUPS = 4
ITEMS_PER_GROUP = 15
WORDS = [
    "garden hose watering plants",
    "running shoes trainers",
    "coffee beans espresso",
    "baby stroller pram",
]


def planted_shop(
    *, customers: int = 120, per_customer: int = 6, seed: int = 0
) -> tuple[InteractionLog, ItemFeatures, UserFeatures]:
    """Groups of unequal size (half the customers in group 0); the last 5 items of each group
    launch on day 30 and are then the most wanted (a trend)."""
    rng = np.random.default_rng(seed)
    n_items = GROUPS * ITEMS_PER_GROUP
    group_of_item = np.arange(n_items) // ITEMS_PER_GROUP
    rank = np.arange(n_items) % ITEMS_PER_GROUP
    late = rank >= ITEMS_PER_GROUP - 5
    appeal = 1.0 / (1.0 + rank)
    users, items, times = [], [], []
    for customer in range(customers):
        group = 0 if customer % 2 else customer // 2 % GROUPS
        start = rng.uniform(0, 60) * DAY
        wanted = np.where(late, 3.0 * (start > 30 * DAY), appeal)
        pool = np.flatnonzero((group_of_item == group) & (wanted > 0))
        p = wanted[pool] / wanted[pool].sum()
        chosen = rng.choice(pool, size=min(per_customer, pool.size), replace=False, p=p)
        chosen = np.insert(chosen, 0, rng.integers(n_items))  # noise first: held out are real
        for position, item in enumerate(chosen):
            users.append(f"c{customer}")
            items.append(f"p{item}")
            times.append(start + position * 3600.0)
    log = InteractionLog(
        user_ids=np.array(users),
        item_ids=np.array(items),
        timestamps=np.array(times),
        weights=np.ones(len(users), dtype=np.float32),
    )
    catalogue = ItemFeatures(
        item_ids=np.array([f"p{i}" for i in range(n_items)]),
        categories=np.array([f"g{g}" for g in group_of_item]),
        brands=np.array([f"b{i % 3}" for i in range(n_items)]),
        prices=np.linspace(5, 100, n_items),
        texts=np.array([f"{WORDS[g]} model {i}" for i, g in enumerate(group_of_item)]),
    )
    people = UserFeatures(
        user_ids=np.array([f"c{c}" for c in range(customers)]),
        features={
            "segment": np.array([f"s{0 if c % 2 else c // 2 % GROUPS}" for c in range(customers)])
        },
    )
    return log, catalogue, people


def group_embedder(texts: list[str]) -> np.ndarray:
    """A stand-in for MiniLM: one direction per product group (by the group's words)."""
    vectors = np.array([[float(text.startswith(words)) for words in WORDS] for text in texts])
    vectors += 0.05
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def planted() -> tuple[TrainingSet, Ranker]:
    log, catalogue, people = planted_shop()
    split = temporal_split(log, fraction=0.2, mode="per_user")
    full = training_set_build(log, items=catalogue, users=people, embedder=group_embedder)
    mask = np.zeros(log.user_ids.shape[0], dtype=bool)
    mask[split.train_rows] = True
    train = full.subset(mask)
    return train, Ranker(train, target_build(train, split.test, reference="user_last"))


def random_ndcg(train: TrainingSet, ranker: Ranker) -> float:
    scores = []
    for seed in range(5):
        noise = np.random.default_rng(seed).random(train.n_items).astype(np.float32)
        model = RecommenderModel(
            item_ids=train.item_ids,
            user_ids=train.user_ids,
            weights={"popularity": 1.0},
            algorithm="random",
            popularity=noise,
        )
        scores.append(ranker.metrics(ranker.top_k(model, 10), 10, quality_only=True)["ndcg@10"])
    return float(np.mean(scores))


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=[a.name for a in ALGORITHMS])
def test_algorithm_beats_random_on_a_planted_structure(algorithm: Algorithm, planted):
    # given
    train, ranker = planted
    baseline = random_ndcg(train, ranker)

    # when
    model = algorithm.fit(train, dict(algorithm.defaults), 0)
    ndcg = ranker.metrics(ranker.top_k(model, 10), 10, quality_only=True)["ndcg@10"]

    # then
    assert algorithm.unavailable(train) is None
    assert ndcg > 1.5 * baseline, f"{algorithm.name}: {ndcg:.3f} vs random {baseline:.3f}"


@pytest.mark.parametrize(
    "algorithm",
    [
        a
        for a in ALGORITHMS
        if a.slot in ("item_knn", "user_knn", "mf", "category", "segment", "content")
    ],
    ids=lambda a: a.name,
)
def test_personal_algorithm_beats_popularity_on_a_planted_structure(algorithm: Algorithm, planted):
    # given: popularity knows the appeal but not the customer's group
    train, ranker = planted
    popular = next(a for a in ALGORITHMS if a.name == "popularity")
    baseline = ranker.metrics(
        ranker.top_k(popular.fit(train, dict(popular.defaults), 0), 10), 10, quality_only=True
    )["ndcg@10"]

    # when
    model = algorithm.fit(train, dict(algorithm.defaults), 0)
    ndcg = ranker.metrics(ranker.top_k(model, 10), 10, quality_only=True)["ndcg@10"]

    # then
    assert ndcg > baseline, f"{algorithm.name}: {ndcg:.3f} vs popularity {baseline:.3f}"


def test_new_catalogue_item_gets_content_vector_and_lightfm_factors():
    # given: a catalogue item that nobody has touched yet
    log, catalogue, people = planted_shop(customers=40)
    extra = ItemFeatures(
        item_ids=np.append(catalogue.item_ids, "p-new"),
        categories=np.append(catalogue.categories, "g0"),
        brands=np.append(catalogue.brands, "b0"),
        prices=np.append(catalogue.prices, 10.0),
        texts=np.append(catalogue.texts, f"{WORDS[0]} brand new"),
    )
    train = training_set_build(log, items=extra, users=people, embedder=group_embedder)
    lightfm = next(a for a in ALGORITHMS if a.name == "lightfm")

    # when
    model = lightfm.fit(train, {**lightfm.defaults, "epochs": 5}, 0)

    # then
    new = model.item_index("p-new")
    assert new is not None
    assert model.popularity[new] == 0.0
    assert np.linalg.norm(model.content[new]) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(model.item_factors[new]).sum() > 0


# --- sequence: dense and sparse pair counts --------------------------------------------------


def _timeline_set() -> TrainingSet:
    """c1: a, b, c (hourly); c2: b, a. Items indexed a=0, b=1, c=2."""
    log = InteractionLog(
        user_ids=np.array(["c1", "c1", "c1", "c2", "c2"]),
        item_ids=np.array(["a", "b", "c", "b", "a"]),
        timestamps=np.array([0.0, 3600.0, 7200.0, 0.0, 3600.0]),
        weights=np.ones(5, dtype=np.float32),
    )
    return training_set_build(log)


def test_sequence_pair_counts_match_hand_computed_values():
    from apps.recommendations.engine.algorithms.sequence import (
        dense_transition_counts,
        transition_counts,
    )

    train = _timeline_set()
    order = [list(train.item_ids).index(name) for name in ("a", "b", "c")]
    # forward (lag 1 weighs 1, lag 2 weighs 0.5): a->b 1, b->c 1, a->c 0.5, b->a 1;
    # plus backward x 0.25 of the transpose
    forward = np.array([[0, 1, 0.5], [1, 0, 1], [0, 0, 0]])
    expected = forward + 0.25 * forward.T
    np.fill_diagonal(expected, 0.0)

    dense = dense_transition_counts(train, window=2, backward=0.25, lag_decay=0.5)
    sparse_counts = transition_counts(train, window=2, backward=0.25, lag_decay=0.5).toarray()

    np.testing.assert_allclose(dense[np.ix_(order, order)], expected)
    np.testing.assert_allclose(sparse_counts[np.ix_(order, order)], expected)


def test_sequence_dense_and_sparse_fits_keep_the_same_followers(planted, monkeypatch):
    from apps.recommendations.engine.algorithms import sequence

    train, _ranker = planted
    params = {**sequence.SEQUENCE.defaults, "neighbours": 5}
    dense = sequence.fit_sequence(train, params, seed=0).transitions
    monkeypatch.setattr(sequence, "DENSE_ITEMS_MAX", 0)
    sparse_fit = sequence.fit_sequence(train, params, seed=0).transitions

    assert dense.nnz == sparse_fit.nnz > 0
    np.testing.assert_allclose(dense.toarray(), sparse_fit.toarray(), rtol=1e-5)
