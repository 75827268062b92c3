"""The events API pipeline: validate, deduplicate, resolve identities, store in bulk.

One call handles one request's messages (a batch of up to 1,000, or one message) in a few
round trips whatever the batch size:

1. `message_parse` (pure engine) validates each message; bad ones are quarantined.
2. The monthly partitions the batch needs are ensured (cheap when they exist).
3. In one transaction, the (source, message_id) of every valid message is claimed in the
   MessageReceipt ledger with INSERT ... ON CONFLICT DO NOTHING RETURNING, in sorted order.
   PostgreSQL makes a concurrent claim of the same id wait for the first transaction, so two
   copies arriving at the same moment on different workers store one event: the other copy
   is a duplicate (same fingerprint) or a conflict (different payload, quarantined).
4. Customers named by user_id are ensured, anonymous ids resolved through aliases; identify
   and alias link anonymous ids to the customer and move that anonymous history onto it.
5. `Order Completed` with products records the order (idempotent by order id).
6. Events are written with COPY on PostgreSQL (bulk_create elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.selectors import product_ids_by_sku
from apps.core.errors import Conflict, ValidationFailed
from apps.core.pgcopy import copy_rows
from apps.customers.selectors import customer_ids_by_alias
from apps.customers.services import (
    customer_aliases_link,
    customer_bulk_ensure,
    customer_traits_apply_many,
)
from apps.customers.services.freshness import customers_touch
from apps.events.choices import QuarantineKind
from apps.events.contracts import IngestResult, MessageOutcome, OrderLineInput
from apps.events.engine.messages import MessageError, ParsedMessage, message_parse
from apps.events.models import Event, MessageReceipt
from apps.events.services.partitions import event_partitions_ensure, is_partitioned
from apps.events.services.quarantine import QuarantineEntry, quarantine_record_many
from apps.events.services.records import order_create

MAX_BATCH_MESSAGES = 1000
EVENT_COLUMNS = (
    "event_type",
    "name",
    "customer_id",
    "anonymous_id",
    "session_id",
    "product_id",
    "properties",
    "context",
    "occurred_at",
    "received_at",
    "source",
    "event_id",
)


def _events_write(rows: list[tuple]) -> None:
    if not rows:
        return
    if not is_partitioned():
        Event.objects.bulk_create(
            [Event(**dict(zip(EVENT_COLUMNS, row, strict=True))) for row in rows],
            batch_size=500,
        )
        return
    with connection.cursor() as cursor:
        copy_rows(cursor, table="events_event", columns=EVENT_COLUMNS, rows=rows)


def _receipts_claim(messages: list[ParsedMessage], received_at: datetime) -> set[tuple[str, str]]:
    """Insert receipts in sorted order (no deadlocks); returns the keys this call claimed."""
    claimed: set[tuple[str, str]] = set()
    ordered = sorted(messages, key=lambda message: (message.source, message.message_id))
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for message in chunk:
                params += [
                    message.source,
                    message.message_id,
                    message.fingerprint,
                    message.occurred_at,
                    received_at,
                ]
            cursor.execute(
                "INSERT INTO events_messagereceipt "
                "(source, message_id, fingerprint, occurred_at, received_at) "
                f"VALUES {values} ON CONFLICT (source, message_id) DO NOTHING "
                "RETURNING source, message_id",
                params,
            )
            claimed.update((source, message_id) for source, message_id in cursor.fetchall())
    return claimed


def _ids_by_source(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Message ids grouped by source: one ledger query per source (usually one per batch)."""
    by_source: dict[str, list[str]] = {}
    for source, message_id in keys:
        by_source.setdefault(source, []).append(message_id)
    return by_source


def _receipt_fingerprints(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for source, message_ids in _ids_by_source(keys).items():
        rows = MessageReceipt.objects.filter(source=source, message_id__in=message_ids)
        for message_id, fingerprint in rows.values_list("message_id", "fingerprint"):
            found[(source, message_id)] = fingerprint
    return found


def _receipts_release(messages: list[ParsedMessage]) -> None:
    """Forget the claim of messages refused after claiming, so a fixed copy can be sent again."""
    keys = ((message.source, message.message_id) for message in messages)
    for source, message_ids in _ids_by_source(keys).items():
        MessageReceipt.objects.filter(source=source, message_id__in=message_ids).delete()


def _outcome(message: ParsedMessage | MessageError) -> MessageOutcome:
    return MessageOutcome(index=message.index, message_id=message.message_id)


def _customers_ensure(messages: list[ParsedMessage]) -> dict[str, int]:
    """Customer ids of the messages' user ids; unknown ones are created, signed up at their
    first event of the batch; a merged profile's old id resolves to its survivor."""
    first_seen: dict[str, datetime] = {}
    for message in messages:
        if message.user_id:
            seen = first_seen.get(message.user_id)
            if seen is None or message.occurred_at < seen:
                first_seen[message.user_id] = message.occurred_at
    return dict(customer_bulk_ensure(first_seen=first_seen).ids) if first_seen else {}


def _resolve_customers(messages: list[ParsedMessage]) -> dict[int, int | None]:
    """Customer id per message index; links anonymous ids named by identify/alias."""
    customer_ids = _customers_ensure(messages)
    links: dict[str, int] = {}
    for message in messages:
        if not message.user_id:
            continue
        customer_id = customer_ids[message.user_id]
        if message.message_type == "identify" and message.anonymous_id:
            links.setdefault(message.anonymous_id, customer_id)
        elif message.message_type == "alias":
            links.setdefault(message.previous_id, customer_id)
    by_alias, linked = customer_aliases_link(links=links) if links else ({}, set())
    unresolved = {
        message.anonymous_id
        for message in messages
        if not message.user_id and message.anonymous_id and message.anonymous_id not in by_alias
    }
    by_alias.update(customer_ids_by_alias(aliases=unresolved))
    _anonymous_history_claim({alias: by_alias[alias] for alias in linked})
    return {
        message.index: customer_ids[message.user_id]
        if message.user_id
        else by_alias.get(message.anonymous_id)
        for message in messages
    }


def _anonymous_history_claim(links: dict[str, int]) -> None:
    """Give earlier events of newly linked anonymous ids to their customer (one UPDATE).

    `anonymous_id = ANY(...)` lets every partition use its (anonymous_id, occurred_at) index;
    a join against a VALUES list made the planner hash-scan whole partitions.
    """
    if not links:
        return
    if connection.vendor != "postgresql":
        for anonymous_id, customer_id in sorted(links.items()):
            Event.objects.filter(anonymous_id=anonymous_id, customer__isnull=True).update(
                customer_id=customer_id
            )
        return
    pairs = sorted(links.items())
    cases = " ".join(["WHEN %s THEN %s"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE events_event SET customer_id = CASE anonymous_id {cases} END "
            "WHERE anonymous_id = ANY(%s) AND customer_id IS NULL",
            [value for pair in pairs for value in pair] + [[alias for alias, _ in pairs]],
        )


class _IdentifyRefused(Exception):
    def __init__(self, refusals: dict[str, ValidationFailed]) -> None:
        super().__init__("identify traits refused")
        self.refusals = refusals


def _apply_identifies(messages: list[ParsedMessage]) -> dict[int, MessageError]:
    """Ensure the customers of identify messages and apply their traits, batch-wise.

    Traits of one customer are merged in batch order (the latest wins). A customer whose
    traits are refused (e.g. an invalid email) has its identify messages refused, and the
    batch's identify writes are redone without it, so a refusal leaves no bare customer.
    """
    identifies = [m for m in messages if m.message_type == "identify" and m.user_id]
    refused_users: dict[str, ValidationFailed] = {}
    for _attempt in range(3):
        wanted = [m for m in identifies if m.user_id not in refused_users]
        try:
            with transaction.atomic():
                ids = _customers_ensure(wanted)
                traits: dict[int, dict[str, Any]] = {}
                for message in wanted:
                    traits.setdefault(ids[message.user_id], {}).update(message.traits)
                refusals = customer_traits_apply_many(traits_by_customer_id=traits)
                if refusals:
                    raise _IdentifyRefused(
                        {
                            m.user_id: refusals[ids[m.user_id]]
                            for m in wanted
                            if ids[m.user_id] in refusals
                        }
                    )
        except _IdentifyRefused as refused:
            refused_users.update(refused.refusals)
            continue
        break
    return {
        message.index: _refusal(message, refused_users[message.user_id])
        for message in identifies
        if message.user_id in refused_users
    }


def _apply_orders(messages: list[ParsedMessage]) -> dict[int, MessageError]:
    """Record the orders of `Order Completed` messages; returns the messages refused.

    Each in a savepoint: one bad order never spoils the rest of the batch, and a refused one
    leaves no bare customer behind. An order id already recorded is fine (idempotent).
    """
    refused: dict[int, MessageError] = {}
    for message in messages:
        order = message.order
        if order is None:
            continue
        try:
            with transaction.atomic():
                _customers_ensure([message])
                order_create(
                    external_id=order.order_id,
                    placed_at=message.occurred_at,
                    lines=[
                        OrderLineInput(
                            sku=line.sku,
                            quantity=line.quantity,
                            unit_price=line.unit_price,
                            discount=line.discount,
                        )
                        for line in order.lines
                    ],
                    customer_external_id=message.user_id,
                    currency=order.currency,
                    discount_total=order.discount_total,
                    shipping_total=order.shipping_total,
                    coupon_code=order.coupon_code,
                    channel="app" if message.source == "app" else "web",
                )
        except Conflict as error:
            if error.code != "order_exists":  # the order is already recorded: fine
                refused[message.index] = _refusal(message, error)
        except ValidationFailed as error:
            refused[message.index] = _refusal(message, error)
    return refused


def _refusal(message: ParsedMessage, error: ValidationFailed | Conflict) -> MessageError:
    field = error.field or ""
    prefix = "traits." if message.message_type == "identify" else "properties."
    if field and not field.startswith(("traits.", "properties.")):
        field = prefix + field
    reason = error.message
    if reason.startswith(f"{error.field}:") and error.field:
        reason = f"{field}:{reason[len(error.field) + 1 :]}"
    return MessageError(
        message.index,
        reason,
        field,
        message_id=message.message_id,
        message_type=message.message_type,
        source=message.source,
    )


def _event_row(
    message: ParsedMessage, customer_id: int | None, product_id: int | None, received_at: datetime
) -> tuple:
    properties = message.traits if message.message_type == "identify" else message.properties
    return (
        message.event_type,
        message.name,
        customer_id,
        message.anonymous_id,
        message.session_id,
        product_id,
        orjson.dumps(properties).decode(),
        orjson.dumps(message.context).decode(),
        message.occurred_at,
        received_at,
        message.source,
        message.message_id,
    )


def events_ingest(
    *,
    messages: Sequence[Any],
    source: str = "api",
    received_via: str = "api",
    message_type: str = "",
    api_key_prefix: str = "",
    quarantine: bool = True,
) -> IngestResult:
    """Store a batch of Segment-style messages; every message gets exactly one outcome.

    `source` applies to messages without their own `source` field; `message_type` is set by
    the single-message endpoints (/track, /page ...) and must match the message's `type` when
    it has one. Rejected and conflicting messages are quarantined with their raw payload
    (unless `quarantine` is False: a replay from the quarantine updates its own entry).
    """
    if len(messages) > MAX_BATCH_MESSAGES:
        raise ValidationFailed(
            f"batch: {len(messages)} messages; at most {MAX_BATCH_MESSAGES} per request",
            code="batch_too_large",
            field="batch",
        )
    received_at = timezone.now()
    valid: list[ParsedMessage] = []
    errors: list[MessageError] = []
    duplicates: list[MessageOutcome] = []
    conflicts: list[tuple[ParsedMessage, str]] = []
    first_copy: dict[tuple[str, str], ParsedMessage] = {}
    for index, raw in enumerate(messages):
        parsed = message_parse(
            raw,
            index=index,
            received_at=received_at,
            default_source=source,
            forced_type=message_type,
        )
        if isinstance(parsed, MessageError):
            errors.append(parsed)
            continue
        key = (parsed.source, parsed.message_id)
        first = first_copy.get(key)
        if first is None:
            first_copy[key] = parsed
            valid.append(parsed)
        elif first.fingerprint == parsed.fingerprint:
            duplicates.append(_outcome(parsed))
        else:
            conflicts.append((parsed, _conflict_reason(parsed, f"index {first.index}")))

    if valid:
        event_partitions_ensure(
            months={(message.occurred_at.year, message.occurred_at.month) for message in valid}
        )
    accepted: list[ParsedMessage] = []
    touched: set[int] = set()
    with transaction.atomic():
        if valid:
            claimed = _receipts_claim(valid, received_at)
            fresh = [m for m in valid if (m.source, m.message_id) in claimed]
            seen = [m for m in valid if (m.source, m.message_id) not in claimed]
            stored = _receipt_fingerprints((m.source, m.message_id) for m in seen)
            for message in seen:
                fingerprint = stored.get((message.source, message.message_id), "")
                if fingerprint in ("", message.fingerprint):
                    duplicates.append(_outcome(message))
                else:
                    conflicts.append((message, _conflict_reason(message, "an earlier request")))
            refused = {**_apply_identifies(fresh), **_apply_orders(fresh)}
            if refused:
                _receipts_release([m for m in fresh if m.index in refused])
                errors.extend(refused.values())
            accepted = [m for m in fresh if m.index not in refused]
            if accepted:
                customers = _resolve_customers(accepted)
                touched = {customer_id for customer_id in customers.values() if customer_id}
                products = product_ids_by_sku(skus={m.sku for m in accepted if m.sku})
                _events_write(
                    [
                        _event_row(m, customers[m.index], products.get(m.sku), received_at)
                        for m in accepted
                    ]
                )
        entries = [
            QuarantineEntry(
                kind=QuarantineKind.REJECTED,
                source=error.source or source,
                message_id=error.message_id,
                message_type=error.message_type,
                payload=error.payload if error.payload is not None else messages[error.index],
                error=error.reason,
                field=error.field,
                received_via=received_via,
                api_key_prefix=api_key_prefix,
            )
            for error in errors
        ] + [
            QuarantineEntry(
                kind=QuarantineKind.CONFLICT,
                source=message.source,
                message_id=message.message_id,
                message_type=message.message_type,
                payload=messages[message.index],
                error=reason,
                field="message_id",
                received_via=received_via,
                api_key_prefix=api_key_prefix,
            )
            for message, reason in conflicts
        ]
        quarantined: list[int | None] = (
            list(quarantine_record_many(entries=entries)) if quarantine else [None] * len(entries)
        )
    if accepted:
        _cleaning_schedule(accepted)
        customers_touch(
            customer_ids=touched,
            anonymous_ids={m.anonymous_id for m in accepted if m.anonymous_id},
        )
    rejected = [
        MessageOutcome(
            index=error.index,
            message_id=error.message_id,
            reason=error.reason,
            field=error.field,
            quarantine_id=quarantine_id,
        )
        for error, quarantine_id in zip(errors, quarantined[: len(errors)], strict=True)
    ] + [
        MessageOutcome(
            index=message.index,
            message_id=message.message_id,
            reason=reason,
            field="message_id",
            quarantine_id=quarantine_id,
        )
        for (message, reason), quarantine_id in zip(
            conflicts, quarantined[len(errors) :], strict=True
        )
    ]
    return IngestResult(
        accepted=tuple(_outcome(message) for message in sorted(accepted, key=_index)),
        duplicates=tuple(sorted(duplicates, key=_index)),
        rejected=tuple(sorted(rejected, key=_index)),
    )


def _cleaning_schedule(accepted: list[ParsedMessage]) -> None:
    """Ask the quality app for a (debounced) cleaning run over what this batch touched.

    Imported here, not at module level: the quality pipeline writes through this app's
    services, so a module-level import would be circular.
    """
    from apps.quality.services import cleaning_schedule

    entities = ["events"]
    if any(message.user_id for message in accepted):
        entities.append("customers")
    if any(message.order is not None for message in accepted):
        entities.append("orders")
    cleaning_schedule(entities=entities, trigger="ingest")


def _conflict_reason(message: ParsedMessage, where: str) -> str:
    return (
        f"message_id: {message.message_id!r} was already received ({where}) "
        "with a different payload"
    )


def _index(item: ParsedMessage | MessageOutcome) -> int:
    return item.index
