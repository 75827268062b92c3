"""Factories for orders and lines, behaviour events, reviews and social posts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.catalog.tests.factories import ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType, OrderStatus, SalesChannel, SocialPlatform
from apps.events.models import Event, Order, OrderLine, Review, SocialPost


class OrderFactory(factory.django.DjangoModelFactory):
    """An order without lines; totals default to one 19.90 line (see OrderLineFactory)."""

    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"order-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    status = OrderStatus.COMPLETED
    channel = SalesChannel.WEB
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    subtotal = Decimal("19.90")
    total = Decimal("19.90")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda line: line.product.sku if line.product else "UNKNOWN-SKU")
    quantity = 1
    unit_price = Decimal("19.90")
    discount = Decimal("0")
    line_total = factory.LazyAttribute(lambda line: line.unit_price * line.quantity - line.discount)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    event_type = EventType.PRODUCT_VIEW
    name = "Product Viewed"
    customer = factory.SubFactory(CustomerFactory)
    anonymous_id = factory.Sequence(lambda n: f"anon-device-{n}")
    product = factory.SubFactory(ProductFactory)
    properties = factory.LazyFunction(dict)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    source = "web"
    event_id = factory.Sequence(lambda n: f"evt-{n:08d}")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    customer = factory.SubFactory(CustomerFactory)
    rating = 4
    title = "Good"
    text = "Fits well and arrived quickly."
    language = "en"
    reviewed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    source = "shop"
    external_id = factory.Sequence(lambda n: f"review-{n}")


class SocialPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialPost

    platform = SocialPlatform.INSTAGRAM
    external_id = factory.Sequence(lambda n: f"post-{n}")
    author_handle = factory.Sequence(lambda n: f"@fan{n}")
    customer = None
    product = factory.SubFactory(ProductFactory)
    text = "Love the new collection!"
    language = "en"
    likes = 12
    shares = 3
    posted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
