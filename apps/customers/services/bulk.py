"""Bulk writes of customers for imports: upsert profiles by external id, ensure bare profiles.

A chunk of rows costs a few queries whatever its size. Profiles are normalised exactly like
`customer_update` (`_normalise_profile`, then the model's own validation), so a customer is
stored the same whether it came from the API, the admin or a file. Created and changed
profiles are touched for the incremental segment refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.customers.models import Customer, CustomerAlias
from apps.customers.services.freshness import customers_touch
from apps.customers.services.profiles import PROFILE_VALUE_FIELDS, _normalise_profile

# Fields an import may set (attributes are merged separately, never replaced).
IMPORT_FIELDS = PROFILE_VALUE_FIELDS
_VALIDATION_EXCLUDE = ["attributes"]


@dataclass(frozen=True)
class CustomerUpsertRow:
    """One row to upsert. `key` is the caller's id for the row (e.g. its row number).

    `changes` holds only the fields the row has a value for: a value missing from the file
    leaves the stored one alone. `attributes` are merged into the stored attributes.
    """

    key: int
    external_id: str
    changes: Mapping[str, Any]
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class CustomerRowRefusal:
    key: int
    field: str
    reason: str


@dataclass(frozen=True)
class CustomerBulkResult:
    """Keys of the rows that created, changed or matched a profile exactly, and the refusals."""

    created: tuple[int, ...]
    updated: tuple[int, ...]
    unchanged: tuple[int, ...]
    refused: tuple[CustomerRowRefusal, ...]


@dataclass(frozen=True)
class CustomerEnsureResult:
    """Customer ids by external id (or alias), and how many bare profiles were created."""

    ids: dict[str, int]
    created: int


def _refusal(key: int, error: ValidationFailed) -> CustomerRowRefusal:
    field = error.field or ""
    reason = error.message
    if field and reason.startswith(f"{field}: "):
        reason = reason[len(field) + 2 :]
    return CustomerRowRefusal(key=key, field=field, reason=reason)


def _validated(customer: Customer) -> None:
    try:
        customer.full_clean(
            exclude=_VALIDATION_EXCLUDE, validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


def _apply(customer: Customer, changes: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Set the changes on the instance; True when anything differs from what it held."""
    changed = False
    for field, value in changes.items():
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changed = True
            # A real value replaces one the cleaning pipeline imputed: its marker goes.
            imputed = getattr(customer, "imputed_values", None)
            if isinstance(imputed, dict) and field in imputed:
                customer.imputed_values = {k: v for k, v in imputed.items() if k != field}
    if attributes:
        merged = {**(customer.attributes or {}), **attributes}
        if merged != customer.attributes:
            customer.attributes = merged
            changed = True
    return changed


def _cleaned(row: CustomerUpsertRow) -> tuple[str, dict[str, Any]]:
    external_id = row.external_id.strip()
    if not external_id:
        raise ValidationFailed("external_id: a customer needs the shop's id", field="external_id")
    unknown = sorted(set(row.changes) - set(IMPORT_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not a customer field", field=unknown[0])
    for field in ("birth_date", "signup_at"):
        if field in row.changes and row.changes[field] is None:
            raise ValidationFailed(f"{field}: must not be empty", field=field)
    return external_id, _normalise_profile(row.changes)


@transaction.atomic
def customer_bulk_upsert(*, rows: Sequence[CustomerUpsertRow]) -> CustomerBulkResult:
    """Create or update customers by external id; each row is refused or applied on its own.

    Rows of the same external id apply in order (a later row wins, attributes merge). A new
    customer without `signup_at` signs up now, as with `customer_update`. Rows that would not
    change a stored profile count as unchanged, so re-importing a file changes nothing.
    """
    refused: list[CustomerRowRefusal] = []
    prepared: list[tuple[CustomerUpsertRow, str, dict[str, Any]]] = []
    for row in rows:
        try:
            external_id, changes = _cleaned(row)
        except ValidationFailed as error:
            refused.append(_refusal(row.key, error))
            continue
        prepared.append((row, external_id, changes))

    for _attempt in range(2):
        try:
            with transaction.atomic():
                created, updated, unchanged, failed = _upsert(prepared)
            break
        except IntegrityError:
            # Another writer created one of these external ids meanwhile: on the second
            # attempt those rows are updates of its profiles.
            continue
    else:
        raise ValidationFailed(
            "external_id: customers of this chunk were created concurrently twice; retry",
            field="external_id",
        )
    refused.extend(failed)
    return CustomerBulkResult(
        created=tuple(created),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        refused=tuple(sorted(refused, key=lambda refusal: refusal.key)),
    )


def _upsert(
    prepared: list[tuple[CustomerUpsertRow, str, dict[str, Any]]],
) -> tuple[list[int], list[int], list[int], list[CustomerRowRefusal]]:
    wanted = {external_id for _, external_id, _ in prepared}
    existing = {
        customer.external_id: customer
        for customer in Customer.objects.select_for_update()
        .filter(external_id__in=wanted)
        .order_by("pk")
    }
    now = timezone.now()
    fresh: dict[str, Customer] = {}
    touched: dict[str, Customer] = {}
    created: list[int] = []
    updated: list[int] = []
    unchanged: list[int] = []
    refused: list[CustomerRowRefusal] = []
    for row, external_id, changes in prepared:
        customer = existing.get(external_id) or fresh.get(external_id)
        is_new = customer is None
        if customer is None:
            customer = Customer(external_id=external_id, signup_at=now)
        # Validate a copy: a refused row must leave the profile as the earlier rows left it.
        candidate = Customer(**{
            field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields
        })  # fmt: skip
        changed = _apply(candidate, changes, row.attributes)
        try:
            _validated(candidate)
        except ValidationFailed as error:
            refused.append(_refusal(row.key, error))
            continue
        if is_new:
            fresh[external_id] = candidate
            created.append(row.key)
        elif external_id in fresh:
            fresh[external_id] = candidate
            updated.append(row.key)
        elif changed:
            candidate.updated_at = now
            existing[external_id] = touched[external_id] = candidate
            updated.append(row.key)
        else:
            unchanged.append(row.key)
    if fresh:
        Customer.objects.bulk_create(list(fresh.values()), batch_size=1000)
    if touched:
        fields = [*IMPORT_FIELDS, "attributes", "updated_at"]
        if hasattr(Customer, "imputed_values"):
            fields.append("imputed_values")
        Customer.objects.bulk_update(list(touched.values()), fields=fields, batch_size=1000)
    # New and changed profiles may enter or leave segments (country, attributes, sign-up).
    customers_touch(customer_ids=[customer.pk for customer in [*fresh.values(), *touched.values()]])
    return created, updated, unchanged, refused


# savepoint=False: the ingest pipeline calls it inside its transaction on every batch; one
# INSERT ... ON CONFLICT and a few SELECTs need no savepoint of their own.
@transaction.atomic(savepoint=False)
def customer_bulk_ensure(*, first_seen: Mapping[str, datetime | None]) -> CustomerEnsureResult:
    """Ids of customers by external id (or alias); unknown ones get a bare profile.

    `first_seen` maps each id to when it was first seen (e.g. its earliest order), which
    becomes the bare profile's sign-up time, so tenure and CLV analyses see a real date.
    Race-safe: a profile created concurrently is found, not duplicated.
    """
    wanted = {external_id.strip() for external_id in first_seen if external_id.strip()}
    if not wanted:
        return CustomerEnsureResult(ids={}, created=0)
    ids = dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
    missing = wanted - ids.keys()
    if missing:
        ids.update(
            CustomerAlias.objects.filter(alias__in=missing).values_list("alias", "customer_id")
        )
    missing = wanted - ids.keys()
    created = 0
    if missing:
        now = timezone.now()
        moments = {key.strip(): value for key, value in first_seen.items()}
        Customer.objects.bulk_create(
            [
                Customer(external_id=external_id, signup_at=moments.get(external_id) or now)
                for external_id in sorted(missing)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        found = dict(
            Customer.objects.filter(external_id__in=missing, created_at__gte=now).values_list(
                "external_id", "pk"
            )
        )
        created = len(found)
        ids.update(
            Customer.objects.filter(external_id__in=missing).values_list("external_id", "pk")
        )
    return CustomerEnsureResult(ids=ids, created=created)
