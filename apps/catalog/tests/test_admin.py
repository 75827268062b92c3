"""Catalog admin: pages render, and saves go through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Brand, Category, Product
from apps.catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["category", "brand", "product"])
def test_list_add_and_change_pages_render(admin_client, model):
    product = ProductFactory()
    row = {"category": product.category, "brand": product.brand, "product": product}[model]

    for url in (
        f"/admin/catalog/{model}/",
        f"/admin/catalog/{model}/add/",
        f"/admin/catalog/{model}/{row.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_adding_a_child_category_builds_its_path(admin_client):
    women = CategoryFactory(slug="women")

    response = admin_client.post(
        "/admin/catalog/category/add/", {"name": "Dresses", "slug": "dresses", "parent": women.pk}
    )

    assert response.status_code == 302
    assert Category.objects.get(slug="dresses").path == "women/dresses"


def test_adding_a_product_in_the_admin(admin_client):
    category = CategoryFactory(slug="shoes")
    brand = Brand.objects.create(name="Acme", slug="acme")

    response = admin_client.post(
        "/admin/catalog/product/add/",
        {
            "sku": "SKU-1",
            "title": "Runner",
            "description": "",
            "category": category.pk,
            "brand": brand.pk,
            "price": "59.00",
            "cost": "",
            "currency": "usd",
            "stock": "4",
            "tags": '["running"]',
            "attributes": "{}",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.sku, product.price, product.currency) == ("SKU-1", Decimal("59.00"), "USD")
    assert product.tags == ["running"]


def test_a_negative_price_is_refused_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        "/admin/catalog/product/add/",
        {
            "sku": "SKU-1",
            "title": "X",
            "price": "-5",
            "currency": "USD",
            "stock": "0",
            "tags": "[]",
            "attributes": "{}",
        },
    )

    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    assert Product.objects.count() == 0
