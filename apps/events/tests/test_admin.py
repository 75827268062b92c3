"""Events admin: orders, events, reviews and posts are shown read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.events.tests.factories import (
    EventFactory,
    OrderLineFactory,
    ReviewFactory,
    SocialPostFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["order", "event", "review", "socialpost"])
def test_list_and_detail_pages_render_read_only(admin_client, model):
    rows = {
        "order": OrderLineFactory().order,
        "event": EventFactory(),
        "review": ReviewFactory(),
        "socialpost": SocialPostFactory(),
    }

    listing = admin_client.get(f"/admin/events/{model}/")
    detail = admin_client.get(f"/admin/events/{model}/{rows[model].pk}/change/")
    add = admin_client.get(f"/admin/events/{model}/add/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert b'type="submit" value="Save"' not in detail.content
    assert add.status_code == 403


def test_orders_cannot_be_deleted_but_spam_reviews_can(admin_client):
    order = OrderLineFactory().order
    review = ReviewFactory()

    order_delete = admin_client.get(f"/admin/events/order/{order.pk}/delete/")
    review_delete = admin_client.get(f"/admin/events/review/{review.pk}/delete/")

    assert order_delete.status_code == 403
    assert review_delete.status_code == 200
