"""Replay of quarantined messages through the ingest pipeline, as sent or fixed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.events.choices import QuarantineKind, QuarantineStatus
from apps.events.contracts import IngestResult, MessageOutcome
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
    _record_outcome(
        entry,
        accepted=len(result.accepted),
        duplicates=len(result.duplicates),
        rejected=result.rejected,
        new_message_id=new_message_id,
    )
    entry.save()
    return entry, result


def _record_outcome(
    entry: QuarantinedMessage,
    *,
    accepted: int,
    duplicates: int,
    rejected: Sequence[MessageOutcome],
    new_message_id: bool = False,
    now: datetime | None = None,
) -> None:
    """Close the entry when nothing was refused; else keep it open with the new reason."""
    now = now or timezone.now()
    entry.updated_at = now  # bulk_update does not set auto_now fields
    if rejected:
        entry.error = "; ".join(outcome.reason for outcome in rejected)
        entry.field = rejected[0].field
        entry.resolution_note = f"Replay at {now:%Y-%m-%d %H:%M} refused: {entry.error}"
        return
    entry.status = QuarantineStatus.REPLAYED
    entry.resolved_at = now
    entry.resolution_note = f"Replayed: {accepted} stored, {duplicates} already stored."
    if new_message_id:
        entry.resolution_note += f" Stored under new message ids ending in {_suffix(entry)}."


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

    Entries holding one message go through the pipeline together, one call per source and
    up to 1,000 messages (a /batch's worth, one transaction): a thousand entries take about
    as long as one batch instead of a thousand round trips. Malformed bodies, which hold
    whole batches, are replayed one by one, each in its own transaction. Entries no longer
    open are skipped.
    """
    wanted = list(dict.fromkeys(entry_ids))[:MAX_BULK_ENTRIES]
    replayed = still_open = stored = 0
    with transaction.atomic():
        entries = list(
            QuarantinedMessage.objects.select_for_update()
            .filter(pk__in=wanted, status=QuarantineStatus.OPEN)
            .order_by("pk")
        )
        skipped = len(wanted) - len(entries)
        singles = [entry for entry in entries if not _holds_a_batch(entry)]
        by_source: dict[str, list[QuarantinedMessage]] = {}
        for entry in singles:
            by_source.setdefault(entry.source or "api", []).append(entry)
        for source, group in by_source.items():
            for start in range(0, len(group), MAX_BATCH_MESSAGES):
                chunk = group[start : start + MAX_BATCH_MESSAGES]
                closed, accepted = _replay_together(chunk, source)
                replayed += closed
                still_open += len(chunk) - closed
                stored += accepted
    for entry in entries:
        if not _holds_a_batch(entry):
            continue
        try:
            replayed_entry, result = quarantine_replay(entry_id=entry.pk)
        except (NotFound, Conflict):
            skipped += 1
            continue
        except ValidationFailed:  # a malformed body that is still not JSON
            still_open += 1
            continue
        stored += len(result.accepted)
        if replayed_entry.status == QuarantineStatus.REPLAYED:
            replayed += 1
        else:
            still_open += 1
    return ReplayManyResult(
        replayed=replayed, still_open=still_open, skipped=skipped, stored=stored
    )


def _holds_a_batch(entry: QuarantinedMessage) -> bool:
    payload = entry.payload
    return entry.kind == QuarantineKind.MALFORMED or (
        isinstance(payload, dict) and isinstance(payload.get("batch"), list)
    )


def _replay_together(entries: list[QuarantinedMessage], source: str) -> tuple[int, int]:
    """One pipeline call for entries of one message each; returns (closed, events stored)."""
    result = events_ingest(
        messages=[entry.payload for entry in entries],
        source=source,
        received_via="replay",
        quarantine=False,
    )
    accepted = {outcome.index for outcome in result.accepted}
    duplicates = {outcome.index for outcome in result.duplicates}
    refused = {outcome.index: outcome for outcome in result.rejected}
    now = timezone.now()
    # Entries with the same outcome are written in one UPDATE (a few in all: stored, already
    # stored, and one per distinct refusal), far faster than a row-by-row bulk_update.
    same_outcome: dict[tuple[str, str, str, str], list[int]] = {}
    for index, entry in enumerate(entries):
        _record_outcome(
            entry,
            accepted=int(index in accepted),
            duplicates=int(index in duplicates),
            rejected=[refused[index]] if index in refused else [],
            now=now,
        )
        key = (entry.status, entry.resolution_note, entry.error, entry.field)
        same_outcome.setdefault(key, []).append(entry.pk)
    for (status, note, error, field), entry_ids in same_outcome.items():
        QuarantinedMessage.objects.filter(pk__in=entry_ids).update(
            status=status,
            resolved_at=now if status == QuarantineStatus.REPLAYED else None,
            resolution_note=note,
            error=error,
            field=field,
            updated_at=now,
        )
    return len(entries) - len(refused), len(accepted)
