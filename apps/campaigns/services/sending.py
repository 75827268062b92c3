"""Sending a campaign's pending messages in batches, throttled, resumable after a crash, and
at most once per (campaign, customer).

A sender claims a batch of due pending rows for CAMPAIGNS_CLAIM_SECONDS (rows other senders
hold are skipped), checks the guards again (consent, unsubscribes, suppression, frequency
cap), renders each email and hands it to the Transport, which marks the row sent in its own
commit just before the mail server is told to deliver. Any number of senders may run for one
campaign; one that dies leaves its unsent rows to be claimed again once its hold ends.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from apps.campaigns.choices import (
    CampaignStatus,
    Channel,
    MessageStatus,
    SkipReason,
    SuppressionReason,
)
from apps.campaigns.models import Campaign, CampaignMessage, Suppression
from apps.campaigns.services import tracking
from apps.campaigns.services.content import CompiledContent, content_compile, message_render
from apps.campaigns.services.events import email_events_store
from apps.campaigns.services.guards import skip_reasons
from apps.campaigns.services.transport import Outcome, Transport, WebhookTransport

logger = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # a temporary refusal (4xx) is tried again this much later
MAX_ATTEMPTS = 5
# Auto-pause looks at rates only once this many messages were sent.
PAUSE_MIN_SENT = 100


@dataclass
class SendResult:
    """What one sender run did."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    abandoned: int = 0
    skipped: Counter = field(default_factory=Counter)
    batches: int = 0
    paused: bool = False


def _claim(campaign: Campaign, *, size: int, now: datetime) -> list[CampaignMessage]:
    """Due pending rows nobody holds, held by this sender from now on."""
    hold = now + timedelta(seconds=int(settings.CAMPAIGNS_CLAIM_SECONDS))
    with transaction.atomic():
        ids = list(
            CampaignMessage.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, status=MessageStatus.PENDING, send_after__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return []
        CampaignMessage.objects.filter(pk__in=ids).update(
            claimed_until=hold, attempts=F("attempts") + 1
        )
    return list(
        CampaignMessage.objects.select_related("customer", "enrollment")
        .filter(pk__in=ids)
        .order_by("id")
    )


def _skip(messages: list[CampaignMessage], reasons: dict[int, str]) -> None:
    by_reason: dict[str, list[int]] = {}
    for message in messages:
        by_reason.setdefault(reasons[message.customer_id or 0], []).append(message.pk)
    for reason, ids in by_reason.items():
        CampaignMessage.objects.filter(pk__in=ids, status=MessageStatus.PENDING).update(
            status=MessageStatus.SKIPPED, skip_reason=reason, claimed_until=None
        )


def _email(
    campaign: Campaign, message: CampaignMessage, content: CompiledContent
) -> EmailMultiAlternatives:
    rendered = message_render(
        content,
        customer=message.customer,
        token=message.token,
        variant=message.variant,
        campaign_id=campaign.pk,
        journey=message.enrollment.context if message.enrollment is not None else None,
    )
    domain = str(settings.SITE_URL).split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=campaign.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[message.email],
        headers={
            "Message-ID": f"<{message.token}@{domain or 'smartmkt.local'}>",
            "List-Unsubscribe": (
                f"<{tracking.unsubscribe_url(message.token)}>, "
                f"<{tracking.mailto_unsubscribe(message.token)}>"
            ),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-SmartMkt-Campaign": str(campaign.pk),
        },
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def _webhook_payload(
    campaign: Campaign, message: CampaignMessage, content: CompiledContent
) -> dict[str, Any]:
    """What the webhook channel posts: who, and the rendered message (its text part is what an
    SMS or push provider shows)."""
    rendered = message_render(
        content, customer=message.customer, token=message.token, variant=message.variant,
        campaign_id=campaign.pk,
    )  # fmt: skip
    customer = message.customer
    return {
        "token": str(message.token),
        "campaign_id": campaign.pk,
        "variant": message.variant,
        "customer_id": customer.external_id if customer else None,
        "email": message.email,
        "phone": customer.phone if customer else "",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
    }


def _mark_sent(message: CampaignMessage) -> Callable[[], bool]:
    def commit() -> bool:
        now = timezone.now()
        updated = CampaignMessage.objects.filter(
            pk=message.pk, status=MessageStatus.PENDING
        ).update(status=MessageStatus.SENT, sent_at=now, claimed_until=None, error="")
        message.sent_at = now
        return updated == 1

    return commit


def _after_refusal(message: CampaignMessage, outcome: Outcome, result: SendResult) -> None:
    rows = CampaignMessage.objects.filter(pk=message.pk)
    rows = rows.filter(status=MessageStatus.SENT if outcome.committed else MessageStatus.PENDING)
    if outcome.status == "lost" or (not outcome.permanent and message.attempts < MAX_ATTEMPTS):
        # not delivered; the next sender tries again (a broken connection: at once)
        later = timezone.now() + (RETRY_AFTER if outcome.status == "refused" else timedelta())
        rows.update(
            status=MessageStatus.PENDING,
            sent_at=None,
            claimed_until=None,
            send_after=later,
            error=outcome.detail,
        )
        result.deferred += 1
        return
    rows.update(
        status=MessageStatus.FAILED,
        sent_at=None,
        claimed_until=None,
        error=f"{outcome.code} {outcome.detail}"[:500],
        bounced_at=timezone.now() if outcome.stage == "rcpt" else None,
    )
    result.failed += 1
    if outcome.stage == "rcpt" and outcome.permanent:  # the address does not exist
        Suppression.objects.get_or_create(
            email=message.email,
            defaults={
                "reason": SuppressionReason.HARD_BOUNCE,
                "source": f"campaign {message.campaign_id}",
                "note": outcome.detail[:500],
            },
        )


def sent_events_record(*, campaign: Campaign, limit: int = 5000) -> int:
    """Store email_sent events of sent messages that have none yet (also after a crash)."""
    messages = list(
        CampaignMessage.objects.select_related("customer").filter(
            campaign=campaign, status=MessageStatus.SENT, events_recorded=False
        )[:limit]
    )
    if not messages:
        return 0
    email_events_store(
        {
            "message": message,
            "name": "email_sent",
            "message_id": f"email_sent:{message.token}",
            "at": message.sent_at or timezone.now(),
            "properties": {
                "campaign_id": campaign.pk,
                "campaign": campaign.name[:200],
                "variant": message.variant,
            },
        }
        for message in messages
    )
    CampaignMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
        events_recorded=True
    )
    return len(messages)


def pause_check(campaign: Campaign) -> bool:
    """Pause the campaign when its bounce or complaint rate passed its threshold."""
    counts = CampaignMessage.objects.filter(campaign=campaign).aggregate(
        sent=Count("id", filter=Q(status=MessageStatus.SENT) | Q(bounced_at__isnull=False)),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
    )
    sent = counts["sent"] or 0
    if sent < PAUSE_MIN_SENT:
        return False
    reason = ""
    if counts["bounced"] / sent > campaign.bounce_pause_rate:
        reason = (
            f"bounce rate {counts['bounced'] / sent:.1%} passed {campaign.bounce_pause_rate:.1%}"
        )
    elif counts["complained"] / sent > campaign.complaint_pause_rate:
        reason = (
            f"complaint rate {counts['complained'] / sent:.2%} passed "
            f"{campaign.complaint_pause_rate:.2%}"
        )
    if not reason:
        return False
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, paused_reason=f"Paused automatically: {reason}"
    )
    logger.warning("Campaign %s paused: %s", campaign.pk, reason)
    return True


class _Throttle:
    """At most `rate` messages a second (0: no limit), measured from the first."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.count = 0

    def wait(self) -> None:
        self.count += 1
        if self.rate > 0:
            ahead = self.start + self.count / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)


def _fast_commits() -> None:
    """A sent mark need not wait for the disk: a lost commit (database crash) re-sends
    nothing the mail server has, and a sender crash keeps every commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


def _normal_commits() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO DEFAULT")


def campaign_send_batches(
    *,
    campaign: Campaign,
    max_batches: int | None = None,
    progress: Callable[[SendResult], None] | None = None,
) -> SendResult:
    """Send the campaign's due pending messages until none is left (or `max_batches`)."""
    result = SendResult()
    contents: dict[str, CompiledContent] = {}
    variants = {variant.key: variant for variant in campaign.variants.all()}
    throttle = _Throttle(int(campaign.send_rate or settings.CAMPAIGNS_SEND_RATE))
    size = int(settings.CAMPAIGNS_BATCH_SIZE)
    sent_events_record(campaign=campaign)
    _fast_commits()
    try:
        transport_for: Any = (
            WebhookTransport(campaign.webhook_url)
            if campaign.channel == Channel.WEBHOOK
            else Transport()
        )
        with transport_for as transport:
            while max_batches is None or result.batches < max_batches:
                status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
                if status.first() != CampaignStatus.SENDING:
                    break
                now = timezone.now()
                batch = _claim(campaign, size=size, now=now)
                if not batch:
                    break
                result.batches += 1
                gone = {m.pk for m in batch if m.customer is None}
                reasons = skip_reasons(
                    {m.customer_id: m.email for m in batch if m.customer_id is not None},
                    now=now,
                    frequency_cap=not campaign.ignore_frequency_cap,
                )
                skipped = [m for m in batch if m.pk in gone or m.customer_id in reasons]
                for message in skipped:
                    reason = reasons.get(message.customer_id or 0, SkipReason.CUSTOMER_DELETED)
                    reasons[message.customer_id or 0] = reason
                    result.skipped[reason] += 1
                _skip(skipped, reasons)
                skipped_ids = {message.pk for message in skipped}
                for message in batch:
                    if message.pk in skipped_ids:
                        continue
                    if message.variant not in contents:
                        contents[message.variant] = content_compile(
                            campaign, variants.get(message.variant)
                        )
                    if campaign.channel == Channel.WEBHOOK:
                        item: Any = _webhook_payload(campaign, message, contents[message.variant])
                    else:
                        item = _email(campaign, message, contents[message.variant])
                    throttle.wait()
                    outcome = transport.send(item, _mark_sent(message))
                    if outcome.status == "sent":
                        result.sent += 1
                    elif outcome.status == "abandoned":
                        result.abandoned += 1
                    else:
                        _after_refusal(message, outcome, result)
                sent_events_record(campaign=campaign)
                if pause_check(campaign):
                    result.paused = True
                    break
                if progress is not None:
                    progress(result)
    finally:
        _normal_commits()
    return result


def campaign_next_due(*, campaign: Campaign) -> datetime | None:
    """When the earliest still-pending message may go (None: nothing pending)."""
    return CampaignMessage.objects.filter(
        campaign=campaign, status=MessageStatus.PENDING
    ).aggregate(due=Min("send_after"))["due"]


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Campaigns being sent with due messages and no live sender (no row held), scheduled
    ones whose time came, and unplanned ones: those senders should be started for."""
    now = now or timezone.now()
    live = set(
        CampaignMessage.objects.filter(
            campaign__status=CampaignStatus.SENDING,
            status=MessageStatus.PENDING,
            claimed_until__gte=now,
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    sending = set(
        CampaignMessage.objects.filter(
            campaign__status=CampaignStatus.SENDING,
            status=MessageStatus.PENDING,
            send_after__lte=now,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    scheduled = set(
        Campaign.objects.filter(status=CampaignStatus.SCHEDULED)
        .filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now))
        .values_list("id", flat=True)
    )
    unplanned = set(
        Campaign.objects.filter(status=CampaignStatus.SENDING, planned_at__isnull=True).values_list(
            "id", flat=True
        )
    )
    return sorted((sending - live) | scheduled | unplanned)
