"""Factories for ML tests: runs and versions, plus a small shop to train on.

The shop rows come from the owning apps' factories (customers, catalog, events).
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.ml.choices import RunStatus, TriggerSource
from apps.ml.models import ModelVersion, TrainingRun


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
