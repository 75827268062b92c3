"""Refreshing segments: full and incremental (which must agree), entered/exited history, size
snapshots, touches after new data, segment-of-segment cascades and cycles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from apps.accounts.models import AuditLog
from apps.core.errors import Conflict, ValidationFailed
from apps.events.tests.factories import EventFactory, OrderFactory
from apps.segments.models import (
    Segment,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentSize,
    SegmentTouchedCustomer,
)
from apps.segments.services.compiler import CompileContext, members_queryset
from apps.segments.services.segments import (
    TOUCH_PENDING_KEY,
    DefinitionInvalid,
    _apply_sets,
    definition_parse,
    segment_create,
    segment_delete,
    segment_refresh,
    segment_refresh_incremental,
    segment_static_upload,
    segment_update,
    segments_refresh_all,
    segments_touch,
)
from apps.segments.tests.segment_data import DAY, SECOND, build_shop, group, member_ids

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


def _stored(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    )


def _history(segment) -> list[tuple[str, str]]:
    return sorted(
        SegmentMembershipEvent.objects.filter(segment=segment).values_list(
            "customer__external_id", "kind"
        )
    )


def test_creating_a_dynamic_segment_computes_its_members_and_records_entries(shop):
    # when a dynamic segment is created
    segment = segment_create(
        name="Dress fans", definition=group(DRESS_VIEWS_3, {**DRESS_VIEWS_3, "value": 2},
                                            operator="or"),
        description="Viewed dresses", now=shop.now,
    )  # fmt: skip

    # then its members are stored with when they entered, and the day's size
    assert segment.kind == "dynamic" and segment.status == "ready"
    assert segment.member_count == 3 and segment.last_refreshed_at == shop.now
    assert segment.last_refresh_seconds is not None
    assert _stored(segment) == {"ada", "bob", "cy"}
    assert set(SegmentMembership.objects.filter(segment=segment).values_list("since", flat=True)) \
        == {shop.now}  # fmt: skip
    assert _history(segment) == [("ada", "entered"), ("bob", "entered"), ("cy", "entered")]
    size = SegmentSize.objects.get(segment=segment)
    assert (size.member_count, size.entered, size.exited) == (3, 3, 0)
    assert AuditLog.objects.filter(action="segments.created").count() == 1


def test_time_passing_makes_customers_exit_on_the_next_full_refresh(shop):
    # given ada in the segment through a view exactly 30 days ago
    segment = segment_create(name="Dress fans", definition=group(DRESS_VIEWS_3), now=shop.now)
    assert _stored(segment) == {"ada"}

    # when the segment refreshes one second later
    later = shop.now + SECOND
    result = segment_refresh(segment=segment, now=later)

    # then ada exited, which the history and the size record
    assert (result.member_count, result.entered, result.exited) == (0, 0, 1)
    assert _stored(segment) == set()
    assert _history(segment) == [("ada", "entered"), ("ada", "exited")]
    exited = SegmentMembershipEvent.objects.get(segment=segment, kind="exited")
    assert exited.at == later
    size = SegmentSize.objects.get(segment=segment)
    assert (size.member_count, size.entered, size.exited) == (0, 1, 1)
    segment.refresh_from_db()
    assert segment.member_count == 0


def test_a_refresh_without_changes_records_nothing(shop):
    segment = segment_create(name="No buyers", definition=group(NO_PURCHASE_90), now=shop.now)

    result = segment_refresh(segment=segment, now=shop.now)

    assert (result.member_count, result.entered, result.exited) == (3, 0, 0)
    assert SegmentMembershipEvent.objects.filter(segment=segment).count() == 3


def test_incremental_refresh_of_touched_customers_equals_a_full_refresh(shop):
    # given two identical segments refreshed in full
    definition = group(DRESS_VIEWS_3, group(NO_PURCHASE_90, {"type": "score", "field":
                       "churn_risk", "operator": "gt", "value": 0.5}), operator="or")  # fmt: skip
    incremental = segment_create(name="Incremental", definition=definition, now=shop.now)
    full = segment_create(name="Full", definition=definition, now=shop.now)
    assert _stored(incremental) == {"ada", "bob"}

    # when new behaviour arrives: cy views a third dress, bob orders, fay views three dresses
    people = shop.customers
    EventFactory(customer=people["cy"], product=shop.dress, event_type="product_view",
                 occurred_at=shop.now - DAY)  # fmt: skip
    OrderFactory(customer=people["bob"], placed_at=shop.now - DAY)
    for days in (1, 2, 3):
        EventFactory(customer=people["fay"], product=shop.dress, event_type="product_view",
                     occurred_at=shop.now - days * DAY)  # fmt: skip
    touched = [people[name].pk for name in ("cy", "bob", "fay")]
    # (at the same instant: time passing alone is the scheduled full refresh's job)
    later = shop.now
    segment_refresh_incremental(customer_ids=touched, now=later, segment_ids=[incremental.pk])
    segment_refresh(segment=full, now=later)

    # then both hold the same members, with the same entries and exits
    assert _stored(incremental) == _stored(full) == {"ada", "cy", "fay"}
    assert _stored(incremental) == member_ids(definition, later)
    assert _history(incremental) == _history(full) == [
        ("ada", "entered"), ("bob", "entered"), ("bob", "exited"), ("cy", "entered"),
        ("fay", "entered"),
    ]  # fmt: skip
    incremental.refresh_from_db()
    full.refresh_from_db()
    assert incremental.member_count == full.member_count == 3


def test_the_portable_set_diff_writes_what_the_sql_statement_writes(shop):
    # given two segments of one definition, one refreshed by the PostgreSQL statement
    definition = group(NO_PURCHASE_90)
    by_sql = segment_create(name="By SQL", definition=definition, now=shop.now)
    by_sets = Segment.objects.create(name="By sets", kind="dynamic", definition=definition)

    # when the other is diffed on sets of ids (the SQLite path)
    root = definition_parse(definition)
    new_ids = set(members_queryset(root, CompileContext(now=shop.now)))
    entered, exited = _apply_sets(by_sets, new_ids, now=shop.now, restrict_to=None)

    # then they hold the same members and history
    assert (len(entered), len(exited)) == (3, 0)
    assert _stored(by_sets) == _stored(by_sql) == {"bob", "cy", "fay"}
    assert _history(by_sets) == _history(by_sql)


def test_touching_customers_refreshes_their_segments_once_committed(
    shop, django_capture_on_commit_callbacks
):
    # given a dynamic segment and a new third dress view by cy
    cache.delete(TOUCH_PENDING_KEY)
    segment = segment_create(name="Dress fans", definition=group(DRESS_VIEWS_3), now=shop.now)
    EventFactory(customer=shop.customers["cy"], product=shop.dress, event_type="product_view",
                 occurred_at=shop.now - DAY)  # fmt: skip

    # when the ingest batch touches cy: nothing happens before the commit
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        segments_touch(customer_ids=[shop.customers["cy"].pk, None])
        assert SegmentTouchedCustomer.objects.count() == 0
    # then after the commit the (eager) task re-checked cy and emptied the touched table
    assert len(callbacks) == 1
    assert _stored(segment) == {"ada", "cy"}
    assert SegmentTouchedCustomer.objects.count() == 0
    assert cache.get(TOUCH_PENDING_KEY) is None


def test_touches_without_dynamic_segments_store_nothing(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        segments_touch(customer_ids=[shop.customers["cy"].pk])

    assert SegmentTouchedCustomer.objects.count() == 0


def test_segment_of_segment_refreshes_in_dependency_order_and_cascades(shop):
    # given a static VIP list and a dynamic segment "VIP without a purchase in 90 days"
    vip = segment_create(name="VIP", customer_external_ids=["ada", "bob"], now=shop.now)
    lapsed_vip = segment_create(
        name="Lapsed VIP",
        definition=group({"type": "segment", "operator": "in", "segment": vip.pk}, NO_PURCHASE_90),
        now=shop.now,
    )
    assert _stored(lapsed_vip) == {"bob"}

    # when fay joins the VIP list
    later = shop.now + timedelta(minutes=1)
    segment_static_upload(segment=vip, customer_external_ids=["fay"], mode="add", now=later)

    # then the dependent segment was re-checked for her at once
    assert _stored(vip) == {"ada", "bob", "fay"}
    assert _stored(lapsed_vip) == {"bob", "fay"}
    assert SegmentMembershipEvent.objects.get(segment=lapsed_vip, customer__external_id="fay").at \
        == later  # fmt: skip


def test_a_full_refresh_of_everything_follows_references(shop):
    # given B = "in A" where A (dynamic) is "did not purchase in 90 days"
    a = segment_create(name="A", definition=group(NO_PURCHASE_90), now=shop.now)
    b = segment_create(
        name="B",
        definition=group({"type": "segment", "operator": "in", "segment": a.pk},
                         {"type": "property", "field": "country", "operator": "equals",
                          "value": "US"}),
        now=shop.now,
    )  # fmt: skip
    assert _stored(b) == {"fay"}

    # when eve's last orders drift out of the window and everything refreshes
    results = segments_refresh_all(now=shop.now + 91 * DAY)

    # then A refreshed before B, and B saw A's new member eve
    assert [result.segment_id for result in results] == [a.pk, b.pk]
    assert _stored(a) == {"ada", "bob", "cy", "dee", "eve", "fay"}
    assert _stored(b) == {"eve", "fay"}


def test_a_definition_cannot_make_a_cycle_of_references(shop):
    # given A refers to nothing and B refers to A
    a = segment_create(name="A", definition=group(NO_PURCHASE_90), now=shop.now)
    b = segment_create(
        name="B",
        definition=group({"type": "segment", "operator": "in", "segment": a.pk}),
        now=shop.now,
    )

    # when A is changed to refer to B, then it is refused naming the path and the cycle
    cyclic = group(NO_PURCHASE_90, {"type": "segment", "operator": "not_in", "segment": b.pk})
    with pytest.raises(DefinitionInvalid) as caught:
        segment_update(segment=a, definition=cyclic)
    assert caught.value.message == (
        "conditions[1].segment: segment 'B' refers back to this segment (A -> B -> A)"
    )
    a.refresh_from_db()
    assert a.definition == group(NO_PURCHASE_90)

    # and a segment cannot refer to itself, nor to a segment that does not exist
    with pytest.raises(DefinitionInvalid) as itself:
        segment_update(segment=a, definition=group({"type": "segment", "segment": a.pk}))
    assert itself.value.message == "conditions[0].segment: a segment cannot refer to itself"
    with pytest.raises(DefinitionInvalid) as missing:
        segment_create(name="C", definition=group({"type": "segment", "segment": 99999}))
    assert missing.value.message == "conditions[0].segment: segment 99999 does not exist"
    assert not Segment.objects.filter(name="C").exists()


def test_a_segment_in_use_cannot_be_deleted(shop):
    a = segment_create(name="A", definition=group(NO_PURCHASE_90), now=shop.now)
    b = segment_create(
        name="B",
        definition=group({"type": "segment", "operator": "in", "segment": a.pk}),
        now=shop.now,
    )

    with pytest.raises(Conflict) as caught:
        segment_delete(segment=a)
    assert caught.value.message == "segment 'A' is used by 'B': remove those conditions first"
    assert Segment.objects.filter(pk=a.pk).exists()

    segment_delete(segment=b)
    segment_delete(segment=a)
    assert Segment.objects.count() == 0
    assert SegmentMembership.objects.count() == 0
    assert AuditLog.objects.filter(action="segments.deleted").count() == 2


def test_updating_a_definition_recomputes_and_renaming_does_not(shop):
    segment = segment_create(name="Buyers", definition=group(NO_PURCHASE_90), now=shop.now)

    renamed = segment_update(segment=segment, name="Non-buyers", description="No orders")
    assert (renamed.name, renamed.description, renamed.member_count) == (
        "Non-buyers",
        "No orders",
        3,
    )
    changed = segment_update(segment=segment, definition=group(DRESS_VIEWS_3), now=shop.now)

    assert changed.member_count == 1
    assert _stored(segment) == {"ada"}
    assert _history(segment) == [
        ("ada", "entered"), ("bob", "entered"), ("bob", "exited"), ("cy", "entered"),
        ("cy", "exited"), ("fay", "entered"), ("fay", "exited"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("  ", ValidationFailed, "name: a segment needs a name"),
        ("All", ValidationFailed, "name: 'All' is reserved (every customer)"),
        ("2024", ValidationFailed, "name: a name cannot be only digits (ids are numbers)"),
        ("dress FANS", Conflict, "name: a segment named 'dress FANS' exists already"),
    ],
)
def test_names_are_checked(shop, name, error, message):
    segment_create(name="Dress fans", definition=group(DRESS_VIEWS_3), now=shop.now)

    with pytest.raises(error) as caught:
        segment_create(name=name, definition=group(NO_PURCHASE_90))

    assert caught.value.message == message
    assert Segment.objects.count() == 1


def test_a_bad_definition_creates_nothing(shop):
    with pytest.raises(DefinitionInvalid) as caught:
        segment_create(
            name="Broken",
            definition=group({"type": "score", "field": "churn_risk", "operator": "gt",
                              "value": "high"}),
        )  # fmt: skip

    assert caught.value.message == "conditions[0].value: must be a number"
    assert caught.value.errors == [{"path": "conditions[0].value", "message": "must be a number"}]
    assert Segment.objects.count() == 0
    assert AuditLog.objects.filter(action="segments.created").count() == 0


def test_an_empty_or_group_selects_nobody_and_empties_a_segment(shop):
    # given a segment with members
    segment = segment_create(name="Dress fans", definition=group(DRESS_VIEWS_3), now=shop.now)
    assert _stored(segment) == {"ada"}

    # when its definition becomes an empty OR group (nobody), which compiles to no SQL at all
    segment_update(segment=segment, definition=group(operator="or"), now=shop.now)
    nobody = segment_create(name="Nobody", definition=group(operator="or"), now=shop.now)

    # then both refresh to no members, recording ada's exit
    assert _stored(segment) == set() and _stored(nobody) == set()
    assert _history(segment) == [("ada", "entered"), ("ada", "exited")]
    assert nobody.member_count == 0
