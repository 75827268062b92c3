"""Per-kind row parsing: field values (after mapping) to typed rows, or a RowProblem.

Only types and shapes are checked here (a number is a number, a date a date, a required value
present); business rules (choices, totals, a review's product existing) stay with the services
that write the rows, so an import and the API refuse the same things.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from apps.imports.engine import values as parse
from apps.imports.engine.values import RowProblem

GENDER_SPELLINGS = {"f": "female", "w": "female", "woman": "female", "m": "male", "man": "male"}
PLATFORM_SPELLINGS = {"x": "twitter", "x/twitter": "twitter", "ig": "instagram", "fb": "facebook"}
DEFAULT_REVIEW_SOURCE = "import"
ZERO = Decimal("0")


@dataclass(frozen=True)
class CustomerRow:
    """A profile upsert: only the fields the row has a value for change."""

    row_number: int
    external_id: str
    changes: dict[str, Any]
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ProductRow:
    """A product upsert by SKU: the changes for `product_update` (category as written)."""

    row_number: int
    sku: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class OrderHeader:
    """The order-level values, read from the first line of an order."""

    order_id: str
    placed_at: datetime
    customer_id: str = ""
    status: str = ""
    channel: str = ""
    currency: str = ""
    discount_total: Decimal = ZERO
    shipping_total: Decimal = ZERO
    coupon_code: str = ""
    campaign: str = ""
    total: Decimal | None = None


@dataclass(frozen=True)
class OrderLineRow:
    row_number: int
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO


@dataclass(frozen=True)
class EventRow:
    """A Segment-style message for the ingestion pipeline."""

    row_number: int
    message: dict[str, Any]


@dataclass(frozen=True)
class ReviewRow:
    row_number: int
    product_sku: str
    rating: int
    reviewed_at: datetime
    external_id: str
    source: str
    customer_external_id: str = ""
    title: str = ""
    text: str = ""
    language: str = ""


@dataclass(frozen=True)
class SocialRow:
    row_number: int
    platform: str
    external_id: str
    text: str
    posted_at: datetime
    author_handle: str = ""
    likes: int = 0
    shares: int = 0
    language: str = ""
    product_sku: str = ""
    customer_external_id: str = ""


def _required(value: Any, name: str) -> Any:
    if value is None or value == "":
        raise RowProblem(name, "is required and empty")
    return value


def _word(value: Any, name: str, max_length: int = 32) -> str:
    """Lower-case choice words: 'Paid Search' -> 'paid_search'."""
    return parse.text(value, name, max_length=max_length).lower().replace(" ", "_")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


def _extras(extras: dict[str, Any]) -> dict[str, Any]:
    """Extra columns kept as attributes/properties: empty ones left out, text trimmed."""
    kept = {}
    for column, value in extras.items():
        if parse.is_empty(value):
            continue
        if _has_nul(column) or _has_nul(value):
            raise RowProblem(column, "contains a NUL character")
        kept[column] = parse.plain(value)
    return kept


def customer_row(row_number: int, fields: dict[str, Any], extras: dict[str, Any]) -> CustomerRow:
    external_id = parse.text(
        fields.get("external_id"), "external_id", max_length=128, required=True
    )
    changes: dict[str, Any] = {}
    for name in (
        "email",
        "phone",
        "first_name",
        "last_name",
        "city",
        "region",
        "country",
        "language",
    ):
        value = parse.text(fields.get(name), name)
        if value:
            changes[name] = value
    gender = _word(fields.get("gender"), "gender")
    if gender:
        changes["gender"] = GENDER_SPELLINGS.get(gender, gender)
    channel = _word(fields.get("acquisition_channel"), "acquisition_channel")
    if channel:
        changes["acquisition_channel"] = channel
    birth_date: date | None = parse.day(fields.get("birth_date"), "birth_date")
    if birth_date is not None:
        changes["birth_date"] = birth_date
    signup_at = parse.moment(fields.get("signup_at"), "signup_at")
    if signup_at is not None:
        changes["signup_at"] = signup_at
    return CustomerRow(
        row_number=row_number,
        external_id=external_id,
        changes=changes,
        attributes=_extras(extras),
    )  # fmt: skip


def product_row(row_number: int, fields: dict[str, Any], extras: dict[str, Any]) -> ProductRow:
    sku = parse.text(fields.get("sku"), "sku", max_length=64, required=True)
    changes: dict[str, Any] = {}
    for name in ("title", "description", "category", "brand", "currency"):
        value = parse.text(fields.get(name), name)
        if value:
            changes[name] = value
    for name in ("price", "cost"):
        number = parse.decimal(fields.get(name), name)
        if number is not None:
            changes[name] = number
    stock = parse.integer(fields.get("stock"), "stock")
    if stock is not None:
        changes["stock"] = stock
    tags = parse.tag_list(fields.get("tags"), "tags")
    if tags is not None:
        changes["tags"] = tags
    is_active = parse.boolean(fields.get("is_active"), "is_active")
    if is_active is not None:
        changes["is_active"] = is_active
    launched_at = parse.moment(fields.get("launched_at"), "launched_at")
    if launched_at is not None:
        changes["launched_at"] = launched_at
    return ProductRow(row_number=row_number, sku=sku, changes=changes)


def order_id_of(fields: dict[str, Any]) -> str:
    """The order a line belongs to (raises when empty: the line cannot be placed)."""
    return parse.text(fields.get("order_id"), "order_id", max_length=128, required=True)


def order_header(fields: dict[str, Any]) -> OrderHeader:
    placed_at = _required(parse.moment(fields.get("placed_at"), "placed_at"), "placed_at")
    return OrderHeader(
        order_id=order_id_of(fields),
        placed_at=placed_at,
        customer_id=parse.text(fields.get("customer_id"), "customer_id", max_length=128),
        status=_word(fields.get("status"), "status", max_length=16),
        channel=_word(fields.get("channel"), "channel", max_length=16),
        currency=parse.text(fields.get("currency"), "currency", max_length=3).upper(),
        discount_total=parse.decimal(fields.get("discount_total"), "discount_total") or ZERO,
        shipping_total=parse.decimal(fields.get("shipping_total"), "shipping_total") or ZERO,
        coupon_code=parse.text(fields.get("coupon_code"), "coupon_code", max_length=64),
        campaign=parse.text(fields.get("campaign"), "campaign", max_length=128),
        total=parse.decimal(fields.get("total"), "total"),
    )


def order_line(row_number: int, fields: dict[str, Any]) -> OrderLineRow:
    unit_price = _required(parse.decimal(fields.get("unit_price"), "unit_price"), "unit_price")
    quantity = parse.integer(fields.get("quantity"), "quantity")
    return OrderLineRow(
        row_number=row_number,
        sku=parse.text(fields.get("sku"), "sku", max_length=64, required=True),
        quantity=1 if quantity is None else quantity,
        unit_price=unit_price,
        discount=parse.decimal(fields.get("discount"), "discount") or ZERO,
    )


def event_row(row_number: int, fields: dict[str, Any], extras: dict[str, Any]) -> EventRow:
    message_type = _word(fields.get("type"), "type", max_length=16) or "track"
    properties = parse.json_object(fields.get("properties"), "properties")
    properties = {**properties, **_extras(extras)}
    message: dict[str, Any] = {
        "type": message_type,
        "message_id": parse.text(fields.get("event_id"), "event_id", max_length=128, required=True),
    }
    name = parse.text(fields.get("event"), "event", max_length=128)
    if message_type == "track":
        message["event"] = name
    elif name:
        message["name"] = name
    for key in ("user_id", "anonymous_id"):
        value = parse.text(fields.get(key), key, max_length=128)
        if value:
            message[key] = value
    timestamp = fields.get("timestamp")
    if not parse.is_empty(timestamp):
        message["timestamp"] = timestamp.strip() if isinstance(timestamp, str) else timestamp
    message["traits" if message_type == "identify" else "properties"] = properties
    return EventRow(row_number=row_number, message=message)


def _derived_review_id(row: dict[str, Any]) -> str:
    """A stable id for a review without one: the same row content gives the same id."""
    canonical = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
    return "row-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def review_row(row_number: int, fields: dict[str, Any], extras: dict[str, Any]) -> ReviewRow:
    rating = _required(parse.integer(fields.get("rating"), "rating"), "rating")
    if not 1 <= rating <= 5:
        raise RowProblem("rating", f"{rating} is not a whole number from 1 to 5")
    reviewed_at = _required(parse.moment(fields.get("reviewed_at"), "reviewed_at"), "reviewed_at")
    content = {
        "product_sku": parse.text(fields.get("sku"), "sku", max_length=64, required=True),
        "customer_external_id": parse.text(
            fields.get("customer_id"), "customer_id", max_length=128
        ),
        "title": parse.text(fields.get("title"), "title", max_length=255),
        "text": parse.text(fields.get("text"), "text"),
        "language": parse.text(fields.get("language"), "language", max_length=8).lower(),
    }
    source = parse.text(fields.get("source"), "source", max_length=64) or DEFAULT_REVIEW_SOURCE
    external_id = parse.text(fields.get("external_id"), "external_id", max_length=128)
    if not external_id:
        external_id = _derived_review_id(
            {**content, "rating": rating, "reviewed_at": reviewed_at.isoformat(), "source": source}
        )
    return ReviewRow(
        row_number=row_number,
        rating=rating,
        reviewed_at=reviewed_at,
        external_id=external_id,
        source=source,
        **content,
    )


def social_row(row_number: int, fields: dict[str, Any], extras: dict[str, Any]) -> SocialRow:
    platform = _word(fields.get("platform"), "platform", max_length=20)
    if not platform:
        raise RowProblem("platform", "is required and empty")
    counts = {}
    for name in ("likes", "shares"):
        count = parse.integer(fields.get(name), name)
        if count is not None and count < 0:
            raise RowProblem(name, f"{count} is negative")
        counts[name] = count or 0
    posted_at = _required(parse.moment(fields.get("posted_at"), "posted_at"), "posted_at")
    return SocialRow(
        row_number=row_number,
        platform=PLATFORM_SPELLINGS.get(platform, platform),
        external_id=parse.text(
            fields.get("external_id"), "external_id", max_length=128, required=True
        ),
        text=parse.text(fields.get("text"), "text", required=True),
        posted_at=posted_at,
        author_handle=parse.text(fields.get("author_handle"), "author_handle", max_length=128),
        language=parse.text(fields.get("language"), "language", max_length=8).lower(),
        product_sku=parse.text(fields.get("sku"), "sku", max_length=64),
        customer_external_id=parse.text(fields.get("customer_id"), "customer_id", max_length=128),
        **counts,
    )
