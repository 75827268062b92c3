"""Writes of customer profiles, their aliases and consent decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed
from apps.customers.choices import ConsentPurpose
from apps.customers.models import Consent, Customer, CustomerAlias

# Who the person is and where: the fields cleaning reads, a merge fills and imports set.
PERSON_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "city",
    "region",
    "country",
    "language",
)
# Profile fields holding one value each (`attributes`, an object, is merged separately).
PROFILE_VALUE_FIELDS = (*PERSON_FIELDS, "signup_at", "acquisition_channel")
# Profile fields a caller may set; `external_id` is the identity and never changes.
PROFILE_FIELDS = (*PROFILE_VALUE_FIELDS, "attributes")
ALIAS_KINDS = ("anonymous", "external")
# Clocks of shops and browsers drift; a decision a little in the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)


def _normalise_profile(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not a customer field", field=unknown[0])
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "attributes":
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ValidationFailed("attributes: must be an object", field="attributes")
        elif field in ("birth_date", "signup_at"):
            pass
        elif value is None:
            value = ""
        else:
            value = str(value).strip()
        cleaned[field] = value
    if "email" in cleaned:
        cleaned["email"] = cleaned["email"].lower()
    for field in ("country", "language"):
        if field in cleaned:
            cleaned[field] = (
                cleaned[field].upper() if field == "country" else cleaned[field].lower()
            )
    return cleaned


def _save_validated(customer: Customer) -> Customer:
    try:
        customer.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as error:  # a concurrent create of the same external_id
        raise Conflict(
            f"external_id: customer {customer.external_id!r} already exists",
            code="customer_exists",
            field="external_id",
        ) from error
    return customer


@transaction.atomic
def customer_create(
    *,
    external_id: str,
    email: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    gender: str = "",
    birth_date: date | None = None,
    city: str = "",
    region: str = "",
    country: str = "",
    language: str = "",
    signup_at: datetime | None = None,
    acquisition_channel: str = "",
    attributes: dict[str, Any] | None = None,
) -> Customer:
    """Create a customer; email is stored trimmed and lower-cased so lookups match.

    Refuses (409) an `external_id` already in use: updates go through `customer_update`.
    """
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed("external_id: a customer needs the shop's id", field="external_id")
    if Customer.objects.filter(external_id=external_id).exists():
        raise Conflict(
            f"external_id: customer {external_id!r} already exists",
            code="customer_exists",
            field="external_id",
        )
    profile = _normalise_profile(
        {
            "email": email,
            "phone": phone,
            "first_name": first_name,
            "last_name": last_name,
            "gender": gender,
            "birth_date": birth_date,
            "city": city,
            "region": region,
            "country": country,
            "language": language,
            "signup_at": signup_at or timezone.now(),
            "acquisition_channel": acquisition_channel,
            "attributes": attributes,
        }
    )
    return _save_validated(Customer(external_id=external_id, **profile))


@transaction.atomic
def customer_update(*, external_id: str, changes: Mapping[str, Any]) -> tuple[Customer, bool]:
    """Upsert by `external_id`: change the given profile fields, creating the customer if new.

    Returns the customer and whether it was created. Imports and the API share it, so a
    profile is normalised (email trimmed and lower-cased) the same way whichever way it came.
    """
    external_id = external_id.strip()
    if not external_id:
        raise ValidationFailed("external_id: a customer needs the shop's id", field="external_id")
    cleaned = _normalise_profile(changes)
    customer = Customer.objects.select_for_update().filter(external_id=external_id).first()
    created = customer is None
    if customer is None:
        customer = Customer(external_id=external_id)
        if cleaned.get("signup_at") is None:
            cleaned["signup_at"] = timezone.now()
    for field, value in cleaned.items():
        setattr(customer, field, value)
    return _save_validated(customer), created


@transaction.atomic
def consent_record(
    *,
    customer: Customer,
    purpose: str,
    granted: bool,
    recorded_at: datetime | None = None,
    source: str = "api",
) -> Consent:
    """Append a consent decision. Rows are never changed: the latest per purpose is in force."""
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed(
            f"purpose: {purpose!r} is not one of {', '.join(ConsentPurpose.values)}",
            field="purpose",
        )
    now = timezone.now()
    recorded_at = recorded_at or now
    if recorded_at > now + CLOCK_SKEW:
        raise ValidationFailed(
            "recorded_at: a decision cannot be in the future", field="recorded_at"
        )
    return Consent.objects.create(
        customer=customer,
        purpose=purpose,
        granted=granted,
        recorded_at=recorded_at,
        source=source.strip()[:64],
    )


@transaction.atomic
def customer_alias_add(*, customer: Customer, alias: str, kind: str = "anonymous") -> CustomerAlias:
    """Link another id (a browser/device id, a merged profile's id) to a customer; idempotent."""
    alias = alias.strip()
    if not alias:
        raise ValidationFailed("alias: must not be empty", field="alias")
    if kind not in ALIAS_KINDS:
        raise ValidationFailed(f"kind: must be one of {', '.join(ALIAS_KINDS)}", field="kind")
    existing = CustomerAlias.objects.select_related("customer").filter(alias=alias).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise Conflict(
                f"alias: {alias!r} already belongs to customer {existing.customer.external_id!r}",
                code="alias_taken",
                field="alias",
            )
        return existing
    # An alias equal to another customer's external_id would never be found: ids win lookups.
    if Customer.objects.filter(external_id=alias).exclude(pk=customer.pk).exists():
        raise Conflict(
            f"alias: {alias!r} is another customer's external_id", code="alias_taken", field="alias"
        )
    if alias == customer.external_id:
        raise ValidationFailed("alias: is the customer's own external_id", field="alias")
    return CustomerAlias.objects.create(customer=customer, alias=alias, kind=kind)
