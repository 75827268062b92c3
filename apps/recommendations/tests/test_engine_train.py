"""fit_champion: the champion as a servable model with cold start, and the report."""

from __future__ import annotations

import numpy as np
import pytest

from apps.recommendations.engine.data import ChampionResult, InteractionLog
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.engine.train import NotEnoughInteractions, fit_champion
from apps.recommendations.tests.test_engine_algorithms import (
    ITEMS_PER_GROUP,
    group_embedder,
    planted_shop,
)


@pytest.fixture(scope="module")
def champion() -> ChampionResult:
    log, catalogue, people = planted_shop(customers=160)
    return fit_champion(
        log, items=catalogue, users=people, k=10, time_budget_s=6, embedder=group_embedder
    )


def group(model: RecommenderModel, indices: np.ndarray) -> list[int]:
    return [int(str(model.item_ids[i])[1:]) // ITEMS_PER_GROUP for i in indices]


def test_report_lists_every_algorithm_and_the_best(champion):
    # given / when
    report = champion.report

    # then
    assert report["best"] in report["algorithms"]
    assert report["k"] == 10
    assert report["split"]["mode"] in ("global", "per_user")
    assert report["split"]["validation_users"] > 0
    for name, entry in report["algorithms"].items():
        assert {"ndcg@10", "precision@10", "recall@10", "map@10", "coverage"} <= set(entry), name
        assert "train_seconds" in entry and "params" in entry
    assert report["skipped"] == {}


def test_champion_model_carries_cold_start_parts(champion):
    # given
    model = champion.model

    # then
    assert model.algorithm == champion.report["best"]
    assert model.trending is not None
    assert model.item_category is not None and model.item_category[0] == "g0"
    assert model.content is not None
    assert {"segment", "trending"} <= set(model.weights)
    assert model.metadata["champion"] == champion.report["best"]


def test_new_visitor_in_a_segment_gets_that_segments_items(champion):
    # given
    model = champion.model

    # when: an unknown customer of segment s2, no history yet
    scores = model.score(user_index=None, history=np.array([], dtype=np.int64), segment="s2")

    # then
    assert group(model, np.argsort(-scores)[:5]) == [2, 2, 2, 2, 2]


def test_new_visitor_is_personalised_from_the_first_event(champion):
    # given: an unknown customer (no segment) who just looked at an item of group 3
    model = champion.model
    first = model.item_index(f"p{3 * ITEMS_PER_GROUP + 1}")

    # when
    before = model.score_events(user_index=None, items=np.array([], dtype=np.int64))
    after = model.score_events(user_index=None, items=np.array([first]), event_weights=[1.0])
    after[first] = -np.inf

    # then: the one event pulls items of its group into the top 10
    assert group(model, np.argsort(-after)[:10]).count(3) > group(
        model, np.argsort(-before)[:10]
    ).count(3)


def test_champion_survives_a_save_and_load(champion, tmp_path):
    # given
    path = tmp_path / "champion.npz"

    # when
    champion.model.save(path)
    loaded = RecommenderModel.load(path)

    # then
    history = np.array([0, 1])
    np.testing.assert_allclose(
        loaded.score(user_index=0, history=history),
        champion.model.score(user_index=0, history=history),
    )
    assert loaded.component_history == champion.model.component_history


def test_too_small_a_log_is_not_enough_data():
    # given: 5 customers
    log = InteractionLog(
        user_ids=np.array([f"u{n}" for n in range(5)] * 5),
        item_ids=np.array([f"p{n}" for n in range(25)]),
        timestamps=np.arange(25.0),
        weights=np.ones(25, dtype=np.float32),
    )

    # when / then
    with pytest.raises(NotEnoughInteractions, match="5 users and 25 interactions"):
        fit_champion(log, items=None, users=None, time_budget_s=1, embedder=None)
