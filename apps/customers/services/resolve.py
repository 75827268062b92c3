"""Bulk identity resolution for event ingestion: ids of customers by external id or alias.

The events pipeline resolves a whole batch in a few queries: customers named by `user_id` are
ensured by `customer_bulk_ensure` (bulk.py: created bare when unknown, as PostHog creates a
person on first sight; a merged profile's id resolves to its survivor), anonymous ids link to a
customer on `identify`/`alias`, and identify traits update the profile, normalised like every
other write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from apps.core.errors import ValidationFailed
from apps.customers.models import Customer, CustomerAlias
from apps.customers.services.profiles import _normalise_profile

# Segment's reserved identify traits and the profile fields they fill.
TRAIT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "first_name": "first_name",
    "firstName": "first_name",
    "last_name": "last_name",
    "lastName": "last_name",
    "gender": "gender",
    "birthday": "birth_date",
    "birth_date": "birth_date",
    "language": "language",
    "city": "city",
    "country": "country",
    "region": "region",
}
ADDRESS_FIELDS = {"city": "city", "country": "country", "state": "region", "region": "region"}


@transaction.atomic(savepoint=False)
def customer_aliases_link(
    *, links: Mapping[str, int], kind: str = "anonymous"
) -> tuple[dict[str, int], set[str]]:
    """Link aliases to customer ids; an alias already linked keeps its first customer.

    Returns the customer id each alias belongs to after the call, and the aliases this call
    linked (their earlier anonymous history is the caller's to claim). Aliases equal to a
    customer's external id are left alone (external ids win lookups).
    """
    links = {alias: customer_id for alias, customer_id in links.items() if alias}
    if not links:
        return {}, set()
    existing = dict(
        CustomerAlias.objects.filter(alias__in=links.keys()).values_list("alias", "customer_id")
    )
    candidates = {alias: links[alias] for alias in links.keys() - existing.keys()}
    if candidates:
        taken = set(
            Customer.objects.filter(external_id__in=candidates.keys()).values_list(
                "external_id", flat=True
            )
        )
        CustomerAlias.objects.bulk_create(
            [
                CustomerAlias(alias=alias, customer_id=customer_id, kind=kind)
                for alias, customer_id in sorted(candidates.items())
                if alias not in taken
            ],
            ignore_conflicts=True,
        )
        existing.update(
            CustomerAlias.objects.filter(alias__in=candidates.keys()).values_list(
                "alias", "customer_id"
            )
        )
    linked = {
        alias for alias, customer_id in candidates.items() if existing.get(alias) == customer_id
    }
    return existing, linked


def traits_to_profile(traits: Mapping[str, Any]) -> dict[str, Any]:
    """Profile changes from Segment identify traits; other traits go into `attributes`."""
    changes: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in traits.items():
        if key in TRAIT_FIELDS and isinstance(value, str | int | float) and value != "":
            changes[TRAIT_FIELDS[key]] = str(value)
        elif key == "name" and isinstance(value, str) and value.strip():
            first, _, last = value.strip().partition(" ")
            changes.setdefault("first_name", first)
            if last:
                changes.setdefault("last_name", last)
        elif key == "address" and isinstance(value, dict):
            for address_key, field in ADDRESS_FIELDS.items():
                if isinstance(value.get(address_key), str) and value[address_key]:
                    changes.setdefault(field, value[address_key])
        elif key not in TRAIT_FIELDS and key != "name":
            extra[key] = value
    if "birth_date" in changes:
        try:
            changes["birth_date"] = date.fromisoformat(changes["birth_date"][:10])
        except ValueError as error:
            raise ValidationFailed(
                f"traits.birthday: {changes['birth_date']!r} is not a date (YYYY-MM-DD)",
                field="traits.birthday",
            ) from error
    if extra:
        changes["attributes"] = extra
    return changes


@transaction.atomic(savepoint=False)
def customer_traits_apply_many(
    *, traits_by_customer_id: Mapping[int, Mapping[str, Any]]
) -> dict[int, ValidationFailed]:
    """Apply identify traits to many existing customers; returns the refusals by customer id.

    One SELECT for all of them; a profile is written only when a trait changes it (browsers
    re-send the same traits on every identify, so most calls write nothing). Each changed
    profile is validated and saved in its own savepoint, in external-id order (no deadlocks
    between concurrent batches); attributes are merged, not replaced.
    """
    refusals: dict[int, ValidationFailed] = {}
    changes_by_id: dict[int, dict[str, Any]] = {}
    for customer_id, traits in traits_by_customer_id.items():
        try:
            changes = traits_to_profile(traits)
            if changes:
                changes_by_id[customer_id] = _normalise_profile(changes)
        except ValidationFailed as error:
            refusals[customer_id] = error
    if not changes_by_id:
        return refusals
    customers = Customer.objects.in_bulk(list(changes_by_id))
    for customer_id in sorted(changes_by_id):
        customer = customers.get(customer_id)
        if customer is None:
            continue
        changes = changes_by_id[customer_id]
        if "attributes" in changes:
            changes["attributes"] = {**(customer.attributes or {}), **changes["attributes"]}
        changed = [field for field, value in changes.items() if getattr(customer, field) != value]
        if not changed:
            continue
        original = {field: getattr(customer, field) for field in changed}
        for field in changed:
            setattr(customer, field, changes[field])
        try:
            customer.full_clean(
                exclude=[f.name for f in Customer._meta.fields if f.name not in changed],
                validate_unique=False,
                validate_constraints=False,
            )
            customer.save(update_fields=[*changed, "updated_at"])
        except DjangoValidationError as error:
            for field, value in original.items():
                setattr(customer, field, value)
            refusals[customer_id] = ValidationFailed.from_django(error)
    return refusals
