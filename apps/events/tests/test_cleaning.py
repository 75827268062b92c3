"""The cleaning pipeline's writes on orders (currencies, quality flags) and the reads it uses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.events.models import Order
from apps.events.selectors import event_freshness_by_source
from apps.events.services.cleaning import (
    event_field_counts,
    event_validity_counts,
    order_cleaning_frame,
    order_currencies_write,
    order_currency_counts,
    order_flag_rows,
    order_flags_write,
)
from apps.events.tests.factories import EventFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_flags_write_one_update_per_distinct_flag_list(django_assert_num_queries):
    orders = OrderFactory.create_batch(3)
    values = {
        orders[0].pk: ["amount_outlier"],
        orders[1].pk: ["amount_outlier"],
        orders[2].pk: ["negative_amount", "total_mismatch"],
    }

    # one UPDATE per distinct list, inside the service's savepoint (SAVEPOINT + RELEASE)
    with django_assert_num_queries(4):
        written = order_flags_write(values=values)

    assert written == 3
    assert Order.objects.get(pk=orders[2].pk).quality_flags == ["negative_amount", "total_mismatch"]
    assert Order.objects.get(pk=orders[0].pk).total == Decimal("19.90")


def test_flags_write_refuses_anything_but_lists_of_names():
    order = OrderFactory()

    with pytest.raises(ValidationFailed) as error:
        order_flags_write(values={order.pk: "amount_outlier"})

    assert error.value.field == "quality_flags"
    assert Order.objects.get(pk=order.pk).quality_flags == []


def test_currencies_write_accepts_only_iso_codes():
    order = OrderFactory(currency="usd")

    order_currencies_write(values={order.pk: "USD"})
    with pytest.raises(ValidationFailed):
        order_currencies_write(values={order.pk: "dollars"})

    assert Order.objects.get(pk=order.pk).currency == "USD"


def test_order_frame_holds_amounts_and_flags():
    order = OrderFactory(quality_flags=["amount_outlier"])

    frame = order_cleaning_frame()

    assert frame.loc[order.pk, "total"] == Decimal("19.90")
    assert frame.loc[order.pk, "quality_flags"] == ["amount_outlier"]


def test_event_counts_validity_and_freshness_per_source():
    now = timezone.now()
    EventFactory(source="web", occurred_at=now - timedelta(hours=2))
    EventFactory(source="web", customer=None, anonymous_id="", occurred_at=now - timedelta(hours=1))
    EventFactory(source="app", occurred_at=now + timedelta(days=3))
    EventFactory(source="web", occurred_at=now - timedelta(days=90))  # outside the window

    total, filled = event_field_counts(now=now)
    validity = event_validity_counts(now=now)
    freshness = event_freshness_by_source()

    assert (total, filled["customer"], filled["anonymous_id"]) == (3, 2, 2)
    assert validity == {"unidentified": 1, "future": 1}
    # most recently heard from first: the last event created came from web
    assert [(row["source"], row["events"]) for row in freshness] == [("web", 3), ("app", 1)]


def test_flag_rows_and_currency_counts():
    flagged = OrderFactory(quality_flags=["amount_outlier"])
    OrderFactory(currency="USD")
    OrderFactory(currency="eur")

    assert order_flag_rows() == [(flagged.pk, ["amount_outlier"])]
    assert order_currency_counts() == {"USD": 2, "eur": 1}
