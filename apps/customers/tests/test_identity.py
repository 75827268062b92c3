"""Identity resolution: merging duplicate profiles keeps the whole history, and a split puts
back exactly what was there (same id, same fields, same rows)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from apps.accounts.models import AuditLog
from apps.accounts.tests.factories import UserFactory
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.customers.models import Consent, Customer, CustomerAlias, CustomerMerge
from apps.customers.services.identity import (
    customer_identity_match,
    customer_merge,
    customer_split,
)
from apps.customers.tests.factories import ConsentFactory, CustomerAliasFactory, CustomerFactory
from apps.events.models import Event, Order, Review, SocialPost
from apps.events.tests.factories import (
    EventFactory,
    OrderFactory,
    ReviewFactory,
    SocialPostFactory,
)

pytestmark = pytest.mark.django_db


def row(customer: Customer) -> dict:
    """Every stored field of a customer, including its id and both timestamps."""
    fresh = Customer.objects.get(pk=customer.pk)
    return {
        field.attname: getattr(fresh, field.attname) for field in Customer._meta.concrete_fields
    }


def history(customer_id: int) -> dict[str, list[int]]:
    return {
        "orders": sorted(
            Order.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "events": sorted(
            Event.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "reviews": sorted(
            Review.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "social_posts": sorted(
            SocialPost.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "aliases": sorted(
            CustomerAlias.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
        "consents": sorted(
            Consent.objects.filter(customer_id=customer_id).values_list("pk", flat=True)
        ),
    }


@pytest.fixture
def pair():
    survivor = CustomerFactory(external_id="keep", phone="", birth_date=None, city="Berlin")
    merged = CustomerFactory(
        external_id="dup",
        phone="+4930123456",
        birth_date=date(1990, 1, 2),
        city="Hamburg",
        attributes={"size": "M"},
        signup_at=survivor.signup_at - timedelta(days=10),
    )
    OrderFactory.create_batch(2, customer=merged)
    OrderFactory(customer=survivor)
    EventFactory.create_batch(3, customer=merged)
    ReviewFactory(customer=merged)
    SocialPostFactory(customer=merged)
    CustomerAliasFactory(customer=merged, alias="device-1")
    ConsentFactory(customer=merged)
    return survivor, merged


def test_merge_moves_every_row_fills_gaps_and_keeps_the_old_id_as_an_alias(pair):
    survivor, merged = pair
    merged_history = history(merged.pk)
    survivor_orders = history(survivor.pk)["orders"]
    admin = UserFactory()

    merge = customer_merge(
        survivor_external_id="keep", merged_external_id="dup", actor=admin, reason="admin"
    )

    assert not Customer.objects.filter(pk=merged.pk).exists()
    moved = history(survivor.pk)
    assert moved["orders"] == sorted(merged_history["orders"] + survivor_orders)
    assert moved["events"] == merged_history["events"]
    assert moved["reviews"] == merged_history["reviews"]
    assert moved["social_posts"] == merged_history["social_posts"]
    assert moved["consents"] == merged_history["consents"]
    alias = CustomerAlias.objects.get(alias="dup")
    assert (alias.customer_id, alias.kind) == (survivor.pk, "external")
    survivor.refresh_from_db()
    # empty fields filled, a set field (city) kept, the earlier sign-up and traits taken over
    assert (survivor.phone, survivor.birth_date, survivor.city) == (
        "+4930123456",
        date(1990, 1, 2),
        "Berlin",
    )
    assert survivor.signup_at == merged.signup_at
    assert survivor.attributes == {"size": "M"}
    assert merge.moved["orders"] == merged_history["orders"]
    assert merge.moved["events"] == merged_history["events"]
    assert merge.moved["aliases"] == merged_history["aliases"]
    assert merge.snapshot["external_id"] == "dup"
    assert merge.snapshot["id"] == merged.pk
    assert (merge.merged_by, merge.reason, merge.status) == (admin, "admin", "merged")
    audit = AuditLog.objects.get(action="customers.merged")
    assert audit.actor == admin
    assert audit.data["moved"] == {
        "orders": 2,
        "events": 3,
        "reviews": 1,
        "social_posts": 1,
        "aliases": 1,
        "consents": 1,
    }


def test_split_restores_exactly_the_state_before(pair):
    survivor, merged = pair
    survivor_before, merged_before = row(survivor), row(merged)
    histories_before = history(survivor.pk), history(merged.pk)
    merge = customer_merge(survivor_external_id="keep", merged_external_id="dup")

    customer_split(merge_id=merge.pk, actor_label="cli")

    restored = Customer.objects.get(external_id="dup")
    assert row(restored) == merged_before
    survivor_after = row(survivor)
    survivor_after.pop("updated_at")
    survivor_before.pop("updated_at")
    assert survivor_after == survivor_before
    assert (history(survivor.pk), history(merged.pk)) == histories_before
    assert not CustomerAlias.objects.filter(alias="dup").exists()
    merge.refresh_from_db()
    assert (merge.status, merge.split_label) == ("split", "cli")
    assert AuditLog.objects.get(action="customers.split").data["restored"] == {
        "orders": 2,
        "events": 3,
        "reviews": 1,
        "social_posts": 1,
        "aliases": 1,
        "consents": 1,
    }


def test_rows_that_arrive_after_the_merge_and_later_edits_stay_with_the_survivor(pair):
    survivor, merged = pair
    merge = customer_merge(survivor_external_id="keep", merged_external_id="dup")
    later = OrderFactory(customer=survivor)
    Customer.objects.filter(pk=survivor.pk).update(phone="+4940999999")

    customer_split(merge_id=merge.pk)

    later.refresh_from_db()
    survivor.refresh_from_db()
    assert later.customer_id == survivor.pk
    assert survivor.phone == "+4940999999"  # edited since the merge: kept
    assert survivor.birth_date is None  # filled by the merge and untouched: restored
    audit = AuditLog.objects.get(action="customers.split")
    assert audit.data["survivor_fields_kept"] == ["phone"]


def test_splitting_twice_is_refused_and_changes_nothing(pair):
    merge = customer_merge(survivor_external_id="keep", merged_external_id="dup")
    customer_split(merge_id=merge.pk)
    before = {customer.pk: row(customer) for customer in Customer.objects.all()}

    with pytest.raises(Conflict) as error:
        customer_split(merge_id=merge.pk)

    assert error.value.code == "merge_already_split"
    assert {customer.pk: row(customer) for customer in Customer.objects.all()} == before


@pytest.mark.parametrize(
    ("survivor", "merged", "error", "field"),
    [
        ("keep", "keep", ValidationFailed, "merged_external_id"),
        ("keep", "nobody", NotFound, "merged_external_id"),
        ("nobody", "dup", NotFound, "survivor_external_id"),
        ("", "dup", ValidationFailed, "survivor_external_id"),
    ],
)
def test_bad_merges_are_refused_naming_the_field_and_nothing_moves(
    pair, survivor, merged, error, field
):
    before = history(pair[1].pk)

    with pytest.raises(error) as raised:
        customer_merge(survivor_external_id=survivor, merged_external_id=merged)

    assert raised.value.field == field
    assert history(pair[1].pk) == before
    assert CustomerMerge.objects.count() == 0


def test_a_chain_of_merges_splits_back_in_reverse_order():
    a, b, c = (CustomerFactory(external_id=name) for name in ("a", "b", "c"))
    order_of_b = OrderFactory(customer=b)
    first = customer_merge(survivor_external_id="a", merged_external_id="b")
    second = customer_merge(survivor_external_id="c", merged_external_id="a")
    order_of_b.refresh_from_db()
    assert order_of_b.customer_id == c.pk

    with pytest.raises(Conflict) as blocked:
        customer_split(merge_id=first.pk)
    assert blocked.value.code == "survivor_merged_away"
    assert f"split merge {second.pk} first" in blocked.value.message

    customer_split(merge_id=second.pk)
    customer_split(merge_id=first.pk)

    order_of_b.refresh_from_db()
    assert order_of_b.customer_id == b.pk
    assert sorted(Customer.objects.values_list("pk", flat=True)) == sorted([a.pk, b.pk, c.pk])
    assert CustomerAlias.objects.count() == 0


def test_a_real_value_of_the_merged_profile_replaces_an_imputed_one():
    CustomerFactory(external_id="keep", language="de", imputed_values={"language": "de"})
    CustomerFactory(external_id="dup", language="en")

    customer_merge(survivor_external_id="keep", merged_external_id="dup")

    survivor = Customer.objects.get(external_id="keep")
    assert (survivor.language, survivor.imputed_values) == ("en", {})


def test_identity_match_by_normalised_email_phone_and_any_known_id():
    ada = CustomerFactory(email="ada@example.com", phone="+493012345678")
    bob = CustomerFactory(email="bob@example.com", phone="")
    CustomerAliasFactory(customer=bob, alias="device-9")
    CustomerFactory(email="carl@example.com")

    assert customer_identity_match(email="  ADA@Example.com ") == [ada]
    assert customer_identity_match(phone="+49 30 12345678") == [ada]
    assert customer_identity_match(external_ids=["device-9", ada.external_id]) == [ada, bob]
    assert customer_identity_match(email="", phone="", external_ids=[]) == []


def test_merge_keeps_consent_decisions_so_the_latest_stays_in_force():
    survivor = CustomerFactory(external_id="keep")
    merged = CustomerFactory(external_id="dup")
    ConsentFactory(customer=survivor, granted=True, recorded_at=timezone.now() - timedelta(days=5))
    withdrawal = ConsentFactory(customer=merged, granted=False, recorded_at=timezone.now())

    customer_merge(survivor_external_id="keep", merged_external_id="dup")

    latest = Consent.objects.filter(customer=survivor).order_by("-recorded_at").first()
    assert latest.pk == withdrawal.pk
    assert model_to_dict(latest)["granted"] is False


def test_a_profile_re_created_under_a_merged_id_merges_again_and_splits_cleanly():
    CustomerFactory(external_id="keep")
    CustomerFactory(external_id="dup")
    first = customer_merge(survivor_external_id="keep", merged_external_id="dup")
    CustomerFactory(external_id="dup")  # e.g. an import of the old id

    second = customer_merge(survivor_external_id="keep", merged_external_id="dup")
    customer_split(merge_id=second.pk)

    # the alias made by the first merge stays; the re-created profile is back
    assert CustomerAlias.objects.get(alias="dup").customer.external_id == "keep"
    assert first.moved["external_alias"] == CustomerAlias.objects.get(alias="dup").pk
    assert second.moved["external_alias"] is None
    assert Customer.objects.filter(external_id="dup").count() == 1


def test_merging_a_profile_whose_id_is_another_customers_alias_is_refused():
    CustomerFactory(external_id="keep")
    other = CustomerFactory(external_id="other")
    dup = CustomerFactory(external_id="dup")
    CustomerAlias.objects.create(customer=other, alias="dup", kind="anonymous")

    with pytest.raises(Conflict) as error:
        customer_merge(survivor_external_id="keep", merged_external_id="dup")

    assert error.value.code == "alias_taken"
    assert Customer.objects.filter(pk=dup.pk).exists()
    assert CustomerMerge.objects.count() == 0


def test_merge_and_split_touch_the_profiles_whose_orders_moved_for_segments(
    pair, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.segments.models import SegmentTouchedCustomer
    from apps.segments.services.segments import TOUCH_PENDING_KEY, segment_create

    survivor, merged = pair
    segment_create(name="Nobody", definition={"type": "group", "operator": "or"})
    cache.set(TOUCH_PENDING_KEY, 1)  # a refresh is queued: the touches wait in the table
    try:
        with django_capture_on_commit_callbacks(execute=True):
            merge = customer_merge(survivor_external_id="keep", merged_external_id="dup")
        after_merge = set(SegmentTouchedCustomer.objects.values_list("customer_id", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            customer_split(merge_id=merge.pk)
    finally:
        cache.delete(TOUCH_PENDING_KEY)

    assert after_merge == {survivor.pk}
    assert set(SegmentTouchedCustomer.objects.values_list("customer_id", flat=True)) == {
        survivor.pk,
        merged.pk,
    }


def test_scores_of_the_merged_profile_do_not_block_the_merge(
    pair, django_capture_on_commit_callbacks
):
    from apps.segments.models import CustomerScores

    # given both profiles scored (derived data, recomputed from the moved orders and events)
    survivor, merged = pair
    CustomerScores.objects.create(customer=survivor, rfm_cell="loyal")
    CustomerScores.objects.create(customer=merged, rfm_cell="lost")

    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(survivor_external_id="keep", merged_external_id="dup")

    # then the merge went through and only the survivor's scores remain
    assert not Customer.objects.filter(external_id="dup").exists()
    assert list(CustomerScores.objects.values_list("customer_id", "rfm_cell")) == [
        (survivor.pk, "loyal")
    ]
