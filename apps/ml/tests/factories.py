"""Factories for ML tests: runs and versions, plus minimal shop data to train on.

The shop factories (customers, products, orders, events) are minimal stand-ins until those
apps ship their own factories; switch to those then.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.catalog.models import Product
from apps.customers.models import Customer
from apps.events.choices import EventType, OrderStatus
from apps.events.models import Event, Order, OrderLine
from apps.ml.choices import RunStatus, TriggerSource
from apps.ml.models import ModelVersion, TrainingRun


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"ml-customer-{n}")
    email = factory.LazyAttribute(lambda customer: f"{customer.external_id}@example.com")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"ML-SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("19.90")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"ml-order-{n}")
    customer = factory.SubFactory(CustomerFactory)
    status = OrderStatus.COMPLETED
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    subtotal = Decimal("19.90")
    total = Decimal("19.90")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda line: line.product.sku if line.product else "UNKNOWN")
    quantity = 1
    unit_price = Decimal("19.90")
    line_total = Decimal("19.90")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    event_type = EventType.PRODUCT_VIEW
    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    source = "test"
    event_id = factory.Sequence(lambda n: f"ml-event-{n}")


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRun

    kind = "ml.selftest"
    params = factory.LazyFunction(lambda: {"seconds": 0.0, "fail": False})
    status = RunStatus.QUEUED
    trigger = TriggerSource.CLI
    queue = "ml_cpu"


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    kind = "ml.selftest"
    version = factory.Sequence(lambda n: n + 1)
    artifact_path = factory.LazyAttribute(lambda mv: f"{mv.kind}/v{mv.version}-000000000000.json")
    content_hash = "0" * 64
    size_bytes = 2


def shop_create(*, products: int = 6, purchases: int = 30, days: int = 40) -> list[Product]:
    """A small shop: product 0 sells most, the last products mostly get views.

    Purchases spread over `days` up to yesterday, so the last week holds some of them.
    Returns the products in order of intended popularity.
    """
    now = timezone.now()
    catalog = ProductFactory.create_batch(products)
    customers = CustomerFactory.create_batch(5)
    for index in range(purchases):
        product = catalog[min(index % 10, products - 1) if index % 2 else 0]
        OrderLineFactory(
            order=OrderFactory(
                customer=customers[index % len(customers)],
                placed_at=now - timedelta(days=days * (purchases - index) / purchases, hours=1),
            ),
            product=product,
        )
    for index, product in enumerate(catalog):
        for view in range(index + 1):
            EventFactory(
                product=product,
                customer=customers[view % len(customers)],
                occurred_at=now - timedelta(days=view + 1),
            )
    EventFactory(product=catalog[1], event_type=EventType.ADD_TO_CART, customer=customers[0])
    return catalog
