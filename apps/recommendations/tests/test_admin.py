"""Recommendations admin: pages render, placements are saved through the services (a typo in a
SKU is refused), served requests are read-only, and placements show their online numbers."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.recommendations.models import Placement, ServedRecommendation
from apps.recommendations.services import feedback_record, placement_create, recommendations_for
from apps.recommendations.tests.shop import shop_build, skus

pytestmark = pytest.mark.django_db

FORM = {
    "key": "home",
    "name": "Home",
    "description": "",
    "is_active": "on",
    "default_count": "6",
    "diversity": "0.3",
    "exclude_purchased_days": "90",
    "exclude_out_of_stock": "on",
    "include_categories": "[]",
    "exclude_categories": "[]",
    "pinned_skus": '["HAT-1"]',
    "boosts": "{}",
    "category_boosts": "{}",
}


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_pages_render(admin_client):
    shop_build()
    placement = placement_create(key="home", name="Home")
    result = recommendations_for(customer_id="x", n=2, placement="home")
    served = ServedRecommendation.objects.get(request_id=result.request_id)

    for url in (
        "/admin/recommendations/placement/",
        "/admin/recommendations/placement/add/",
        f"/admin/recommendations/placement/{placement.pk}/change/",
        "/admin/recommendations/servedrecommendation/",
        f"/admin/recommendations/servedrecommendation/{served.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_adding_a_placement_in_the_admin(admin_client):
    shop_build()

    response = admin_client.post("/admin/recommendations/placement/add/", FORM)

    assert response.status_code == 302
    placement = Placement.objects.get()
    assert (placement.key, placement.default_count, placement.pinned_skus) == ("home", 6, ["HAT-1"])


def test_an_unknown_pinned_sku_is_refused_with_a_message(admin_client):
    shop_build()

    response = admin_client.post(
        "/admin/recommendations/placement/add/", {**FORM, "pinned_skus": '["NOPE"]'}, follow=True
    )

    assert (
        "Not saved: pinned_skus[0]: no product with SKU &#x27;NOPE&#x27;"
        in response.content.decode()
    )
    assert Placement.objects.count() == 0


def test_the_placement_list_shows_its_ctr(admin_client):
    shop_build()
    placement_create(key="home", name="Home")
    result = recommendations_for(customer_id="x", n=4, placement="home")
    feedback_record(request_id=result.request_id, kind="impression", product_ids=skus(result))
    feedback_record(request_id=result.request_id, kind="click", product_ids=skus(result)[:1])

    page = admin_client.get("/admin/recommendations/placement/").content.decode()

    assert "25.0%" in page
    assert admin_client.get("/admin/recommendations/servedrecommendation/add/").status_code == 403
