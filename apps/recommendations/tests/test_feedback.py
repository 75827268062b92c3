"""Feedback: impressions and clicks become events and online CTR per placement and version."""

from __future__ import annotations

import pytest

from apps.core.errors import ValidationFailed
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Event
from apps.recommendations.contracts import PlacementStats
from apps.recommendations.models import ServedRecommendation
from apps.recommendations.selectors import recommendation_stats
from apps.recommendations.services import (
    feedback_record,
    placement_create,
    recommendations_for,
    similar_products,
)
from apps.recommendations.tests.shop import publish, shop_build, skus, toy_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def served():
    shop_build()
    CustomerFactory(external_id="alice")
    version = publish(toy_model())
    placement_create(key="home", name="Home")
    result = recommendations_for(customer_id="alice", n=3, placement="home", diversity=0.0)
    return version, result


def test_impressions_are_stored_as_events_of_the_customer(served):
    version, result = served

    outcome = feedback_record(
        request_id=result.request_id, kind="impression", product_ids=skus(result)
    )

    assert (outcome.accepted, outcome.duplicates, outcome.rejected) == (3, 0, 0)
    events = Event.objects.filter(source="recommendations").order_by("properties__position")
    assert [
        (e.event_type, e.name, e.product.sku, e.customer.external_id, e.properties["position"])
        for e in events
    ] == [
        ("custom", "Recommendation Impression", "SHIRT-1", "alice", 1),
        ("custom", "Recommendation Impression", "SHIRT-2", "alice", 2),
        ("custom", "Recommendation Impression", "SHIRT-3", "alice", 3),
    ]
    assert events[0].properties["request_id"] == result.request_id
    assert events[0].properties["placement"] == "home"
    assert events[0].properties["model_version_id"] == version.pk


def test_re_sent_feedback_is_stored_and_counted_once(served):
    _, result = served
    feedback_record(request_id=result.request_id, kind="impression", product_ids=skus(result))

    again = feedback_record(
        request_id=result.request_id, kind="impression", product_ids=skus(result)
    )
    click = feedback_record(request_id=result.request_id, kind="click", product_ids=["SHIRT-2"])

    assert (again.accepted, again.duplicates) == (0, 3)
    assert (click.accepted, click.duplicates) == (1, 0)
    row = ServedRecommendation.objects.get(request_id=result.request_id)
    assert (row.impressions, row.clicks) == (3, 1)
    assert Event.objects.filter(source="recommendations").count() == 4


def test_ctr_is_counted_per_placement_and_model_version(served):
    # given two answered requests on home (v1) and one without a placement
    version, first = served
    second = recommendations_for(customer_id="alice", n=2, placement="home")
    other = recommendations_for(customer_id="bob", n=2)
    feedback_record(request_id=first.request_id, kind="impression", product_ids=skus(first))
    feedback_record(request_id=second.request_id, kind="impression", product_ids=skus(second))
    feedback_record(request_id=first.request_id, kind="click", product_ids=[skus(first)[0]])
    feedback_record(request_id=other.request_id, kind="impression", product_ids=skus(other)[:1])

    # when the stats are read
    stats = recommendation_stats(days=30)

    # then each placement and version has its own exact numbers
    assert stats == [
        PlacementStats("", version.version, version.pk, requests=1, impressions=1, clicks=0),
        PlacementStats("home", version.version, version.pk, requests=2, impressions=5, clicks=1),
    ]
    assert (stats[0].ctr, stats[1].ctr) == (0.0, 0.2)
    assert recommendation_stats(placement="home", model_version_id=version.pk + 1000) == []


def test_an_item_that_was_not_served_is_refused_and_nothing_is_stored(served):
    _, result = served

    with pytest.raises(ValidationFailed) as error:
        feedback_record(
            request_id=result.request_id, kind="click", product_ids=["SHIRT-1", "HAT-4"]
        )

    assert error.value.field == "product_ids[1]"
    assert error.value.message == (
        f"product_ids[1]: 'HAT-4' was not among the items of request {result.request_id}"
    )
    assert Event.objects.filter(source="recommendations").count() == 0
    assert ServedRecommendation.objects.get(request_id=result.request_id).clicks == 0


@pytest.mark.parametrize(
    ("request_id", "kind", "product_ids", "field"),
    [
        ("00000000-0000-0000-0000-000000000000", "click", ["SHIRT-1"], "request_id"),
        ("not-a-uuid", "click", ["SHIRT-1"], "request_id"),
        (None, "like", ["SHIRT-1"], "type"),
        (None, "click", [], "product_ids"),
    ],
)
def test_bad_feedback_names_the_field(served, request_id, kind, product_ids, field):
    _, result = served

    with pytest.raises(ValidationFailed) as error:
        feedback_record(
            request_id=request_id or result.request_id, kind=kind, product_ids=product_ids
        )

    assert error.value.field == field


def test_feedback_on_similar_items_uses_the_visitor_id_given():
    shop_build()
    publish(toy_model())
    result = similar_products(sku="HAT-1", n=2)

    feedback_record(
        request_id=result.request_id,
        kind="click",
        product_ids=[skus(result)[0]],
        visitor_id="device-9",
    )

    event = Event.objects.get(source="recommendations")
    assert (event.anonymous_id, event.customer_id, event.product.sku) == (
        "device-9", None, skus(result)[0],
    )  # fmt: skip
