"""Bulk creation of orders and their lines for imports: thousands of lines in a few queries.

Orders are idempotent by `Order.external_id`: an order that exists already is reported as
such and left untouched, so re-importing a file stores nothing twice. Each new order is
checked with the rules of `order_create` (its money and time helpers are reused) and its
totals computed the same way; an order with one bad line is refused as a whole, naming the
line, so no order is ever stored with lines missing. The customers of the new orders are
touched for the incremental segment refresh once the chunk commits.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from apps.catalog.selectors import product_ids_by_sku
from apps.core.errors import ValidationFailed
from apps.core.pgcopy import copy_text
from apps.customers.services.bulk import customer_bulk_ensure
from apps.customers.services.freshness import customers_touch
from apps.events.choices import OrderStatus, SalesChannel
from apps.events.models import Order, OrderLine
from apps.events.services.records import TOTAL_TOLERANCE, ZERO, _money, _not_in_future

# DecimalField(max_digits=12, decimal_places=2): the largest amount a column holds.
MAX_AMOUNT = Decimal("9999999999.99")
# PositiveIntegerField on PostgreSQL.
MAX_QUANTITY = 2_147_483_647
_BATCH_SIZE = 2000
_STATUSES = frozenset(OrderStatus.values)
_CHANNELS = frozenset(SalesChannel.values)


@dataclass(frozen=True)
class OrderImportLine:
    """One line; `key` is the caller's id for it (its row number in the file)."""

    key: int
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO


@dataclass(frozen=True)
class OrderImport:
    """One order with its lines. Empty status/channel/currency take order_create's defaults."""

    key: int
    external_id: str
    placed_at: datetime
    lines: tuple[OrderImportLine, ...]
    customer_external_id: str = ""
    status: str = ""
    channel: str = ""
    currency: str = ""
    discount_total: Decimal = ZERO
    shipping_total: Decimal = ZERO
    coupon_code: str = ""
    campaign: str = ""
    total: Decimal | None = None


@dataclass(frozen=True)
class OrderRefusal:
    """Why an order was not stored; `line_key` names the line at fault, if one is.

    `field` uses the import's names: order_id, customer_id, placed_at, status, channel,
    currency, discount_total, shipping_total, total, sku, quantity, unit_price, discount.
    """

    order_key: int
    field: str
    reason: str
    line_key: int | None = None


@dataclass(frozen=True)
class OrderBulkResult:
    """Keys of the created orders, the existing ones (with when they were stored) and refusals."""

    created: tuple[int, ...]
    existing: dict[int, datetime]
    refused: tuple[OrderRefusal, ...]
    lines_created: int = 0
    customers_created: int = 0
    unknown_skus: int = 0
    customer_ids: dict[str, int] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, field: str, reason: str, line_key: int | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.line_key = line_key


def _amount(name: str, value: Decimal, line_key: int | None = None) -> Decimal:
    try:
        amount = _money(name, value)
    except ValidationFailed as error:
        raise _Refused(name, error.message.removeprefix(f"{name}: "), line_key) from None
    if amount > MAX_AMOUNT:
        raise _Refused(name, f"{amount} is more than {MAX_AMOUNT}", line_key)
    return amount


def _built_lines(order: OrderImport, products: dict[str, int]) -> list[dict[str, Any]]:
    if not order.lines:
        raise _Refused("sku", "an order needs at least one line")
    built = []
    for line in order.lines:
        sku = line.sku.strip()
        if not sku:
            raise _Refused("sku", "must not be empty", line.key)
        if len(sku) > 64:
            raise _Refused("sku", "at most 64 characters", line.key)
        if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
            raise _Refused("quantity", "must be a whole number of at least 1", line.key)
        unit_price = _amount("unit_price", line.unit_price, line.key)
        discount = _amount("discount", line.discount, line.key)
        gross = unit_price * line.quantity
        if gross > MAX_AMOUNT:
            raise _Refused(
                "quantity", f"the line's total {gross} is more than {MAX_AMOUNT}", line.key
            )
        if discount > gross:
            raise _Refused("discount", f"{discount} is more than the line's {gross}", line.key)
        built.append(
            {
                # Lines of SKUs the catalogue does not know keep the SKU text (product
                # empty), as with order_create; they link up when the product is imported.
                "product_id": products.get(sku),
                "sku": sku,
                "quantity": line.quantity,
                "unit_price": unit_price,
                "discount": discount,
                "line_total": gross - discount,
            }
        )
    return built


def _built_order(
    order: OrderImport, products: dict[str, int]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order's and its lines' column values, checked like order_create (the customer is
    set by the caller)."""
    external_id = order.external_id.strip()
    if not external_id:
        raise _Refused("order_id", "an order needs the shop's id")
    if len(external_id) > 128:
        raise _Refused("order_id", "at most 128 characters")
    status = order.status or OrderStatus.COMPLETED
    if status not in _STATUSES:
        raise _Refused("status", f"{status!r} is not one of {', '.join(OrderStatus.values)}")
    channel = order.channel or SalesChannel.WEB
    if channel not in _CHANNELS:
        raise _Refused("channel", f"{channel!r} is not one of {', '.join(SalesChannel.values)}")
    currency = (order.currency or "USD").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise _Refused("currency", f"{currency!r} is not a three-letter code such as EUR")
    try:
        placed_at = _not_in_future("placed_at", order.placed_at)
    except ValidationFailed as error:
        raise _Refused("placed_at", error.message.removeprefix("placed_at: ")) from None
    lines = _built_lines(order, products)
    subtotal = sum((line["line_total"] for line in lines), ZERO)
    if subtotal > MAX_AMOUNT:
        raise _Refused("unit_price", f"the order's subtotal {subtotal} is more than {MAX_AMOUNT}")
    discount_total = _amount("discount_total", order.discount_total)
    shipping_total = _amount("shipping_total", order.shipping_total)
    if discount_total > subtotal:
        raise _Refused("discount_total", f"{discount_total} is more than the subtotal {subtotal}")
    computed = subtotal - discount_total + shipping_total
    if order.total is not None and abs(_amount("total", order.total) - computed) > TOTAL_TOLERANCE:
        raise _Refused(
            "total",
            f"{order.total} does not match the lines (subtotal {subtotal} - discount "
            f"{discount_total} + shipping {shipping_total} = {computed})",
        )
    if len(order.coupon_code) > 64:
        raise _Refused("coupon_code", "at most 64 characters")
    if len(order.campaign) > 128:
        raise _Refused("campaign", "at most 128 characters")
    built = {
        "external_id": external_id,
        "status": status,
        "channel": channel,
        "placed_at": placed_at,
        "currency": currency,
        "subtotal": subtotal,
        "discount_total": discount_total,
        "shipping_total": shipping_total,
        "total": computed,
        "coupon_code": order.coupon_code.strip(),
        "campaign": order.campaign.strip(),
    }
    return built, lines


@transaction.atomic
def order_bulk_create(*, orders: Sequence[OrderImport]) -> OrderBulkResult:
    """Store the new orders of a chunk with their lines; skip the ones that exist.

    Unknown customer ids get a bare profile (signed up at their first order here) rather
    than failing the order; unknown SKUs keep their text on the line, as with order_create.
    The checks run in Python so a chunk costs a few queries: existing ids, customers,
    products, one insert of orders and one of lines.
    """
    refused: list[OrderRefusal] = []
    unique: list[OrderImport] = []
    seen: dict[str, int] = {}
    for order in orders:
        external_id = order.external_id.strip()
        if external_id in seen:
            refused.append(
                OrderRefusal(
                    order_key=order.key,
                    field="order_id",
                    reason=f"order {external_id!r} appears twice (its lines must be contiguous)",
                )
            )
            continue
        seen[external_id] = order.key
        unique.append(order)

    for _attempt in range(2):
        existing = dict(
            Order.objects.filter(external_id__in=seen.keys()).values_list(
                "external_id", "created_at"
            )
        )
        try:
            with transaction.atomic():
                return _create_new(unique, existing, refused)
        except IntegrityError:
            continue  # the same orders stored concurrently: they are existing ones now
    raise ValidationFailed(
        "order_id: orders of this chunk were stored concurrently twice; retry", field="order_id"
    )


def _copy_value(column: models.Field, value: Any) -> str:
    """A value in PostgreSQL COPY text format; JSON columns are dumped first."""
    if value is not None and isinstance(column, models.JSONField):
        value = json.dumps(value)
    return copy_text(value)


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows given by attname, the other fields taking their defaults.

    On PostgreSQL with COPY, ids reserved from the table's sequence first so lines can point
    at their orders: about three times the speed of bulk_create, whose per-value preparation
    dominates at this size. Elsewhere (SQLite), bulk_create. Sets `id` on each row.
    """
    if not rows:
        return
    now = timezone.now()
    columns_of_model = [column for column in model._meta.concrete_fields if not column.primary_key]
    defaults: dict[str, Any] = {}
    for column in columns_of_model:
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            defaults[column.attname] = now
        elif column.has_default():
            defaults[column.attname] = column.get_default()
        else:
            defaults[column.attname] = None
    if connection.vendor != "postgresql":
        instances = [model(**{**defaults, **row}) for row in rows]
        model._default_manager.bulk_create(instances, batch_size=_BATCH_SIZE)
        for row, instance in zip(rows, instances, strict=True):
            row["id"] = instance.pk
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row["id"] = pk
        names = ["id", *(column.attname for column in columns_of_model)]
        lines = (
            "\t".join(
                [
                    str(row["id"]),
                    *(
                        _copy_value(column, row.get(column.attname, defaults[column.attname]))
                        for column in columns_of_model
                    ),
                ]
            )
            + "\n"
            for row in rows
        )
        buffer = io.StringIO("".join(lines))
        columns = ", ".join(connection.ops.quote_name(name) for name in names)
        with connection.wrap_database_errors:  # a duplicate id is an IntegrityError
            cursor.copy_expert(
                f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", buffer
            )


def _create_new(
    orders: list[OrderImport], existing: dict[str, datetime], refused: list[OrderRefusal]
) -> OrderBulkResult:
    refused = list(refused)
    fresh = [order for order in orders if order.external_id.strip() not in existing]
    products = product_ids_by_sku(skus={line.sku.strip() for o in fresh for line in o.lines})
    built: list[tuple[OrderImport, dict[str, Any], list[dict[str, Any]]]] = []
    for order in fresh:
        try:
            row, lines = _built_order(order, products)
        except _Refused as error:
            refused.append(
                OrderRefusal(
                    order_key=order.key,
                    field=error.field,
                    reason=error.reason,
                    line_key=error.line_key,
                )
            )
            continue
        built.append((order, row, lines))

    first_seen: dict[str, datetime] = {}
    for order, row, _lines in built:
        customer = order.customer_external_id.strip()
        if customer and (customer not in first_seen or row["placed_at"] < first_seen[customer]):
            first_seen[customer] = row["placed_at"]
    ensured = customer_bulk_ensure(first_seen=first_seen)
    for order, row, _lines in built:
        customer = order.customer_external_id.strip()
        row["customer_id"] = ensured.ids.get(customer) if customer else None

    _insert(Order, [row for _, row, _ in built])
    stored_lines: list[dict[str, Any]] = []
    for _, row, order_lines in built:
        for line in order_lines:
            line["order_id"] = row["id"]
            stored_lines.append(line)
    _insert(OrderLine, stored_lines)
    customers_touch(customer_ids=[row["customer_id"] for _, row, _ in built])
    by_id = {order.external_id.strip(): order.key for order in orders}
    return OrderBulkResult(
        created=tuple(order.key for order, _, _ in built),
        existing={by_id[external_id]: moment for external_id, moment in existing.items()},
        refused=tuple(sorted(refused, key=lambda refusal: refusal.order_key)),
        lines_created=len(stored_lines),
        customers_created=ensured.created,
        unknown_skus=sum(1 for line in stored_lines if line["product_id"] is None),
        customer_ids=ensured.ids,
    )
