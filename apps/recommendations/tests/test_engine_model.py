"""The serving artifact: scoring semantics, histories, cold start and the .npz round trip."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from apps.recommendations.engine.model import RecommenderModel, history_matrix

ITEMS = np.array(["p0", "p1", "p2", "p3", "p4"])


def full_model() -> RecommenderModel:
    """A model with every component, small enough to reason about."""
    rng = np.random.default_rng(0)
    content = rng.normal(size=(5, 3)).astype(np.float32)
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    content[4] = 0.0  # an item without text
    return RecommenderModel(
        item_ids=ITEMS,
        user_ids=np.array(["u0", "u1"]),
        weights={
            "mf": 1.0,
            "item_knn": 0.5,
            "sequence": 0.4,
            "user_knn": 0.3,
            "content": 0.2,
            "category": 0.2,
            "segment": 0.1,
            "popularity": 0.05,
            "trending": 0.05,
        },
        algorithm="blend",
        popularity=np.array([5, 4, 3, 2, 1], dtype=np.float32),
        trending=np.array([0, 1, 2, 3, 0], dtype=np.float32),
        user_factors=rng.normal(size=(2, 2)).astype(np.float32),
        item_factors=rng.normal(size=(5, 2)).astype(np.float32),
        item_bias=np.zeros(5, dtype=np.float32),
        neighbours=sparse.csr_matrix(rng.random((5, 5)).astype(np.float32)),
        content=content,
        item_category=np.array(["a", "a", "b", "b", "c"]),
        metadata={"params": {"x": 1}},
        user_neighbours=sparse.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.float32)),
        user_items=sparse.csr_matrix(np.array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 1]], np.float32)),
        segment_names=np.array(["gold", "new"]),
        segment_popularity=np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], dtype=np.float32),
        history_transform="linear",
        history_half_life_seconds=3600.0,
        history_half_life_events=4.0,
        transitions=sparse.csr_matrix(np.eye(5, k=1, dtype=np.float32)),
        component_history={"item_knn": {"transform": "binary", "half_life_events": 2.0}},
        cold_weights={"item_knn": 1.0, "segment": 0.5},
        category_popularity=np.array([1, 1, 2, 2, 3], dtype=np.float32),
    )


def test_save_and_load_round_trip_keeps_every_field_and_every_score(tmp_path):
    # given
    model = full_model()
    path = tmp_path / "model.npz"

    # when
    model.save(path)
    loaded = RecommenderModel.load(path)

    # then
    assert loaded.weights == model.weights
    assert loaded.algorithm == "blend"
    assert loaded.metadata == {"params": {"x": 1}}
    assert (loaded.history_transform, loaded.history_half_life_seconds) == ("linear", 3600.0)
    assert loaded.history_half_life_events == 4.0
    assert loaded.segment_names.tolist() == ["gold", "new"]
    assert (loaded.neighbours != model.neighbours).nnz == 0
    assert (loaded.user_items != model.user_items).nnz == 0
    assert loaded.user_neighbours.shape == (2, 2)
    assert (loaded.transitions != model.transitions).nnz == 0
    assert loaded.component_history == model.component_history
    assert loaded.cold_weights == {"item_knn": 1.0, "segment": 0.5}
    np.testing.assert_array_equal(loaded.category_popularity, model.category_popularity)
    for user, segment in ((0, "gold"), (None, "new"), (None, None)):
        history, weights = np.array([1, 2]), np.array([1.0, 0.5])
        np.testing.assert_allclose(
            loaded.score(
                user_index=user, history=history, history_weights=weights, segment=segment
            ),
            model.score(user_index=user, history=history, history_weights=weights, segment=segment),
        )


def test_score_batch_rows_equal_score_per_customer():
    # given
    model = full_model()
    histories = sparse.csr_matrix(
        np.array([[1, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 3, 0, 0, 1]], np.float32)
    )

    # when
    batch = model.score_batch(
        user_indices=np.array([0, -1, 1]), history=histories, segments=np.array([1, -1, 0])
    )

    # then
    for row, (user, segment) in enumerate(((0, "new"), (None, None), (1, "gold"))):
        dense = histories[row].toarray().ravel()
        single = model.score(
            user_index=user,
            history=np.flatnonzero(dense),
            history_weights=dense[dense > 0],
            segment=segment,
        )
        np.testing.assert_allclose(batch[row], single)


def test_unknown_customer_without_history_gets_the_popularity_order():
    # given: everything but trending (which would mix into the cold-start order)
    model = full_model()
    del model.weights["trending"]
    model.cold_weights = {}

    # when
    scores = model.score(user_index=None, history=np.array([], dtype=np.int64))

    # then
    assert np.argsort(-scores, kind="stable").tolist() == [0, 1, 2, 3, 4]
    assert np.all(np.isfinite(scores))


def test_unknown_segment_and_item_ids_are_ignored_not_errors():
    # given
    model = full_model()

    # when
    scores = model.score(user_index=None, history=np.array([0]), segment="no-such-segment")

    # then
    assert scores.shape == (5,)
    assert model.user_index("nobody") is None
    assert model.item_index("p9") is None


def test_new_item_with_text_only_is_recommended_from_content():
    # given: p4 has no interactions (no neighbours, zero popularity) but text like p0's
    content = np.eye(5, dtype=np.float32)[:, :4]
    content[4] = content[0]
    model = RecommenderModel(
        item_ids=ITEMS,
        user_ids=np.array(["u0"]),
        weights={"item_knn": 1.0, "content": 1.0},
        algorithm="blend",
        popularity=np.array([5, 4, 3, 2, 0], dtype=np.float32),
        neighbours=sparse.csr_matrix((5, 5), dtype=np.float32),
        content=content,
    )

    # when: a visitor who just looked at p0
    scores = model.score(user_index=None, history=np.array([0]))

    # then: p4 is the best item other than p0 itself
    assert int(np.argsort(-scores)[1]) == 4


def test_user_history_sums_events_then_decays_by_age_and_rank():
    # given
    model = full_model()  # linear transform, half-lives 3600 s and 4 events

    # when: p2 seen at t=0 (1) and t=7200 (3); p3 at t=3600 (2); now = 7200
    history, weights = model.user_history(
        items=np.array([2, 2, 3]),
        timestamps=np.array([0.0, 7200.0, 3600.0]),
        event_weights=np.array([1.0, 3.0, 2.0]),
        now=7200.0,
    )

    # then: p2 = 4 (latest now, rank 0); p3 = 2 x 0.5 (one half-life old) x 2^(-1/4) (rank 1)
    assert history.tolist() == [2, 3]
    np.testing.assert_allclose(weights, [4.0, 2 * 0.5 * 2 ** (-0.25)], rtol=1e-6)


def test_history_matrix_transforms_summed_weights():
    # given: one user, item 0 with two events of weight 2 and 3
    common = {
        "rows": np.array([0, 0]),
        "items": np.array([0, 0]),
        "timestamps": np.array([1.0, 2.0]),
        "weights": np.array([2.0, 3.0]),
        "reference_times": np.array([2.0]),
        "n_items": 2,
    }

    # when / then
    assert history_matrix(**common, transform="binary")[0, 0] == 1.0
    assert history_matrix(**common, transform="linear")[0, 0] == 5.0
    assert history_matrix(**common, transform="log")[0, 0] == pytest.approx(np.log1p(5.0))


def test_constant_component_counts_as_missing_and_popularity_breaks_ties():
    # given: item-kNN only, and the history item has no neighbours at all
    model = RecommenderModel(
        item_ids=ITEMS,
        user_ids=np.array([]),
        weights={"item_knn": 1.0},
        algorithm="item_knn",
        popularity=np.array([1, 2, 3, 4, 5], dtype=np.float32),
        neighbours=sparse.csr_matrix((5, 5), dtype=np.float32),
    )

    # when
    scores = model.score(user_index=None, history=np.array([0]))

    # then
    assert np.argsort(-scores).tolist() == [4, 3, 2, 1, 0]


def test_cold_weights_rank_customers_unknown_to_training():
    # given: known customers ranked by factors; unknown ones by popularity alone
    model = full_model()
    model.weights = {"mf": 1.0}
    model.cold_weights = {"popularity": 1.0}

    # when
    unknown = model.score(user_index=None, history=np.array([2]))
    known = model.score(user_index=0, history=np.array([2]))

    # then
    assert np.argsort(-unknown).tolist() == [0, 1, 2, 3, 4]
    assert (
        np.argsort(-known).tolist()
        == np.argsort(-(model.item_factors @ model.user_factors[0])).tolist()
    )


def test_score_events_reads_history_with_each_components_settings():
    # given: item-kNN reads the history as binary; the model default is linear
    model = full_model()
    model.weights = {"item_knn": 1.0}
    events = {"items": np.array([1, 1, 3]), "event_weights": np.array([5.0, 5.0, 1.0])}

    # when
    scores = model.score_events(user_index=None, **events, timestamps=np.array([0.0, 1, 2]))

    # then: the same as scoring the binary, rank-decayed history directly
    expected = model.score(
        user_index=None, history=np.array([3, 1]), history_weights=np.array([1.0, 2**-0.5])
    )
    np.testing.assert_allclose(scores, expected)
