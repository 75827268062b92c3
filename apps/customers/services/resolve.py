"""Bulk identity resolution for event ingestion: ids of customers by external id or alias.

The events pipeline resolves a whole batch in a few queries: customers named by `user_id` are
created bare when unknown (PostHog creates a person on first sight too), anonymous ids link to
a customer on `identify`/`alias`, and identify traits update the profile through
`customer_update` so they are normalised like every other write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction

from apps.core.errors import ValidationFailed
from apps.customers.models import Customer, CustomerAlias
from apps.customers.services.profiles import customer_update

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


@transaction.atomic
def customer_ids_ensure(*, external_ids: Iterable[str]) -> dict[str, int]:
    """Customer ids by external id; unknown ids get a bare profile (race-safe, bulk)."""
    wanted = {external_id for external_id in external_ids if external_id}
    if not wanted:
        return {}
    found = dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
    missing = sorted(wanted - found.keys())
    if missing:
        Customer.objects.bulk_create(
            [Customer(external_id=external_id) for external_id in missing],
            ignore_conflicts=True,
        )
        found.update(
            Customer.objects.filter(external_id__in=missing).values_list("external_id", "pk")
        )
    return found


@transaction.atomic
def customer_aliases_link(*, links: Mapping[str, int], kind: str = "anonymous") -> dict[str, int]:
    """Link aliases to customer ids; an alias already linked keeps its first customer.

    Returns the customer id each alias belongs to after the call. Aliases equal to a
    customer's external id are left alone (external ids win lookups).
    """
    links = {alias: customer_id for alias, customer_id in links.items() if alias}
    if not links:
        return {}
    taken = set(
        Customer.objects.filter(external_id__in=links.keys()).values_list("external_id", flat=True)
    )
    CustomerAlias.objects.bulk_create(
        [
            CustomerAlias(alias=alias, customer_id=customer_id, kind=kind)
            for alias, customer_id in sorted(links.items())
            if alias not in taken
        ],
        ignore_conflicts=True,
    )
    return dict(
        CustomerAlias.objects.filter(alias__in=links.keys()).values_list("alias", "customer_id")
    )


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


@transaction.atomic
def customer_traits_apply(*, external_id: str, traits: Mapping[str, Any]) -> None:
    """Update a profile from identify traits; attributes are merged, not replaced.

    Raises ValidationFailed naming the trait's field (e.g. `email`) for a bad value.
    """
    changes = traits_to_profile(traits)
    if not changes:
        return
    if "attributes" in changes:
        current = (
            Customer.objects.filter(external_id=external_id)
            .values_list("attributes", flat=True)
            .first()
        )
        changes["attributes"] = {**(current or {}), **changes["attributes"]}
    customer_update(external_id=external_id, changes=changes)
