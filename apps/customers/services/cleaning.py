"""Bulk writes of the cleaning pipeline on customer profiles (and the reads it needs).

The pipeline (apps.quality) decides what to change; these functions write it set-based:
one UPDATE per distinct value where values repeat (bands, imputed languages), one
UPDATE ... FROM (VALUES ...) per 5,000 rows where each row gets its own value (normalised
emails and phones). Nothing here saves row by row, so 100,000 customers take seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, Field, Q
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.customers.models import Customer

# Fields the pipeline may rewrite (normalise or derive).
CLEANABLE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "region",
    "country",
    "language",
    "age_band",
)
# Fields the pipeline may fill when empty, marking them in `imputed_values`.
IMPUTABLE_FIELDS = ("country", "language", "region", "age_band")
FRAME_FIELDS = (
    "id",
    "external_id",
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
    "signup_at",
    "created_at",
    "age_band",
    "imputed_values",
)
# Fields whose completeness the quality report shows (empty string or NULL is missing).
COMPLETENESS_FIELDS = (
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
    "signup_at",
    "acquisition_channel",
)
BULK_BATCH_SIZE = 1000
VALUES_BATCH_SIZE = 5000
# Where at most this many distinct values are written, one UPDATE per value is cheaper.
GROUPED_WRITE_MAX_VALUES = 50
ID_CHUNK = 10_000


def customer_cleaning_frame() -> pd.DataFrame:
    """Every customer's cleanable fields as a DataFrame indexed by id (one query)."""
    rows = Customer.objects.order_by("id").values_list(*FRAME_FIELDS)
    frame = pd.DataFrame.from_records(list(rows), columns=list(FRAME_FIELDS))
    for name in FRAME_FIELDS:
        if name not in ("id", "signup_at", "created_at"):
            frame[name] = frame[name].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def customer_field_counts() -> tuple[int, dict[str, int]]:
    """Number of customers and, per report field, how many have a value (one query)."""
    aggregates: dict[str, Any] = {"total": Count("id")}
    for name in COMPLETENESS_FIELDS:
        field = Customer._meta.get_field(name)
        empty = Q(**{f"{name}__isnull": True})
        if field.get_internal_type() in ("CharField", "EmailField", "TextField"):
            empty |= Q(**{name: ""})
        aggregates[name] = Count("id", filter=~empty)
    counts = Customer.objects.aggregate(**aggregates)
    total = counts.pop("total")
    return total, {name: counts[name] for name in COMPLETENESS_FIELDS}


def customer_latest_change() -> dict[str, Any]:
    """When a customer was last created and last signed up (freshness of the entity)."""
    return {
        "last_created_at": Customer.objects.order_by("-created_at")
        .values_list("created_at", flat=True)
        .first(),
        "last_signup_at": Customer.objects.exclude(signup_at=None)
        .order_by("-signup_at")
        .values_list("signup_at", flat=True)
        .first(),
    }


def _check_field(field: str, allowed: Sequence[str]) -> None:
    if field not in allowed:
        raise ValidationFailed(
            f"field: {field!r} is not one the cleaning pipeline may write; "
            f"allowed: {', '.join(allowed)}",
            field="field",
        )


def _write_values(field: str, values: Mapping[int, Any], *, only_empty: bool = False) -> int:
    """Write `values` (customer id -> value) set-based; returns the rows updated."""
    if not values:
        return 0
    now = timezone.now()
    by_value: dict[Any, list[int]] = defaultdict(list)
    for customer_id, value in values.items():
        by_value[value].append(customer_id)
    if only_empty or len(by_value) <= GROUPED_WRITE_MAX_VALUES:
        updated = 0
        for value, all_ids in by_value.items():
            for start in range(0, len(all_ids), ID_CHUNK):
                queryset = Customer.objects.filter(pk__in=all_ids[start : start + ID_CHUNK])
                if only_empty:  # never overwrite a real value, even one that arrived meanwhile
                    queryset = queryset.filter(
                        Q(**{f"{field}__isnull": True})
                        | Q(**{field: ""})
                        | Q(imputed_values__has_key=field)
                    )
                updated += queryset.update(**{field: value, "updated_at": now})
        return updated
    return _write_each(field, values, now)


def _write_each(field: str, values: Mapping[int, Any], now: Any) -> int:
    """Each row its own value. On PostgreSQL one UPDATE ... FROM (VALUES ...) per batch of
    5,000 rows (Django's bulk_update builds a CASE per row and is ten times slower here)."""
    if connection.vendor != "postgresql":
        rows = [Customer(pk=customer_id, updated_at=now) for customer_id in values]
        for row in rows:
            setattr(row, field, values[row.pk])
        return Customer.objects.bulk_update(rows, [field, "updated_at"], batch_size=BULK_BATCH_SIZE)
    model_field = Customer._meta.get_field(field)
    assert isinstance(model_field, Field)  # noqa: S101 - CLEANABLE_FIELDS are concrete
    quote = connection.ops.quote_name
    column, cast = quote(str(model_field.column)), str(model_field.db_type(connection))
    items = list(values.items())
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(items), VALUES_BATCH_SIZE):
            batch = items[start : start + VALUES_BATCH_SIZE]
            rows_sql = ", ".join(["(%s, %s)"] * len(batch))
            parameters: list[Any] = [now]
            for customer_id, value in batch:
                parameters += [customer_id, model_field.get_db_prep_value(value, connection)]
            cursor.execute(
                f"UPDATE {quote(Customer._meta.db_table)} AS target "  # noqa: S608 - names from model metadata
                f"SET {column} = source.value::{cast}, {quote('updated_at')} = %s "
                f"FROM (VALUES {rows_sql}) AS source(id, value) WHERE target.id = source.id",
                parameters,
            )
            updated += cursor.rowcount
    return updated


@transaction.atomic
def customer_fields_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Rewrite one field of many customers (normalised or derived values); returns rows
    written. Only the cleaning pipeline's fields may be written this way."""
    _check_field(field, CLEANABLE_FIELDS)
    return _write_values(field, values)


@transaction.atomic
def customer_imputed_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Fill one field of many customers where it is empty (or holds an earlier imputed
    value); rows with a real value keep it, even one that arrived since the rows were read.

    The caller records which rows were imputed through `customer_imputation_markers_write`.
    """
    _check_field(field, IMPUTABLE_FIELDS)
    return _write_values(field, values, only_empty=True)


@transaction.atomic
def customer_imputation_markers_write(*, markers: Mapping[int, dict[str, Any]]) -> int:
    """Set `imputed_values` ({field: value used}) of many customers."""
    for customer_id, marker in markers.items():
        if not isinstance(marker, dict):
            raise ValidationFailed(
                f"imputed_values: customer {customer_id} needs an object", field="imputed_values"
            )
    return _write_each("imputed_values", markers, timezone.now())
