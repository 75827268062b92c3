"""Automatic winner of a campaign's A/B/n test: the variants go to a test group first; the
winner by the chosen metric (open, click or conversion rate) goes to everyone else once it is
significant, or, at the latest, after `winner_wait_hours` (then the best so far, said so)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.campaigns.choices import CampaignStatus, MessageStatus
from apps.campaigns.engine.stats import (
    AnalysisConfig,
    StatisticsInputError,
    compare,
)
from apps.campaigns.models import Campaign, CampaignMessage
from apps.campaigns.selectors import campaign_report

ALPHA = 0.05


def _beats(winner: Any, other: Any, metric: str) -> bool:
    """Two-proportion z-test on the difference of rates (the relative lift's interval is
    too wide when the baseline rate is near 0 to decide anything)."""

    try:
        result = compare(
            other.proportion(metric),
            winner.proportion(metric),
            AnalysisConfig(difference_type="absolute"),
        )
    except StatisticsInputError:  # no variance yet
        return False
    return result.p_value < ALPHA and result.lift > 0


def campaign_winner_pick(*, campaign: Campaign, now: datetime | None = None) -> str:
    """Pick and send the winner when it is time; returns the winner ('' while waiting)."""
    now = now or timezone.now()
    if campaign.winner or not campaign.winner_metric or campaign.status != CampaignStatus.SENDING:
        return campaign.winner
    waiting = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.WAITING)
    if not waiting.exists():
        return ""
    report = campaign_report(campaign=campaign, now=now)
    arms = [arm for arm in report.arms if arm.name != "holdout"]
    if len(arms) < 2 or not all(arm.sent for arm in arms):
        return ""
    metric = campaign.winner_metric
    best = max(arms, key=lambda arm: arm.rate(metric))
    control = arms[0]
    if best is control:
        significant = all(_beats(control, arm, metric) for arm in arms[1:])
    else:
        significant = _beats(best, control, metric)
    started = campaign.started_at or campaign.planned_at or now
    deadline = started + timedelta(hours=campaign.winner_wait_hours)
    if not significant and now < deadline:
        return ""
    note = (
        f"{best.name} won on {metric} rate ({best.rate(metric):.1%}), significant at 5%"
        if significant
        else f"{best.name} had the best {metric} rate ({best.rate(metric):.1%}) after "
        f"{campaign.winner_wait_hours} h; not significant"
    )
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign.pk, winner="").update(
            winner=best.name, winner_note=note[:250]
        )
        if not updated:
            return Campaign.objects.get(pk=campaign.pk).winner
        waiting.update(variant=best.name, status=MessageStatus.PENDING, send_after=now)
        from apps.campaigns.tasks import senders_start

        campaign_id = campaign.pk
        transaction.on_commit(lambda: senders_start(campaign_id))
    return best.name


def winners_pick(*, now: datetime | None = None) -> list[int]:
    """Campaigns whose winner was picked in this call."""
    picked = []
    candidates = (
        Campaign.objects.filter(
            status=CampaignStatus.SENDING, winner="", messages__status=MessageStatus.WAITING
        )
        .exclude(winner_metric="")
        .distinct()
    )
    for campaign in candidates:
        if campaign_winner_pick(campaign=campaign, now=now):
            picked.append(campaign.pk)
    return picked
