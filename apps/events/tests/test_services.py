"""Events services: orders with computed totals, reviews, idempotent social posts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog.tests.factories import ProductFactory
from apps.core.errors import Conflict, ValidationFailed
from apps.customers.tests.factories import CustomerAliasFactory, CustomerFactory
from apps.events.contracts import OrderLineInput
from apps.events.models import Order, OrderLine, Review, SocialPost
from apps.events.services import order_create, review_create, social_post_upsert
from apps.events.tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def _yesterday():
    return timezone.now() - timedelta(days=1)


def test_order_create_computes_the_totals_and_links_known_skus():
    # given a known product and a customer
    product = ProductFactory(sku="SKU-1")
    customer = CustomerFactory(external_id="c-1")

    # when an order with a known and an unknown SKU is recorded
    order = order_create(
        external_id="o-1",
        placed_at=_yesterday(),
        customer_external_id="c-1",
        lines=[
            OrderLineInput(sku="SKU-1", quantity=2, unit_price=Decimal("10.00")),
            OrderLineInput(
                sku="GONE-9", quantity=1, unit_price=Decimal("5.50"), discount=Decimal("0.50")
            ),
        ],
        discount_total=Decimal("2.00"),
        shipping_total=Decimal("4.90"),
        total=Decimal("27.90"),
    )

    # then the totals are computed and unknown SKUs keep their text
    stored = Order.objects.get()
    assert stored == order
    assert stored.customer == customer
    assert stored.subtotal == Decimal("25.00")
    assert stored.total == Decimal("27.90")
    lines = {line.sku: line for line in OrderLine.objects.filter(order=order)}
    assert lines["SKU-1"].product == product
    assert lines["SKU-1"].line_total == Decimal("20.00")
    assert lines["GONE-9"].product is None
    assert lines["GONE-9"].line_total == Decimal("5.00")


def test_order_create_resolves_the_customer_by_alias():
    customer = CustomerFactory()
    CustomerAliasFactory(customer=customer, alias="device-1")

    order = order_create(
        external_id="o-1",
        placed_at=_yesterday(),
        customer_external_id="device-1",
        lines=[OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))],
    )

    assert order.customer == customer


def test_order_create_with_a_wrong_total_writes_nothing():
    with pytest.raises(ValidationFailed) as error:
        order_create(
            external_id="o-1",
            placed_at=_yesterday(),
            lines=[OrderLineInput(sku="X", quantity=1, unit_price=Decimal("10"))],
            total=Decimal("12.00"),
        )

    assert error.value.field == "total"
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


@pytest.mark.parametrize(
    ("lines", "kwargs", "field"),
    [
        ([], {}, "lines"),
        ([OrderLineInput(sku="X", quantity=0, unit_price=Decimal("1"))], {}, "lines[0].quantity"),
        (
            [
                OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1")),
                OrderLineInput(sku="Y", quantity=1, unit_price=Decimal("-1")),
            ],
            {},
            "lines[1].unit_price",
        ),
        (
            [OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"), discount=Decimal("2"))],
            {},
            "lines[0].discount",
        ),
        (
            [OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))],
            {"status": "lost"},
            "status",
        ),
        (
            [OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))],
            {"customer_external_id": "nobody"},
            "customer",
        ),
        (
            [OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))],
            {"discount_total": Decimal("5")},
            "discount_total",
        ),
    ],
)
def test_order_create_refuses_bad_input_naming_the_field(lines, kwargs, field):
    with pytest.raises(ValidationFailed) as error:
        order_create(external_id="o-1", placed_at=_yesterday(), lines=lines, **kwargs)

    assert error.value.field == field
    assert error.value.message.startswith(f"{field}: ")
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_order_create_refuses_a_future_order():
    with pytest.raises(ValidationFailed) as error:
        order_create(
            external_id="o-1",
            placed_at=timezone.now() + timedelta(days=1),
            lines=[OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))],
        )

    assert error.value.field == "placed_at"
    assert Order.objects.count() == 0


def test_order_create_refuses_a_taken_external_id():
    line = OrderLineInput(sku="X", quantity=1, unit_price=Decimal("1"))
    order_create(external_id="o-1", placed_at=_yesterday(), lines=[line])

    with pytest.raises(Conflict):
        order_create(external_id="o-1", placed_at=_yesterday(), lines=[line, line])

    assert OrderLine.objects.count() == 1


def test_review_create_links_product_and_customer():
    product = ProductFactory(sku="SKU-1")
    customer = CustomerFactory(external_id="c-1")

    review = review_create(
        product_sku="SKU-1",
        rating=5,
        reviewed_at=_yesterday(),
        text=" Great ",
        customer_external_id="c-1",
        external_id="r-1",
        language="EN",
    )

    stored = Review.objects.get()
    assert stored == review
    assert (stored.product, stored.customer) == (product, customer)
    assert stored.text == "Great"
    assert stored.language == "en"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"product_sku": "missing"}, "product"), ({"rating": 6}, "rating"), ({"rating": 0}, "rating")],
)
def test_review_create_refuses_bad_input(kwargs, field):
    ProductFactory(sku="SKU-1")
    arguments = {"product_sku": "SKU-1", "rating": 4, "reviewed_at": _yesterday(), **kwargs}

    with pytest.raises(ValidationFailed) as error:
        review_create(**arguments)

    assert error.value.field == field
    assert Review.objects.count() == 0


def test_review_create_refuses_a_duplicate_from_the_same_source():
    existing = ReviewFactory(source="shop", external_id="r-1")

    with pytest.raises(Conflict):
        review_create(
            product_sku=existing.product.sku,
            rating=1,
            reviewed_at=_yesterday(),
            source="shop",
            external_id="r-1",
        )

    assert Review.objects.count() == 1


def test_social_post_upsert_is_idempotent_and_refreshes_counts():
    product = ProductFactory(sku="SKU-1")
    posted_at = _yesterday()

    first, created = social_post_upsert(
        platform="instagram",
        external_id="p-1",
        text="Love it",
        posted_at=posted_at,
        likes=3,
        product_sku="SKU-1",
    )
    again, created_again = social_post_upsert(
        platform="instagram", external_id="p-1", text="Love it", posted_at=posted_at, likes=10
    )

    assert created is True
    assert created_again is False
    assert first.pk == again.pk
    stored = SocialPost.objects.get()
    assert stored.likes == 10
    assert stored.product == product


def test_social_post_upsert_refuses_an_unknown_platform():
    with pytest.raises(ValidationFailed) as error:
        social_post_upsert(platform="myspace", external_id="p-1", text="x", posted_at=_yesterday())

    assert error.value.field == "platform"
    assert SocialPost.objects.count() == 0
