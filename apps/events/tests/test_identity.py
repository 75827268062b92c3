"""Moving a customer's history to another customer and back by recorded ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Event, Order
from apps.events.services.identity import customer_history_move, customer_history_restore
from apps.events.tests.factories import (
    EventFactory,
    OrderFactory,
    ReviewFactory,
    SocialPostFactory,
)

pytestmark = pytest.mark.django_db


def test_move_returns_exactly_the_rows_it_moved_and_the_events_time_range():
    old, new = CustomerFactory(), CustomerFactory()
    now = timezone.now()
    events = [
        EventFactory(customer=old, occurred_at=now - timedelta(days=40)),
        EventFactory(customer=old, occurred_at=now - timedelta(days=1)),
    ]
    EventFactory(customer=new)
    order = OrderFactory(customer=old)
    review = ReviewFactory(customer=old)
    post = SocialPostFactory(customer=old)

    moved = customer_history_move(from_customer_id=old.pk, to_customer_id=new.pk)

    assert moved == {
        "orders": [order.pk],
        "events": sorted(event.pk for event in events),
        "reviews": [review.pk],
        "social_posts": [post.pk],
        "events_occurred_between": [
            events[0].occurred_at.isoformat(),
            events[1].occurred_at.isoformat(),
        ],
    }
    assert Event.objects.filter(customer=new).count() == 3
    assert Order.objects.get(pk=order.pk).customer_id == new.pk


def test_restore_moves_back_only_recorded_rows_still_with_the_new_customer():
    old, new, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    moved_event = EventFactory(customer=old)
    taken_elsewhere = OrderFactory(customer=old)
    moved = customer_history_move(from_customer_id=old.pk, to_customer_id=new.pk)
    Order.objects.filter(pk=taken_elsewhere.pk).update(customer=third)
    newcomer = EventFactory(customer=new)

    restored = customer_history_restore(moved=moved, from_customer_id=new.pk, to_customer_id=old.pk)

    assert restored == {"orders": 0, "events": 1, "reviews": 0, "social_posts": 0}
    assert Event.objects.get(pk=moved_event.pk).customer_id == old.pk
    assert Event.objects.get(pk=newcomer.pk).customer_id == new.pk
    assert Order.objects.get(pk=taken_elsewhere.pk).customer_id == third.pk


def test_moving_to_the_same_customer_is_refused():
    customer = CustomerFactory()
    EventFactory(customer=customer)

    with pytest.raises(ValidationFailed):
        customer_history_move(from_customer_id=customer.pk, to_customer_id=customer.pk)
    assert Event.objects.filter(customer=customer).count() == 1
