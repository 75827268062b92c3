"""Precomputed candidates: stored per customer and version, used with the rules and the current
history, and never needed: a cache that is down means online scoring, not an error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.recommendations.services import (
    CacheUnavailable,
    candidates_precompute,
    candidates_precompute_if_stale,
    recommendations_for,
)
from apps.recommendations.services.cache import (
    cache_outage_forget,
    candidates_get,
    precompute_state,
)
from apps.recommendations.tests.shop import publish, shop_build, skus, toy_model

pytestmark = pytest.mark.django_db

CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "apps.core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


@pytest.fixture
def shop_with_alice():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    EventFactory(
        customer=alice,
        product=shop.products["SHOE-2"],
        event_type=EventType.PRODUCT_VIEW,
        occurred_at=timezone.now() - timedelta(days=5),
    )
    return shop, alice


def test_a_precompute_stores_every_known_customers_candidates(shop_with_alice):
    # given a champion that knows alice and bob (bob is not a customer here)
    _, alice = shop_with_alice
    version = publish(toy_model())

    # when the candidates are precomputed
    summary = candidates_precompute()

    # then alice's are stored under the version, best first, and the run is marked done
    assert (summary.model_version_id, summary.customers) == (version.pk, 1)
    indices, scores = candidates_get(model_version_id=version.pk, customer_id=alice.pk)
    assert indices.tolist()[:3] == [4, 6, 7]  # SHOE-2's neighbours SHOE-1, SHOE-3, SHOE-4
    assert indices.size == 12 and list(scores) == sorted(scores, reverse=True)
    state = precompute_state(model_version_id=version.pk)
    assert (state["customers"], state["version"]) == (1, version.version)


def test_a_cache_hit_answers_like_online_scoring(shop_with_alice):
    publish(toy_model())
    candidates_precompute()

    cached = recommendations_for(customer_id="alice", n=4, diversity=0.0)
    online = recommendations_for(customer_id="alice", n=4, diversity=0.0, use_cache=False)

    assert (cached.source, cached.cache) == ("cache", "hit")
    assert (online.source, online.cache) == ("model", "skipped")
    assert skus(cached) == skus(online) == ["SHOE-1", "SHOE-3", "SHOE-4", "SHOE-2"]


def test_a_purchase_after_the_precompute_is_left_out_of_cached_candidates(shop_with_alice):
    # given alice's candidates were precomputed before she bought SHOE-1
    shop, alice = shop_with_alice
    publish(toy_model())
    candidates_precompute()
    OrderLineFactory(
        order=OrderFactory(customer=alice, placed_at=timezone.now()),
        product=shop.products["SHOE-1"],
    )

    # when she asks
    result = recommendations_for(customer_id="alice", n=3, diversity=0.0)

    # then the cached candidates are used without the purchase, explained by it
    assert result.cache == "hit"
    assert [(item.product_id, item.reason) for item in result.items] == [
        ("SHOE-3", "Because you bought Shoe 1"),
        ("SHOE-4", "Because you bought Shoe 1"),
        ("SHOE-2", "Because you bought Shoe 1"),
    ]


def test_a_view_after_the_precompute_lifts_similar_items_over_cached_ones(shop_with_alice):
    # given alice's candidates (shoes first) were precomputed before she viewed a hat
    shop, alice = shop_with_alice
    publish(toy_model())
    candidates_precompute()
    EventFactory(customer=alice, product=shop.products["HAT-2"], occurred_at=timezone.now())

    # when she asks
    result = recommendations_for(customer_id="alice", n=2, diversity=0.0)

    # then other hats lead, from the cache, and the hat itself is not repeated
    assert result.cache == "hit"
    assert skus(result) == ["HAT-1", "HAT-3"]
    assert result.items[0].reason == "Because you viewed Hat 2"


def test_too_few_cached_candidates_after_the_rules_means_online_scoring(shop_with_alice, settings):
    settings.RECOMMENDATIONS_CACHED_CANDIDATES = 3
    publish(toy_model())
    candidates_precompute()

    result = recommendations_for(customer_id="alice", n=3, category="hats", diversity=0.0)

    assert (result.source, result.cache) == ("model", "miss")
    assert skus(result) == ["HAT-1", "HAT-2", "HAT-3"]


def test_with_the_cache_down_requests_are_scored_online(shop_with_alice):
    # given a champion whose candidates were precomputed, and the answer with the cache up
    publish(toy_model())
    candidates_precompute()
    with_cache = recommendations_for(customer_id="alice", n=4, diversity=0.0)

    # when the cache points at a closed port
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        down = recommendations_for(customer_id="alice", n=4, diversity=0.0)
        again = recommendations_for(customer_id="alice", n=4, diversity=0.0)
        with pytest.raises(CacheUnavailable):
            candidates_precompute()
        assert candidates_precompute_if_stale() is None

    # then the same items are served, online, and the answer says why
    assert (with_cache.cache, down.cache, again.cache) == ("hit", "unavailable", "unavailable")
    assert (down.source, skus(down)) == ("model", skus(with_cache))


def test_after_an_outage_the_cache_is_asked_again(shop_with_alice):
    publish(toy_model())
    candidates_precompute()
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        recommendations_for(customer_id="alice", n=2)

    cache_outage_forget()
    result = recommendations_for(customer_id="alice", n=2)

    assert result.cache == "hit"


def test_a_new_champion_never_reads_the_old_ones_candidates(shop_with_alice):
    publish(toy_model())
    candidates_precompute()

    second = publish(toy_model(popularity=list(range(1, 13))))
    result = recommendations_for(customer_id="alice", n=2, diversity=0.0)

    assert (result.model_version, result.cache, result.source) == (second.version, "miss", "model")


def test_the_scheduled_catch_up_precomputes_only_a_champion_without_candidates(shop_with_alice):
    assert candidates_precompute_if_stale() is None  # no champion yet

    version = publish(toy_model())
    first = candidates_precompute_if_stale()
    second = candidates_precompute_if_stale()

    assert (first.model_version_id, first.customers) == (version.pk, 1)
    assert second is None


def test_a_running_precompute_holds_the_lock(shop_with_alice):
    publish(toy_model())
    caches["default"].add("recommendations:precompute:lock", 1, timeout=60)

    assert candidates_precompute_if_stale() is None
    assert caches["default"].get("recommendations:precompute:lock") == 1
