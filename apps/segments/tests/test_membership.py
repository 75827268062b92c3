"""Who a definition selects, on hand-made customers (apps/segments/tests/segment_data.py),
including the edges of time windows, nesting of AND/OR/NOT, and predictive fields."""

from __future__ import annotations

import pytest

from apps.segments.services.segments import segment_create
from apps.segments.tests.segment_data import build_shop, group, member_ids

pytestmark = pytest.mark.django_db

DRESS_VIEWS_3 = {
    "type": "event",
    "event": "product_view",
    "where": {"category": "dresses"},
    "operator": "gte",
    "value": 3,
    "window": {"last_days": 30},
}
NO_PURCHASE_90 = {"type": "order", "operator": "equals", "value": 0, "window": {"last_days": 90}}


@pytest.fixture
def shop():
    return build_shop()


def _members(shop, *conditions, **kwargs) -> set[str]:
    return member_ids(group(*conditions, **kwargs), shop.now)


def test_at_least_3_views_counts_an_event_exactly_30_days_ago_but_not_30_days_and_1_second(shop):
    # ada's third view is exactly 30 days ago, bob's 30 days + 1 s, cy has only 2 dress views
    assert _members(shop, DRESS_VIEWS_3) == {"ada"}


def test_at_least_2_views_takes_bob_and_cy_too(shop):
    assert _members(shop, {**DRESS_VIEWS_3, "value": 2}) == {"ada", "bob", "cy"}


def test_a_category_matches_by_slug_or_by_path_with_its_subcategories(shop):
    by_parent = {**DRESS_VIEWS_3, "where": {"category": "women"}}
    by_path = {**DRESS_VIEWS_3, "where": {"category": "women/dresses"}}
    any_views = {**DRESS_VIEWS_3, "where": {}, "value": 5}

    assert _members(shop, by_parent) == {"ada"}
    assert _members(shop, by_path) == {"ada"}
    assert _members(shop, any_views) == {"cy"}  # 2 dress + 3 boots views


def test_did_not_purchase_in_90_days_counts_an_order_exactly_90_days_ago_as_a_purchase(shop):
    # ada ordered exactly 90 days ago (inside), bob 90 days + 1 s ago (outside); cy and fay never
    assert _members(shop, NO_PURCHASE_90) == {"bob", "cy", "fay"}


def test_cancelled_orders_are_not_purchases(shop):
    spent = {"type": "order", "measure": "amount", "operator": "gte", "value": 100,
             "window": {"last_days": 30}}  # fmt: skip

    # eve's 500.00 order was cancelled: she spent 20.00 (dee 50.00)
    assert _members(shop, spent) == set()
    assert _members(shop, {**spent, "value": 20}) == {"dee", "eve"}
    assert _members(shop, {**spent, "value": 20.01}) == {"dee"}


def test_fewer_than_2_orders_includes_customers_without_any(shop):
    fewer = {"type": "order", "operator": "lt", "value": 2}

    assert _members(shop, fewer) == {"ada", "bob", "cy", "fay"}


def test_order_count_and_amount_with_product_filters(shop):
    dress_orders = {"type": "order", "operator": "gte", "value": 1, "where": {"brand": "acme"}}
    dress_spend = {"type": "order", "measure": "amount", "operator": "between",
                   "value": [30, 80], "where": {"product": "DRESS-1"}}  # fmt: skip
    spent_under_60_on_dresses = {
        "type": "order", "measure": "amount", "operator": "lt", "value": 60,
        "where": {"category": "dresses"},
    }  # fmt: skip

    assert _members(shop, dress_orders) == {"ada", "dee"}
    assert _members(shop, dress_spend) == {"ada", "dee"}
    # lines of dresses: ada 80, dee 30; everyone else 0 (under 60 includes no purchase at all)
    assert _members(shop, spent_under_60_on_dresses) == {"bob", "cy", "dee", "eve", "fay"}


def test_first_purchase_in_the_last_7_days_includes_exactly_7_days_ago(shop):
    first_7 = {"type": "order_date", "which": "first", "operator": "in_last_days", "value": 7}

    # dee's first order is exactly 7 days ago; eve's first is 8 days ago
    assert _members(shop, first_7) == {"dee"}
    assert _members(shop, {**first_7, "value": 8}) == {"dee", "eve"}


def test_last_purchase_more_than_60_days_ago(shop):
    lapsed = {"type": "order_date", "which": "last", "operator": "more_than_days_ago", "value": 60}

    assert _members(shop, lapsed) == {"ada", "bob"}
    assert _members(shop, {**lapsed, "operator": "is_not_set"}) == {"cy", "fay"}


def test_last_seen_in_the_last_2_days(shop):
    seen = {"type": "event_date", "which": "last", "operator": "in_last_days", "value": 2}

    assert _members(shop, seen) == {"ada", "bob", "cy"}


def test_property_operators(shop):
    assert _members(shop, {"type": "property", "field": "country", "operator": "equals",
                           "value": "de"}) == {"ada", "bob"}  # fmt: skip
    assert _members(shop, {"type": "property", "field": "country", "operator": "not_in",
                           "value": ["DE", "FR"]}) == {"eve", "fay"}  # fmt: skip
    assert _members(shop, {"type": "property", "field": "external_id", "operator": "starts_with",
                           "value": "E"}) == {"eve"}  # fmt: skip
    assert _members(shop, {"type": "property", "field": "email", "operator": "contains",
                           "value": "@EXAMPLE"}) == {"ada", "bob", "cy", "dee", "eve"}  # fmt: skip
    assert _members(shop, {"type": "property", "field": "email", "operator": "is_not_set"}) == {
        "fay"
    }


def test_signup_more_than_30_days_ago_excludes_exactly_30_days(shop):
    older = {"type": "property", "field": "signup_at", "operator": "more_than_days_ago",
             "value": 30}  # fmt: skip
    recent = {"type": "property", "field": "signup_at", "operator": "in_last_days", "value": 30}

    assert _members(shop, older) == {"ada", "bob", "cy", "dee", "fay"}
    assert _members(shop, recent) == {"eve"}


def test_absolute_dates_before_and_after(shop):
    day = shop.now.date().isoformat()
    on_day = {"type": "property", "field": "created_at", "operator": "on", "value": day}
    before = {"type": "property", "field": "created_at", "operator": "before", "value": day}

    assert _members(shop, on_day) == {"ada", "bob", "cy", "dee", "eve", "fay"}
    assert _members(shop, before) == set()


def test_attributes(shop):
    gold = {"type": "property", "field": "attributes.plan", "operator": "equals", "value": "gold"}
    not_gold = {**gold, "operator": "not_equals"}
    has_plan = {"type": "property", "field": "attributes.plan", "operator": "is_set"}
    many_visits = {"type": "property", "field": "attributes.visits", "operator": "gt", "value": 10}

    assert _members(shop, gold) == {"ada"}
    assert _members(shop, not_gold) == {"bob", "cy", "dee", "eve", "fay"}
    assert _members(shop, has_plan) == {"ada", "cy"}
    assert _members(shop, many_visits) == {"ada"}
    assert _members(shop, {**gold, "negate": True}) == {"bob", "cy", "dee", "eve", "fay"}


def test_predictive_fields(shop):
    def score(field, operator, value=None):
        return {"type": "score", "field": field, "operator": operator, "value": value}

    assert _members(shop, score("churn_risk", "gt", 0.4)) == {"bob"}
    assert _members(shop, score("churn_risk", "gte", 0.4)) == {"bob", "dee"}
    assert _members(shop, score("clv_12m", "between", [100, 1000])) == {"ada", "dee"}
    assert _members(shop, score("p_alive", "lt", 0.5)) == {"bob"}
    assert _members(shop, score("rfm_cell", "in", ["champions", "new"])) == {"ada", "dee"}
    assert _members(shop, score("rfm_recency", "equals", 5)) == {"ada", "dee"}
    assert _members(shop, score("lifecycle_stage", "equals", "lapsed")) == {"bob"}
    assert _members(shop, score("cluster", "not_equals", 2)) == {"bob", "cy", "dee", "eve", "fay"}
    # no scores row: missing, so not "set", and the positive operators are false
    assert _members(shop, score("churn_risk", "is_not_set")) == {"cy", "eve", "fay"}
    assert _members(shop, score("rfm_cell", "not_equals", "lost")) == {
        "ada", "cy", "dee", "eve", "fay",
    }  # fmt: skip


def test_and_or_not_nesting(shop):
    de = {"type": "property", "field": "country", "operator": "equals", "value": "DE"}
    fr = {"type": "property", "field": "country", "operator": "equals", "value": "FR"}
    churn = {"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.5}

    # (DE or FR) and not (churn > 0.5)
    assert _members(shop, group(de, fr, operator="or"), {**churn, "negate": True}) == {
        "ada", "cy", "dee",
    }  # fmt: skip
    # NOT (DE and churn > 0.5): everyone but bob, including customers without scores
    assert _members(shop, group(de, churn, negate=True)) == {"ada", "cy", "dee", "eve", "fay"}
    # none of (FR, did not purchase in 90 days)
    assert _members(shop, group(fr, NO_PURCHASE_90, operator="or", negate=True)) == {
        "ada", "eve",
    }  # fmt: skip
    # an empty AND is everyone, an empty OR nobody
    assert _members(shop) == {"ada", "bob", "cy", "dee", "eve", "fay"}
    assert _members(shop, group(operator="or")) == set()
    assert _members(shop, group(operator="or", negate=True)) == {
        "ada", "bob", "cy", "dee", "eve", "fay",
    }  # fmt: skip


def test_consent(shop):
    consent = {"type": "consent", "purpose": "email_marketing", "granted": True}

    # bob withdrew after granting: the latest decision counts
    assert _members(shop, consent) == {"ada"}
    assert _members(shop, {**consent, "granted": False}) == {"bob", "cy", "dee", "eve", "fay"}


def test_segment_of_segment(shop):
    # given a static segment of ada and dee
    vip = segment_create(name="VIP", customer_external_ids=["ada", "dee"], now=shop.now)
    in_vip = {"type": "segment", "operator": "in", "segment": vip.pk}

    # then membership conditions read its members
    assert _members(shop, in_vip) == {"ada", "dee"}
    assert _members(shop, {**in_vip, "operator": "not_in"}, NO_PURCHASE_90) == {
        "bob", "cy", "fay",
    }  # fmt: skip


def test_restricting_to_some_customers_gives_the_same_answer_for_them(shop):
    definition = group(DRESS_VIEWS_3, NO_PURCHASE_90, operator="or")
    ada, bob, eve = (shop.customers[name].pk for name in ("ada", "bob", "eve"))

    assert member_ids(definition, shop.now) == {"ada", "bob", "cy", "fay"}
    assert member_ids(definition, shop.now, restrict_to=[ada, bob, eve]) == {"ada", "bob"}
