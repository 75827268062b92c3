"""Training: data loading through other apps, params, not enough data, segment favourites,
retraining, and (with the engine) a run end to end on a small shop."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.selectors import artifact_path, champion_get
from apps.ml.tests.factories import TrainingRunFactory
from apps.recommendations.engine.data import InteractionLog, UserFeatures
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.services import (
    recommendations_for,
    recommender_retrain_if_needed,
    recommender_train,
)
from apps.recommendations.services.config import KIND
from apps.recommendations.services.data import (
    age_band,
    interaction_log_load,
    item_features_load,
    user_features_load,
)
from apps.recommendations.services.training import cohort_popularity
from apps.recommendations.tests.shop import SKUS, publish, shop_build, toy_model
from apps.recommendations.trainers import hybrid_validate
from apps.segments.models import CustomerScores
from apps.segments.services.segments import segment_create


def _log(rows: list[tuple[str, str, float, float]]) -> InteractionLog:
    users, items, times, weights = zip(*rows, strict=True)
    return InteractionLog(
        user_ids=np.asarray(users),
        item_ids=np.asarray(items),
        timestamps=np.asarray(times, dtype=np.float64),
        weights=np.asarray(weights, dtype=np.float32),
    )


# --- params ----------------------------------------------------------------------------------


def test_the_kind_is_registered_with_its_defaults():
    from apps.ml import registry

    spec = registry.get(KIND)

    assert (spec.gpu_capable, dict(spec.default_params)) == (
        True, {"k": 10, "time_budget_s": 120, "half_life_days": 60, "seed": 0},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 0}, "k must be between 1 and 100, got 0"),
        ({"k": 2.5}, "k must be a whole number, got 2.5"),
        ({"time_budget_s": "soon"}, "time_budget_s must be a number, got 'soon'"),
        ({"half_life_days": 0}, "half_life_days must be between 1 and 3650, got 0"),
        (
            {"factors": 8},
            "unknown parameter(s) factors; known: half_life_days, k, seed, time_budget_s",
        ),
    ],
)
def test_bad_params_are_refused_naming_the_field(params, message):
    with pytest.raises(ValueError) as error:
        hybrid_validate({"k": 10, "time_budget_s": 120, "half_life_days": 60, "seed": 0, **params})

    assert str(error.value) == message


@pytest.mark.django_db
def test_bad_params_never_create_a_run():
    with pytest.raises(ValidationFailed) as error:
        recommender_train(wait=False, params={"k": 500})

    assert (error.value.message, error.value.field) == (
        "params: k must be between 1 and 100, got 500", "params",
    )  # fmt: skip
    assert TrainingRun.objects.count() == 0


# --- data -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_interactions_are_loaded_with_their_weights():
    # given a purchase of 2, a cart, a view by an anonymous visitor, a recommendation click,
    # a cancelled order and a page view (neither counts)
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    now = timezone.now()
    order = OrderFactory(customer=alice, placed_at=now - timedelta(days=3))
    OrderLineFactory(order=order, product=shop.products["SHIRT-1"], quantity=2)
    OrderLineFactory(
        order=OrderFactory(customer=alice, status="cancelled"), product=shop.products["HAT-1"]
    )
    EventFactory(
        customer=alice, product=shop.products["SHOE-1"], event_type=EventType.ADD_TO_CART,
        occurred_at=now - timedelta(days=2),
    )  # fmt: skip
    EventFactory(
        customer=None, anonymous_id="dev-1", product=shop.products["HAT-2"],
        occurred_at=now - timedelta(days=1),
    )  # fmt: skip
    EventFactory(
        customer=alice, product=shop.products["HAT-3"], event_type=EventType.CUSTOM,
        name="Recommendation Clicked", occurred_at=now - timedelta(hours=5),
    )  # fmt: skip
    EventFactory(customer=alice, product=None, event_type=EventType.PAGE_VIEW)

    loaded = interaction_log_load()

    log = loaded.log
    assert list(
        zip(log.user_ids.tolist(), log.item_ids.tolist(), log.weights.tolist(), strict=True)
    ) == [
        ("alice", "SHIRT-1", 10.0),
        ("alice", "SHOE-1", 3.0),
        ("anon:dev-1", "HAT-2", 1.0),
        ("alice", "HAT-3", 1.0),
    ]
    assert (loaded.purchases, loaded.carts, loaded.views, loaded.clicks) == (1, 1, 1, 1)


@pytest.mark.django_db
def test_item_and_user_features_come_from_the_catalogue_customers_and_segments():
    shop_build()
    alice = CustomerFactory(
        external_id="alice", gender="female", birth_date=date(1990, 6, 1), country="FR"
    )
    CustomerScores.objects.create(customer=alice, rfm_cell="loyal", cluster=2)
    segment = segment_create(name="VIP", customer_external_ids=["alice"])

    items = item_features_load()
    users = user_features_load(np.asarray(["alice", "anon:dev-1"]))

    assert items.item_ids.tolist() == sorted(SKUS)
    assert items.categories.tolist()[:2] == ["apparel/hats", "apparel/hats"]
    assert items.texts.tolist()[0] == "Hat 1"
    assert items.in_stock.tolist() == [True] * 12
    assert {name: column.tolist() for name, column in users.features.items()} == {
        "segment": ["loyal", ""],
        "gender": ["female", ""],
        "age_band": [age_band(date(1990, 6, 1)), ""],
        "country": ["FR", ""],
        "rfm_cell": ["loyal", ""],
        "lifecycle_stage": ["", ""],
        "cluster": ["2", ""],
        f"segment_{segment.pk}": ["in", ""],
    }


def test_age_bands():
    today = date(2026, 6, 15)

    assert [
        age_band(date(2010, 1, 1), today=today),
        age_band(date(2001, 6, 16), today=today),
        age_band(date(2001, 6, 15), today=today),
        age_band(date(1950, 1, 1), today=today),
        age_band(None, today=today),
    ] == ["<25", "<25", "25-34", "65+", ""]


def test_segment_favourites_are_the_most_interacted_items_of_each_value():
    # given five users of the cell "loyal" (all buy A, three B) and four of "new" (too few)
    rows = [(f"u{i}", "A", 100.0, 5.0) for i in range(5)]
    rows += [(f"u{i}", "B", 100.0, 1.0) for i in range(3)]
    rows += [(f"n{i}", "C", 100.0, 5.0) for i in range(4)]
    users = UserFeatures(
        user_ids=np.asarray([f"u{i}" for i in range(5)] + [f"n{i}" for i in range(4)]),
        features={"rfm_cell": np.asarray(["loyal"] * 5 + ["new"] * 4)},
    )

    cohorts = cohort_popularity(_log(rows), users, half_life_days=30)

    assert cohorts == {"rfm_cell": {"loyal": ["A", "B"]}}


# --- not enough data, retraining -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_interactions_the_run_ends_not_enough_data_with_what_to_do():
    shop_build()

    summary = recommender_train(wait=True, timeout=60)

    assert summary["status"] == "not_enough_data"
    assert summary["model_version"] is None and summary["precomputed"] is None
    assert summary["message"] == (
        f"Run {summary['run_id']} ended not_enough_data: Recommendations need at least 50 "
        "interactions (purchases, add-to-carts, product views) by at least 20 customers or "
        "visitors with at least 2 products; found 0 interactions by 0 with 0 products. Send "
        "product events (Product Viewed, Product Added, Order Completed) or import orders, then "
        "train again."
    )
    assert ModelVersion.objects.filter(kind=KIND).count() == 0


@pytest.mark.django_db(transaction=True)
def test_recommend_train_without_data_exits_with_the_reason():
    shop_build()

    with pytest.raises(CommandError, match=r"ended not_enough_data: Recommendations need at"):
        call_command("recommend", "train", "--json", stdout=io.StringIO())

    assert ModelVersion.objects.filter(kind=KIND).count() == 0


@pytest.mark.django_db
def test_the_first_model_is_started_once_there_is_enough_data(settings):
    shop = shop_build()
    for index in range(49):
        EventFactory(product=shop.products[SKUS[index % 12]])
    assert recommender_retrain_if_needed() is None

    EventFactory(product=shop.products["HAT-1"])
    run = recommender_retrain_if_needed()

    assert (run.kind, run.status, run.trigger) == (KIND, "queued", "schedule")
    assert recommender_retrain_if_needed() is None  # a run is active


@pytest.mark.django_db
def test_a_champion_is_retrained_when_enough_new_interactions_arrived(settings):
    # given a champion trained two days ago and a threshold of 3 new interactions
    settings.RECOMMENDATIONS_RETRAIN_MIN_INTERACTIONS = 3
    shop = shop_build()
    version = publish(toy_model())
    version.training_run = TrainingRunFactory(
        kind=KIND, status="succeeded", started_at=timezone.now() - timedelta(days=2)
    )
    version.save()
    EventFactory(product=shop.products["HAT-1"], occurred_at=timezone.now() - timedelta(days=3))
    EventFactory(product=shop.products["HAT-2"])
    EventFactory(product=shop.products["HAT-3"])
    assert recommender_retrain_if_needed() is None  # 2 new ones (the third is older)

    OrderLineFactory(order=OrderFactory(placed_at=timezone.now()), product=shop.products["HAT-4"])
    run = recommender_retrain_if_needed()

    assert run is not None and run.trigger == "schedule"


# --- end to end, with the engine ------------------------------------------------------------------


def _shop_with_taste() -> None:
    """30 customers in three tastes (shirts, shoes, hats), each viewing and buying their kind."""
    shop = shop_build()
    now = timezone.now()
    groups = ("SHIRT", "SHOE", "HAT")
    for index in range(30):
        customer = CustomerFactory(external_id=f"c{index:02d}")
        taste = groups[index % 3]
        for day, number in enumerate((1, 2, 3, 4)):
            if (index + number) % 4 == 0:
                continue
            EventFactory(
                customer=customer,
                product=shop.products[f"{taste}-{number}"],
                occurred_at=now - timedelta(days=30 - day - index % 5),
            )
        line_product = shop.products[f"{taste}-{1 + index % 4}"]
        OrderLineFactory(
            order=OrderFactory(customer=customer, placed_at=now - timedelta(days=10 + index % 7)),
            product=line_product,
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_recommend_train_on_a_small_shop_publishes_a_champion_and_precomputes():
    _shop_with_taste()

    out = io.StringIO()
    call_command("recommend", "train", "--time-budget", "10", "--json", stdout=out)
    summary = json.loads(out.getvalue())

    # the run succeeded and its version serves, with the evaluation report as metrics
    assert summary["status"] == "succeeded", summary["message"]
    version = champion_get(KIND)
    assert summary["model_version"] == {
        "id": version.pk, "version": 1, "content_hash": version.content_hash, "is_champion": True,
    }  # fmt: skip
    report = summary["report"]
    assert report["best"] in report["algorithms"]
    assert report["data"]["interactions"] == 90 + 30
    assert (report["data"]["purchases"], report["data"]["views"]) == (30, 90)
    assert report["data"]["users"] == 30
    # the artifact is a RecommenderModel over the catalogue's SKUs, with segment favourites
    model = RecommenderModel.load(artifact_path(version))
    assert set(model.item_ids.tolist()) <= set(SKUS)
    assert model.metadata["half_life_days"] == 60.0
    assert "cohorts" in model.metadata
    # every customer's candidates were precomputed and are served from the cache
    assert summary["precomputed"]["customers"] == 30
    result = recommendations_for(customer_id="c00", n=3, diversity=0.0)
    assert (result.source, result.cache, result.model_version) == ("cache", "hit", 1)
    assert len(result.items) == 3


@pytest.mark.django_db
def test_a_run_started_without_waiting_is_reported_queued():
    shop_build()

    summary = recommender_train(wait=False)

    run = TrainingRun.objects.get(pk=summary["run_id"])
    assert (summary["status"], run.status, summary["kind"]) == ("queued", "queued", KIND)
    assert summary["message"] == (
        f"Run {run.pk} is queued; follow it at /models/ or /api/v1/ml/runs/{run.pk}"
    )
