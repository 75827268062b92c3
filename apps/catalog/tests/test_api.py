"""Catalog API: products (list, filters, create, get, update), categories and brands."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.catalog.models import Product
from apps.catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    api_client = APIClient()
    api_client.credentials(**bearer(ApiKeyFactory(scopes=["catalog:read", "catalog:write"])))
    return api_client


def test_product_list_filters_by_category_brand_and_price(client):
    women = CategoryFactory(slug="women")
    dresses = CategoryFactory(slug="dresses", parent=women)
    acme = BrandFactory(name="Acme", slug="acme")
    ProductFactory(sku="A", category=dresses, brand=acme, price=Decimal("10"))
    ProductFactory(sku="B", category=women, price=Decimal("30"))
    ProductFactory(sku="C", title="Cotton shirt", price=Decimal("50"), is_active=False)

    def skus(params: dict) -> list[str]:
        response = client.get("/api/v1/products", params)
        assert response.status_code == 200
        return sorted(row["sku"] for row in response.json()["results"])

    assert skus({"category": "women"}) == ["A", "B"]
    assert skus({"brand": "acme"}) == ["A"]
    assert skus({"min_price": "20"}) == ["B", "C"]
    assert skus({"max_price": "30", "is_active": "true"}) == ["A", "B"]
    assert skus({"search": "COTTON"}) == ["C"]


def test_product_list_with_a_bad_price_is_400(client):
    response = client.get("/api/v1/products", {"min_price": "cheap"})

    assert response.status_code == 400
    assert response.json()["detail"] == "min_price: Enter a number."


def test_product_create_returns_201(client):
    CategoryFactory(slug="dresses")

    response = client.post(
        "/api/v1/products",
        {
            "sku": "SKU-1",
            "title": "Dress",
            "price": "49.90",
            "category": "dresses",
            "brand": "Acme",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["sku"] == "SKU-1"
    assert body["price"] == "49.90"
    assert body["category"] == "dresses"
    assert body["category_path"] == "dresses"
    assert body["brand"] == "Acme"
    assert Product.objects.get().title == "Dress"


def test_product_create_with_an_unknown_category_is_400_and_creates_nothing(client):
    response = client.post(
        "/api/v1/products",
        {"sku": "SKU-1", "title": "Dress", "price": "49.90", "category": "nope"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "category: category 'nope' does not exist",
        "code": "invalid",
        "field": "category",
    }
    assert Product.objects.count() == 0


def test_product_create_with_a_negative_price_is_400(client):
    response = client.post(
        "/api/v1/products", {"sku": "SKU-1", "title": "Dress", "price": "-1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("price: ")
    assert Product.objects.count() == 0


def test_product_create_of_a_taken_sku_is_409(client):
    ProductFactory(sku="SKU-1")

    response = client.post(
        "/api/v1/products", {"sku": "SKU-1", "title": "X", "price": "1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "product_exists"


def test_product_get_and_patch(client):
    ProductFactory(sku="SKU-1", title="Old", stock=3)

    got = client.get("/api/v1/products/SKU-1")
    patched = client.patch("/api/v1/products/SKU-1", {"title": "New"}, format="json")

    assert got.status_code == 200
    assert got.json()["title"] == "Old"
    assert patched.status_code == 200
    assert patched.json()["title"] == "New"
    assert patched.json()["stock"] == 3


def test_product_get_unknown_is_404(client):
    response = client.get("/api/v1/products/missing")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "product 'missing' does not exist",
        "code": "product_not_found",
    }


def test_patch_unknown_product_is_404_and_creates_nothing(client):
    response = client.patch("/api/v1/products/missing", {"title": "X", "price": "1"}, format="json")

    assert response.status_code == 404
    assert Product.objects.count() == 0


def test_categories_in_tree_order_and_by_parent(client):
    women = CategoryFactory(slug="women", name="Women")
    CategoryFactory(slug="dresses", name="Dresses", parent=women)
    CategoryFactory(slug="men", name="Men")

    listed = client.get("/api/v1/categories").json()
    children = client.get("/api/v1/categories", {"parent": "women"}).json()

    assert [row["path"] for row in listed["results"]] == ["men", "women", "women/dresses"]
    assert children["results"] == [
        {"slug": "dresses", "name": "Dresses", "parent": "women", "path": "women/dresses"}
    ]


def test_brands_by_name(client):
    BrandFactory(name="Zeta", slug="zeta")
    BrandFactory(name="Acme", slug="acme")

    response = client.get("/api/v1/brands")

    assert response.json()["results"] == [
        {"slug": "acme", "name": "Acme"},
        {"slug": "zeta", "name": "Zeta"},
    ]


def test_catalog_read_key_cannot_create_products():
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["catalog:read"])))

    response = client.post(
        "/api/v1/products", {"sku": "SKU-1", "title": "X", "price": "1"}, format="json"
    )

    assert response.status_code == 403
    assert Product.objects.count() == 0
