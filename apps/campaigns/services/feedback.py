"""What mail providers report after sending (their bounce, complaint and delivery webhooks):
recorded on the message, as an event on the customer, and for hard bounces and complaints on
the suppression list; a campaign whose rates pass its thresholds pauses itself."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.campaigns.choices import SuppressionReason
from apps.campaigns.models import Campaign, CampaignMessage, Suppression
from apps.campaigns.services.sending import pause_check
from apps.campaigns.services.tracking import interaction_store
from apps.core.errors import ValidationFailed

MAX_ITEMS = 1000
KINDS = {"delivered": "email_delivered", "bounce": "email_bounce", "complaint": "email_complaint"}
_TOKEN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class FeedbackResult:
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    paused_campaigns: list[int] = field(default_factory=list)


def _when(value: Any, index: int) -> datetime:
    if not value:
        return timezone.now()
    moment = parse_datetime(str(value))
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"events[{index}].timestamp: not an ISO 8601 time with a zone")
    return moment


def email_feedback_record(*, items: list[Any], source: str = "webhook") -> FeedbackResult:
    """Record provider feedback: each item {type: delivered|bounce|complaint, message_id (our
    Message-ID header or its token), bounce_type: hard|soft, reason, timestamp}. Items that
    cannot be matched are rejected with their index and reason; the others are kept."""
    if not isinstance(items, list):
        raise ValidationFailed("events: give a list", field="events")
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(f"events: at most {MAX_ITEMS} per call", field="events")
    result = FeedbackResult()
    campaigns: set[int] = set()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError(f"events[{index}]: not an object")
            kind = str(item.get("type", ""))
            if kind not in KINDS:
                raise ValueError(f"events[{index}].type: one of {', '.join(KINDS)}")
            match = _TOKEN.search(str(item.get("message_id", "")))
            if match is None:
                raise ValueError(f"events[{index}].message_id: no message token in it")
            message = (
                CampaignMessage.objects.select_related("campaign", "customer")
                .filter(token=uuid.UUID(match.group(0)))
                .first()
            )
            if message is None:
                raise ValueError(f"events[{index}].message_id: no such message")
            at = _when(item.get("timestamp"), index)
        except ValueError as error:
            result.rejected.append({"index": index, "reason": str(error)})
            continue
        hard = kind == "complaint" or str(item.get("bounce_type", "hard")) == "hard"
        if kind == "bounce" and hard:
            CampaignMessage.objects.filter(pk=message.pk, bounced_at__isnull=True).update(
                bounced_at=at
            )
        if kind == "complaint":
            CampaignMessage.objects.filter(pk=message.pk, complained_at__isnull=True).update(
                complained_at=at
            )
        if kind != "delivered" and hard and message.email:
            Suppression.objects.get_or_create(
                email=message.email,
                defaults={
                    "reason": SuppressionReason.COMPLAINT
                    if kind == "complaint"
                    else SuppressionReason.HARD_BOUNCE,
                    "source": f"{source}, campaign {message.campaign_id}",
                    "note": str(item.get("reason", ""))[:500],
                },
            )
        interaction_store(
            message,
            KINDS[kind],
            at=at,
            properties={
                "campaign_id": message.campaign_id,
                "variant": message.variant,
                "bounce_type": "hard" if hard else "soft",
                "reason": str(item.get("reason", ""))[:300],
            },
            context={"source": source},
        )
        result.accepted += 1
        if kind != "delivered":
            campaigns.add(message.campaign_id)
    for campaign in Campaign.objects.filter(pk__in=campaigns):
        if pause_check(campaign):
            result.paused_campaigns.append(campaign.pk)
    return result
