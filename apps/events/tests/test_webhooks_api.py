"""Webhook-style intake: POST /api/v1/reviews (idempotent by source + external_id) and
POST /api/v1/social-posts (by platform + external_id), one object or {"items": [...]}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, all_scopes_except, bearer
from apps.catalog.tests.factories import ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Review, SocialPost
from apps.events.tests.conftest import api_client

pytestmark = pytest.mark.django_db

REVIEWS = "/api/v1/reviews"
POSTS = "/api/v1/social-posts"


@pytest.fixture
def client() -> APIClient:
    return api_client("content:write")


@pytest.fixture
def dress():
    return ProductFactory(sku="DRS-001")


def _review(**overrides) -> dict:
    review = {
        "external_id": "tp-1",
        "source": "trustpilot",
        "product": "DRS-001",
        "rating": 4,
        "title": "Lovely fabric",
        "text": "Fits well.",
        "language": "EN",
        "reviewed_at": (timezone.now() - timedelta(days=1)).isoformat(),
    }
    review.update(overrides)
    return review


def _post(**overrides) -> dict:
    post = {
        "platform": "instagram",
        "external_id": "C5xQ9",
        "text": "Obsessed with my new dress",
        "posted_at": (timezone.now() - timedelta(hours=3)).isoformat(),
        "author_handle": "@ana",
        "likes": 10,
        "shares": 1,
    }
    post.update(overrides)
    return post


def test_a_new_review_is_created_with_201(client, dress):
    customer = CustomerFactory(external_id="c-1001")

    response = client.post(REVIEWS, _review(customer="c-1001"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["external_id"] == "tp-1"
    assert body["source"] == "trustpilot"
    assert body["product"] == "DRS-001"
    assert body["customer"] == "c-1001"
    assert body["rating"] == 4
    assert body["language"] == "en"
    review = Review.objects.get()
    assert (review.product_id, review.customer_id) == (dress.pk, customer.pk)


def test_a_re_sent_review_is_acknowledged_with_200_and_stored_once(client, dress):
    client.post(REVIEWS, _review(), format="json")

    response = client.post(REVIEWS, _review(), format="json")

    assert response.status_code == 200
    assert Review.objects.count() == 1


def test_a_re_sent_review_with_changed_text_updates_it(client, dress):
    first = client.post(REVIEWS, _review(), format="json").json()

    response = client.post(
        REVIEWS,
        _review(rating=2, title="Shrank", text="Shrank after one wash."),
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["rating"], body["title"], body["text"]) == (2, "Shrank", "Shrank after one wash.")
    assert body["created_at"] == first["created_at"]
    review = Review.objects.get()
    assert (review.rating, review.text) == (2, "Shrank after one wash.")


def test_the_same_external_id_from_another_source_is_another_review(client, dress):
    client.post(REVIEWS, _review(), format="json")

    response = client.post(REVIEWS, _review(source="amazon"), format="json")

    assert response.status_code == 201
    assert sorted(Review.objects.values_list("source", flat=True)) == ["amazon", "trustpilot"]


def test_a_re_sent_review_naming_another_product_is_refused_with_409(client, dress):
    ProductFactory(sku="BOOT-1")
    client.post(REVIEWS, _review(), format="json")

    response = client.post(REVIEWS, _review(product="BOOT-1", text="Other"), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "review_product_changed"
    assert response.json()["field"] == "product"
    review = Review.objects.get()
    assert (review.product_id, review.text) == (dress.pk, "Fits well.")


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        ({"rating": 6}, "rating", "rating: Ensure this value is less than or equal to 5."),
        ({"rating": "five"}, "rating", "rating: A valid integer is required."),
        ({"product": "NOPE-9"}, "product", "product: product 'NOPE-9' does not exist"),
        ({"customer": "ghost"}, "customer", "customer: customer 'ghost' does not exist"),
        ({"external_id": ""}, "external_id", "external_id: This field may not be blank."),
        ({"reviewed_at": "yesterday"}, "reviewed_at", None),
    ],
    ids=["rating-too-high", "rating-not-a-number", "unknown-sku", "unknown-customer",
         "no-id", "bad-time"],
)  # fmt: skip
def test_a_bad_review_is_refused_naming_the_field(client, dress, change, field, detail):
    response = client.post(REVIEWS, _review(**change), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == field
    assert body["detail"].startswith(f"{field}: ")
    if detail is not None:
        assert body["detail"] == detail
    assert Review.objects.count() == 0


def test_a_review_dated_in_the_future_is_refused(client, dress):
    future = (timezone.now() + timedelta(days=1)).isoformat()

    response = client.post(REVIEWS, _review(reviewed_at=future), format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "reviewed_at: must not be in the future"
    assert Review.objects.count() == 0


def test_a_batch_of_reviews_with_one_bad_item_stores_the_others(client, dress):
    # given one known review, and a batch of a re-send, a new one, a bad one and a new one
    client.post(REVIEWS, _review(external_id="tp-1"), format="json")
    items = [
        _review(external_id="tp-1", rating=1),
        _review(external_id="tp-2"),
        _review(external_id="tp-3", product="NOPE-9"),
        _review(external_id="tp-4", rating=5),
    ]

    response = client.post(REVIEWS, {"items": items}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "created": [{"index": 1, "external_id": "tp-2"}, {"index": 3, "external_id": "tp-4"}],
        "updated": [{"index": 0, "external_id": "tp-1"}],
        "rejected": [
            {
                "index": 2,
                "external_id": "tp-3",
                "reason": "product: product 'NOPE-9' does not exist",
                "field": "product",
            }
        ],
        "counts": {"created": 2, "updated": 1, "rejected": 1},
    }
    assert dict(Review.objects.values_list("external_id", "rating")) == {
        "tp-1": 1,
        "tp-2": 4,
        "tp-4": 5,
    }


def test_a_batch_item_that_is_not_an_object_is_rejected_by_index(client, dress):
    response = client.post(REVIEWS, {"items": [_review(), "oops"]}, format="json")

    body = response.json()
    assert body["counts"] == {"created": 1, "updated": 0, "rejected": 1}
    assert body["rejected"][0]["index"] == 1
    assert body["rejected"][0]["field"] == "item"
    assert body["rejected"][0]["reason"].startswith("item: Invalid data. Expected a dictionary")


def test_a_batch_over_500_items_is_refused_whole(client, dress):
    items = [_review(external_id=f"tp-{index}") for index in range(501)]

    response = client.post(REVIEWS, {"items": items}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "items: 501 items; at most 500 per request: split it",
        "code": "batch_too_large",
        "field": "items",
    }
    assert Review.objects.count() == 0


def test_a_body_that_is_neither_an_object_nor_a_batch_is_refused(client):
    not_a_list = client.post(REVIEWS, {"items": {"a": 1}}, format="json")
    a_list = client.post(REVIEWS, [_review()], format="json")

    assert not_a_list.status_code == 400
    assert not_a_list.json()["field"] == "items"
    assert a_list.status_code == 400
    assert a_list.json()["detail"] == 'body: send one object, or {"items": [...]}'
    assert Review.objects.count() == 0


def test_a_new_social_post_is_created_and_a_re_send_refreshes_it(client, dress):
    created = client.post(POSTS, _post(product="DRS-001"), format="json")
    re_sent = client.post(POSTS, _post(likes=250, shares=9), format="json")
    same_again = client.post(POSTS, _post(likes=250, shares=9), format="json")

    assert created.status_code == 201
    assert created.json()["product"] == "DRS-001"
    assert re_sent.status_code == 200
    assert (re_sent.json()["likes"], re_sent.json()["shares"]) == (250, 9)
    assert re_sent.json()["product"] == "DRS-001"  # a re-send without the link keeps it
    assert same_again.status_code == 200
    post = SocialPost.objects.get()
    assert (post.platform, post.external_id, post.likes) == ("instagram", "C5xQ9", 250)


def test_a_re_sent_post_with_changed_text_updates_it(client):
    client.post(POSTS, _post(), format="json")

    response = client.post(POSTS, _post(text="Edited: obsessed!"), format="json")

    assert response.status_code == 200
    assert SocialPost.objects.get().text == "Edited: obsessed!"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"product": "NOPE-9"}, "product"),
        ({"likes": -1}, "likes"),
        ({"text": ""}, "text"),
        ({"posted_at": None}, "posted_at"),
    ],
)
def test_a_bad_social_post_is_refused_naming_the_field(client, change, field):
    response = client.post(POSTS, _post(**change), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field
    assert body["detail"].startswith(f"{field}: ")
    assert SocialPost.objects.count() == 0


def test_a_batch_of_social_posts_with_one_bad_item_stores_the_others(client):
    items = [_post(external_id="a"), _post(external_id="b", platform="myspace"), _post()]

    response = client.post(POSTS, {"items": items}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["counts"] == {"created": 2, "updated": 0, "rejected": 1}
    assert body["rejected"] == [
        {
            "index": 1,
            "external_id": "b",
            "reason": 'platform: "myspace" is not a valid choice.',
            "field": "platform",
        }
    ]
    assert sorted(SocialPost.objects.values_list("external_id", flat=True)) == ["C5xQ9", "a"]


def test_writing_needs_content_write_and_reading_still_needs_events_read(dress):
    without_write = APIClient()
    without_write.credentials(**bearer(ApiKeyFactory(scopes=all_scopes_except("content:write"))))
    reader_only = APIClient()
    reader_only.credentials(**bearer(ApiKeyFactory(scopes=["events:read"])))
    writer_only = APIClient()
    writer_only.credentials(**bearer(ApiKeyFactory(scopes=["content:write"])))

    for path, body in ((REVIEWS, _review()), (POSTS, _post())):
        assert APIClient().post(path, body, format="json").status_code == 401
        refused = without_write.post(path, body, format="json")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "This operation needs the scope content:write"
        assert reader_only.post(path, body, format="json").status_code == 403
        assert writer_only.get(path).status_code == 403
        assert reader_only.get(path).status_code == 200
    assert Review.objects.count() == 0
    assert SocialPost.objects.count() == 0
