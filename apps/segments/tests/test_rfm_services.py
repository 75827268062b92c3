"""RFM and lifecycle on the database: exact cells and stages of hand-made customers written
into CustomerScores, only our columns touched, and the `segments.rfm` ML run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, NotEnoughData, ValidationFailed
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import OrderStatus
from apps.events.tests.factories import OrderFactory
from apps.ml.models import ModelVersion, TrainingRun
from apps.segments.ml_rfm import register_kinds
from apps.segments.models import CustomerScores, Segment
from apps.segments.services.rfm import (
    rfm_cell_segment_save,
    rfm_compute,
    rfm_overview,
    rfm_run_start,
)

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def _customer(external_id: str, orders: list[tuple[float, str]], *, now=AS_OF, **fields):
    """A customer with revenue orders `(days before now, total)`."""
    customer = CustomerFactory(external_id=external_id, **fields)
    for days, total in orders:
        OrderFactory(
            customer=customer,
            placed_at=now - days * DAY,
            total=Decimal(total),
            subtotal=Decimal(total),
        )
    return customer


def _scores() -> dict[str, CustomerScores]:
    return {
        scores.customer.external_id: scores
        for scores in CustomerScores.objects.select_related("customer")
    }


@pytest.fixture
def shop():
    """Five buyers, one per quintile in each dimension, and two prospects.

    b1: 1 order 2 days ago ($20)            R5 F1 M1 -> FM1 new;             1 day, idle 2 -> new
    b2: 4 orders, 70/50/30/10 days ($400)   R4 F4 M4 -> FM4 loyal;           own cycle 20 -> loyal
    b3: 2 orders, 60/40 days ($100)         R3 F2 M2 -> FM2 about_to_sleep;  shop cycle 20, idle 40
                                                                               -> at_risk
    b4: 3 orders, 160/130/100 days ($300)   R2 F3 M3 -> FM3 at_risk;         own cycle 30, idle
                                                                               100 > 90 -> lapsed
    b5: 5 orders, 600/590/580/570/400 ($500) R1 F5 M5 -> FM5 cant_lose_them; own cycle 10 -> lapsed
    Shop gaps 10,10,10,20,20,20,20,30,30,170: median 20 days.
    """
    _customer("b1", [(2, "20.00")])
    _customer("b2", [(70, "100.00"), (50, "100.00"), (30, "100.00"), (10, "100.00")])
    _customer("b3", [(60, "50.00"), (40, "50.00")])
    _customer("b4", [(160, "100.00"), (130, "100.00"), (100, "100.00")])
    _customer(
        "b5", [(600, "100.00"), (590, "100.00"), (580, "100.00"), (570, "100.00"), (400, "100.00")]
    )
    _customer("p1", [])
    cancelled_only = _customer("p2", [])
    OrderFactory(customer=cancelled_only, placed_at=AS_OF - DAY, status=OrderStatus.CANCELLED)


def test_hand_made_customers_get_exact_rfm_cells_and_lifecycle_stages(shop):
    summary = rfm_compute(as_of=AS_OF)

    scores = _scores()
    assert {
        key: (s.rfm_recency, s.rfm_frequency, s.rfm_monetary, s.rfm_cell, s.lifecycle_stage)
        for key, s in scores.items()
    } == {
        "b1": (5, 1, 1, "new", "new"),
        "b2": (4, 4, 4, "loyal", "loyal"),
        "b3": (3, 2, 2, "about_to_sleep", "at_risk"),
        "b4": (2, 3, 3, "at_risk", "lapsed"),
        "b5": (1, 5, 5, "cant_lose_them", "lapsed"),
        "p1": (None, None, None, "", "prospect"),
        "p2": (None, None, None, "", "prospect"),
    }
    assert all(s.rfm_computed_at is not None for s in scores.values())
    assert (summary.customers, summary.buyers, summary.shop_cycle_days) == (7, 5, 20.0)
    assert summary.cells["new"] == 1 and summary.cells["champions"] == 0
    assert summary.stages == {
        "prospect": 2,
        "new": 1,
        "active": 0,
        "returning": 0,
        "loyal": 1,
        "at_risk": 1,
        "lapsed": 2,
    }
    assert summary.own_cycle_customers == 3
    assert summary.grid[4][0] == 1  # R5, FM1: b1


def test_lifecycle_edges_on_dates():
    # given customers whose own cycle is 10 days (gaps of whole days at the same hour)
    _customer("exactly-1.5-cycles", [(45, "10"), (35, "10"), (25, "10"), (15, "10")])
    _customer("a-minute-later", [(45, "10"), (35, "10"), (25, "10"), (15 + 1 / 1440, "10")])
    _customer("came-back", [(200, "10"), (190, "10"), (180, "10"), (5, "10")])
    _customer("two-days-active", [(40, "10"), (12, "10")])  # shop cycle: median of all gaps

    summary = rfm_compute(as_of=AS_OF)

    stages = {key: s.lifecycle_stage for key, s in _scores().items()}
    assert stages == {
        "exactly-1.5-cycles": "loyal",
        "a-minute-later": "at_risk",
        "came-back": "returning",
        "two-days-active": "active",
    }
    assert summary.shop_cycle_days == 10.0


def test_only_rfm_columns_are_written_and_stale_scores_are_cleared(shop):
    # given scores written by other services, and an RFM cell left from an earlier run
    b1 = CustomerScores.objects.create(
        customer_id=_id("b1"), clv_12m=Decimal("123.45"), churn_risk=0.25, cluster=3
    )
    CustomerScores.objects.create(customer_id=_id("p1"), rfm_cell="champions", rfm_recency=5)

    rfm_compute(as_of=AS_OF)

    b1.refresh_from_db()
    assert (b1.clv_12m, b1.churn_risk, b1.cluster, b1.rfm_cell) == (
        Decimal("123.45"),
        0.25,
        3,
        "new",
    )
    p1 = CustomerScores.objects.get(customer_id=_id("p1"))
    assert (p1.rfm_cell, p1.rfm_recency, p1.lifecycle_stage) == ("", None, "prospect")
    assert CustomerScores.objects.count() == 7


def _id(external_id: str) -> int:
    from apps.customers.models import Customer

    return Customer.objects.get(external_id=external_id).pk


def test_no_customers_is_not_enough_data_and_writes_nothing():
    with pytest.raises(NotEnoughData, match="needs customers"):
        rfm_compute(as_of=AS_OF)

    assert CustomerScores.objects.count() == 0


def test_rfm_runs_as_an_ml_job(django_capture_on_commit_callbacks):
    # given customers with orders relative to now (the run scores as of now)
    now = timezone.now()
    _customer("recent", [(1, "80")], now=now)
    _customer("old", [(300, "20"), (200, "20")], now=now)

    with django_capture_on_commit_callbacks(execute=True):
        run = rfm_run_start(trigger="cli")
    run.refresh_from_db()

    assert (run.kind, run.status, run.error) == ("segments.rfm", "succeeded", "")
    assert run.metrics["buyers"] == 2 and run.metrics["customers"] == 2
    assert run.metrics["cells"]["potential_loyalists"] == 1
    assert ModelVersion.objects.get(kind="segments.rfm").version == 1
    assert _scores()["recent"].rfm_cell == "potential_loyalists"
    assert _scores()["old"].rfm_cell == "at_risk"  # R2, F4 M2 -> FM3


def test_rfm_run_without_customers_ends_not_enough_data(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = rfm_run_start(trigger="cli")
    run.refresh_from_db()

    assert run.status == "not_enough_data"
    assert run.error.startswith("RFM needs customers; found none.")
    assert not ModelVersion.objects.filter(kind="segments.rfm").exists()
    assert TrainingRun.objects.count() == 1


def test_overview_counts_cells_grid_and_stages(shop):
    rfm_compute(as_of=AS_OF)

    overview = rfm_overview()

    assert (overview.customers_scored, overview.buyers) == (7, 5)
    assert dict((cell, count) for cell, _, count in overview.cells) == {
        "champions": 0,
        "loyal": 1,
        "potential_loyalists": 0,
        "new": 1,
        "promising": 0,
        "need_attention": 0,
        "about_to_sleep": 1,
        "at_risk": 1,
        "cant_lose_them": 1,
        "hibernating": 0,
        "lost": 0,
    }
    assert [row[0].recency for row in overview.grid] == [5, 4, 3, 2, 1]
    assert overview.grid[0][0].customers == 1 and overview.grid[0][0].cell == "new"
    assert overview.grid[4][4].cell == "cant_lose_them" and overview.grid[4][4].customers == 1
    assert overview.grid[0][0].intensity == 1.0
    assert dict((stage, count) for stage, _, count in overview.stages)["lapsed"] == 2


def test_an_rfm_cell_saved_as_a_dynamic_segment(shop):
    rfm_compute(as_of=AS_OF)

    segment = rfm_cell_segment_save(cell="cant_lose_them")

    assert segment.name == "RFM: Can't lose them"
    assert segment.kind == "dynamic"
    assert segment.member_count == 1
    assert segment.definition["conditions"][0] == {
        "type": "score",
        "field": "rfm_cell",
        "operator": "equals",
        "value": "cant_lose_them",
    }
    assert list(segment.memberships.values_list("customer__external_id", flat=True)) == ["b5"]


def test_saving_an_unknown_cell_or_a_taken_name_writes_nothing(shop):
    rfm_compute(as_of=AS_OF)
    rfm_cell_segment_save(cell="new")

    with pytest.raises(ValidationFailed, match="cell: must be one of"):
        rfm_cell_segment_save(cell="vip")
    with pytest.raises(Conflict, match="exists already"):
        rfm_cell_segment_save(cell="loyal", name="RFM: New")

    assert list(Segment.objects.values_list("name", flat=True)) == ["RFM: New"]
