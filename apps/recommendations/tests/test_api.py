"""Recommendations API: the contract shape, validation errors naming the field, scopes,
similar items, feedback, stats, placements and the models' comparison."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Event
from apps.ml.tests.factories import TrainingRunFactory
from apps.recommendations.api.serializers import (
    RecommendationsSerializer,
    RecommendedItemSerializer,
)
from apps.recommendations.models import Placement, ServedRecommendation
from apps.recommendations.services import candidates_precompute, placement_create
from apps.recommendations.services.config import KIND
from apps.recommendations.tests.shop import publish, shop_build, toy_model

pytestmark = pytest.mark.django_db

REPORT = {
    "algorithms": {
        "popularity": {"ndcg@10": 0.05, "train_seconds": 0.1},
        "blend": {"ndcg@10": 0.21, "train_seconds": 3.2},
        "item_knn": {"ndcg@10": 0.18, "train_seconds": 1.4},
    },
    "best": "blend",
    "k": 10,
}


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=list(scopes))))
    return client


@pytest.fixture
def shop():
    shop = shop_build()
    CustomerFactory(external_id="alice")
    version = publish(toy_model(), metrics=REPORT)
    return shop, version


def test_recommendations_answer_the_contract_shape(shop):
    _, version = shop

    response = client_with("recommendations:read").get(
        "/api/v1/recommendations/alice?n=2&diversity=0"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"items", "request_id"}
    assert body["items"] == [
        {
            "product_id": "SHIRT-1",
            "score": body["items"][0]["score"],
            "reason": "Recommended for you",
            "reason_code": "personal",
            "model_version": version.version,
            "position": 1,
            "title": "Shirt 1",
            "category": "apparel/shirts",
        },
        {
            "product_id": "SHIRT-2",
            "score": body["items"][1]["score"],
            "reason": "Recommended for you",
            "reason_code": "personal",
            "model_version": version.version,
            "position": 2,
            "title": "Shirt 2",
            "category": "apparel/shirts",
        },
    ]
    assert body["items"][0]["score"] >= body["items"][1]["score"]
    assert (body["model_version"], body["source"], body["placement"]) == (
        version.version, "model", "",
    )  # fmt: skip
    assert ServedRecommendation.objects.get().request_id.hex == body["request_id"].replace("-", "")
    # the body (built by hand for speed) has exactly the documented fields
    assert set(body) == set(RecommendationsSerializer().fields)
    assert set(body["items"][0]) == set(RecommendedItemSerializer().fields)


def test_an_unknown_id_gets_cold_start_items_not_an_error(shop):
    response = client_with("recommendations:read").get("/api/v1/recommendations/no-such-id?n=3")

    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert response.json()["source"] == "cold_start"


def test_with_no_model_at_all_the_api_still_answers():
    shop_build()

    response = client_with("recommendations:read").get("/api/v1/recommendations/anyone?n=2")

    assert response.status_code == 200
    assert (response.json()["source"], response.json()["model_version"]) == ("popularity", None)
    assert [item["model_version"] for item in response.json()["items"]] == [None, None]


def test_the_query_options_are_applied(shop):
    placement_create(key="home", name="Home", pinned_skus=["HAT-4"])

    response = client_with("recommendations:read").get(
        "/api/v1/recommendations/alice",
        {"n": 3, "placement": "home", "category": "hats", "exclude_purchased": "false"},
    )

    assert response.status_code == 200
    assert [item["product_id"] for item in response.json()["items"]][0] == "HAT-4"
    assert {item["category"] for item in response.json()["items"]} == {"apparel/hats"}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("n=0", "n: must be between 1 and 100"),
        ("n=101", "n: must be between 1 and 100"),
        ("n=ten", "n: must be a whole number between 1 and 100"),
        ("diversity=2", "diversity: must be between 0 and 1"),
        ("exclude_purchased=maybe", "exclude_purchased: Must be a valid boolean."),
        ("placement=nope", "placement: placement 'nope' does not exist"),
        ("category=nope", "category: no category with slug 'nope'"),
    ],
)
def test_bad_query_options_are_a_400_naming_the_field(shop, query, detail):
    response = client_with("recommendations:read").get(f"/api/v1/recommendations/alice?{query}")

    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert response.json()["code"] == "invalid"
    assert ServedRecommendation.objects.count() == 0


def test_scopes_are_enforced():
    anonymous = APIClient().get("/api/v1/recommendations/alice")
    wrong = client_with("catalog:read").get("/api/v1/recommendations/alice")
    placements = client_with("recommendations:read").post(
        "/api/v1/recommendations/placements", {"key": "x", "name": "X"}, format="json"
    )

    assert anonymous.status_code == 401
    assert wrong.status_code == 403
    assert wrong.json() == {
        "detail": "This operation needs the scope recommendations:read",
        "code": "permission_denied",
    }
    assert placements.status_code == 403
    assert Placement.objects.count() == 0


def test_with_the_cache_down_the_api_still_answers(shop):
    candidates_precompute()
    client = client_with("recommendations:read")
    up = client.get("/api/v1/recommendations/alice?n=3&diversity=0").json()

    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "apps.core.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
            }
        }
    ):
        down = client.get("/api/v1/recommendations/alice?n=3&diversity=0")

    assert down.status_code == 200
    assert (up["cache"], down.json()["cache"]) == ("hit", "unavailable")
    assert [i["product_id"] for i in down.json()["items"]] == [i["product_id"] for i in up["items"]]


def test_similar_products(shop):
    response = client_with("recommendations:read").get("/api/v1/products/SHOE-2/similar?n=2")
    missing = client_with("recommendations:read").get("/api/v1/products/NOPE/similar")

    assert response.status_code == 200
    assert [(i["product_id"], i["reason"]) for i in response.json()["items"]] == [
        ("SHOE-1", "Similar to Shoe 2"),
        ("SHOE-3", "Similar to Shoe 2"),
    ]
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": "product 'NOPE' does not exist",
        "code": "product_not_found",
    }


def test_feedback_becomes_events_and_stats(shop):
    _, version = shop
    served = client_with("recommendations:read").get("/api/v1/recommendations/alice?n=2").json()
    feedback = client_with("events:write")
    items = [item["product_id"] for item in served["items"]]

    shown = feedback.post(
        "/api/v1/recommendations/feedback",
        {"request_id": served["request_id"], "type": "impression", "product_ids": items},
        format="json",
    )
    clicked = feedback.post(
        "/api/v1/recommendations/feedback",
        {"request_id": served["request_id"], "type": "click", "product_ids": items[:1]},
        format="json",
    )
    stats = client_with("recommendations:read").get("/api/v1/recommendations/stats?days=7")

    assert shown.status_code == 201
    assert shown.json() == {
        "request_id": served["request_id"],
        "kind": "impression",
        "accepted": 2,
        "duplicates": 0,
        "rejected": 0,
    }
    assert clicked.json()["accepted"] == 1
    assert Event.objects.filter(source="recommendations").count() == 3
    assert stats.json() == {
        "days": 7,
        "results": [
            {
                "placement": "",
                "model_version": version.version,
                "model_version_id": version.pk,
                "requests": 1,
                "impressions": 2,
                "clicks": 1,
                "ctr": 0.5,
            }
        ],
    }


def test_feedback_errors_name_the_field(shop):
    served = client_with("recommendations:read").get("/api/v1/recommendations/alice?n=1").json()
    client = client_with("events:write")

    missing = client.post("/api/v1/recommendations/feedback", {}, format="json")
    foreign = client.post(
        "/api/v1/recommendations/feedback",
        {"request_id": served["request_id"], "type": "click", "product_ids": ["HAT-4"]},
        format="json",
    )

    assert missing.status_code == 400
    assert missing.json()["detail"] == "request_id: This field is required."
    assert foreign.status_code == 400
    assert foreign.json()["field"] == "product_ids[0]"
    assert Event.objects.filter(source="recommendations").count() == 0


def test_placements_crud(shop):
    client = client_with("recommendations:read", "recommendations:write")

    created = client.post(
        "/api/v1/recommendations/placements",
        {"key": "home", "name": "Home", "pinned_skus": ["HAT-1"], "diversity": 0.4},
        format="json",
    )
    duplicate = client.post(
        "/api/v1/recommendations/placements", {"key": "home", "name": "Again"}, format="json"
    )
    bad = client.post(
        "/api/v1/recommendations/placements",
        {"key": "cart", "name": "Cart", "pinned_skus": ["NOPE"]},
        format="json",
    )
    changed = client.patch(
        "/api/v1/recommendations/placements/home", {"default_count": 4}, format="json"
    )
    listed = client.get("/api/v1/recommendations/placements")
    deleted = client.delete("/api/v1/recommendations/placements/home")
    gone = client.get("/api/v1/recommendations/placements/home")

    assert created.status_code == 201
    assert (created.json()["pinned_skus"], created.json()["diversity"]) == (["HAT-1"], 0.4)
    assert duplicate.status_code == 409
    assert bad.status_code == 400
    assert bad.json()["detail"] == "pinned_skus[0]: no product with SKU 'NOPE'"
    assert changed.json()["default_count"] == 4
    assert [row["key"] for row in listed.json()["results"]] == ["home"]
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["code"] == "placement_not_found"


def test_models_compare_the_algorithms_of_the_champion(shop):
    _, version = shop
    run = TrainingRunFactory(kind=KIND, status="succeeded", progress=100)

    response = client_with("recommendations:read").get("/api/v1/recommendations/models")

    body = response.json()
    assert response.status_code == 200
    assert body["champion"]["id"] == version.pk
    assert body["best"] == "blend"
    assert [(row["name"], row["is_best"]) for row in body["algorithms"]] == [
        ("blend", True),
        ("item_knn", False),
        ("popularity", False),
    ]
    assert body["algorithms"][0]["metrics"] == {"ndcg@10": 0.21, "train_seconds": 3.2}
    assert body["latest_run"]["id"] == run.pk
    assert body["precomputed"] is None
    assert body["retrain_threshold"] == 2000
