"""Replay of quarantined messages through the ingest pipeline, as sent or fixed."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.events.choices import QuarantineKind, QuarantineStatus
from apps.events.contracts import IngestResult
from apps.events.models import QuarantinedMessage
from apps.events.services.ingest import MAX_BATCH_MESSAGES, events_ingest
from apps.events.services.quarantine import _open_entry


def _messages_of(entry: QuarantinedMessage, payload: Any) -> list[Any]:
    if payload is None:
        if entry.kind == QuarantineKind.MALFORMED:
            try:
                payload = orjson.loads(entry.raw_body)
            except orjson.JSONDecodeError as error:
                raise ValidationFailed(
                    f"payload: the stored body is still not JSON ({error}); fix it first",
                    field="payload",
                ) from error
        else:
            payload = entry.payload
    if isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        messages = payload["batch"]
        if len(messages) > MAX_BATCH_MESSAGES:
            raise ValidationFailed(
                f"payload.batch: at most {MAX_BATCH_MESSAGES} messages", field="payload.batch"
            )
        return messages
    return [payload]


@transaction.atomic
def quarantine_replay(
    *, entry_id: int, payload: Any = None, new_message_id: bool = False
) -> tuple[QuarantinedMessage, IngestResult]:
    """Send an open entry through the pipeline again, optionally with a fixed payload.

    A conflict (same message id, different payload) can only be stored under a new id:
    `new_message_id` re-ids it as `<id>~replay-<entry id>` (Snowplow's re-id of synthetic
    duplicates). The entry is closed when every message is accepted or a duplicate; otherwise
    it stays open with the new reason, and nothing new is quarantined.
    """
    entry = _open_entry(entry_id)
    messages = _messages_of(entry, payload)
    if new_message_id:
        for message in messages:
            if isinstance(message, dict):
                key = "messageId" if "messageId" in message else "message_id"
                message[key] = f"{message.get(key) or entry.message_id}~replay-{entry.pk}"
    result = events_ingest(
        messages=messages,
        source=entry.source or "api",
        received_via="replay",
        quarantine=False,
    )
    if payload is not None:
        entry.payload = payload if entry.kind != QuarantineKind.MALFORMED else entry.payload
        if entry.kind == QuarantineKind.MALFORMED:
            entry.raw_body = orjson.dumps(payload).decode()
    if result.rejected:
        entry.error = "; ".join(outcome.reason for outcome in result.rejected)
        entry.field = result.rejected[0].field
        entry.resolution_note = f"Replay at {timezone.now():%Y-%m-%d %H:%M} refused: {entry.error}"
    else:
        entry.status = QuarantineStatus.REPLAYED
        entry.resolved_at = timezone.now()
        entry.resolution_note = (
            f"Replayed: {len(result.accepted)} stored, {len(result.duplicates)} already stored."
        )
    entry.save()
    return entry, result
