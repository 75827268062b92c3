"""visitor_product_history: one query for a visitor's newest product events and purchase lines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog.tests.factories import ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType, OrderStatus
from apps.events.selectors import visitor_product_history
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

TYPES = (EventType.PRODUCT_VIEW.value, EventType.ADD_TO_CART.value)


def history(**options):
    defaults = {
        "since": timezone.now() - timedelta(days=30),
        "event_types": TYPES,
        "events_limit": 2,
        "lines_limit": 5,
    }
    return visitor_product_history(**{**defaults, **options})


def test_newest_events_and_revenue_lines_since_the_bound_in_one_query():
    now = timezone.now()
    alice, other = CustomerFactory(), CustomerFactory()
    shoe, hat, bag = (
        ProductFactory(sku="SHOE"),
        ProductFactory(sku="HAT"),
        ProductFactory(sku="BAG"),
    )
    EventFactory(
        customer=alice,
        product=shoe,
        event_type=EventType.PRODUCT_VIEW,
        occurred_at=now - timedelta(hours=1),
    )
    EventFactory(
        customer=alice,
        product=hat,
        event_type=EventType.ADD_TO_CART,
        occurred_at=now - timedelta(hours=2),
    )
    EventFactory(
        customer=alice,
        product=bag,
        event_type=EventType.PRODUCT_VIEW,
        occurred_at=now - timedelta(hours=3),
    )  # over the limit
    EventFactory(
        customer=alice,
        product=bag,
        event_type=EventType.PRODUCT_VIEW,
        occurred_at=now - timedelta(days=40),
    )  # too old
    EventFactory(
        customer=other, product=bag, event_type=EventType.PRODUCT_VIEW, occurred_at=now
    )  # someone else
    paid = OrderFactory(customer=alice, status=OrderStatus.PAID, placed_at=now - timedelta(days=2))
    OrderLineFactory(order=paid, product=bag, quantity=3)
    cancelled = OrderFactory(
        customer=alice, status=OrderStatus.CANCELLED, placed_at=now - timedelta(days=1)
    )
    OrderLineFactory(order=cancelled, product=hat)

    with CaptureQueriesContext(connection) as queries:
        rows = history(customer_id=alice.pk)

    assert len(queries) == 1
    assert sorted((sku, kind, quantity) for sku, kind, _, quantity in rows) == [
        ("BAG", "purchase", 3), ("HAT", "add_to_cart", 1), ("SHOE", "product_view", 1),
    ]  # fmt: skip
    assert all(at.tzinfo is not None for _, _, at, _ in rows)


def test_an_anonymous_visitor_has_events_only():
    product = ProductFactory(sku="SHOE")
    EventFactory(
        customer=None,
        anonymous_id="anon-7",
        product=product,
        event_type=EventType.PRODUCT_VIEW,
        occurred_at=timezone.now(),
    )

    assert [row[:2] for row in history(customer_id=None, anonymous_id="anon-7")] == [
        ("SHOE", "product_view")
    ]
    assert history(customer_id=None, anonymous_id="anon-8") == []
