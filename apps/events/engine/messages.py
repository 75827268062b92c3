"""Validation and normalisation of Segment-style messages (track, page, screen, identify, alias).

Pure Python: no Django, no database. `message_parse` turns one received message into either a
`ParsedMessage` ready to store or a `MessageError` naming the field and the reason. Both the
snake_case names of our API and the camelCase names of Segment/RudderStack libraries
(messageId, userId, anonymousId, previousId, sentAt) are accepted, so existing SDKs work.

The fingerprint is a blake2b-128 of the canonical message (sorted keys) without `sent_at`,
which a client's retry changes; two copies with the same fingerprint are the same message (a
natural duplicate), different fingerprints under one message id are a conflict.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

MESSAGE_TYPES = ("track", "page", "screen", "identify", "alias")
MAX_MESSAGE_BYTES = 32 * 1024
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 128
MAX_SOURCE_LENGTH = 64
# A client clock a little ahead of ours is normal; further ahead is a bug on the client.
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

# Segment e-commerce spec event names (case-insensitive) and our own type names.
TRACK_EVENT_TYPES = {
    "product viewed": "product_view",
    "product added": "add_to_cart",
    "product removed": "remove_from_cart",
    "products searched": "search",
    "product searched": "search",
    "checkout started": "checkout",
    "order completed": "purchase",
    "email opened": "email_open",
    "email link clicked": "email_click",
    "email sent": "email_sent",
    "email delivered": "email_delivered",
    "email bounced": "email_bounce",
    "email marked as spam": "email_complaint",
    "unsubscribed": "email_unsubscribe",
    "product_view": "product_view",
    "add_to_cart": "add_to_cart",
    "remove_from_cart": "remove_from_cart",
    "search": "search",
    "checkout": "checkout",
    "purchase": "purchase",
    "email_open": "email_open",
    "email_click": "email_click",
    "email_sent": "email_sent",
    "email_delivered": "email_delivered",
    "email_bounce": "email_bounce",
    "email_complaint": "email_complaint",
    "email_unsubscribe": "email_unsubscribe",
}
FIELD_ALIASES = {
    "messageId": "message_id",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "previousId": "previous_id",
    "sentAt": "sent_at",
}
# Left out of the fingerprint: a retry of the same message changes them.
VOLATILE_FIELDS = ("sent_at", "sentAt", "_metadata", "receivedAt", "received_at")


@dataclass(frozen=True, slots=True)
class OrderLinePayload:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal


@dataclass(frozen=True, slots=True)
class OrderPayload:
    """The order an `Order Completed` message with products describes."""

    order_id: str
    lines: tuple[OrderLinePayload, ...]
    currency: str
    discount_total: Decimal
    shipping_total: Decimal
    coupon_code: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    index: int
    message_type: str
    message_id: str
    source: str
    event_type: str
    name: str
    user_id: str
    anonymous_id: str
    previous_id: str
    session_id: str
    sku: str
    properties: dict
    traits: dict
    context: dict
    occurred_at: datetime
    fingerprint: str
    order: OrderPayload | None = None


@dataclass(frozen=True, slots=True)
class MessageError:
    index: int
    reason: str
    field: str
    message_id: str = ""
    message_type: str = ""
    source: str = ""
    payload: Any = None


class _Invalid(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _identifier(message: dict, name: str, *, required: bool = False) -> str:
    value = message.get(name)
    if value is None or value == "":
        if required:
            raise _Invalid(name, f"{name}: is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Invalid(name, f"{name}: must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if not text and required:
        raise _Invalid(name, f"{name}: is required")
    if len(text) > MAX_ID_LENGTH:
        raise _Invalid(name, f"{name}: at most {MAX_ID_LENGTH} characters")
    return text


def _object(message: dict, name: str) -> dict:
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(name, f"{name}: must be an object, not {type(value).__name__}")
    return value


def parse_timestamp(value: Any, name: str) -> datetime:
    """ISO 8601 (a missing zone means UTC) or a Unix epoch in seconds or milliseconds."""
    if isinstance(value, bool):
        raise _Invalid(name, f"{name}: must be an ISO 8601 string")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _Invalid(name, f"{name}: must be a finite number")
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise _Invalid(name, f"{name}: {value!r} is out of range") from error
    if not isinstance(value, str):
        raise _Invalid(name, f"{name}: must be an ISO 8601 string, not {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise _Invalid(name, f"{name}: {value[:40]!r} is not an ISO 8601 date-time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _decimal(value: Any, name: str, *, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(name, f"{name}: must be a number")
    try:
        amount = Decimal(str(value))
    except ArithmeticError as error:
        raise _Invalid(name, f"{name}: {value!r} is not a number") from error
    if not amount.is_finite():
        raise _Invalid(name, f"{name}: {value!r} is not a number")
    if amount < 0:
        raise _Invalid(name, f"{name}: must not be negative")
    return amount


def _order(properties: dict) -> OrderPayload | None:
    products = properties.get("products")
    if products is None:
        return None
    if not isinstance(products, list):
        raise _Invalid("properties.products", "properties.products: must be a list")
    if not products:
        return None
    order_id = properties.get("order_id", properties.get("orderId"))
    if order_id is None or order_id == "" or isinstance(order_id, bool):
        raise _Invalid(
            "properties.order_id", "properties.order_id: Order Completed with products needs it"
        )
    if not isinstance(order_id, str | int) or len(str(order_id)) > MAX_ID_LENGTH:
        raise _Invalid("properties.order_id", "properties.order_id: must be a short string")
    lines = []
    for position, product in enumerate(products):
        where = f"properties.products[{position}]"
        if not isinstance(product, dict):
            raise _Invalid(where, f"{where}: must be an object")
        sku = product.get("sku", product.get("product_id"))
        if sku is None or sku == "" or isinstance(sku, bool) or not isinstance(sku, str | int):
            raise _Invalid(f"{where}.sku", f"{where}.sku: is required (or product_id)")
        sku = str(sku).strip()
        if len(sku) > 64:
            raise _Invalid(f"{where}.sku", f"{where}.sku: at most 64 characters")
        quantity = product.get("quantity", 1)
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise _Invalid(f"{where}.quantity", f"{where}.quantity: must be a whole number >= 1")
        price = _decimal(product.get("price"), f"{where}.price")
        discount = _decimal(product.get("discount"), f"{where}.discount")
        if discount > price * quantity:
            raise _Invalid(f"{where}.discount", f"{where}.discount: more than the line total")
        lines.append(OrderLinePayload(sku, quantity, price, discount))
    currency = properties.get("currency") or "USD"
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        raise _Invalid("properties.currency", "properties.currency: must be a 3-letter code")
    coupon = properties.get("coupon") or ""
    return OrderPayload(
        order_id=str(order_id).strip(),
        lines=tuple(lines),
        currency=currency.strip().upper(),
        discount_total=_decimal(properties.get("discount"), "properties.discount"),
        shipping_total=_decimal(properties.get("shipping"), "properties.shipping"),
        coupon_code=str(coupon).strip()[:64],
    )


def _canonical(message: dict) -> bytes:
    trimmed = {key: value for key, value in message.items() if key not in VOLATILE_FIELDS}
    try:
        return orjson.dumps(trimmed, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError) as error:
        raise _Invalid("", f"message is not serialisable as JSON: {error}") from error


def message_parse(
    raw: Any,
    *,
    index: int,
    received_at: datetime,
    default_source: str = "api",
    forced_type: str = "",
) -> ParsedMessage | MessageError:
    """Validate one message; never raises for bad input (the error names the field)."""
    if not isinstance(raw, dict):
        return MessageError(
            index, f"message must be an object, not {type(raw).__name__}", "", payload=raw
        )
    message = {FIELD_ALIASES.get(key, key): value for key, value in raw.items()}
    message_id = ""
    message_type = ""
    source = default_source
    try:
        message_id = _identifier(message, "message_id", required=True)
        message_type = message.get("type") or forced_type
        if not isinstance(message_type, str) or message_type not in MESSAGE_TYPES:
            shown = message_type if isinstance(message_type, str) else type(message_type).__name__
            raise _Invalid("type", f"type: {shown!r} is not one of {', '.join(MESSAGE_TYPES)}")
        if forced_type and message_type != forced_type:
            raise _Invalid("type", f"type: {message_type!r} sent to the {forced_type} endpoint")
        raw_source = message.get("source")
        if raw_source not in (None, ""):
            if not isinstance(raw_source, str) or len(raw_source) > MAX_SOURCE_LENGTH:
                raise _Invalid("source", f"source: a string of at most {MAX_SOURCE_LENGTH}")
            source = raw_source.strip()
        canonical = _canonical(raw)
        if len(canonical) > MAX_MESSAGE_BYTES:
            raise _Invalid("", f"message is {len(canonical)} bytes; at most {MAX_MESSAGE_BYTES}")
        if b"\\u0000" in canonical:
            raise _Invalid("", "message contains a NUL character (\\u0000)")
        user_id = _identifier(message, "user_id")
        anonymous_id = _identifier(message, "anonymous_id")
        previous_id = ""
        if message_type == "alias":
            user_id = _identifier(message, "user_id", required=True)
            previous_id = _identifier(message, "previous_id", required=True)
        elif message_type == "identify" and not user_id and not anonymous_id:
            raise _Invalid("user_id", "user_id: identify needs user_id or anonymous_id")
        elif not user_id and not anonymous_id:
            raise _Invalid("user_id", "user_id or anonymous_id: one of them is required")
        properties = _object(message, "properties")
        traits = _object(message, "traits")
        context = _object(message, "context")
        if message_type == "identify" and not traits:
            traits = _object(context, "traits")
        timestamp = message.get("timestamp")
        occurred_at = (
            received_at if timestamp in (None, "") else parse_timestamp(timestamp, "timestamp")
        )
        sent_at = message.get("sent_at")
        if sent_at not in (None, "") and timestamp not in (None, ""):
            # Segment's clock-skew correction: the client's clock offset at send time.
            occurred_at += received_at - parse_timestamp(sent_at, "sent_at")
        if occurred_at > received_at + FUTURE_TOLERANCE:
            raise _Invalid("timestamp", f"timestamp: {timestamp} is in the future")
        if occurred_at < EARLIEST:
            raise _Invalid("timestamp", f"timestamp: {timestamp} is before 2000-01-01")
        name = ""
        order = None
        if message_type == "track":
            event = message.get("event")
            if not isinstance(event, str) or not event.strip():
                raise _Invalid("event", "event: track needs the event name")
            name = event.strip()
            if len(name) > MAX_NAME_LENGTH:
                raise _Invalid("event", f"event: at most {MAX_NAME_LENGTH} characters")
            event_type = TRACK_EVENT_TYPES.get(name.lower(), "custom")
            if event_type == "purchase":
                order = _order(properties)
        elif message_type in ("page", "screen"):
            page_name = message.get("name") or ""
            if not isinstance(page_name, str):
                raise _Invalid("name", "name: must be a string")
            name = page_name.strip()[:MAX_NAME_LENGTH]
            event_type = "page_view"
        elif message_type == "identify":
            event_type = "identify"
        else:
            event_type = "alias"
            properties = {"previous_id": previous_id}
        sku = properties.get("sku", properties.get("product_id"))
        sku = str(sku).strip()[:64] if isinstance(sku, str | int) and sku != "" else ""
        session = context.get("session_id", properties.get("session_id", ""))
        session_id = str(session)[:64] if isinstance(session, str | int) else ""
    except _Invalid as invalid:
        return MessageError(
            index,
            invalid.reason,
            invalid.field,
            message_id=message_id,
            message_type=message_type if isinstance(message_type, str) else "",
            source=source if isinstance(source, str) else "",
            payload=raw,
        )
    return ParsedMessage(
        index=index,
        message_type=message_type,
        message_id=message_id,
        source=source,
        event_type=event_type,
        name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        session_id=session_id,
        sku=sku,
        properties=properties,
        traits=traits,
        context=context,
        occurred_at=occurred_at,
        fingerprint=hashlib.blake2b(canonical, digest_size=16).hexdigest(),
        order=order,
    )
