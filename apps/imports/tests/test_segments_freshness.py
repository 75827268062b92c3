"""Imports keep dynamic segments fresh: the customers of imported orders and of new or changed
profiles are re-checked by the incremental refresh once their chunk commits, not at the next
scheduled full refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.customers.tests.factories import CustomerFactory
from apps.segments.models import SegmentMembership, SegmentMembershipEvent, SegmentTouchedCustomer
from apps.segments.services.segments import TOUCH_PENDING_KEY, segment_create

pytestmark = pytest.mark.django_db

BOUGHT_YESTERDAY = {
    "type": "group",
    "operator": "and",
    "conditions": [{"type": "order", "operator": "gte", "value": 1, "window": {"last_days": 1}}],
}
GERMANS = {
    "type": "group",
    "operator": "and",
    "conditions": [{"type": "property", "field": "country", "operator": "equals", "value": "DE"}],
}
ORDER_HEADER = "order_id,customer_id,placed_at,sku,quantity,unit_price\n"


@pytest.fixture(autouse=True)
def no_pending_refresh():
    """Each test starts (and leaves) without a refresh marked as already queued."""
    cache.delete(TOUCH_PENDING_KEY)
    yield
    cache.delete(TOUCH_PENDING_KEY)


def members(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    )


def test_an_imported_order_puts_its_customer_in_a_recent_purchase_segment(
    run_import, django_capture_on_commit_callbacks
):
    # given a customer without orders and the segment "purchased in the last day"
    CustomerFactory(external_id="cust-1")
    CustomerFactory(external_id="cust-2")
    segment = segment_create(name="Bought yesterday", definition=BOUGHT_YESTERDAY)
    assert members(segment) == set()
    placed_at = (timezone.now() - timedelta(hours=2)).isoformat()

    # when an orders file with an order of hers two hours ago is imported
    with django_capture_on_commit_callbacks(execute=True):
        job = run_import("orders", ORDER_HEADER + f"A-1,cust-1,{placed_at},SKU-1,1,10.00\n")
        # nothing is re-checked before the chunk commits
        assert members(segment) == set()

    # then the touched refresh task ran after the commit and she entered the segment
    assert job.details["orders_created"] == 1
    assert members(segment) == {"cust-1"}
    entry = SegmentMembershipEvent.objects.get(segment=segment)
    assert (entry.customer.external_id, entry.kind) == ("cust-1", "entered")
    assert SegmentTouchedCustomer.objects.count() == 0


def test_reimporting_existing_orders_touches_nobody(run_import, django_capture_on_commit_callbacks):
    CustomerFactory(external_id="cust-1")
    segment_create(name="Bought yesterday", definition=BOUGHT_YESTERDAY)
    orders = ORDER_HEADER + f"A-1,cust-1,{timezone.now().isoformat()},SKU-1,1,10.00\n"
    with django_capture_on_commit_callbacks(execute=True):
        run_import("orders", orders)
    cache.set(TOUCH_PENDING_KEY, 1)  # keep the refresh from taking the touches

    with django_capture_on_commit_callbacks(execute=True):
        job = run_import("orders", orders)

    assert job.details["orders_skipped"] == 1
    assert SegmentTouchedCustomer.objects.count() == 0


def test_imported_customers_enter_and_leave_segments_by_their_profile(
    run_import, django_capture_on_commit_callbacks
):
    # given the segment of Germans, with nobody in it yet
    segment = segment_create(name="Germans", definition=GERMANS)

    # when two new customers are imported, then one of them moves to France
    with django_capture_on_commit_callbacks(execute=True):
        run_import("customers", "external_id,country\nc-1,de\nc-2,fr\n")
    after_create = members(segment)
    with django_capture_on_commit_callbacks(execute=True):
        run_import("customers", "external_id,country\nc-1,fr\n", name="moved.csv")

    # then each import re-checked exactly the customers it created or changed
    assert after_create == {"c-1"}
    assert members(segment) == set()
    assert list(
        SegmentMembershipEvent.objects.filter(segment=segment)
        .order_by("id")
        .values_list("customer__external_id", "kind")
    ) == [("c-1", "entered"), ("c-1", "exited")]
