"""Catalog services: categories with paths, brands on first use, products upserted by SKU."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog.models import Brand, Category, Product
from apps.catalog.selectors import product_ids_by_sku, product_list
from apps.catalog.services import (
    brand_ensure,
    brand_update,
    category_create,
    category_update,
    product_create,
    product_update,
)
from apps.catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory
from apps.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def test_category_create_builds_the_path_from_the_parent():
    women = category_create(name="Women")
    dresses = category_create(name="Summer Dresses", parent_slug="women")

    assert women.path == "women"
    assert dresses.slug == "summer-dresses"
    assert dresses.parent == women
    assert dresses.path == "women/summer-dresses"


def test_category_create_refuses_an_unknown_parent_and_a_taken_slug():
    category_create(name="Women")

    with pytest.raises(ValidationFailed) as unknown:
        category_create(name="Dresses", parent_slug="men")
    with pytest.raises(Conflict):
        category_create(name="Women")

    assert unknown.value.field == "parent"
    assert list(Category.objects.values_list("slug", flat=True)) == ["women"]


def test_category_update_renames_but_keeps_the_slug():
    CategoryFactory(slug="women", name="Women")

    category = category_update(slug="women", name="Ladies")

    assert category.name == "Ladies"
    assert Category.objects.get().slug == "women"


def test_brand_ensure_reuses_a_brand_case_insensitively():
    first = brand_ensure(name="Acme")
    second = brand_ensure(name=" ACME ")

    assert first == second
    assert Brand.objects.count() == 1
    assert first.slug == "acme"


def test_brand_update_refuses_a_name_in_use():
    BrandFactory(name="Acme", slug="acme")
    other = BrandFactory(name="Other", slug="other")

    with pytest.raises(Conflict):
        brand_update(slug="other", name="acme")

    other.refresh_from_db()
    assert other.name == "Other"


def test_product_create_links_category_and_creates_the_brand():
    CategoryFactory(slug="dresses")

    product = product_create(
        sku=" SKU-1 ",
        title="Linen dress",
        price=Decimal("49.90"),
        category="dresses",
        brand="Acme",
        currency="eur",
        tags=["linen"],
    )

    stored = Product.objects.select_related("category", "brand").get()
    assert stored == product
    assert stored.sku == "SKU-1"
    assert stored.category.slug == "dresses"
    assert stored.brand.name == "Acme"
    assert stored.currency == "EUR"
    assert stored.tags == ["linen"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": "nope"}, "category"),
        ({"price": Decimal("-1")}, "price"),
        ({"title": "  "}, "title"),
    ],
)
def test_product_create_refuses_bad_input_and_writes_nothing(kwargs, field):
    arguments = {"sku": "SKU-1", "title": "Dress", "price": Decimal("10"), **kwargs}

    with pytest.raises(ValidationFailed) as error:
        product_create(**arguments)

    assert error.value.field == field
    assert Product.objects.count() == 0
    assert Brand.objects.count() == 0


def test_product_create_refuses_a_taken_sku():
    ProductFactory(sku="SKU-1", title="Original")

    with pytest.raises(Conflict):
        product_create(sku="SKU-1", title="Copy", price=Decimal("1"))

    assert Product.objects.get().title == "Original"


def test_product_update_changes_given_fields_and_creates_new_skus():
    ProductFactory(sku="SKU-1", title="Old", price=Decimal("10.00"), stock=5)

    updated, created_existing = product_update(sku="SKU-1", changes={"price": "12.50"})
    new, created_new = product_update(sku="SKU-2", changes={"title": "New", "price": "3"})

    assert created_existing is False
    assert updated.price == Decimal("12.50")
    assert Product.objects.get(sku="SKU-1").stock == 5
    assert created_new is True
    assert new.title == "New"
    assert Product.objects.count() == 2


def test_product_update_of_a_new_sku_needs_title_and_price():
    with pytest.raises(ValidationFailed) as error:
        product_update(sku="SKU-3", changes={"title": "No price"})

    assert error.value.field == "price"
    assert Product.objects.count() == 0


def test_product_update_with_an_unknown_category_keeps_the_product():
    product = ProductFactory(sku="SKU-1")
    category = product.category

    with pytest.raises(ValidationFailed):
        product_update(sku="SKU-1", changes={"category": "missing", "title": "Changed"})

    product.refresh_from_db()
    assert product.category == category
    assert product.title != "Changed"


def test_product_list_category_includes_the_subtree():
    women = CategoryFactory(slug="women")
    dresses = CategoryFactory(slug="dresses", parent=women)
    womenswear = CategoryFactory(slug="womenswear")
    ProductFactory(sku="A", category=women)
    ProductFactory(sku="B", category=dresses)
    ProductFactory(sku="C", category=womenswear)

    skus = sorted(product_list(category="women").values_list("sku", flat=True))

    assert skus == ["A", "B"]


def test_product_ids_by_sku_returns_only_known_skus():
    product = ProductFactory(sku="A")

    assert product_ids_by_sku(skus=["A", "missing", ""]) == {"A": product.pk}
