"""Events API: orders, a customer's orders and events, events, reviews and social posts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.customers.tests.factories import CustomerAliasFactory, CustomerFactory
from apps.events.tests.conftest import api_client
from apps.events.tests.factories import (
    EventFactory,
    OrderFactory,
    OrderLineFactory,
    ReviewFactory,
    SocialPostFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return api_client("events:read")


def _ids(response, key: str = "external_id") -> list[str]:
    assert response.status_code == 200, response.json()
    return [row[key] for row in response.json()["results"]]


def test_orders_list_newest_first_with_lines(client):
    now = timezone.now()
    old = OrderFactory(external_id="o-old", placed_at=now - timedelta(days=5))
    OrderLineFactory(order=old, sku="SKU-OLD", product=None)
    OrderFactory(external_id="o-new", placed_at=now - timedelta(days=1))

    response = client.get("/api/v1/orders")

    assert _ids(response) == ["o-new", "o-old"]
    old_row = response.json()["results"][1]
    assert old_row["lines"] == [
        {
            "sku": "SKU-OLD",
            "title": None,
            "quantity": 1,
            "unit_price": "19.90",
            "discount": "0.00",
            "line_total": "19.90",
        }
    ]


def test_orders_filter_by_customer_status_and_since(client):
    now = timezone.now()
    customer = CustomerFactory(external_id="c-1")
    CustomerAliasFactory(customer=customer, alias="device-1")
    OrderFactory(external_id="o-1", customer=customer, placed_at=now - timedelta(days=1))
    OrderFactory(external_id="o-2", customer=customer, status="refunded")
    OrderFactory(external_id="o-3", placed_at=now - timedelta(days=30))

    assert _ids(client.get("/api/v1/orders", {"customer": "c-1"})) == ["o-1", "o-2"]
    assert _ids(client.get("/api/v1/orders", {"customer": "device-1"})) == ["o-1", "o-2"]
    assert _ids(client.get("/api/v1/orders", {"customer": "nobody"})) == []
    assert _ids(client.get("/api/v1/orders", {"status": "refunded"})) == ["o-2"]
    since = (now - timedelta(days=10)).isoformat()
    assert _ids(client.get("/api/v1/orders", {"since": since})) == ["o-1", "o-2"]


def test_orders_with_a_bad_since_is_400_naming_it(client):
    response = client.get("/api/v1/orders", {"since": "yesterday"})

    assert response.status_code == 400
    assert response.json()["detail"] == "since: Enter a valid date/time."


def test_order_detail_and_404(client):
    order = OrderFactory(external_id="o-1", total=Decimal("19.90"))
    OrderLineFactory(order=order)

    found = client.get("/api/v1/orders/o-1")
    missing = client.get("/api/v1/orders/o-404")

    assert found.status_code == 200
    assert found.json()["total"] == "19.90"
    assert found.json()["customer"] == order.customer.external_id
    assert len(found.json()["lines"]) == 1
    assert missing.status_code == 404
    assert missing.json() == {"detail": "order 'o-404' does not exist", "code": "order_not_found"}


def test_customer_orders_and_events_by_external_id_or_alias(client):
    customer = CustomerFactory(external_id="c-1")
    CustomerAliasFactory(customer=customer, alias="device-1")
    OrderFactory(external_id="o-1", customer=customer)
    OrderFactory(external_id="o-other")
    EventFactory(customer=customer, event_id="e-1", event_type="page_view")
    EventFactory(customer=customer, event_id="e-2", event_type="add_to_cart")
    EventFactory(event_id="e-other")

    assert _ids(client.get("/api/v1/customers/c-1/orders")) == ["o-1"]
    assert _ids(client.get("/api/v1/customers/device-1/orders")) == ["o-1"]
    events = client.get("/api/v1/customers/c-1/events", {"type": "add_to_cart"})
    assert _ids(events, "event_id") == ["e-2"]


def test_customer_orders_of_an_unknown_customer_is_404(client):
    response = client.get("/api/v1/customers/nobody/orders")

    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"


def test_events_filter_by_type_customer_and_since(client):
    now = timezone.now()
    customer = CustomerFactory(external_id="c-1")
    EventFactory(event_id="e-1", customer=customer, event_type="purchase", occurred_at=now)
    EventFactory(
        event_id="e-2",
        customer=customer,
        event_type="page_view",
        occurred_at=now - timedelta(days=3),
    )
    EventFactory(event_id="e-3", event_type="purchase", occurred_at=now - timedelta(days=5))

    assert _ids(client.get("/api/v1/events", {"type": "purchase"}), "event_id") == ["e-1", "e-3"]
    assert _ids(client.get("/api/v1/events", {"customer": "c-1"}), "event_id") == ["e-1", "e-2"]
    since = (now - timedelta(days=4)).isoformat()
    assert _ids(client.get("/api/v1/events", {"since": since}), "event_id") == ["e-1", "e-2"]
    row = client.get("/api/v1/events", {"type": "purchase"}).json()["results"][0]
    assert row["customer"] == "c-1"
    assert set(row) == {
        "event_id",
        "source",
        "event_type",
        "name",
        "customer",
        "anonymous_id",
        "session_id",
        "product",
        "properties",
        "occurred_at",
        "received_at",
    }


def test_events_with_an_unknown_type_is_400(client):
    response = client.get("/api/v1/events", {"type": "teleport"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("type: ")


def test_reviews_filter_by_product_and_rating(client):
    good = ReviewFactory(external_id="r-1", rating=5)
    ReviewFactory(external_id="r-2", rating=2, product=good.product)
    ReviewFactory(external_id="r-3", rating=4)

    by_product = client.get("/api/v1/reviews", {"product": good.product.sku})
    assert sorted(_ids(by_product)) == ["r-1", "r-2"]
    assert sorted(_ids(client.get("/api/v1/reviews", {"min_rating": 4}))) == ["r-1", "r-3"]
    assert _ids(client.get("/api/v1/reviews", {"rating": 2})) == ["r-2"]
    assert client.get("/api/v1/reviews", {"rating": 9}).status_code == 400


def test_social_posts_filter_by_platform(client):
    SocialPostFactory(external_id="p-1", platform="instagram")
    SocialPostFactory(external_id="p-2", platform="weibo")

    assert _ids(client.get("/api/v1/social-posts", {"platform": "weibo"})) == ["p-2"]


def test_events_need_the_events_read_scope():
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    assert client.get("/api/v1/orders").status_code == 403
    assert client.get("/api/v1/customers/c-1/events").status_code == 403
