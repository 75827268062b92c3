"""Moves a customer's history (orders, events, reviews, social posts) to another customer and
back, for merging duplicate profiles and splitting them again.

A move is one UPDATE ... WHERE customer_id = old RETURNING id per table: set-based (the
events table is big and partitioned by month on PostgreSQL), and it returns exactly the rows
it moved, so the merge can record them. Moving back updates those recorded ids only, in
chunks, bounded by the moved events' time range so PostgreSQL reads only their partitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import ValidationFailed
from apps.events.models import Event, Order, Review, SocialPost

HISTORY_MODELS: dict[str, type[Model]] = {
    "orders": Order,
    "events": Event,
    "reviews": Review,
    "social_posts": SocialPost,
}
EVENTS_TIME_RANGE = "events_occurred_between"
ID_CHUNK = 10_000


def _move_returning(model: type[Model], *, from_id: int, to_id: int) -> list[tuple]:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote("customer_id")  # the ForeignKey "customer" of every history model
    assignments = f"{column} = %s"
    parameters: list[Any] = [to_id]
    if any(field.name == "updated_at" for field in model._meta.concrete_fields):
        assignments += f", {quote('updated_at')} = %s"
        parameters.append(timezone.now())
    returning = "id, occurred_at" if model is Event else "id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE {column} = %s RETURNING {returning}",  # noqa: S608 - names from model metadata
            [*parameters, from_id],
        )
        return list(cursor.fetchall())


@transaction.atomic
def customer_history_move(*, from_customer_id: int, to_customer_id: int) -> dict[str, Any]:
    """Give every order, event, review and social post of one customer to another.

    Returns the moved ids per kind (sorted) and, for events, the first and last occurred_at
    as ISO strings: what `customer_history_restore` needs to undo it.
    """
    if from_customer_id == to_customer_id:
        raise ValidationFailed("customer: cannot move history to the same customer")
    moved: dict[str, Any] = {}
    for kind, model in HISTORY_MODELS.items():
        rows = _move_returning(model, from_id=from_customer_id, to_id=to_customer_id)
        moved[kind] = sorted(int(row[0]) for row in rows)
        if model is Event and rows:
            times = [row[1] for row in rows]
            moved[EVENTS_TIME_RANGE] = [min(times).isoformat(), max(times).isoformat()]
    return moved


def _time(value: Any) -> datetime:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValidationFailed(f"moved: {value!r} is not a time", field="moved")
    return parsed


@transaction.atomic
def customer_history_restore(
    *, moved: Mapping[str, Any], from_customer_id: int, to_customer_id: int
) -> dict[str, int]:
    """Move the recorded rows back (only those still with `from_customer_id`); returns how
    many rows of each kind went back."""
    restored: dict[str, int] = {}
    time_range = moved.get(EVENTS_TIME_RANGE)
    for kind, model in HISTORY_MODELS.items():
        ids = [int(row_id) for row_id in moved.get(kind, [])]
        count = 0
        for start in range(0, len(ids), ID_CHUNK):
            queryset = model._default_manager.filter(
                pk__in=ids[start : start + ID_CHUNK], customer_id=from_customer_id
            )
            if model is Event and time_range:
                queryset = queryset.filter(
                    occurred_at__gte=_time(time_range[0]), occurred_at__lte=_time(time_range[1])
                )
            changes: dict[str, Any] = {"customer_id": to_customer_id}
            if any(field.name == "updated_at" for field in model._meta.concrete_fields):
                changes["updated_at"] = timezone.now()
            count += queryset.update(**changes)
        restored[kind] = count
    return restored
