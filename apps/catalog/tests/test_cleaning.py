"""The cleaning pipeline's bulk writes on products and categories."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog.models import Category, Product
from apps.catalog.services.cleaning import (
    category_names_write,
    product_cleaning_frame,
    product_field_counts,
    product_fields_write,
    product_imputation_markers_write,
    product_imputed_write,
)
from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_product_fields_write_groups_repeated_values(django_assert_num_queries):
    products = ProductFactory.create_batch(4)

    # one UPDATE per distinct band, inside the service's savepoint (SAVEPOINT + RELEASE)
    with django_assert_num_queries(4):
        written = product_fields_write(
            field="price_band",
            values={
                p.pk: ("budget" if index < 2 else "premium") for index, p in enumerate(products)
            },
        )

    assert written == 4
    assert sorted(Product.objects.values_list("price_band", flat=True)) == [
        "budget",
        "budget",
        "premium",
        "premium",
    ]


def test_product_fields_write_refuses_identity_and_price_fields():
    product = ProductFactory(sku="S-1", price=Decimal("10.00"))

    for field in ("sku", "price"):
        with pytest.raises(ValidationFailed):
            product_fields_write(field=field, values={product.pk: "0"})

    product.refresh_from_db()
    assert (product.sku, product.price) == ("S-1", Decimal("10.00"))


def test_product_imputed_write_never_replaces_a_known_cost():
    missing = ProductFactory(cost=None)
    known = ProductFactory(cost=Decimal("3.00"))

    written = product_imputed_write(
        field="cost", values={missing.pk: Decimal("4.00"), known.pk: Decimal("4.00")}
    )
    product_imputation_markers_write(markers={missing.pk: {"cost": 4.0}})

    assert written == 1
    missing.refresh_from_db()
    known.refresh_from_db()
    assert (missing.cost, missing.imputed_values) == (Decimal("4.00"), {"cost": 4.0})
    assert known.cost == Decimal("3.00")


def test_category_names_write_keeps_slugs_and_refuses_empty_names():
    category = CategoryFactory(name="shoes", slug="shoes")

    category_names_write(values={category.pk: "Shoes"})
    with pytest.raises(ValidationFailed):
        category_names_write(values={category.pk: "   "})

    category.refresh_from_db()
    assert (category.name, category.slug, category.path) == ("Shoes", "shoes", "shoes")
    assert Category.objects.count() == 1


def test_product_frame_and_counts():
    ProductFactory(cost=None, description="")
    ProductFactory(description="Soft linen")

    frame = product_cleaning_frame()
    total, filled = product_field_counts()

    assert len(frame) == 2
    assert total == 2
    assert (filled["cost"], filled["description"], filled["image"]) == (1, 1, 0)
