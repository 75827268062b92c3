"""Who must not get a marketing email now, and why: no address, no consent, unsubscribed,
suppressed (hard bounce, complaint), or the frequency cap reached. Checked when a campaign is
planned and again for every batch just before it is sent, so a customer who unsubscribes or
hits the cap meanwhile is still spared."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count

from apps.campaigns.choices import MessageStatus, SkipReason
from apps.campaigns.models import CampaignMessage, Suppression
from apps.customers.selectors import EMAIL_MARKETING, consent_decisions

UNSUBSCRIBE_SOURCE = "unsubscribe"


def suppressed_emails(emails: Iterable[str]) -> set[str]:
    wanted = {email.lower() for email in emails if email}
    return set(Suppression.objects.filter(email__in=wanted).values_list("email", flat=True))


def recent_send_counts(customer_ids: Iterable[int], *, now: datetime) -> dict[int, int]:
    """Marketing emails sent to each customer within CAMPAIGNS_FREQUENCY_DAYS."""
    since = now - timedelta(days=int(settings.CAMPAIGNS_FREQUENCY_DAYS))
    rows = (
        CampaignMessage.objects.filter(
            customer_id__in=list(customer_ids),
            status=MessageStatus.SENT,
            sent_at__gte=since,
            campaign__ignore_frequency_cap=False,
        )
        .values("customer_id")
        .annotate(count=Count("id"))
        .values_list("customer_id", "count")
    )
    return dict(rows)


def skip_reasons(
    recipients: dict[int, str], *, now: datetime, frequency_cap: bool = True
) -> dict[int, str]:
    """customer id -> SkipReason for those of `recipients` (customer id -> email) who must not
    get a marketing email now; the others are absent."""
    reasons: dict[int, str] = {}
    decisions = consent_decisions(customer_ids=recipients.keys(), purpose=EMAIL_MARKETING)
    suppressed = suppressed_emails(recipients.values())
    counts = recent_send_counts(recipients.keys(), now=now) if frequency_cap else {}
    cap = int(settings.CAMPAIGNS_FREQUENCY_CAP)
    for customer_id, email in recipients.items():
        decision = decisions.get(customer_id)
        if not email:
            reasons[customer_id] = SkipReason.NO_EMAIL
        elif (
            decision is not None
            and not decision.granted
            and (decision.source.startswith(UNSUBSCRIBE_SOURCE))
        ):
            reasons[customer_id] = SkipReason.UNSUBSCRIBED
        elif decision is None or not decision.granted:
            reasons[customer_id] = SkipReason.CONSENT
        elif email.lower() in suppressed:
            reasons[customer_id] = SkipReason.SUPPRESSED
        elif frequency_cap and cap > 0 and counts.get(customer_id, 0) >= cap:
            reasons[customer_id] = SkipReason.FREQUENCY_CAP
    return reasons
