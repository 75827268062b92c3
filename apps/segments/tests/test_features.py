"""Customer features at a cut date and labels after it: exact values, window edges, no leakage."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType, OrderStatus
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.segments.services.features import (
    FEATURE_COLUMNS,
    churn_population,
    customer_features_build,
    feature_label,
    purchase_labels_build,
)

pytestmark = pytest.mark.django_db

CUT = datetime(2026, 6, 1, tzinfo=UTC)


def days(number: float) -> timedelta:
    return timedelta(days=number)


def order(customer, when, total, *, coupon="", status=OrderStatus.COMPLETED):
    return OrderFactory(
        customer=customer,
        placed_at=when,
        total=Decimal(total),
        subtotal=Decimal(total),
        coupon_code=coupon,
        status=status,
    )


def event(customer, when, event_type=EventType.PRODUCT_VIEW, session=""):
    return EventFactory(
        customer=customer, occurred_at=when, event_type=event_type, session_id=session
    )


@pytest.fixture
def shop():
    """Ada: three orders and some behaviour before the cut, more after it. Bo: signed up, no
    activity. Cy: a single old order. Di: signed up after the cut."""
    ada = CustomerFactory(
        external_id="ada", signup_at=datetime(2026, 1, 1, tzinfo=UTC), country="GB"
    )
    bo = CustomerFactory(external_id="bo", signup_at=CUT - days(31), email="", phone="")
    cy = CustomerFactory(external_id="cy", signup_at=CUT - days(300))
    CustomerFactory(external_id="di", signup_at=CUT + days(1))
    women = CategoryFactory(slug="women")
    dresses = CategoryFactory(parent=women, slug="dresses")
    shirts = CategoryFactory(parent=CategoryFactory(slug="men"), slug="shirts")
    first = order(ada, CUT - days(100), "50.00", coupon="WELCOME10")
    OrderLineFactory(order=first, product=ProductFactory(category=dresses), quantity=2)
    OrderLineFactory(order=first, product=ProductFactory(category=shirts), quantity=1)
    order(ada, CUT - days(40), "30.00")
    order(ada, CUT - days(10), "20.00")
    order(ada, CUT - days(5), "75.00", status=OrderStatus.CANCELLED)  # not revenue
    order(cy, CUT - days(200), "10.00")
    event(ada, CUT - days(3), session="s1")
    event(ada, CUT - days(20), session="s2")
    event(ada, CUT - days(20), EventType.ADD_TO_CART, session="s2")
    event(ada, CUT - days(50), EventType.EMAIL_OPEN)
    event(ada, CUT - days(5), EventType.EMAIL_CLICK)
    return {"ada": ada, "bo": bo, "cy": cy}


def test_features_of_a_hand_made_customer_are_exact(shop):
    features = customer_features_build(cut=CUT)
    ada = features.loc[shop["ada"].pk]

    assert list(features.columns) == list(FEATURE_COLUMNS)
    assert sorted(features.index) == sorted(customer.pk for customer in shop.values())
    assert ada["orders_count"] == 3
    assert (ada["orders_30d"], ada["orders_90d"], ada["orders_365d"]) == (1, 2, 3)
    assert (ada["spend_total"], ada["spend_90d"]) == (100.0, 50.0)
    assert ada["average_order_value"] == pytest.approx(100 / 3)
    assert (ada["days_since_last_order"], ada["days_since_first_order"]) == (10.0, 100.0)
    assert (ada["repeat_purchases"], ada["days_first_to_last_order"]) == (2, 90.0)
    assert ada["mean_days_between_orders"] == pytest.approx(45.0)
    assert ada["spread_days_between_orders"] == pytest.approx(math.sqrt(450))
    assert ada["recency_in_own_cycles"] == pytest.approx(10 / 45)
    assert ada["coupon_share"] == pytest.approx(1 / 3)
    assert (ada["categories_bought"], ada["top_department"]) == (2, "women")
    assert (ada["product_views_7d"], ada["product_views_30d"], ada["add_to_carts_30d"]) == (1, 2, 1)
    assert (ada["sessions_7d"], ada["sessions_30d"], ada["sessions_90d"]) == (1, 2, 2)
    assert (ada["email_opens_30d"], ada["email_opens_90d"], ada["email_clicks_7d"]) == (0, 1, 1)
    assert ada["days_since_last_event"] == pytest.approx(3.0)
    assert ada["tenure_days"] == pytest.approx(151.0)
    assert (ada["country"], ada["has_email"]) == ("GB", 1.0)


def test_rfm_scores_rank_buyers_at_the_cut(shop):
    features = customer_features_build(cut=CUT)
    ada, cy = features.loc[shop["ada"].pk], features.loc[shop["cy"].pk]

    assert (ada["rfm_recency"], ada["rfm_frequency"], ada["rfm_monetary"]) == (5, 5, 5)
    assert (cy["rfm_recency"], cy["rfm_frequency"], cy["rfm_monetary"]) == (3, 3, 3)


def test_a_customer_without_activity_has_zero_counts_and_missing_times(shop):
    bo = customer_features_build(cut=CUT).loc[shop["bo"].pk]

    assert (bo["orders_count"], bo["spend_total"], bo["sessions_90d"]) == (0, 0, 0)
    assert math.isnan(bo["days_since_last_order"])
    assert math.isnan(bo["rfm_recency"])
    assert bo["top_department"] is None or pd.isna(bo["top_department"])
    assert (bo["has_email"], bo["has_phone"], bo["tenure_days"]) == (0.0, 0.0, 31.0)


def test_nothing_at_or_after_the_cut_changes_the_features(shop):
    before = customer_features_build(cut=CUT)
    ada = shop["ada"]
    # At the cut exactly, and after it: orders, lines, behaviour, email engagement.
    late = order(ada, CUT, "500.00")
    OrderLineFactory(order=late, product=ProductFactory(), quantity=9)
    order(ada, CUT + days(1), "300.00")
    order(shop["bo"], CUT + days(2), "40.00")
    for kind in (EventType.PRODUCT_VIEW, EventType.EMAIL_OPEN, EventType.ADD_TO_CART):
        event(ada, CUT, kind, session="s9")
        event(shop["bo"], CUT + timedelta(minutes=1), kind, session="s10")

    after = customer_features_build(cut=CUT)

    pd.testing.assert_frame_equal(before, after)


def test_labels_count_revenue_orders_in_the_half_open_window_after_the_cut(shop):
    ada, bo, cy = shop["ada"], shop["bo"], shop["cy"]
    order(ada, CUT, "10.00")  # the first instant of the window counts
    order(bo, CUT + days(30), "10.00")  # the window of 30 days ends just before this
    order(cy, CUT + days(3), "10.00", status=OrderStatus.REFUNDED)  # not revenue
    index = pd.Index([ada.pk, bo.pk, cy.pk])

    labels_30 = purchase_labels_build(customer_ids=index, cut=CUT, horizon_days=30)
    labels_31 = purchase_labels_build(customer_ids=index, cut=CUT, horizon_days=31)

    assert labels_30.tolist() == [1, 0, 0]
    assert labels_31.tolist() == [1, 1, 0]


def test_churn_population_is_customers_active_before_the_cut(shop):
    features = customer_features_build(cut=CUT)

    active_year = churn_population(features, active_days=365)
    active_quarter = churn_population(features, active_days=90)

    assert sorted(active_year.index) == sorted([shop["ada"].pk, shop["cy"].pk])
    assert list(active_quarter.index) == [shop["ada"].pk]


def test_features_are_read_in_a_fixed_number_of_queries(shop, django_assert_num_queries):
    for index in range(20):
        customer = CustomerFactory(signup_at=CUT - days(50))
        order(customer, CUT - days(index + 1), "12.00")
        event(customer, CUT - days(index + 1), session=f"bulk-{index}")

    with django_assert_num_queries(4):  # customers, orders, order lines, events
        features = customer_features_build(cut=CUT)

    assert len(features) == 23


def test_every_feature_has_a_readable_label():
    assert feature_label("days_since_last_order") == "Days since the last order"
    assert feature_label("email_clicks_30d") == "Email clicks, 30 days"
    assert all(feature_label(name) != name for name in FEATURE_COLUMNS)


def lifetime_shop(seed: int = 2, buyers: int = 40) -> tuple[list, list[tuple[int, datetime, str]]]:
    """Buyers drawn from the BG/NBD story before the cut (Poisson purchases at a rate of their
    own, a 25% chance of leaving after each), with seed 2: 26 of 40 buy again and the fit
    converges. Returns the customers and their orders (customer id, placed at, total)."""
    rng = np.random.default_rng(seed)
    customers, facts = [], []
    for _ in range(buyers):
        customer = CustomerFactory(signup_at=CUT - days(400))
        customers.append(customer)
        rate, spend = rng.gamma(0.8, 1 / 25), rng.gamma(6, 6)
        before = 300 * rng.random() + 20
        while before > 0:
            total = f"{rng.gamma(6, spend / 6):.2f}"
            order(customer, CUT - days(float(before)), total)
            facts.append((customer.pk, CUT - days(float(before)), total))
            if rng.random() < 0.25:
                break
            before -= rng.exponential(1 / rate)
    return customers, facts


def test_clv_features_are_a_bgnbd_and_gamma_gamma_fit_on_the_orders_before_the_cut():
    from apps.segments.engine import clv as engine

    customers, facts = lifetime_shop()
    prospect = CustomerFactory(signup_at=CUT - days(10))
    # what the features must equal: the engine on an independent summary of those orders
    transactions = engine.Transactions(
        customer_ids=np.array([pk for pk, _, _ in facts]),
        days=np.array(
            [engine.date_to_day(timezone.localtime(when).date()) for _, when, _ in facts]
        ),
        amounts=np.array([float(total) for _, _, total in facts]),
    )
    summary = engine.rfm_summary(
        transactions, calibration_end=CUT.date(), time_unit="D", monthly_discount_rate=0.01
    )
    fit = engine.clv_fit(summary)
    expected = engine.customer_values_predict(
        fit.bgnbd, fit.gamma_gamma, summary, months=12, monthly_discount_rate=0.01,
        horizon_days=30,
    )  # fmt: skip
    assert fit.bgnbd.converged and fit.gamma_gamma.q > 1
    assert (summary.customers, summary.repeat_customers) == (40, 26)

    features = customer_features_build(cut=CUT, horizon_days=30)

    rows = features.loc[summary.customer_ids.astype(int)]
    np.testing.assert_allclose(rows["p_alive"], expected.probability_alive, rtol=1e-9)
    np.testing.assert_allclose(
        rows["expected_purchases_horizon"], expected.expected_purchases, rtol=1e-9
    )
    np.testing.assert_allclose(rows["predicted_clv_12m"], expected.predicted_clv, rtol=1e-9)
    one_time = features[features["repeat_purchases"] == 0].iloc[0]
    assert one_time["p_alive"] == 1.0  # BG/NBD: nobody leaves before a repeat purchase
    assert features.loc[prospect.pk, ["p_alive", "predicted_clv_12m"]].isna().all()
    repeat_buyer = features[features["repeat_purchases"] > 2].index[0]
    quarter = customer_features_build(cut=CUT, horizon_days=90).loc[repeat_buyer]
    assert (
        quarter["expected_purchases_horizon"] > rows.loc[repeat_buyer, "expected_purchases_horizon"]
    )
    assert len(customers) == 40


def test_orders_after_the_cut_change_neither_the_clv_fit_nor_the_clv_features():
    customers, _ = lifetime_shop()
    before = customer_features_build(cut=CUT)
    assert before["p_alive"].notna().sum() == 40

    for index, customer in enumerate(customers):  # a busy label window: everyone buys, a lot
        order(customer, CUT + timedelta(minutes=index), "900.00")
        order(customer, CUT + days(3), "15.00")

    after = customer_features_build(cut=CUT)

    pd.testing.assert_frame_equal(before, after)


def test_too_few_buyers_or_a_degenerate_fit_leave_the_clv_features_missing(shop):
    clv_columns = ["p_alive", "expected_purchases_horizon", "predicted_clv_12m"]
    few = customer_features_build(cut=CUT)
    # 30 buyers who all buy like clockwork: the dropout odds run off to infinity (no converged
    # BG/NBD fit), so no CLV rather than a misleading one
    for index in range(30):
        customer = CustomerFactory(signup_at=CUT - days(400))
        for number in range(1 + index % 4):
            order(customer, CUT - days(5 + 23 * number + index), f"{20 + 3 * index}.00")

    degenerate = customer_features_build(cut=CUT)

    assert few[clv_columns].isna().all(axis=None)
    assert degenerate[clv_columns].isna().all(axis=None)
    assert degenerate["repeat_purchases"].sum() > 0
