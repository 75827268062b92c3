"""The definition language on its own (pure engine): validation with JSON paths, time
windows and their edges, words, and the segment reference graph."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from apps.segments.engine.definition import (
    DefinitionError,
    FieldCondition,
    Group,
    MeasureCondition,
    Vocabulary,
    Window,
    date_range,
    datetime_range,
    dependency_order,
    describe,
    find_cycle,
    iter_leaves,
    measure_holds,
    parse_definition,
    referenced_segment_ids,
    window_range,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
VOCABULARY = Vocabulary(
    choices={"rfm_cell": ["champions", "lost"]},
    event_types=["product_view", "purchase"],
    consent_purposes=["email_marketing"],
)


def _errors(definition) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(definition, vocabulary=VOCABULARY)
    return [str(error) for error in caught.value.errors]


def test_a_valid_definition_parses_into_a_tree():
    # given a group with a property, a behaviour and a nested OR group with NOT
    definition = {
        "type": "group",
        "operator": "and",
        "conditions": [
            {"type": "property", "field": "country", "operator": "in", "value": ["de", "fr"]},
            {
                "type": "event",
                "event": "product_view",
                "where": {"category": "dresses"},
                "operator": "gte",
                "value": 3,
                "window": {"last_days": 30},
            },
            {
                "type": "group",
                "operator": "or",
                "negate": True,
                "conditions": [
                    {"type": "score", "field": "rfm_cell", "operator": "equals", "value": "lost"},
                    {"type": "segment", "operator": "in", "segment": 7},
                ],
            },
        ],
    }

    # when it is parsed
    root = parse_definition(definition, vocabulary=VOCABULARY)

    # then the nodes carry their paths, normalised values and parts
    assert isinstance(root, Group) and root.operator == "and" and root.path == ""
    country, views, group = root.conditions
    assert isinstance(country, FieldCondition)
    assert (country.path, country.value) == ("conditions[0]", ["DE", "FR"])
    assert isinstance(views, MeasureCondition)
    assert (views.event, views.operator, views.value) == ("product_view", "gte", 3)
    assert views.window == Window(last_days=30) and views.filters.category == "dresses"
    assert isinstance(group, Group) and group.negate and group.operator == "or"
    assert [leaf.path for leaf in iter_leaves(root)] == [
        "conditions[0]",
        "conditions[1]",
        "conditions[2].conditions[0]",
        "conditions[2].conditions[1]",
    ]
    assert referenced_segment_ids(root) == {7}


def test_validation_errors_name_the_json_path_of_every_problem():
    # given a definition with five mistakes at different depths
    definition = {
        "operator": "xor",
        "conditions": [
            {"type": "property", "field": "country", "operator": "equals", "value": "DE"},
            {"type": "score", "field": "churn_risk", "operator": "gt", "value": "high"},
            {
                "type": "group",
                "conditions": [
                    {"type": "event", "event": "teleport", "operator": "gte", "value": 1},
                    {"type": "order", "operator": "gte", "value": 2, "window": {"days": 3}},
                ],
            },
            {"type": "property", "field": "birth_date", "operator": "before", "value": "1990"},
        ],
    }

    # when it is parsed, then every error is listed with its path, in document order
    assert _errors(definition) == [
        'operator: must be "and" or "or"',
        "conditions[1].value: must be a number",
        "conditions[2].conditions[0].event: must be one of product_view, purchase (or any)",
        "conditions[2].conditions[1].window.days: unknown key; use last_days, "
        "older_than_days, from, to",
        "conditions[3].value: must be a date YYYY-MM-DD",
    ]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            {"type": "nope"},
            "conditions[0].type: must be one of group, property, score, event, "
            "order, order_date, event_date, segment, consent",
        ),
        (
            {"type": "property", "field": "shoe_size", "operator": "equals", "value": "9"},
            "conditions[0].field: must be one of external_id, email, phone, first_name, last_name, "
            "gender, birth_date, age_band, city, region, country, language, signup_at, "
            "acquisition_channel, created_at or attributes.<key>",
        ),
        (
            {"type": "property", "field": "country", "operator": "gt", "value": "DE"},
            "conditions[0].operator: must be one of equals, not_equals, in, not_in, contains, "
            "not_contains, starts_with, ends_with, is_set, is_not_set",
        ),
        (
            {"type": "property", "field": "country", "operator": "in", "value": []},
            "conditions[0].value: must be a non-empty list",
        ),
        (
            {"type": "property", "field": "country", "operator": "in", "value": ["DE", 4]},
            "conditions[0].value[1]: must be a text",
        ),
        (
            {"type": "score", "field": "p_alive", "operator": "gt", "value": 1.5},
            "conditions[0].value: must be at most 1",
        ),
        (
            {"type": "score", "field": "rfm_recency", "operator": "equals", "value": 2.5},
            "conditions[0].value: must be a whole number",
        ),
        (
            {"type": "score", "field": "rfm_cell", "operator": "equals", "value": "royals"},
            "conditions[0].value: must be one of champions, lost",
        ),
        (
            {"type": "score", "field": "clv_12m", "operator": "between", "value": [500, 100]},
            "conditions[0].value: the first value must not be after the second",
        ),
        (
            {"type": "score", "field": "clv_12m", "operator": "gt", "value": True},
            "conditions[0].value: must be a number",
        ),
        (
            {"type": "property", "field": "signup_at", "operator": "in_last_days", "value": 0},
            "conditions[0].value: must be a whole number of days, at least 1",
        ),
        (
            {
                "type": "property",
                "field": "signup_at",
                "operator": "between",
                "value": ["2026-02-01", "2026-01-01"],
            },
            "conditions[0].value: the first value must not be after the second",
        ),
        (
            {"type": "property", "field": "attributes.plan__x", "operator": "equals", "value": "a"},
            "conditions[0].field: an attribute key is letters, digits, _ and - (one _ at a time), "
            "starting with a letter",
        ),
        (
            {"type": "event", "operator": "gte", "value": -1},
            "conditions[0].value: must be at least 0",
        ),
        (
            {
                "type": "event",
                "operator": "gte",
                "value": 2,
                "window": {"last_days": 7, "from": "2026-01-01"},
            },
            "conditions[0].window: use one of last_days, older_than_days, or from/to",
        ),
        (
            {"type": "event", "operator": "gte", "value": 1, "where": {"colour": "red"}},
            "conditions[0].where.colour: unknown filter; use product, category, brand, name, "
            "source, properties",
        ),
        (
            {"type": "order", "measure": "margin", "operator": "gte", "value": 1},
            'conditions[0].measure: must be "count" or "amount"',
        ),
        (
            {"type": "order_date", "which": "middle", "operator": "in_last_days", "value": 7},
            'conditions[0].which: must be "first" or "last"',
        ),
        (
            {"type": "segment", "operator": "in", "segment": "vip"},
            "conditions[0].segment: must be the id of a segment (a positive integer)",
        ),
        (
            {"type": "consent", "purpose": "telepathy"},
            "conditions[0].purpose: must be one of email_marketing",
        ),
        (
            {"type": "property", "field": "country", "operator": "is_set", "negate": "yes"},
            "conditions[0].negate: must be true or false",
        ),
    ],
)
def test_each_kind_of_mistake_has_a_clear_message(condition, message):
    assert _errors({"operator": "and", "conditions": [condition]}) == [message]


def test_the_top_must_be_a_group_and_nesting_is_bounded():
    assert _errors([]) == ["definition: must be an object (a group)"]
    assert _errors({"type": "property", "field": "country"}) == [
        'type: the top of a definition must be a "group"'
    ]
    deep: dict = {"operator": "and", "conditions": []}
    node = deep
    for _ in range(9):
        child: dict = {"operator": "and", "conditions": []}
        node["conditions"].append(child)
        node = child
    assert _errors(deep) == [
        "conditions[0].conditions[0].conditions[0].conditions[0].conditions[0].conditions[0]"
        ".conditions[0].conditions[0].conditions[0]: groups nest too deep (at most 8)"
    ]


def test_the_error_message_counts_the_other_problems():
    with pytest.raises(DefinitionError) as caught:
        parse_definition(
            {
                "conditions": [
                    {"type": "score", "field": "churn_risk", "operator": "gt", "value": "x"},
                    {"type": "score", "field": "churn_risk", "operator": "gt", "value": "y"},
                    {"type": "score", "field": "churn_risk", "operator": "gt", "value": "z"},
                ]
            }
        )
    assert str(caught.value) == "conditions[0].value: must be a number (and 2 more problems)"


def test_last_days_includes_exactly_n_days_ago_and_excludes_one_second_more():
    bounds = window_range(Window(last_days=30), now=NOW, zone=UTC)

    assert bounds.start == NOW - timedelta(days=30) and bounds.start_inclusive
    assert bounds.end == NOW and bounds.end_inclusive


def test_date_operators_resolve_to_calendar_days_in_the_time_zone():
    assert datetime_range("before", date(2026, 1, 1), now=NOW, zone=UTC).end == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    after = datetime_range("after", date(2026, 1, 1), now=NOW, zone=UTC)
    assert (after.start, after.end) == (datetime(2026, 1, 2, tzinfo=UTC), None)
    between = datetime_range("between", [date(2026, 1, 1), date(2026, 1, 31)], now=NOW, zone=UTC)
    assert (between.start, between.end, between.end_inclusive) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
        False,
    )
    older = datetime_range("more_than_days_ago", 90, now=NOW, zone=UTC)
    assert (older.start, older.end) == (None, NOW - timedelta(days=90))
    birthday = date_range("in_last_days", 7, today=date(2026, 3, 15))
    assert (birthday.start, birthday.end) == (date(2026, 3, 8), date(2026, 3, 15))


def test_measure_operators_on_counts():
    assert measure_holds("gte", 3, 3) and not measure_holds("gte", 3, 2)
    assert measure_holds("between", [1, 2], 2) and not measure_holds("between", [1, 2], 0)
    assert measure_holds("equals", 0, 0) and measure_holds("lt", 2, 0)


def test_conditions_are_described_in_plain_words():
    root = parse_definition(
        {
            "operator": "and",
            "conditions": [
                {"type": "property", "field": "country", "operator": "in", "value": ["DE", "FR"]},
                {
                    "type": "event",
                    "event": "product_view",
                    "where": {"category": "dresses"},
                    "operator": "gte",
                    "value": 3,
                    "window": {"last_days": 30},
                },
                {"type": "order", "operator": "equals", "value": 0, "window": {"last_days": 90}},
                {"type": "order_date", "which": "first", "operator": "in_last_days", "value": 7},
                {"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.7},
                {"type": "segment", "operator": "not_in", "segment": 4},
                {
                    "type": "order",
                    "measure": "amount",
                    "operator": "gte",
                    "value": 500,
                    "window": {"from": "2026-01-01", "to": "2026-01-31"},
                },
                {"type": "property", "field": "email", "operator": "is_set", "negate": True},
            ],
        }
    )
    labels = {"product_view": "Product view"}

    lines = [
        describe(node, event_labels=labels, segment_names={4: "VIP"})
        for node in [root, *root.conditions]
    ]

    assert lines == [
        "All of",
        "Country is one of DE, FR",
        "Did Product view (category dresses) at least 3 times in the last 30 days",
        "Did not purchase in the last 90 days",
        "First purchase in the last 7 days",
        "Churn risk greater than 0.7",
        "Not in segment VIP",
        "Spent at least 500.00 on orders between 2026-01-01 and 2026-01-31",
        "Not: Email is set",
    ]


def test_cycles_are_found_and_segments_ordered_after_what_they_refer_to():
    graph = {1: {2}, 2: {3}, 3: set(), 4: {1, 3}}

    assert find_cycle(graph, 1) is None
    assert dependency_order(graph) == [3, 2, 1, 4]
    assert find_cycle({**graph, 3: {1}}, 1) == [1, 2, 3, 1]
    assert find_cycle({5: {5}}, 5) == [5, 5]
