"""Placements: rules are checked against the catalogue when saved, field by field."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict, ValidationFailed
from apps.recommendations.models import Placement
from apps.recommendations.selectors import placement_rules
from apps.recommendations.services import (
    placement_create,
    placement_delete,
    placement_update,
    recommendations_for,
)
from apps.recommendations.tests.shop import shop_build

pytestmark = pytest.mark.django_db


def test_a_placement_is_created_with_its_rules_and_read_as_rules():
    shop_build()

    placement_create(
        key="cart",
        name="Cart",
        default_count=4,
        diversity=0.6,
        exclude_purchased_days=14,
        include_categories=["shoes", "hats"],
        exclude_categories=["shirts"],
        pinned_skus=["HAT-1"],
        boosts={"SHOE-2": 0.5},
        category_boosts={"hats": -0.2},
    )

    rules = placement_rules(key="cart")
    assert (rules.key, rules.default_count, rules.diversity, rules.exclude_purchased_days) == (
        "cart", 4, 0.6, 14,
    )  # fmt: skip
    assert (rules.include_categories, rules.exclude_categories, rules.pinned_skus) == (
        ("shoes", "hats"), ("shirts",), ("HAT-1",),
    )  # fmt: skip
    assert (rules.boosts, rules.category_boosts) == ({"SHOE-2": 0.5}, {"hats": -0.2})


def test_an_inactive_placement_answers_with_the_default_rules():
    shop_build()
    placement = placement_create(key="paused", name="Paused", pinned_skus=["HAT-1"])

    placement_update(placement=placement, changes={"is_active": False})

    rules = placement_rules(key="paused")
    assert (rules.key, rules.pinned_skus, rules.default_count) == ("paused", (), 10)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pinned_skus": ["HAT-1", "NOPE"]}, "pinned_skus[1]: no product with SKU 'NOPE'"),
        ({"include_categories": ["socks"]}, "include_categories[0]: no category with slug 'socks'"),
        ({"boosts": {"HAT-1": 2}}, "boosts.HAT-1: must be between -1 and 1"),
        ({"boosts": {"NOPE": 0.5}}, "boosts.NOPE: no product with this SKU"),
        ({"category_boosts": {"socks": 0.5}}, "category_boosts.socks: no category with this slug"),
        ({"diversity": 1.5}, "diversity: Ensure this value is less than or equal to 1.0."),
        ({"default_count": 0}, "default_count: Ensure this value is greater than or equal to 1."),
        (
            {"key": "not a slug"},
            "key: Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_nothing_is_saved(fields, message):
    shop_build()

    with pytest.raises(ValidationFailed) as error:
        placement_create(**{"key": "home", "name": "Home", **fields})

    assert error.value.message == message
    assert Placement.objects.count() == 0


def test_a_key_in_use_is_a_conflict():
    placement_create(key="home", name="Home")

    with pytest.raises(Conflict) as error:
        placement_create(key="home", name="Other")

    assert error.value.message == "key: a placement with key 'home' exists"
    assert Placement.objects.get().name == "Home"


def test_a_deleted_placement_is_refused_by_requests():
    placement = placement_create(key="gone", name="Gone")

    placement_delete(placement=placement)

    with pytest.raises(ValidationFailed) as error:
        recommendations_for(customer_id="x", placement="gone")
    assert error.value.field == "placement"
