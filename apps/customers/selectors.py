"""Reads of customer profiles, identifiers and consent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from apps.core.errors import NotFound
from apps.customers.choices import ConsentPurpose
from apps.customers.models import Consent, Customer, CustomerAlias

SORTABLE_FIELDS = {"signup_at", "-signup_at", "last_name", "-last_name", "email", "-email"}


def customer_list(
    *,
    search: str = "",
    country: str = "",
    channel: str = "",
    has_email: bool | None = None,
    consent_purpose: str = "",
    order_by: str = "-signup_at",
) -> QuerySet[Customer]:
    """Customers filtered for lists: search by id, email, name, phone or city."""
    queryset = Customer.objects.all()
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(external_id__icontains=search)
            | Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(phone__icontains=search)
            | Q(city__icontains=search)
        )
    if country:
        queryset = queryset.filter(country=country.upper())
    if channel:
        queryset = queryset.filter(acquisition_channel=channel)
    if has_email is True:
        queryset = queryset.exclude(email="")
    elif has_email is False:
        queryset = queryset.filter(email="")
    if consent_purpose:
        queryset = queryset.filter(pk__in=consented_customer_ids(purpose=consent_purpose))
    if order_by not in SORTABLE_FIELDS:
        order_by = "-signup_at"
    return queryset.order_by(order_by, "-id")


def customer_get(*, external_id: str) -> Customer:
    """A customer by external id, or by one of its aliases (anonymous ids)."""
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        alias = CustomerAlias.objects.select_related("customer").filter(alias=external_id).first()
        customer = alias.customer if alias else None
    if customer is None:
        raise NotFound(f"customer {external_id!r} does not exist", code="customer_not_found")
    return customer


def customer_id_for(*, identifier: str) -> int | None:
    """The id of the customer with this external id or alias, or None (for list filters)."""
    customer_id = (
        Customer.objects.filter(external_id=identifier).values_list("pk", flat=True).first()
    )
    if customer_id is None:
        customer_id = (
            CustomerAlias.objects.filter(alias=identifier)
            .values_list("customer_id", flat=True)
            .first()
        )
    return customer_id


def customer_alias_list(*, customer: Customer) -> QuerySet[CustomerAlias]:
    return customer.aliases.order_by("created_at", "id")


def consent_history(*, customer: Customer, purpose: str = "") -> QuerySet[Consent]:
    """Every consent decision of a customer, newest first (the first per purpose is in force)."""
    queryset = customer.consents.all()
    if purpose:
        queryset = queryset.filter(purpose=purpose)
    return queryset.order_by("-recorded_at", "-id")


def consented_customer_ids(*, purpose: str) -> QuerySet[Consent, Any]:
    """Ids of customers whose latest decision for `purpose` is a grant (no row means no)."""
    latest = (
        Consent.objects.filter(customer=OuterRef("customer"), purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values("id")[:1]
    )
    return Consent.objects.filter(purpose=purpose, granted=True, id=Subquery(latest)).values(
        "customer_id"
    )


def consent_state(*, customer: Customer) -> list[dict]:
    """The consent in force per purpose, with when and where it was recorded."""
    state = []
    rows = list(customer.consents.order_by("-recorded_at", "-id"))
    for purpose in ConsentPurpose:
        latest = next((row for row in rows if row.purpose == purpose.value), None)
        state.append(
            {
                "purpose": purpose.value,
                "label": purpose.label,
                "granted": bool(latest and latest.granted),
                "recorded_at": latest.recorded_at if latest else None,
                "source": latest.source if latest else "",
                "history": [row for row in rows if row.purpose == purpose.value],
            }
        )
    return state


def customer_order_stats(*, customer_ids: list[int]) -> dict[int, dict]:
    """Orders, revenue and last order time for a page of customers (one grouped query)."""
    from apps.events.selectors import order_revenue_queryset

    rows = (
        order_revenue_queryset()
        .filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(orders=Count("id"), revenue=Sum("total"), last_order_at=Max("placed_at"))
    )
    return {row["customer_id"]: dict(row) for row in rows}


def customer_count() -> int:
    return Customer.objects.count()


def customer_ids_by_alias(*, aliases: Iterable[str]) -> dict[str, int]:
    """Customer ids of known aliases (anonymous/device ids), for bulk event resolution."""
    wanted = {alias for alias in aliases if alias}
    if not wanted:
        return {}
    return dict(CustomerAlias.objects.filter(alias__in=wanted).values_list("alias", "customer_id"))


def customer_feature_rows() -> list[tuple[int, Any, str, str, str, bool, bool]]:
    """Every customer as `(id, signup_at, country, acquisition_channel, language, has email,
    has phone)`, plain tuples for bulk feature building (churn and purchase propensity)."""
    return list(
        Customer.objects.order_by()
        .annotate(
            has_email=~Q(email=""),
            has_phone=~Q(phone=""),
        )
        .values_list(
            "id",
            "signup_at",
            "country",
            "acquisition_channel",
            "language",
            "has_email",
            "has_phone",
        )
    )


def customer_demographic_rows() -> list[tuple[int, Any, str, Any]]:
    """Every customer as `(id, signup_at, gender, birth_date)`, plain tuples for bulk
    feature building (clustering)."""
    return list(Customer.objects.order_by().values_list("id", "signup_at", "gender", "birth_date"))


ACTIVITY_KEY_PREFIX = "customers:activity"


def activity_key(identifier: str) -> str:
    """The cache key of the activity stamp of a visitor identifier (a customer's external id,
    one of its aliases, or an anonymous id): when (time.time_ns()) events, orders or the
    record behind it last changed, as bumped by `customers_touch`; a missing key means no
    change within the stamps' lifetime. Callers read it with their own cache calls (so it
    can share a round trip with their keys)."""
    digest = hashlib.blake2b(identifier.encode("utf-8", "surrogatepass"), digest_size=16)
    return f"{ACTIVITY_KEY_PREFIX}:{digest.hexdigest()}"  # any id: no spaces, fixed length


def customer_identifiers(*, customer_ids: Iterable[int]) -> set[str]:
    """The external ids and aliases of these customers (two queries)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    found = set(Customer.objects.filter(pk__in=ids).values_list("external_id", flat=True))
    found |= set(CustomerAlias.objects.filter(customer_id__in=ids).values_list("alias", flat=True))
    return found


def customers_by_ids(*, customer_ids: Iterable[int]) -> dict[int, Customer]:
    """Customers by primary key (those that exist)."""
    return {customer.pk: customer for customer in Customer.objects.filter(pk__in=customer_ids)}


def customer_all_ids() -> QuerySet[Customer, Any]:
    """Every customer's id (a subquery or list): the built-in audience 'all'."""
    return Customer.objects.values("id")


@dataclass(frozen=True)
class ConsentDecision:
    """The decision in force for one purpose: granted or not, and where it came from."""

    granted: bool
    source: str
    recorded_at: datetime


def consent_decisions(*, customer_ids: Iterable[int], purpose: str) -> dict[int, ConsentDecision]:
    """The decision in force (latest row) per customer for `purpose`; customers without any
    row are absent (no row means no consent). One query, on any database."""
    decisions: dict[int, ConsentDecision] = {}
    rows = (
        Consent.objects.filter(customer_id__in=list(customer_ids), purpose=purpose)
        .order_by("customer_id", "recorded_at", "id")
        .values_list("customer_id", "granted", "source", "recorded_at")
    )
    for customer_id, granted, source, recorded_at in rows:
        decisions[customer_id] = ConsentDecision(granted, source, recorded_at)  # latest wins
    return decisions


# The consent purpose marketing email needs (for apps that must not import choices).
EMAIL_MARKETING = ConsentPurpose.EMAIL_MARKETING.value


def customer_ids_created_between(*, since: datetime, until: datetime) -> list[int]:
    """Customers whose profile was created in (since, until]: new customers."""
    return list(
        Customer.objects.filter(created_at__gt=since, created_at__lte=until)
        .order_by("id")
        .values_list("id", flat=True)
    )


def customer_ids_with_date(*, attribute: str, month: int, day: int) -> list[int]:
    """Customers whose date field `attribute` (birth_date, signup_at) falls on month/day."""
    if attribute not in ("birth_date", "signup_at"):
        raise ValueError(f"attribute: {attribute!r} is not a date field of customers")
    return list(
        Customer.objects.filter(**{f"{attribute}__month": month, f"{attribute}__day": day})
        .order_by("id")
        .values_list("id", flat=True)
    )
