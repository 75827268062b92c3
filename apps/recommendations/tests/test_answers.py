"""Kept answers (services/answers.py): a repeated request reuses the whole answer, and
anything it was computed from that changes (the visitor's events through the real ingest API,
a purchase, stock, the placement's rules, the champion, a merge) makes the next one fresh."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.catalog.services.records import product_update
from apps.customers.services.identity import customer_merge
from apps.customers.tests.factories import CustomerFactory
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.services import placement_create, placement_update, recommendations_for
from apps.recommendations.tests.shop import publish, shop_build, skus, toy_model

pytestmark = pytest.mark.django_db

CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "apps.core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=list(scopes))))
    return client


def ask(identifier: str = "visitor-1", **options):
    return recommendations_for(customer_id=identifier, n=3, diversity=0.0, **options)


@pytest.fixture
def shop():
    shop = shop_build()
    publish(toy_model())
    return shop


def test_a_repeated_request_reuses_the_answer_with_a_new_request_id(shop):
    first = ask()
    second = ask()

    assert (first.cache, second.cache) == ("skipped", "answer")
    assert second.items == first.items and second.source == first.source == "cold_start"
    assert second.model_version_id == first.model_version_id
    assert second.request_id and second.request_id != first.request_id
    served = ServedRecommendation.objects.get(request_id=second.request_id)
    assert (served.visitor_id, served.cache, served.items) == ("visitor-1", "answer", skus(first))


def test_other_parameters_or_visitors_are_answered_apart(shop):
    ask()

    assert ask(category="hats").cache == "skipped"
    assert recommendations_for(customer_id="visitor-1", n=2, diversity=0.0).cache == "skipped"
    assert ask("visitor-2").cache == "skipped"
    assert ask(log=False).cache == "answer"  # a preview reuses it too, and logs nothing


def test_a_view_sent_through_the_events_api_counts_on_the_very_next_request(shop):
    before = ask()
    assert ask().cache == "answer"

    sent = client_with("events:write").post(
        "/api/v1/track",
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymous_id": "visitor-1",
            "properties": {"sku": "HAT-2"},
            "timestamp": (timezone.now() - timedelta(seconds=5)).isoformat(),
            "message_id": str(uuid.uuid4()),
        },
        format="json",
    )
    after = ask()

    assert sent.status_code in (200, 202), sent.content
    assert skus(before) == ["SHIRT-1", "SHIRT-2", "SHIRT-3"]
    assert after.cache != "answer"
    assert [(i.product_id, i.reason) for i in after.items] == [
        ("HAT-1", "Because you viewed Hat 2"),
        ("HAT-3", "Because you viewed Hat 2"),
        ("HAT-4", "Because you viewed Hat 2"),
    ]


def test_a_product_that_sells_out_leaves_the_next_answer(shop):
    assert skus(ask())[0] == "SHIRT-1"

    product_update(sku="SHIRT-1", changes={"stock": 0})

    again = ask()
    assert again.cache != "answer"
    assert "SHIRT-1" not in skus(again)


def test_changed_placement_rules_are_applied_at_once(shop):
    placement = placement_create(key="home", name="Home")
    assert skus(ask(placement="home")) == ["SHIRT-1", "SHIRT-2", "SHIRT-3"]
    assert ask(placement="home").cache == "answer"

    placement_update(placement=placement, changes={"pinned_skus": ["HAT-4"]})

    pinned = ask(placement="home")
    assert (pinned.cache, skus(pinned)[0]) == ("skipped", "HAT-4")


def test_a_new_champion_makes_every_kept_answer_stale(shop):
    first = ask()

    second_version = publish(toy_model(popularity=list(range(1, 13))))
    again = ask()

    assert again.cache != "answer"
    assert again.model_version == second_version.version != first.model_version
    assert skus(again) == ["HAT-4", "HAT-3", "HAT-2"]


def test_after_a_merge_the_merged_id_is_answered_for_the_survivor(shop):
    CustomerFactory(external_id="bob")
    CustomerFactory(external_id="bobby")
    before = ask("bobby")
    assert before.visitor == "customer"

    customer_merge(survivor_external_id="bob", merged_external_id="bobby", reason="duplicate")

    after = ask("bobby")
    assert after.cache != "answer"
    served = ServedRecommendation.objects.get(request_id=after.request_id)
    assert served.customer.external_id == "bob"


def test_with_the_cache_down_every_request_is_computed(shop):
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        first = ask()
        second = ask()

    assert (first.cache, second.cache) == ("skipped", "skipped")
    assert skus(first) == skus(second) == ["SHIRT-1", "SHIRT-2", "SHIRT-3"]


@override_settings(RECOMMENDATIONS_ANSWER_SECONDS=0)
def test_the_answer_cache_can_be_turned_off(shop):
    ask()

    assert ask().cache == "skipped"
