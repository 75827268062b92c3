"""Email interactions stored as events on the customer (email_sent, email_open, ...), so they
feed segments, models and experiments like any other behaviour. Each has its own message id:
storing one twice (a retried batch) keeps one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.events.services import MAX_BATCH_MESSAGES, events_ingest

EVENT_SOURCE = "campaigns"


def email_events_store(items: Iterable[dict[str, Any]]) -> int:
    """Store events given as dicts of message (a CampaignMessage with customer loaded), name,
    message_id, at, properties and optional context; returns how many were new. Messages
    whose customer is gone are left out."""
    messages = []
    for item in items:
        customer = item["message"].customer
        if customer is None:
            continue
        messages.append(
            {
                "type": "track",
                "event": item["name"],
                "message_id": item["message_id"][:128],
                "user_id": customer.external_id,
                "timestamp": item["at"].isoformat(),
                "properties": item["properties"],
                "context": item.get("context") or {},
            }
        )
    accepted = 0
    for start in range(0, len(messages), MAX_BATCH_MESSAGES):
        result = events_ingest(
            messages=messages[start : start + MAX_BATCH_MESSAGES],
            source=EVENT_SOURCE,
            received_via="campaigns",
        )
        accepted += len(result.accepted)
    return accepted
