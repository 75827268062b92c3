"""Static segments from a list or a CSV (unknown ids reported by row), and "why is this
customer in this segment"."""

from __future__ import annotations

import io

import pytest

from apps.core.errors import ValidationFailed
from apps.customers.tests.factories import CustomerAliasFactory
from apps.segments.models import Segment, SegmentMembership, SegmentMembershipEvent
from apps.segments.selectors import (
    segment_explain,
    segment_memberships_for_customer,
    segment_preview,
)
from apps.segments.services.segments import (
    DefinitionInvalid,
    segment_create,
    segment_static_upload,
)
from apps.segments.tests.segment_data import DAY, SECOND, build_shop, group

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return build_shop()


def _stored(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    )


def test_a_static_segment_from_a_csv_reports_unknown_ids_by_row(shop):
    # given a CSV with a header, a blank row, a duplicate and two unknown ids
    csv_file = io.BytesIO(
        b"email,external_id\nx@example.com,ada\n,nobody\n\nz@example.com,dee\n,ada\n,ghost\n"
    )

    # when a static segment is created from it
    segment = segment_create(name="Newsletter", csv_file=csv_file, now=shop.now)

    # then the known customers are members and the unknown ids are listed with their rows
    assert segment.kind == "static" and segment.member_count == 2
    assert _stored(segment) == {"ada", "dee"}
    assert segment.upload_report == {
        "source": "csv",
        "rows": 5,
        "matched": 2,
        "duplicates": 1,
        "unknown_count": 2,
        "unknown": [{"row": 3, "value": "nobody"}, {"row": 7, "value": "ghost"}],
    }


def test_a_static_list_matches_aliases_and_a_headerless_csv_uses_its_first_column(shop):
    CustomerAliasFactory(customer=shop.customers["cy"], alias="old-cy", kind="external")

    segment = segment_create(name="From list", customer_external_ids=["old-cy", "eve", "zed"],
                             now=shop.now)  # fmt: skip
    report = segment_static_upload(segment=segment, file=io.BytesIO(b"bob\nfay\nzed\n"))

    assert report.unknown == ((3, "zed"),)
    assert _stored(segment) == {"bob", "fay"}
    assert sorted(
        SegmentMembershipEvent.objects.filter(segment=segment).values_list(
            "customer__external_id", "kind"
        )
    ) == [
        ("bob", "entered"), ("cy", "entered"), ("cy", "exited"), ("eve", "entered"),
        ("eve", "exited"), ("fay", "entered"),
    ]  # fmt: skip
    segment.refresh_from_db()
    assert segment.upload_report["source"] == "csv" and segment.member_count == 2


def test_adding_to_a_static_segment_keeps_its_members(shop):
    segment = segment_create(name="VIP", customer_external_ids=["ada"], now=shop.now)

    segment_static_upload(segment=segment, customer_external_ids=["bob"], mode="add")

    assert _stored(segment) == {"ada", "bob"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file: the file is empty"),
        (
            b"email,name\na@x.com,A\n",
            "file: name the column of customer ids external_id (or customer_id)",
        ),
        (b"external_id\n\n", "file: no customer ids in the file"),
    ],
)
def test_a_bad_csv_is_refused_and_changes_nothing(shop, content, message):
    segment = segment_create(name="VIP", customer_external_ids=["ada"], now=shop.now)

    with pytest.raises(ValidationFailed) as caught:
        segment_static_upload(segment=segment, file=io.BytesIO(content))

    assert caught.value.message == message
    assert _stored(segment) == {"ada"}


def test_kinds_take_their_own_input(shop):
    with pytest.raises(ValidationFailed) as static_definition:
        segment_create(name="X", kind="static", definition=group())
    dynamic = segment_create(name="Y", definition=group(), now=shop.now)
    with pytest.raises(ValidationFailed) as dynamic_upload:
        segment_static_upload(segment=dynamic, customer_external_ids=["ada"])

    assert static_definition.value.message == (
        "definition: a static segment takes a list of customers, not a definition"
    )
    assert dynamic_upload.value.message == (
        "file: only static segments take a list; edit the definition instead"
    )
    assert list(Segment.objects.values_list("name", flat=True)) == ["Y"]
    assert dynamic.member_count == 6  # an empty AND group: everyone


def test_explanation_gives_each_condition_with_the_customers_value(shop):
    # given a segment: DE and (3+ dress views in 30 days or churn > 0.5) and not gold
    segment = segment_create(
        name="Explained",
        definition=group(
            {"type": "property", "field": "country", "operator": "equals", "value": "DE"},
            group(
                {"type": "event", "event": "product_view", "where": {"category": "dresses"},
                 "operator": "gte", "value": 3, "window": {"last_days": 30}},
                {"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.5},
                operator="or",
            ),
            {"type": "property", "field": "attributes.plan", "operator": "equals",
             "value": "gold", "negate": True},
            {"type": "order_date", "which": "last", "operator": "is_set"},
            {"type": "order", "measure": "amount", "operator": "gte", "value": 10},
        ),
        now=shop.now,
    )  # fmt: skip
    assert {m.customer.external_id for m in SegmentMembership.objects.filter(segment=segment)} \
        == {"bob"}  # fmt: skip

    # when bob's membership is explained
    explanation = segment_explain(segment=segment, customer=shop.customers["bob"], now=shop.now)

    # then every node says whether it holds and what bob has
    assert (explanation.is_member, explanation.matches, explanation.note) == (True, True, "")
    rows = [(row.depth, row.description, row.matched, row.actual) for row in
            explanation.conditions]  # fmt: skip
    last_order = (shop.now - 90 * DAY - SECOND).strftime("%Y-%m-%d %H:%M")
    assert rows == [
        (0, "All of", True, ""),
        (1, "Country is DE", True, "DE"),
        (1, "Any of", True, ""),
        (2, "Did Product view (category dresses) at least 3 times in the last 30 days", False,
         "2 times"),
        (2, "Churn risk greater than 0.5", True, "0.9"),
        (1, "Not: Attribute plan is gold", True, "not set"),
        (1, "Last purchase is set", True, last_order),
        (1, "Spent at least 10.00 on orders ever", True, "50.00 spent"),
    ]  # fmt: skip

    # and ada, who is not a member, gets the reasons too
    ada = segment_explain(segment=segment, customer=shop.customers["ada"], now=shop.now)
    assert (ada.is_member, ada.matches) == (False, False)
    assert [(row.matched, row.actual) for row in ada.conditions] == [
        (False, ""), (True, "DE"), (True, ""), (True, "3 times"), (False, "0.1"),
        (False, "gold"), (True, (shop.now - 90 * DAY).strftime("%Y-%m-%d %H:%M")),
        (True, "80.00 spent"),
    ]  # fmt: skip


def test_explanation_agrees_with_membership_for_every_customer(shop):
    definition = group(
        group(
            {"type": "score", "field": "rfm_cell", "operator": "equals", "value": "champions"},
            {"type": "order", "operator": "lt", "value": 2, "window": {"last_days": 30}},
            operator="or",
            negate=True,
        ),
        {"type": "property", "field": "attributes.visits", "operator": "lte", "value": 12},
        operator="or",
    )
    segment = segment_create(name="Agree", definition=definition, now=shop.now)
    members = _stored(segment)

    explained = {
        name
        for name, customer in shop.customers.items()
        if segment_explain(segment=segment, customer=customer, now=shop.now).matches
    }

    assert explained == members == {"ada", "dee", "eve"}


def test_static_explanation_and_memberships_for_the_profile_page(shop):
    vip = segment_create(name="VIP", customer_external_ids=["ada"], now=shop.now)
    fans = segment_create(
        name="Gold plan",
        definition=group({"type": "property", "field": "attributes.plan", "operator": "equals",
                          "value": "gold"}),
        now=shop.now,
    )  # fmt: skip

    memberships = segment_memberships_for_customer(customer_id=shop.customers["ada"].pk)

    assert [(m.segment_id, m.name, m.kind, m.since) for m in memberships] == [
        (fans.pk, "Gold plan", "dynamic", shop.now),
        (vip.pk, "VIP", "static", shop.now),
    ]
    assert [(row.description, row.matched, row.actual) for row in
            memberships[0].explanation.conditions] == [
        ("All of", True, ""), ("Attribute plan is gold", True, "gold"),
    ]  # fmt: skip
    assert memberships[1].explanation.note == "In the uploaded list of this static segment."
    assert segment_memberships_for_customer(customer_id=shop.customers["fay"].pk) == []


def test_preview_counts_and_samples_without_saving(shop):
    preview = segment_preview(
        definition=group({"type": "property", "field": "country", "operator": "in",
                          "value": ["DE", "FR"]}),
        now=shop.now,
        sample_size=2,
    )  # fmt: skip

    assert (preview.count, preview.total_customers) == (4, 6)
    assert [row["external_id"] for row in preview.sample] == ["dee", "cy"]
    assert preview.description == [(0, "All of"), (1, "Country is one of DE, FR")]
    assert Segment.objects.count() == 0
    with pytest.raises(DefinitionInvalid):
        segment_preview(definition={"conditions": [{"type": "score"}]})
