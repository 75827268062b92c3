"""The quarantine of messages that were not stored: record, discard (replay is in replay.py).

Nothing sent to SmartMkt is silently dropped: invalid messages, conflicting re-sends and
unparseable bodies are kept here with the raw payload and the reason, to inspect, fix and
replay through the same pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, NotFound
from apps.events.choices import QuarantineKind, QuarantineStatus
from apps.events.models import QuarantinedMessage

# A raw body is kept up to the batch limit; more is cut (the API refuses larger bodies anyway).
MAX_RAW_BODY_CHARS = 5 * 1024 * 1024


@dataclass(frozen=True)
class QuarantineEntry:
    kind: str
    error: str
    source: str = ""
    message_id: str = ""
    message_type: str = ""
    payload: Any = None
    raw_body: str = ""
    field: str = ""
    received_via: str = "api"
    api_key_prefix: str = ""


def _json_safe(payload: Any) -> Any:
    """Payloads are JSON already, except values an import or a caller built in Python.

    PostgreSQL text cannot hold NUL characters: they are kept visible as U+FFFD.
    """
    if isinstance(payload, str):
        return payload.replace("\x00", "\ufffd")
    if payload is None or isinstance(payload, int | float | bool):
        return payload
    if isinstance(payload, dict):
        return {_json_safe(str(key)): _json_safe(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [_json_safe(value) for value in payload]
    return str(payload)


@transaction.atomic(savepoint=False)
def quarantine_record_many(*, entries: Sequence[QuarantineEntry]) -> list[int]:
    """Store quarantine rows in one INSERT; returns their ids in the order given."""
    if not entries:
        return []
    rows = QuarantinedMessage.objects.bulk_create(
        [
            QuarantinedMessage(
                kind=entry.kind,
                source=_json_safe(entry.source[:64]),
                message_id=_json_safe(entry.message_id[:128]),
                message_type=_json_safe(entry.message_type[:16]),
                payload=_json_safe(entry.payload),
                raw_body=entry.raw_body[:MAX_RAW_BODY_CHARS].replace("\x00", "\ufffd"),
                error=entry.error.replace("\x00", "\ufffd"),
                field=_json_safe(entry.field[:128]),
                received_via=_json_safe(entry.received_via[:32]),
                api_key_prefix=_json_safe(entry.api_key_prefix[:16]),
            )
            for entry in entries
        ]
    )
    return [row.pk for row in rows]


def quarantine_record_malformed(
    *, raw_body: bytes, error: str, received_via: str, api_key_prefix: str = ""
) -> int:
    """Keep a request body that is not JSON (or not a batch), so it can be fixed and replayed."""
    return quarantine_record_many(
        entries=[
            QuarantineEntry(
                kind=QuarantineKind.MALFORMED,
                error=error,
                raw_body=raw_body.decode("utf-8", errors="replace"),
                received_via=received_via,
                api_key_prefix=api_key_prefix,
            )
        ]
    )[0]


def _open_entry(entry_id: int) -> QuarantinedMessage:
    entry = QuarantinedMessage.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"quarantined message {entry_id} does not exist", code="not_found")
    if entry.status != QuarantineStatus.OPEN:
        raise Conflict(f"quarantined message {entry_id} is already {entry.status}", code="not_open")
    return entry


@transaction.atomic
def quarantine_discard(*, entry_id: int, note: str = "") -> QuarantinedMessage:
    """Close an entry without storing it (e.g. test traffic, a conflict whose first copy wins)."""
    entry = _open_entry(entry_id)
    entry.status = QuarantineStatus.DISCARDED
    entry.resolved_at = timezone.now()
    entry.resolution_note = note.strip() or "Discarded."
    entry.save(update_fields=["status", "resolved_at", "resolution_note", "updated_at"])
    return entry


@transaction.atomic
def quarantine_discard_many(*, entry_ids: Sequence[int], note: str = "") -> int:
    """Close many open entries without storing them (test traffic, a sender's known bug);
    entries no longer open are left as they are. Returns how many were discarded."""
    now = timezone.now()
    return QuarantinedMessage.objects.filter(
        pk__in=list(entry_ids), status=QuarantineStatus.OPEN
    ).update(
        status=QuarantineStatus.DISCARDED,
        resolved_at=now,
        resolution_note=note.strip() or "Discarded.",
        updated_at=now,
    )
