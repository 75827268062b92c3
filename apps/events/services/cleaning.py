"""Bulk writes of the cleaning pipeline on orders (and the reads it needs).

Order currencies are normalised to ISO 4217 and quality flags (negative amounts, outliers,
totals that do not add up, probable duplicates) are kept in `Order.quality_flags`; amounts are
never changed. Writes are set-based: one UPDATE per distinct value (flag lists and currencies
repeat), so a million orders take one query per distinct flag combination.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.events.models import Event, Order, Review, SocialPost

ORDER_FRAME_FIELDS = (
    "id",
    "external_id",
    "customer_id",
    "placed_at",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "total",
    "quality_flags",
)
ORDER_COMPLETENESS_FIELDS = ("customer", "currency", "coupon_code", "campaign")
EVENT_COMPLETENESS_FIELDS = ("customer", "anonymous_id", "session_id", "product", "name")
EVENT_COMPLETENESS_DAYS = 30
REVIEW_COMPLETENESS_FIELDS = ("customer", "title", "text", "language", "external_id")
SOCIAL_COMPLETENESS_FIELDS = ("customer", "product", "author_handle", "language")
# Clients' clocks drift; an event up to a day ahead is late-night timezone confusion, not bad.
FUTURE_TOLERANCE = timedelta(days=1)
KNOWN_FLAG_LENGTH = 32
ID_CHUNK = 10_000


def _frame(rows: list[tuple], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in columns:
        if name not in ("id", "placed_at"):
            frame[name] = frame[name].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def order_cleaning_frame() -> pd.DataFrame:
    """Every order's amounts, currency, customer, time and flags, indexed by id.

    Flags are read in a second query for the flagged orders only: decoding a JSON list for
    each of a million orders costs more than everything else here together.
    """
    columns = [name for name in ORDER_FRAME_FIELDS if name != "quality_flags"]
    rows = Order.objects.order_by("id").values_list(*columns)
    frame = _frame(list(rows), columns)
    flags = dict(order_flag_rows())
    frame["quality_flags"] = [list(flags.get(order_id, [])) for order_id in frame.index]
    return frame


def order_flag_rows() -> list[tuple[int, list[str]]]:
    """(order id, flags) of the orders that carry any quality flag."""
    return list(Order.objects.exclude(quality_flags=[]).values_list("id", "quality_flags"))


def order_currency_counts() -> dict[str, int]:
    """Orders per currency code as stored (one grouped query)."""
    rows = Order.objects.order_by().values_list("currency").annotate(count=Count("id"))
    return {currency: count for currency, count in rows}


def _counts(queryset: Any, model: Any, fields: Sequence[str]) -> tuple[int, dict[str, int]]:
    aggregates: dict[str, Any] = {"total": Count("id")}
    for name in fields:
        field = model._meta.get_field(name)
        empty = Q(**{f"{name}__isnull": True})
        if field.get_internal_type() in ("CharField", "TextField"):
            empty |= Q(**{name: ""})
        aggregates[name] = Count("id", filter=~empty)
    counts = queryset.aggregate(**aggregates)
    total = counts.pop("total")
    return total, {name: counts[name] for name in fields}


def order_field_counts() -> tuple[int, dict[str, int]]:
    """Number of orders and, per report field, how many have a value (one query)."""
    return _counts(Order.objects.all(), Order, ORDER_COMPLETENESS_FIELDS)


def event_field_counts(*, now: datetime | None = None) -> tuple[int, dict[str, int]]:
    """Events of the last 30 days and, per report field, how many have a value. A window
    keeps it cheap on a partitioned table of millions of rows, and says how data arrives now."""
    since = (now or timezone.now()) - timedelta(days=EVENT_COMPLETENESS_DAYS)
    return _counts(Event.objects.filter(occurred_at__gte=since), Event, EVENT_COMPLETENESS_FIELDS)


def event_validity_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Events of the last 30 days with neither a customer nor an anonymous id (nobody to
    attribute them to), and events dated more than a day in the future."""
    now = now or timezone.now()
    since = now - timedelta(days=EVENT_COMPLETENESS_DAYS)
    return {
        "unidentified": Event.objects.filter(
            occurred_at__gte=since, customer__isnull=True, anonymous_id=""
        ).count(),
        "future": Event.objects.filter(occurred_at__gt=now + FUTURE_TOLERANCE).count(),
    }


def review_field_counts() -> tuple[int, dict[str, int]]:
    """Number of reviews and, per report field, how many have a value (one query)."""
    return _counts(Review.objects.all(), Review, REVIEW_COMPLETENESS_FIELDS)


def social_post_field_counts() -> tuple[int, dict[str, int]]:
    """Number of social posts and, per report field, how many have a value (one query)."""
    return _counts(SocialPost.objects.all(), SocialPost, SOCIAL_COMPLETENESS_FIELDS)


def review_latest_change() -> dict[str, Any]:
    """When the latest review was written and the latest one recorded."""
    return Review.objects.aggregate(
        last_reviewed_at=Max("reviewed_at"), last_created_at=Max("created_at")
    )


def social_post_latest_change() -> dict[str, Any]:
    """When the latest social post was published and the latest one recorded."""
    return SocialPost.objects.aggregate(
        last_posted_at=Max("posted_at"), last_created_at=Max("created_at")
    )


def order_latest_change() -> dict[str, Any]:
    """When the latest order was placed and the latest one recorded."""
    return Order.objects.aggregate(
        last_placed_at=Max("placed_at"), last_created_at=Max("created_at")
    )


def _write_grouped(field: str, values: Mapping[int, Any]) -> int:
    now = timezone.now()
    by_value: dict[str, list[int]] = defaultdict(list)
    written: dict[str, Any] = {}
    for order_id, value in values.items():
        key = repr(value)  # flag lists are not hashable: group by their text
        by_value[key].append(order_id)
        written[key] = value
    updated = 0
    for key, ids in by_value.items():
        for start in range(0, len(ids), ID_CHUNK):
            updated += Order.objects.filter(pk__in=ids[start : start + ID_CHUNK]).update(
                **{field: written[key], "updated_at": now}
            )
    return updated


@transaction.atomic
def order_currencies_write(*, values: Mapping[int, str]) -> int:
    """Set the currency of many orders to ISO 4217 codes; returns rows written."""
    for order_id, currency in values.items():
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
            raise ValidationFailed(
                f"currency: order {order_id} needs a 3-letter ISO code, got {currency!r}",
                field="currency",
            )
    return _write_grouped("currency", values)


@transaction.atomic
def order_flags_write(*, values: Mapping[int, list[str]]) -> int:
    """Replace the quality flags of many orders (lists of short flag names)."""
    for order_id, flags in values.items():
        if not isinstance(flags, list) or not all(
            isinstance(flag, str) and 0 < len(flag) <= KNOWN_FLAG_LENGTH for flag in flags
        ):
            raise ValidationFailed(
                f"quality_flags: order {order_id} needs a list of flag names", field="quality_flags"
            )
    return _write_grouped("quality_flags", values)
