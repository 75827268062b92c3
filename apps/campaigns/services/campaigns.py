"""A campaign's life: created as a draft, launched (now or scheduled), planned into messages,
sent by senders on the `email` queue, paused (by hand or automatically) and resumed,
cancelled, done."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.accounts.services import audit_log_record
from apps.campaigns.choices import CampaignStatus, Channel, MessageStatus
from apps.campaigns.models import Campaign, CampaignMessage
from apps.campaigns.services.content import content_compile, message_preview
from apps.campaigns.services.planning import campaign_plan
from apps.campaigns.services.sending import SendResult, campaign_next_due, campaign_send_batches
from apps.core.errors import Conflict, DomainError, ValidationFailed

DEFAULT_HTML = """<html><body style="font-family:Arial,sans-serif;color:#0f172a">
<p>Hi {{ customer.first_name|default:"there" }},</p>
<p>We picked these for you:</p>
{% recommendations n=4 placement="email" %}
<p><a href="https://shop.example.com/?from=email">Visit the shop</a></p>
<p style="color:#64748b;font-size:12px">You get this email because you subscribed.
<a href="{{ unsubscribe_url }}">Unsubscribe</a> or
<a href="{{ preferences_url }}">change your preferences</a>.</p>
</body></html>"""


def _full_clean(campaign: Campaign) -> None:
    try:
        campaign.full_clean(exclude=["owner"])
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from None


@transaction.atomic
def campaign_create(
    *,
    name: str,
    subject: str = "",
    html_body: str = "",
    segment_ids: list[int] | None = None,
    excluded_segment_ids: list[int] | None = None,
    all_customers: bool = False,
    owner: Any = None,
    **fields: Any,
) -> Campaign:
    """A draft campaign. Its content is checked when launched (and on every preview)."""
    campaign = Campaign(
        name=name.strip(),
        subject=subject,
        html_body=html_body or DEFAULT_HTML,
        all_customers=all_customers,
        owner=owner if getattr(owner, "pk", None) else None,
        **fields,
    )
    _full_clean(campaign)
    campaign.save()
    if segment_ids:
        campaign.segments.set(segment_ids)
    if excluded_segment_ids:
        campaign.excluded_segments.set(excluded_segment_ids)
    audit_log_record(
        action="campaign.create", target=f"campaign:{campaign.pk}", actor=owner,
        data={"name": campaign.name},
    )  # fmt: skip
    return campaign


def campaign_validate(*, campaign: Campaign) -> None:
    """Raise ValidationFailed naming the field when the campaign cannot be sent as it is."""
    if campaign.channel == Channel.EMAIL:
        for variant in [None, *campaign.variants.all()]:
            content_compile(campaign, variant)
            try:  # blocks that name what does not exist (a coupon program, a placement)
                message_preview(campaign=campaign, customer=None, variant=variant)
            except ValidationFailed:
                raise
            except DomainError as error:
                raise ValidationFailed(f"html_body: {error.message}", field="html_body") from None
    elif not campaign.webhook_url:
        raise ValidationFailed(
            "webhook_url: the webhook channel needs an address", field="webhook_url"
        )
    if not campaign.all_customers and not campaign.segments.exists():
        raise ValidationFailed(
            "segments: choose at least one segment (or everyone)", field="segments"
        )


@transaction.atomic
def campaign_launch(
    *, campaign: Campaign, at: datetime | None = None, actor: Any = None, enqueue: bool = True
) -> Campaign:
    """Schedule the campaign (now when `at` is empty); a sender on the email queue plans and
    sends it (`enqueue` False: the caller runs it). Why: nothing is sent from a web request,
    and a crash resumes from the rows."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise Conflict(f"status: a {campaign.status} campaign cannot be launched", field="status")
    campaign_validate(campaign=campaign)
    campaign.status = CampaignStatus.SCHEDULED
    campaign.scheduled_at = at
    campaign.save(update_fields=["status", "scheduled_at", "updated_at"])
    audit_log_record(
        action="campaign.launch", target=f"campaign:{campaign.pk}", actor=actor,
        data={"at": at.isoformat() if at else None},
    )  # fmt: skip
    if not enqueue:
        return campaign
    if at is None or at <= timezone.now():  # later: resume_campaigns_task starts it on time
        from apps.campaigns.tasks import senders_start

        campaign_id = campaign.pk
        transaction.on_commit(lambda: senders_start(campaign_id))
    return campaign


def _set_status(campaign: Campaign, *, allowed: tuple[str, ...], status: str, **extra: Any) -> int:
    return Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(
        status=status, **extra
    )


def campaign_pause(*, campaign: Campaign, reason: str = "", actor: Any = None) -> Campaign:
    """Stop sending after the current message; pending messages wait for a resume."""
    if not _set_status(
        campaign,
        allowed=(CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
        status=CampaignStatus.PAUSED,
        paused_reason=reason[:250] or "Paused by hand",
    ):
        raise Conflict(f"status: a {campaign.status} campaign cannot be paused", field="status")
    audit_log_record(action="campaign.pause", target=f"campaign:{campaign.pk}", actor=actor)
    campaign.refresh_from_db()
    return campaign


def campaign_resume(*, campaign: Campaign, actor: Any = None) -> Campaign:
    if not _set_status(
        campaign,
        allowed=(CampaignStatus.PAUSED,),
        status=CampaignStatus.SENDING,
        paused_reason="",
    ):
        raise Conflict(f"status: a {campaign.status} campaign cannot be resumed", field="status")
    audit_log_record(action="campaign.resume", target=f"campaign:{campaign.pk}", actor=actor)
    from apps.campaigns.tasks import senders_start

    campaign_id = campaign.pk
    transaction.on_commit(lambda: senders_start(campaign_id))
    campaign.refresh_from_db()
    return campaign


def campaign_cancel(*, campaign: Campaign, actor: Any = None) -> Campaign:
    """Stop for good: pending messages are never sent."""
    if not _set_status(
        campaign,
        allowed=(
            CampaignStatus.DRAFT,
            CampaignStatus.SCHEDULED,
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
        ),
        status=CampaignStatus.CANCELLED,
        finished_at=timezone.now(),
    ):
        raise Conflict(f"status: a {campaign.status} campaign cannot be cancelled", field="status")
    audit_log_record(action="campaign.cancel", target=f"campaign:{campaign.pk}", actor=actor)
    campaign.refresh_from_db()
    return campaign


@dataclass
class RunResult:
    """A sender run: what planning made (first run only) and what was sent."""

    campaign_id: int
    status: str
    sent: int = 0
    failed: int = 0
    holdout: int = 0
    skipped: Counter = field(default_factory=Counter)
    pending: int = 0
    next_due: datetime | None = None
    send: SendResult | None = None


def campaign_run(
    *, campaign_id: int, max_batches: int | None = None, progress: Any = None
) -> RunResult:
    """Plan (once) and send what is due; mark done when nothing is left. What the sender
    task runs, and `campaign send` in process. Safe to run twice at once or again after a
    crash."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status == CampaignStatus.SCHEDULED:
        if campaign.scheduled_at and campaign.scheduled_at > timezone.now():
            return campaign_summary(campaign=campaign)
        started = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
            status=CampaignStatus.SENDING, started_at=timezone.now()
        )
        campaign.refresh_from_db()
        if not started and campaign.status != CampaignStatus.SENDING:
            return campaign_summary(campaign=campaign)
    if campaign.status != CampaignStatus.SENDING:
        return campaign_summary(campaign=campaign)
    if campaign.planned_at is None:
        campaign_plan(campaign=campaign)
        Campaign.objects.filter(pk=campaign.pk).update(planned_at=timezone.now())
    sent = campaign_send_batches(campaign=campaign, max_batches=max_batches, progress=progress)
    waiting = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.WAITING)
    if (
        campaign.journey_id is None
        and campaign_next_due(campaign=campaign) is None
        and not waiting.exists()
    ):
        finished = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.DONE, finished_at=timezone.now()
        )
        if finished and campaign.recurrence:
            campaign_next_occurrence(campaign=campaign)
    campaign.refresh_from_db()
    summary = campaign_summary(campaign=campaign)
    summary.send = sent
    return summary


RECURRENCE_STEP = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
COPIED_FIELDS = (
    "name", "channel", "owner", "all_customers", "subject", "preheader", "from_email",
    "html_body", "text_body", "webhook_url", "recurrence", "send_rate", "holdout_percent",
    "respect_quiet_hours", "ignore_frequency_cap", "utm_source", "utm_medium", "utm_campaign",
    "bounce_pause_rate", "complaint_pause_rate", "cost", "winner_metric", "test_percent",
    "winner_wait_hours", "optimize_send_time",
)  # fmt: skip


@transaction.atomic
def campaign_next_occurrence(*, campaign: Campaign) -> Campaign:
    """The next run of a recurring campaign (daily or weekly after this one started): a copy
    with the same audience, content and variants, scheduled; made once per occurrence. Why a
    copy: each run has its own messages (a customer gets each run once) and its own report."""
    existing = Campaign.objects.filter(previous=campaign).first()
    if existing is not None:
        return existing
    start = campaign.scheduled_at or campaign.started_at or timezone.now()
    following = Campaign(
        **{name: getattr(campaign, name) for name in COPIED_FIELDS},
        previous=campaign,
        status=CampaignStatus.SCHEDULED,
        scheduled_at=start + RECURRENCE_STEP[campaign.recurrence],
    )
    following.save()
    following.segments.set(campaign.segments.all())
    following.excluded_segments.set(campaign.excluded_segments.all())
    for variant in campaign.variants.all():
        following.variants.create(
            key=variant.key, weight=variant.weight, subject=variant.subject,
            html_body=variant.html_body, optimize_send_time=variant.optimize_send_time,
        )  # fmt: skip
    return following


def campaign_summary(*, campaign: Campaign) -> RunResult:
    """Messages per status and skips per reason, from the rows."""
    result = RunResult(campaign_id=campaign.pk, status=campaign.status)
    rows = CampaignMessage.objects.filter(campaign=campaign)
    for status, reason, count in _grouped(rows):
        if status == MessageStatus.SENT:
            result.sent += count
        elif status == MessageStatus.FAILED:
            result.failed += count
        elif status == MessageStatus.HOLDOUT:
            result.holdout += count
        elif status == MessageStatus.SKIPPED:
            result.skipped[reason] += count
        elif status in (MessageStatus.PENDING, MessageStatus.WAITING):
            result.pending += count
    result.next_due = campaign_next_due(campaign=campaign) if result.pending else None
    return result


def _grouped(rows: Any) -> list[tuple[str, str, int]]:
    return list(
        rows.values("status", "skip_reason")
        .annotate(count=Count("id"))
        .values_list("status", "skip_reason", "count")
    )


__all__ = [
    "DEFAULT_HTML",
    "EDITABLE_FIELDS",
    "RunResult",
    "campaign_cancel",
    "campaign_create",
    "campaign_test_send",
    "campaign_update",
    "campaign_variants_set",
    "campaign_launch",
    "campaign_pause",
    "campaign_resume",
    "campaign_run",
    "campaign_summary",
    "campaign_validate",
    "message_preview",
]


EDITABLE_FIELDS = (
    "name", "subject", "preheader", "from_email", "html_body", "text_body", "channel",
    "webhook_url", "all_customers", "send_rate", "holdout_percent", "respect_quiet_hours",
    "optimize_send_time", "winner_metric", "test_percent", "winner_wait_hours",
    "ignore_frequency_cap", "utm_source", "utm_medium", "utm_campaign", "bounce_pause_rate",
    "complaint_pause_rate", "cost", "recurrence",
)  # fmt: skip
EDITABLE_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    changes: dict[str, Any],
    segment_ids: list[int] | None = None,
    excluded_segment_ids: list[int] | None = None,
    variants: list[dict[str, Any]] | None = None,
    actor: Any = None,
) -> Campaign:
    """Change a campaign that has not started sending (or is paused: content changes then
    apply to the messages still to go). Lists given replace the current ones."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in EDITABLE_STATUSES:
        raise Conflict(f"status: a {campaign.status} campaign cannot be changed", field="status")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: not an editable field", field=unknown[0])
    started = campaign.planned_at is not None
    for name in ("holdout_percent", "all_customers"):
        if started and name in changes and changes[name] != getattr(campaign, name):
            raise Conflict(f"{name}: cannot change once the audience is planned", field=name)
    if started and (segment_ids is not None or excluded_segment_ids is not None or variants):
        raise Conflict("segments: cannot change once the audience is planned", field="segments")
    for name, value in changes.items():
        setattr(campaign, name, value)
    _full_clean(campaign)
    campaign.save()
    if segment_ids is not None:
        campaign.segments.set(segment_ids)
    if excluded_segment_ids is not None:
        campaign.excluded_segments.set(excluded_segment_ids)
    if variants is not None:
        campaign_variants_set(campaign=campaign, variants=variants)
    audit_log_record(
        action="campaign.update", target=f"campaign:{campaign.pk}", actor=actor,
        data={"fields": sorted(changes)},
    )  # fmt: skip
    return campaign


def campaign_variants_set(*, campaign: Campaign, variants: list[dict[str, Any]]) -> None:
    """Replace the A/B/n variants: [{key, weight, subject, html_body}]; the first is the
    control in the report. Empty: no test."""
    keys = [str(variant.get("key", "")).strip() for variant in variants]
    for index, key in enumerate(keys):
        if not key:
            raise ValidationFailed(
                f"variants[{index}].key: required", field=f"variants[{index}].key"
            )
        if keys.count(key) > 1:
            raise ValidationFailed(
                f"variants[{index}].key: {key!r} appears twice", field=f"variants[{index}].key"
            )
    if len(variants) == 1:
        raise ValidationFailed("variants: a test needs at least two variants", field="variants")
    campaign.variants.all().delete()
    for index, variant in enumerate(variants):
        weight = variant.get("weight", 1)
        if not isinstance(weight, int) or weight < 1:
            raise ValidationFailed(
                f"variants[{index}].weight: a whole number of at least 1",
                field=f"variants[{index}].weight",
            )
        optimize = variant.get("optimize_send_time")
        campaign.variants.create(
            key=keys[index],
            weight=weight,
            subject=str(variant.get("subject") or ""),
            html_body=str(variant.get("html_body") or ""),
            optimize_send_time=None if optimize is None else bool(optimize),
        )
    for variant_row in campaign.variants.all():
        content_compile(campaign, variant_row)


def campaign_test_send(*, campaign: Campaign, to: str, customer: Any = None) -> None:
    """Send the campaign as `customer` would get it (links untracked, subject marked [Test])
    to one address, now. Why: to see it in a real mail client before launching."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.core.validators import validate_email

    try:
        validate_email(to)
    except DjangoValidationError:
        raise ValidationFailed(f"to: {to!r} is not an email address", field="to") from None
    rendered = message_preview(campaign=campaign, customer=customer)
    email = EmailMultiAlternatives(
        subject=f"[Test] {rendered.subject}",
        body=rendered.text,
        from_email=campaign.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    email.attach_alternative(rendered.html, "text/html")
    email.send()
