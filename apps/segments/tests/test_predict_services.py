"""Churn and propensity on the database: ML runs on the demo shop, scoring into CustomerScores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.core.demo.services import demo_shop_generate
from apps.core.errors import NotEnoughData, NotFound, ValidationFailed
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.selectors import champion_get
from apps.segments.ml_propensity import register_kinds
from apps.segments.models import CustomerScores
from apps.segments.services.features import FEATURE_COLUMNS
from apps.segments.services.predict import (
    prediction_model_load,
    prediction_overview,
    prediction_scores_refresh,
    prediction_scores_refresh_all,
    prediction_scores_stale,
    prediction_training_start,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DEMO_END = date(2026, 11, 29)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


@pytest.fixture
def demo_shop(tmp_path):
    demo_shop_generate(customers=800, seed=5, end_date=DEMO_END, truth_file=tmp_path / "t.json")


def train(capture, kind: str, **options) -> TrainingRun:
    """Start a run and execute it in-process, as eager Celery does after commit."""
    with capture(execute=True):
        run = prediction_training_start(kind=kind, trigger="cli", **options)
    run.refresh_from_db()
    return run


def test_propensity_trains_as_an_ml_run_with_backtest_metrics(
    demo_shop, django_capture_on_commit_callbacks
):
    run = train(django_capture_on_commit_callbacks, "propensity")

    assert (run.kind, run.status, run.error) == ("segments.propensity", "succeeded", "")
    metrics = run.metrics
    assert metrics["model"] == "LGBMClassifier+sigmoid"  # 800 customers: too few for isotonic
    assert 0.65 < metrics["auc"] <= 1.0
    assert 0 < metrics["log_loss"] < 0.693  # better than a coin
    assert metrics["horizon_days"] == 30
    assert metrics["n_test"] > 500 and 20 <= metrics["positives_test"] <= metrics["n_test"] - 20
    assert len(metrics["lift_by_decile"]) == 10 and metrics["lift_by_decile"][0]["lift"] > 1.5
    assert sum(item["rows"] for item in metrics["calibration"]) == metrics["n_test"]
    train_cut, test_cut = (metrics["train_cut"], metrics["test_cut"])
    assert train_cut < test_cut < metrics["data_end"]
    assert set(metrics["features"]) <= set(FEATURE_COLUMNS)
    version = champion_get("segments.propensity")
    assert version is not None and version.training_run_id == run.pk
    loaded = prediction_model_load(kind=prediction_overview(kind="propensity").kind)
    assert loaded.version == 1 and loaded.horizon_days == 30


def test_scoring_writes_own_columns_and_keeps_everything_else(
    demo_shop, django_capture_on_commit_callbacks
):
    train(django_capture_on_commit_callbacks, "propensity")
    customer = Customer.objects.order_by("pk").first()
    # (the champion's on_activate hook scored everyone already; other writers' columns next)
    CustomerScores.objects.update_or_create(
        customer=customer,
        defaults={"rfm_cell": "champions", "p_alive": 0.5, "explanations": {"clv": [["x", 1]]}},
    )

    summary = prediction_scores_refresh(kind="propensity")

    version = champion_get("segments.propensity")
    assert summary.scored == Customer.objects.count() == CustomerScores.objects.count()
    assert summary.cleared == 0 and summary.model_version_id == version.pk
    assert not CustomerScores.objects.filter(purchase_propensity__isnull=True).exists()
    assert set(CustomerScores.objects.values_list("propensity_model_version", flat=True)) == {
        version.pk
    }
    kept = CustomerScores.objects.get(customer=customer)
    assert (kept.rfm_cell, kept.p_alive, kept.churn_risk) == ("champions", 0.5, None)
    assert kept.explanations["clv"] == [["x", 1]]
    reasons = kept.explanations["propensity"]
    assert 1 <= len(reasons) <= 5
    assert all(name in FEATURE_COLUMNS and isinstance(value, float) for name, value in reasons)
    magnitudes = [abs(value) for _, value in reasons]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert not prediction_scores_stale(kind="propensity")
    assert prediction_scores_refresh_all(only_stale=True) == []


@pytest.mark.usefixtures("activation_hooks_lost")
def test_churn_scores_active_customers_only_and_clears_the_rest(
    demo_shop, django_capture_on_commit_callbacks
):
    run = train(django_capture_on_commit_callbacks, "churn", active_days=365)
    assert run.status == "succeeded", run.error
    assert run.metrics["auc"] > 0.6 and run.metrics["active_days"] == 365
    prospect = CustomerFactory(signup_at=None)
    CustomerScores.objects.create(
        customer=prospect, churn_risk=0.9, explanations={"churn": [["a", 1]], "other": 1}
    )
    assert prediction_scores_stale(kind="churn")

    summary = prediction_scores_refresh(kind="churn")

    scored = CustomerScores.objects.filter(churn_risk__isnull=False)
    assert summary.scored == scored.count() > 100
    assert summary.cleared == 1
    assert scored.count() < Customer.objects.count()  # prospects and the long lapsed have none
    cleared = CustomerScores.objects.get(customer=prospect)
    assert (cleared.churn_risk, cleared.churn_model_version_id) == (None, None)
    assert cleared.explanations == {"other": 1}
    assert not prediction_scores_stale(kind="churn")


def test_overview_shows_metrics_distribution_and_leaders(
    demo_shop, django_capture_on_commit_callbacks
):
    train(django_capture_on_commit_callbacks, "propensity")
    prediction_scores_refresh(kind="propensity")

    overview = prediction_overview(kind="propensity", top=5)

    assert overview.champion.version == 1 and overview.scored_version == 1
    assert not overview.scores_pending
    assert overview.scored_customers == Customer.objects.count()
    assert len(overview.distribution) == 20
    assert sum(item["customers"] for item in overview.distribution) == overview.scored_customers
    scores = [customer.score for customer in overview.top_customers]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert scores[0] == max(CustomerScores.objects.values_list("purchase_propensity", flat=True))
    assert overview.top_customers[0].reasons[0]["label"]


def test_too_little_data_ends_the_run_not_enough_data(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    OrderFactory(customer=customer)

    run = train(django_capture_on_commit_callbacks, "propensity")

    assert run.status == "not_enough_data"
    assert run.error.startswith("A 30-day model needs at least 90 days of order history")
    assert not ModelVersion.objects.exists()
    with pytest.raises(NotEnoughData, match="No purchase propensity model yet"):
        prediction_scores_refresh(kind="propensity")
    assert not CustomerScores.objects.exists()


def test_no_orders_at_all_is_not_enough_data(django_capture_on_commit_callbacks):
    run = train(django_capture_on_commit_callbacks, "churn")

    assert run.status == "not_enough_data"
    assert run.error.startswith("Churn and purchase propensity learn from orders; there are none")


def test_a_population_too_small_is_not_enough_data(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    for index in range(4):
        OrderFactory(customer=customer, placed_at=customer.signup_at - timedelta(days=60 * index))

    run = train(django_capture_on_commit_callbacks, "propensity", horizon_days=30)

    assert run.status == "not_enough_data"
    assert "needs at least 100 customers known at the training cut" in run.error


def test_bad_options_are_refused_before_a_run_exists():
    with pytest.raises(ValidationFailed, match="horizon_days must be a whole number between 1"):
        prediction_training_start(kind="churn", horizon_days=0, trigger="cli")
    with pytest.raises(ValidationFailed, match="only the churn model has an activity window"):
        prediction_training_start(kind="propensity", active_days=30, trigger="cli")
    with pytest.raises(NotFound, match="unknown prediction 'ltv'; known: churn, propensity"):
        prediction_training_start(kind="ltv", trigger="cli")
    assert not TrainingRun.objects.exists()
