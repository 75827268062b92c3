"""CLV on the database: the `segments.clv` ML job, predictions stored in CustomerScores with
their model version (only CLV columns touched), the catch-up store, the overview."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from apps.core.errors import NotEnoughData, ValidationFailed
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import OrderStatus
from apps.events.models import Order
from apps.events.tests.factories import OrderFactory
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.selectors import artifact_path
from apps.segments.engine import clv as engine
from apps.segments.ml_clv import register_kinds
from apps.segments.models import CustomerScores
from apps.segments.services import clv as clv_services
from apps.segments.services.clv import (
    CLV_KIND,
    clv_fit_start,
    clv_overview,
    clv_scores_stale,
    clv_scores_store,
    clv_scores_store_if_stale,
)
from apps.segments.tests.test_clv_engine import simulate_transactions

START = date(2024, 1, 1)
END = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def shop_frame(customers: int = 400, seed: int = 31) -> pd.DataFrame:
    """Simulated transactions of a shop: rates per day, dropout, spend from Gamma-Gamma."""
    return simulate_transactions(
        customers,
        seed=seed,
        start=START,
        calibration_end=END - timedelta(days=60),
        end=END,
        rate_per_day=(1.5, 60.0),
        dropout=(1.0, 4.0),
        spend=(5.0, 4.0, 60.0),
    )


def shop_load(frame: pd.DataFrame) -> dict[str, int]:
    """The frame as customers and completed orders (placed at noon UTC); external id -> pk."""
    external_ids = sorted(frame["customer_id"].unique())
    Customer.objects.bulk_create(
        [
            Customer(external_id=external_id, first_name="Ann", last_name=external_id)
            for external_id in external_ids
        ]
    )
    ids = dict(Customer.objects.values_list("external_id", "pk"))
    Order.objects.bulk_create(
        [
            Order(
                external_id=f"order-{index}",
                customer_id=ids[row.customer_id],
                status=OrderStatus.COMPLETED,
                placed_at=datetime.combine(date.fromisoformat(row.date), time(12), tzinfo=UTC),
                subtotal=Decimal(f"{row.amount:.2f}"),
                total=Decimal(f"{row.amount:.2f}"),
            )
            for index, row in enumerate(frame.itertuples())
        ],
        batch_size=2000,
    )
    return ids


def expected_fit(frame: pd.DataFrame, *, as_of: date, time_unit: str = "D"):
    transactions = engine.transactions_from_frame(
        frame, customer_column="customer_id", date_column="date", amount_column="amount"
    )
    summary = engine.rfm_summary(
        transactions, calibration_end=as_of, time_unit=time_unit, monthly_discount_rate=0.01
    )
    return summary, engine.clv_fit(summary)


@pytest.mark.django_db(transaction=True)
def test_a_fit_runs_as_an_ml_job_and_stores_every_buyers_predictions():
    # given a shop of 400 simulated buyers, a prospect, and orders that are not revenue
    frame = shop_frame()
    ids = shop_load(frame)
    prospect = CustomerFactory(external_id="prospect")
    OrderFactory(customer=prospect, status=OrderStatus.CANCELLED, total=Decimal("500"))
    OrderFactory(customer=None, total=Decimal("90"))
    CustomerScores.objects.create(
        customer_id=ids[frame["customer_id"].iloc[0]], rfm_cell="champions", churn_risk=0.25
    )

    # when the fit is started (no broker: it runs in this process)
    run = clv_fit_start(trigger="cli")

    # then the run succeeded and published version 1 with the exact parameters
    as_of = max(date.fromisoformat(day) for day in frame["date"])
    summary, fit = expected_fit(frame, as_of=as_of)
    assert (run.kind, run.status, run.error) == (CLV_KIND, "succeeded", "")
    version = ModelVersion.objects.get(kind=CLV_KIND)
    assert version.version == 1
    assert run.metrics["bgnbd_r"] == pytest.approx(fit.bgnbd.r, rel=1e-9)
    assert run.metrics["bgnbd_alpha"] == pytest.approx(fit.bgnbd.alpha, rel=1e-9)
    assert run.metrics["gamma_gamma_p"] == pytest.approx(fit.gamma_gamma.p, rel=1e-9)
    assert run.metrics["customers"] == 400
    assert run.metrics["as_of"] == as_of.isoformat()
    artifact = json.loads(artifact_path(version).read_text())
    assert artifact["bgnbd"]["log_likelihood"] == pytest.approx(fit.bgnbd.log_likelihood)
    assert artifact["gamma_gamma"]["v"] == pytest.approx(fit.gamma_gamma.v, rel=1e-9)
    assert artifact["params"] == {
        "time_unit": "D",
        "holdout_days": 90,
        "monthly_discount_rate": 0.01,
        "months": 12,
    }
    # and every buyer's predictions are stored with that version, equal to the engine's
    values = engine.customer_values_predict(
        fit.bgnbd, fit.gamma_gamma, summary, months=12, monthly_discount_rate=0.01
    )
    stored = {
        scores.customer.external_id: scores
        for scores in CustomerScores.objects.select_related("customer")
    }
    assert set(stored) == set(ids)  # the prospect got no row
    for index in (0, 17, 399):
        row = stored[summary.customer_ids[index]]
        assert row.clv_model_version_id == version.pk
        assert row.clv_12m == Decimal(f"{values.predicted_clv[index]:.2f}")
        assert row.clv_historical == Decimal(f"{summary.total_value[index]:.2f}")
        assert row.clv_discounted == Decimal(f"{summary.discounted_value[index]:.2f}")
        assert row.p_alive == pytest.approx(values.probability_alive[index], rel=1e-12)
        assert row.expected_purchases_90d == pytest.approx(
            values.expected_purchases[index], rel=1e-12
        )
    # historical CLV is the sum of the customer's revenue orders, checked with pandas
    totals = frame.groupby("customer_id")["amount"].sum()
    for external_id in list(ids)[:25]:
        assert float(stored[external_id].clv_historical) == pytest.approx(
            totals[external_id], abs=0.011
        )
    # and other features' columns were left alone
    kept = stored[frame["customer_id"].iloc[0]]
    assert (kept.rfm_cell, kept.churn_risk) == ("champions", 0.25)


@pytest.mark.django_db(transaction=True)
def test_the_run_records_holdout_diagnostics_against_what_customers_did():
    frame = shop_frame(seed=37)
    shop_load(frame)

    run = clv_fit_start(params={"holdout_days": 60}, trigger="cli")

    as_of = max(date.fromisoformat(day) for day in frame["date"])
    calibration_end = as_of - timedelta(days=60)
    transactions = engine.transactions_from_frame(
        frame, customer_column="customer_id", date_column="date", amount_column="amount"
    )
    summary = engine.rfm_summary(
        transactions, calibration_end=calibration_end, holdout_end=as_of, time_unit="D"
    )
    assert run.metrics["holdout_days"] == 60
    assert run.metrics["holdout_actual_purchases"] == summary.holdout_frequency.sum()
    buckets = run.metrics["holdout_buckets"]
    assert [bucket["frequency"] for bucket in buckets] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(bucket["customers"] for bucket in buckets) == summary.customers
    zero = summary.frequency == 0
    assert buckets[0]["actual"] == pytest.approx(summary.holdout_frequency[zero].mean())
    assert abs(run.metrics["holdout_error"]) < 0.35
    artifact = json.loads(artifact_path(run.model_version).read_text())
    assert artifact["diagnostics"]["calibration_end"] == calibration_end.isoformat()


@pytest.mark.django_db(transaction=True)
def test_without_orders_the_run_ends_not_enough_data_and_writes_nothing():
    CustomerFactory()

    run = clv_fit_start(trigger="cli")

    assert run.status == "not_enough_data"
    assert run.error.startswith("CLV needs revenue orders (paid, shipped or completed)")
    assert not ModelVersion.objects.filter(kind=CLV_KIND).exists()
    assert CustomerScores.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_too_few_repeat_buyers_is_not_enough_data():
    for index in range(25):
        OrderFactory(customer=CustomerFactory(), placed_at=datetime(2025, 1, 1 + index, tzinfo=UTC))

    run = clv_fit_start(trigger="cli")

    assert run.status == "not_enough_data"
    assert "at least 5 customers with a repeat purchase; found 0" in run.error
    assert CustomerScores.objects.count() == 0


@pytest.mark.django_db
def test_bad_parameters_are_refused_before_a_run_exists():
    with pytest.raises(ValidationFailed, match="params: time_unit must be D or W, got 'M'"):
        clv_fit_start(params={"time_unit": "M"}, trigger="cli")
    with pytest.raises(ValidationFailed, match="params: unknown parameter"):
        clv_fit_start(params={"discount": 0.1}, trigger="cli")

    assert TrainingRun.objects.count() == 0


@pytest.mark.usefixtures("activation_hooks_lost")
@pytest.mark.django_db
def test_a_fit_that_ran_on_a_worker_is_stored_by_the_catch_up(django_capture_on_commit_callbacks):
    # given a fit whose run finished after clv_fit_start returned (as on a worker)
    frame = shop_frame(customers=200, seed=41)
    shop_load(frame)
    with django_capture_on_commit_callbacks(execute=True):
        run = clv_fit_start(trigger="ui")
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert CustomerScores.objects.count() == 0
    assert clv_scores_stale() is True
    assert clv_overview().stale is True

    # when the scheduled catch-up runs twice
    first = clv_scores_store_if_stale()
    second = clv_scores_store_if_stale()

    # then it stores once
    assert first is not None and first.stored == 200 and first.version == 1
    assert second is None
    assert clv_scores_stale() is False
    assert CustomerScores.objects.filter(clv_model_version__version=1).count() == 200


@pytest.mark.django_db(transaction=True)
def test_storing_again_clears_customers_without_revenue_orders_and_refreshes_the_others():
    frame = shop_frame(customers=150, seed=43)
    ids = shop_load(frame)
    clv_fit_start(trigger="cli")
    leaving = frame["customer_id"].iloc[0]
    before = CustomerScores.objects.get(customer_id=ids[leaving])
    assert before.clv_12m is not None
    CustomerScores.objects.filter(customer_id=ids[leaving]).update(rfm_cell="lost")

    # when all of one customer's orders are refunded and the predictions stored again
    Order.objects.filter(customer_id=ids[leaving]).update(status=OrderStatus.REFUNDED)
    summary = clv_scores_store()

    after = CustomerScores.objects.get(customer_id=ids[leaving])
    assert (summary.stored, summary.cleared) == (149, 1)
    assert (after.clv_12m, after.clv_historical, after.p_alive, after.clv_model_version) == (
        None,
        None,
        None,
        None,
    )
    assert after.rfm_cell == "lost"
    assert CustomerScores.objects.filter(clv_12m__isnull=False).count() == 149


@pytest.mark.django_db
def test_store_without_a_model_says_what_to_do():
    with pytest.raises(NotEnoughData, match="No CLV model yet: fit it first"):
        clv_scores_store()


@pytest.mark.django_db(transaction=True)
def test_a_tampered_artifact_is_refused_and_nothing_is_written():
    shop_load(shop_frame(customers=120, seed=47))
    run = clv_fit_start(trigger="cli")
    CustomerScores.objects.all().delete()
    path = artifact_path(run.model_version)
    path.chmod(0o644)
    path.write_text(path.read_text().replace('"r":', '"r": 1.0, "x":', 1))

    with pytest.raises(ValidationFailed, match="does not match its recorded hash"):
        clv_scores_store()

    assert CustomerScores.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_overview_summarises_the_stored_predictions():
    frame = shop_frame(customers=300, seed=53)
    shop_load(frame)
    clv_fit_start(trigger="cli")

    overview = clv_overview(top=5)

    values = np.array(
        [float(value) for value in CustomerScores.objects.values_list("clv_12m", flat=True)]
    )
    assert overview.stale is False
    assert overview.customers == 300
    assert overview.stored_version == 1
    assert float(overview.total_clv_12m) == pytest.approx(values.sum(), abs=0.01)
    assert sum(band["customers"] for band in overview.distribution) == 300
    assert overview.distribution[0]["low"] == 0.0
    assert [float(customer.clv_12m) for customer in overview.top_customers] == sorted(
        values, reverse=True
    )[:5]
    assert overview.document["bgnbd"]["customers"] == 300
    assert overview.latest_run.status == "succeeded"


@pytest.mark.django_db
def test_the_portable_writer_upserts_only_clv_columns():
    # given one customer with other scores and one without a row (the SQLite path's writer)
    kept, new = CustomerFactory(), CustomerFactory()
    CustomerScores.objects.create(customer=kept, rfm_cell="loyal", churn_risk=0.5)
    predictions = clv_services._Predictions(
        customer_ids=[kept.pk, new.pk],
        historical=[Decimal("10.00"), Decimal("20.50")],
        discounted=[Decimal("9.90"), Decimal("20.10")],
        predicted=[Decimal("33.33"), Decimal("0.00")],
        alive=[0.75, 1.0],
        expected=[0.5, 0.0],
    )

    clv_services._predictions_write_portable(predictions, None, timezone.now())

    rows = {row.customer_id: row for row in CustomerScores.objects.all()}
    assert (rows[kept.pk].clv_12m, rows[kept.pk].p_alive, rows[kept.pk].rfm_cell) == (
        Decimal("33.33"),
        0.75,
        "loyal",
    )
    assert rows[kept.pk].churn_risk == 0.5
    assert (rows[new.pk].clv_historical, rows[new.pk].expected_purchases_90d) == (
        Decimal("20.50"),
        0.0,
    )
