"""Replay of quarantined messages through the ingest pipeline, as sent or fixed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, NotFound, ValidationFailed
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
        messages = _with_new_message_ids(messages, entry)
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
        if new_message_id:
            entry.resolution_note += f" Stored under new message ids ending in {_suffix(entry)}."
    entry.save()
    return entry, result


def _suffix(entry: QuarantinedMessage) -> str:
    return f"~replay-{entry.pk}"


def _with_new_message_ids(messages: list[Any], entry: QuarantinedMessage) -> list[Any]:
    """Copies of the messages re-id'd `<id>~replay-<entry id>`; the entry keeps the ids as sent,
    and a second try after a refused one re-ids to the same id (never `~replay-N~replay-N`)."""
    suffix = _suffix(entry)
    renamed: list[Any] = []
    for message in messages:
        if isinstance(message, dict):
            key = "messageId" if "messageId" in message else "message_id"
            current = message.get(key) or entry.message_id
            if isinstance(current, str) and current:
                new_id = current if current.endswith(suffix) else current + suffix
                message = {**message, key: new_id}
        renamed.append(message)
    return renamed


@dataclass(frozen=True)
class ReplayManyResult:
    """What a bulk replay did: entries closed, entries still refused (open, with the new
    reason), entries skipped (no longer open), and the events stored."""

    replayed: int
    still_open: int
    skipped: int
    stored: int


# A bulk replay is one web request: enough for a page of selections or a day's rejects of one
# source; more is done by clicking again (each click takes the next entries).
MAX_BULK_ENTRIES = 1000


def quarantine_replay_many(*, entry_ids: Sequence[int]) -> ReplayManyResult:
    """Replay open entries as stored (e.g. every reject of a source after the catalogue or a
    sender was fixed); at most MAX_BULK_ENTRIES at a time.

    Each entry is replayed in its own transaction on purpose: one refused entry does not hold
    back the others, and a long run holds no locks on entries it is done with.
    """
    replayed = still_open = skipped = stored = 0
    for entry_id in list(entry_ids)[:MAX_BULK_ENTRIES]:
        try:
            entry, result = quarantine_replay(entry_id=entry_id)
        except (NotFound, Conflict):
            skipped += 1
            continue
        except ValidationFailed:  # a malformed body that is still not JSON
            still_open += 1
            continue
        stored += len(result.accepted)
        if entry.status == QuarantineStatus.REPLAYED:
            replayed += 1
        else:
            still_open += 1
    return ReplayManyResult(
        replayed=replayed, still_open=still_open, skipped=skipped, stored=stored
    )
