"""Set-based reads and writes of one field over many rows, for any model.

The cleaning services of several apps load whole tables into a DataFrame, count how many rows
have a value, and write recorded changes back (one field, values by primary key). The way to
do that fast is the same whatever the model, so it lives here once; which fields may be
written, and what the values mean, stays with the app that owns the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Count, Field, Model, Q
from django.utils import timezone

from apps.core.errors import ValidationFailed

BULK_BATCH_SIZE = 1000
VALUES_BATCH_SIZE = 5000
# Where at most this many distinct values are written, one UPDATE per value is cheaper.
GROUPED_WRITE_MAX_VALUES = 50
ID_CHUNK = 10_000
# Field types where an empty string means "no value", as NULL does.
TEXT_FIELD_TYPES = ("CharField", "EmailField", "TextField", "FileField", "ImageField")
# The field, present on every cleaned model, that records which values were imputed.
IMPUTED_MARKERS_FIELD = "imputed_values"

EachWriter = Callable[[type[Model], str, Mapping[int, Any], datetime], int]


def rows_frame(
    rows: list[tuple[Any, ...]], columns: Sequence[str], *, typed: Sequence[str] = ("id",)
) -> pd.DataFrame:
    """Rows as a DataFrame indexed by their `id` column. Columns not in `typed` are made
    `object`, so writing a value of another type (a text into a NULL column) keeps it as is."""
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in columns:
        if name not in typed:
            frame[name] = frame[name].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def _empty(model: type[Model], name: str) -> Q:
    """NULL, or the empty string on text fields."""
    empty = Q(**{f"{name}__isnull": True})
    if model._meta.get_field(name).get_internal_type() in TEXT_FIELD_TYPES:
        empty |= Q(**{name: ""})
    return empty


def field_counts(model: type[Model], fields: Sequence[str]) -> tuple[int, dict[str, int]]:
    """Number of rows and, per field, how many have a value (one query)."""
    aggregates: dict[str, Any] = {"total": Count("id")}
    for name in fields:
        aggregates[name] = Count("id", filter=~_empty(model, name))
    counts = model._default_manager.aggregate(**aggregates)
    total = counts.pop("total")
    return total, {name: counts[name] for name in fields}


def writable_field_check(field: str, allowed: Sequence[str]) -> None:
    """Refuse a field the cleaning pipeline may not write."""
    if field not in allowed:
        raise ValidationFailed(
            f"field: {field!r} is not one the cleaning pipeline may write; "
            f"allowed: {', '.join(allowed)}",
            field="field",
        )


def each_bulk_update(
    model: type[Model], field: str, values: Mapping[int, Any], now: datetime
) -> int:
    """Each row its own value, through Django's bulk_update."""
    rows = [model(pk=row_id, updated_at=now) for row_id in values]
    for row in rows:
        setattr(row, field, values[row.pk])
    return model._default_manager.bulk_update(
        rows, [field, "updated_at"], batch_size=BULK_BATCH_SIZE
    )


def each_update_from_values(
    model: type[Model], field: str, values: Mapping[int, Any], now: datetime
) -> int:
    """Each row its own value. On PostgreSQL one UPDATE ... FROM (VALUES ...) per batch of
    5,000 rows (Django's bulk_update builds a CASE per row and is ten times slower here)."""
    if connection.vendor != "postgresql":
        return each_bulk_update(model, field, values, now)
    model_field = model._meta.get_field(field)
    assert isinstance(model_field, Field)  # noqa: S101 - writable fields are concrete
    quote = connection.ops.quote_name
    column, cast = quote(str(model_field.column)), str(model_field.db_type(connection))
    items = list(values.items())
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(items), VALUES_BATCH_SIZE):
            batch = items[start : start + VALUES_BATCH_SIZE]
            rows_sql = ", ".join(["(%s, %s)"] * len(batch))
            parameters: list[Any] = [now]
            for row_id, value in batch:
                parameters += [row_id, model_field.get_db_prep_value(value, connection)]
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} AS target "  # noqa: S608 - names from model metadata
                f"SET {column} = source.value::{cast}, {quote('updated_at')} = %s "
                f"FROM (VALUES {rows_sql}) AS source(id, value) WHERE target.id = source.id",
                parameters,
            )
            updated += cursor.rowcount
    return updated


def field_values_write(
    model: type[Model],
    field: str,
    values: Mapping[int, Any],
    *,
    only_empty: bool = False,
    write_each: EachWriter = each_bulk_update,
) -> int:
    """Write `values` (primary key -> value) set-based; returns the rows updated.

    One UPDATE per distinct value where values repeat (bands, imputed languages), else
    `write_each`. With `only_empty`, a row is written only where the field is empty or holds
    an earlier imputed value: a real value, even one that arrived meanwhile, is never replaced.
    """
    if not values:
        return 0
    now = timezone.now()
    by_value: dict[Any, list[int]] = defaultdict(list)
    for row_id, value in values.items():
        by_value[value].append(row_id)
    if not only_empty and len(by_value) > GROUPED_WRITE_MAX_VALUES:
        return write_each(model, field, values, now)
    updated = 0
    for value, all_ids in by_value.items():
        for start in range(0, len(all_ids), ID_CHUNK):
            queryset = model._default_manager.filter(pk__in=all_ids[start : start + ID_CHUNK])
            if only_empty:
                queryset = queryset.filter(
                    _empty(model, field) | Q(**{f"{IMPUTED_MARKERS_FIELD}__has_key": field})
                )
            updated += queryset.update(**{field: value, "updated_at": now})
    return updated
