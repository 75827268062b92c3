"""Serving: cold start, fallbacks, business rules, real time, MMR, the champion's reload and
the served-request log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.customers.services.freshness import customers_touch
from apps.customers.tests.factories import CustomerAliasFactory, CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.ml.selectors import artifact_path
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.services import (
    placement_create,
    recommendations_for,
    similar_products,
)
from apps.recommendations.tests.shop import SKUS, publish, shop_build, skus, toy_model
from apps.segments.models import CustomerScores

pytestmark = pytest.mark.django_db


# The factories write rows directly; like every writer of orders and events (ingest, imports)
# the helpers then say whose activity changed, which kept answers are checked against.


def buy(customer, product, *, days_ago: float = 1.0, quantity: int = 1):
    order = OrderFactory(customer=customer, placed_at=timezone.now() - timedelta(days=days_ago))
    line = OrderLineFactory(order=order, product=product, quantity=quantity)
    customers_touch(customer_ids=[customer.pk])
    return line


def view(product, *, customer=None, anonymous_id: str = "", minutes_ago: float = 0.0, kind=None):
    event = EventFactory(
        customer=customer,
        anonymous_id=anonymous_id,
        product=product,
        event_type=kind or EventType.PRODUCT_VIEW,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    customers_touch(customer_ids=[customer.pk if customer else None], anonymous_ids=[anonymous_id])
    return event


# --- never an error -------------------------------------------------------------------------------


def test_with_no_model_and_an_empty_catalogue_the_answer_is_an_empty_list():
    result = recommendations_for(customer_id="nobody", n=5)

    assert (result.items, result.source, result.model_version) == ((), "popularity", None)
    served = ServedRecommendation.objects.get()
    assert (served.visitor_id, served.items, served.source) == ("nobody", [], "popularity")


def test_a_preview_gives_the_same_items_without_logging_a_served_request():
    shop = shop_build()
    buyer = CustomerFactory()
    buy(buyer, shop.products["SHOE-2"])

    preview = recommendations_for(customer_id="stranger", n=3, diversity=0.0, log=False)
    served = recommendations_for(customer_id="stranger", n=3, diversity=0.0)

    assert skus(preview) == skus(served)
    assert preview.request_id == "" and served.request_id
    assert ServedRecommendation.objects.count() == 1


def test_with_no_model_best_sellers_come_first_then_the_newest_products():
    # given a shop where SHOE-2 sold most, then HAT-1, then SHIRT-3, and no recommender
    shop = shop_build()
    buyer = CustomerFactory()
    for _ in range(3):
        buy(buyer, shop.products["SHOE-2"])
    for _ in range(2):
        buy(buyer, shop.products["HAT-1"])
    buy(buyer, shop.products["SHIRT-3"])

    # when an unknown visitor asks for five
    result = recommendations_for(customer_id="stranger", n=5, diversity=0.0)

    # then best sellers by revenue, topped up with the newest in-stock products
    assert skus(result) == ["SHOE-2", "HAT-1", "SHIRT-3", "HAT-4", "HAT-3"]
    assert [item.reason for item in result.items] == ["Popular now"] * 5
    assert (result.source, result.cache, result.model_version, result.visitor) == (
        "popularity", "skipped", None, "anonymous",
    )  # fmt: skip


def test_an_unknown_id_gets_the_champions_popular_items():
    shop_build()
    version = publish(toy_model())

    result = recommendations_for(customer_id="never-seen", n=4, diversity=0.0)

    assert skus(result) == ["SHIRT-1", "SHIRT-2", "SHIRT-3", "SHIRT-4"]
    assert (result.source, result.model_version, result.model_version_id) == (
        "cold_start", version.version, version.pk,
    )  # fmt: skip
    assert {item.reason for item in result.items} == {"Popular now"}


def test_trending_items_say_so():
    shop_build()
    publish(toy_model(trending=list(range(12, 0, -1))))

    result = recommendations_for(customer_id="never-seen", n=3, diversity=0.0)

    assert [(item.product_id, item.reason) for item in result.items] == [
        ("SHIRT-1", "Trending now"),
        ("SHIRT-2", "Trending now"),
        ("SHIRT-3", "Popular now"),
    ]


def test_a_customer_without_history_gets_the_favourites_of_their_segment_first():
    # given carol, a Champions customer the model never saw, and the champions' favourites
    shop_build()
    carol = CustomerFactory(external_id="carol")
    CustomerScores.objects.create(customer=carol, rfm_cell="champions")
    publish(toy_model(cohorts={"rfm_cell": {"champions": ["HAT-3", "HAT-1"], "lost": ["SHOE-4"]}}))

    result = recommendations_for(customer_id="carol", n=4, diversity=0.0)

    assert [(item.product_id, item.reason_code) for item in result.items] == [
        ("HAT-3", "segment"),
        ("HAT-1", "segment"),
        ("SHIRT-1", "popular"),
        ("SHIRT-2", "popular"),
    ]
    assert result.items[0].reason == "Popular in your segment"
    assert (result.source, result.visitor) == ("cold_start", "customer")


def test_an_id_longer_than_any_stored_one_is_an_anonymous_visitor():
    shop_build()
    publish(toy_model())

    result = recommendations_for(customer_id="x" * 300, n=2, diversity=0.0)

    assert (skus(result), result.visitor) == (["SHIRT-1", "SHIRT-2"], "anonymous")
    assert ServedRecommendation.objects.get().visitor_id == "x" * 128


def test_an_unreadable_champion_falls_back_to_catalog_popularity():
    shop_build()
    version = publish(toy_model())
    artifact_path(version).write_bytes(b"not a model")

    result = recommendations_for(customer_id="alice", n=2, diversity=0.0)

    assert (result.source, result.model_version) == ("popularity", None)
    assert len(result.items) == 2


# --- rules ------------------------------------------------------------------------------------------


def test_out_of_stock_and_inactive_products_are_left_out():
    shop = shop_build()
    shop.products["SHIRT-1"].stock = 0
    shop.products["SHIRT-1"].save()
    shop.products["SHIRT-2"].is_active = False
    shop.products["SHIRT-2"].save()
    publish(toy_model())

    result = recommendations_for(customer_id="x", n=3, diversity=0.0)

    assert skus(result) == ["SHIRT-3", "SHIRT-4", "SHOE-1"]


def test_a_placement_may_keep_out_of_stock_products():
    shop = shop_build()
    shop.products["SHIRT-1"].stock = 0
    shop.products["SHIRT-1"].save()
    publish(toy_model())
    placement_create(key="backorder", name="Backorder", exclude_out_of_stock=False)

    result = recommendations_for(customer_id="x", n=2, placement="backorder", diversity=0.0)

    assert skus(result) == ["SHIRT-1", "SHIRT-2"]
    assert result.placement == "backorder"


def test_recent_purchases_are_left_out_and_older_ones_are_not():
    # given alice bought SHIRT-1 yesterday and SHIRT-2 200 days ago
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    buy(alice, shop.products["SHIRT-1"], days_ago=1)
    buy(alice, shop.products["SHIRT-2"], days_ago=200)
    publish(toy_model())

    # when she asks for everything, with the default 90-day window and with the rule off
    default = recommendations_for(customer_id="alice", n=12, diversity=0.0)
    kept = recommendations_for(customer_id="alice", n=12, diversity=0.0, exclude_purchased=False)

    # then yesterday's purchase is out only while the rule applies
    assert sorted(skus(default)) == sorted(set(SKUS) - {"SHIRT-1"})
    assert sorted(skus(kept)) == sorted(SKUS)


def test_a_placement_window_decides_what_recently_means():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    buy(alice, shop.products["SHOE-1"], days_ago=10)
    publish(toy_model())
    placement_create(key="week", name="Week", exclude_purchased_days=7)
    placement_create(key="month", name="Month", exclude_purchased_days=30)

    week = recommendations_for(customer_id="alice", n=12, placement="week")
    month = recommendations_for(customer_id="alice", n=12, placement="month")

    assert "SHOE-1" in skus(week)
    assert "SHOE-1" not in skus(month)


def test_categories_are_included_and_excluded_by_placement_and_request():
    shop_build()
    publish(toy_model())
    placement_create(key="shoes", name="Shoes only", include_categories=["shoes"])
    placement_create(key="no-shirts", name="No shirts", exclude_categories=["shirts", "shoes"])

    shoes = recommendations_for(customer_id="x", n=6, placement="shoes", diversity=0.0)
    no_shirts = recommendations_for(customer_id="x", n=6, placement="no-shirts", diversity=0.0)
    hats = recommendations_for(customer_id="x", n=6, category="hats", diversity=0.0)
    none = recommendations_for(customer_id="x", n=6, placement="shoes", category="hats")

    assert skus(shoes) == ["SHOE-1", "SHOE-2", "SHOE-3", "SHOE-4"]
    assert skus(no_shirts) == ["HAT-1", "HAT-2", "HAT-3", "HAT-4"]
    assert skus(hats) == ["HAT-1", "HAT-2", "HAT-3", "HAT-4"]
    assert skus(none) == []


def test_pinned_items_come_first_in_order_and_unavailable_pins_are_skipped():
    shop = shop_build()
    shop.products["SHOE-4"].stock = 0
    shop.products["SHOE-4"].save()
    publish(toy_model())
    placement_create(key="home", name="Home", pinned_skus=["HAT-4", "SHOE-4", "SHOE-3"])

    result = recommendations_for(customer_id="x", n=4, placement="home", diversity=0.0)

    assert [(item.product_id, item.reason, item.score) for item in result.items][:2] == [
        ("HAT-4", "Pinned", 1.0),
        ("SHOE-3", "Pinned", 1.0),
    ]
    assert skus(result) == ["HAT-4", "SHOE-3", "SHIRT-1", "SHIRT-2"]


def test_boosts_lift_and_bury_items():
    shop_build()
    publish(toy_model())
    placement_create(key="lift", name="Lift", boosts={"HAT-2": 1.0})
    placement_create(key="bury", name="Bury", boosts={"SHIRT-1": -1.0})
    placement_create(key="hats", name="Hats up", category_boosts={"hats": 1.0})

    lifted = recommendations_for(customer_id="x", n=3, placement="lift", diversity=0.0)
    buried = recommendations_for(customer_id="x", n=3, placement="bury", diversity=0.0)
    hats = recommendations_for(customer_id="x", n=3, placement="hats", diversity=0.0)

    assert skus(lifted) == ["HAT-2", "SHIRT-1", "SHIRT-2"]
    assert skus(buried) == ["SHIRT-2", "SHIRT-3", "SHIRT-4"]
    assert skus(hats) == ["HAT-1", "HAT-2", "HAT-3"]


# --- real time --------------------------------------------------------------------------------------


def test_a_view_recorded_a_moment_ago_lifts_similar_items():
    # given an anonymous visitor who has done nothing yet
    shop = shop_build()
    publish(toy_model())
    before = recommendations_for(customer_id="visitor-1", n=3, diversity=0.0)

    # when they view a hat, and ask again
    view(shop.products["HAT-2"], anonymous_id="visitor-1")
    after = recommendations_for(customer_id="visitor-1", n=3, diversity=0.0)

    # then the other hats lead, because of that view, and the hat itself is not repeated
    assert skus(before) == ["SHIRT-1", "SHIRT-2", "SHIRT-3"]
    assert [(item.product_id, item.reason) for item in after.items] == [
        ("HAT-1", "Because you viewed Hat 2"),
        ("HAT-3", "Because you viewed Hat 2"),
        ("HAT-4", "Because you viewed Hat 2"),
    ]
    assert (before.source, after.source) == ("cold_start", "model")


def test_a_purchase_recorded_a_moment_ago_is_left_out_at_once():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    publish(toy_model())
    before = recommendations_for(customer_id="alice", n=1, diversity=0.0)

    buy(alice, shop.products["SHIRT-1"], days_ago=0)
    after = recommendations_for(customer_id="alice", n=3, diversity=0.0)

    assert skus(before) == ["SHIRT-1"]
    assert "SHIRT-1" not in skus(after)
    assert after.items[0].reason == "Because you bought Shirt 1"


def test_a_cart_addition_of_a_known_customer_explains_the_items():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    publish(toy_model())

    view(shop.products["SHOE-3"], customer=alice, kind=EventType.ADD_TO_CART)
    result = recommendations_for(customer_id="alice", n=3, diversity=0.0)

    assert [(item.product_id, item.reason_code) for item in result.items] == [
        ("SHOE-1", "carted"),
        ("SHOE-2", "carted"),
        ("SHOE-4", "carted"),
    ]
    assert result.items[0].reason == "Because you added Shoe 3 to your cart"


def test_an_alias_is_served_as_its_customer():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice")
    CustomerAliasFactory(customer=alice, alias="device-7")
    buy(alice, shop.products["SHIRT-1"], days_ago=0)
    publish(toy_model())

    result = recommendations_for(customer_id="device-7", n=12)

    assert result.visitor == "customer"
    assert "SHIRT-1" not in skus(result)
    assert ServedRecommendation.objects.get().customer_id == alice.pk


# --- diversity ----------------------------------------------------------------------------------------


def _category_similarity(items: list[str]) -> float:
    """Mean pairwise similarity of a list under the toy model (1 within a category, else 0)."""
    pairs = [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]
    return sum(a.split("-")[0] == b.split("-")[0] for a, b in pairs) / len(pairs)


def test_diversity_spreads_the_list_over_categories():
    shop_build()
    publish(toy_model())

    focused = recommendations_for(customer_id="x", n=4, diversity=0.0)
    varied = recommendations_for(customer_id="x", n=4, diversity=0.5)

    assert skus(focused) == ["SHIRT-1", "SHIRT-2", "SHIRT-3", "SHIRT-4"]
    assert skus(varied) == ["SHIRT-1", "SHOE-1", "HAT-1", "SHIRT-2"]
    assert (_category_similarity(skus(focused)), _category_similarity(skus(varied))) == (
        1.0,
        pytest.approx(1 / 6),
    )


def test_the_placement_diversity_applies_when_the_request_gives_none():
    shop_build()
    publish(toy_model())
    placement_create(key="varied", name="Varied", diversity=0.5)

    result = recommendations_for(customer_id="x", n=3, placement="varied")

    assert skus(result) == ["SHIRT-1", "SHOE-1", "HAT-1"]


# --- the champion --------------------------------------------------------------------------------------


def test_a_new_champion_is_served_from_the_next_request():
    shop_build()
    first = publish(toy_model())
    before = recommendations_for(customer_id="x", n=2, diversity=0.0)

    second = publish(toy_model(popularity=list(range(1, 13))))
    after = recommendations_for(customer_id="x", n=2, diversity=0.0)

    assert (skus(before), before.model_version) == (["SHIRT-1", "SHIRT-2"], first.version)
    assert (skus(after), after.model_version) == (["HAT-4", "HAT-3"], second.version)


def test_every_answer_is_logged_with_its_request_id():
    shop_build()
    alice = CustomerFactory(external_id="alice")
    version = publish(toy_model())
    placement_create(key="home", name="Home")

    result = recommendations_for(customer_id="alice", n=2, placement="home", diversity=0.0)

    served = ServedRecommendation.objects.get()
    assert str(served.request_id) == result.request_id
    assert (served.customer_id, served.visitor_id, served.placement) == (alice.pk, "alice", "home")
    assert (served.model_version_id, served.source, served.cache) == (version.pk, "model", "miss")
    assert served.items == ["SHIRT-1", "SHIRT-2"]
    assert (served.impressions, served.clicks) == (0, 0)


# --- similar items ---------------------------------------------------------------------------------------


def test_similar_products_are_the_models_neighbours():
    shop_build()
    publish(toy_model())

    result = similar_products(sku="SHIRT-2", n=3)

    assert skus(result) == ["SHIRT-1", "SHIRT-3", "SHIRT-4"]
    assert {item.reason for item in result.items} == {"Similar to Shirt 2"}
    assert ServedRecommendation.objects.get().anchor_sku == "SHIRT-2"


def test_without_a_model_similar_products_are_more_of_the_category():
    shop_build()

    result = similar_products(sku="SHIRT-2", n=3)

    assert skus(result) == ["SHIRT-4", "SHIRT-3", "SHIRT-1"]
    assert {item.reason for item in result.items} == {"More in Shirts"}


def test_similar_products_of_an_unknown_sku_is_not_found():
    with pytest.raises(NotFound) as error:
        similar_products(sku="NOPE", n=3)

    assert error.value.message == "product 'NOPE' does not exist"


# --- input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message", "field"),
    [
        ({"n": 0}, "n: must be a whole number between 1 and 100", "n"),
        ({"n": 101}, "n: must be a whole number between 1 and 100", "n"),
        ({"diversity": 1.5}, "diversity: must be between 0 and 1", "diversity"),
        ({"placement": "nope"}, "placement: placement 'nope' does not exist", "placement"),
        ({"category": "nope"}, "category: no category with slug 'nope'", "category"),
        ({"customer_id": " "}, "customer_id: is required", "customer_id"),
    ],
)
def test_bad_input_names_the_field_and_nothing_is_logged(options, message, field):
    arguments = {"customer_id": "x", **options}

    with pytest.raises(ValidationFailed) as error:
        recommendations_for(**arguments)

    assert (error.value.message, error.value.field) == (message, field)
    assert ServedRecommendation.objects.count() == 0


def test_quantities_weigh_purchases_in_the_history():
    # given bob bought one shoe and three of one hat (hats are the least popular products)
    shop = shop_build()
    bob = CustomerFactory(external_id="bob")
    buy(bob, shop.products["SHOE-1"], days_ago=5, quantity=1)
    buy(bob, shop.products["HAT-1"], days_ago=5, quantity=3)
    publish(toy_model())

    # when he asks for two
    result = recommendations_for(customer_id="bob", n=2, diversity=0.0)

    # then the other hats lead, explained by the hat he bought
    assert [(item.product_id, item.reason) for item in result.items] == [
        ("HAT-2", "Because you bought Hat 1"),
        ("HAT-3", "Because you bought Hat 1"),
    ]
    assert result.items[0].score >= result.items[1].score
