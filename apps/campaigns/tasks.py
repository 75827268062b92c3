"""Celery entry points of campaigns (house rule 7): each calls one service.

A sender run is safe to repeat or to run beside another (rows are claimed, and each is marked
sent once); `resume_campaigns_task` (every minute) starts senders for any campaign that has
due messages and no live sender: after a crash, or when quiet hours end.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.campaigns.services import campaign_run
from apps.campaigns.services.coupons import coupons_redeem
from apps.campaigns.services.journeys import journeys_tick
from apps.campaigns.services.sending import campaigns_due
from apps.campaigns.services.winner import winners_pick
from apps.core.choices import Queue

EMAIL_QUEUE = Queue.EMAIL.value


@shared_task(
    name="campaigns.send_campaign_task",
    queue=EMAIL_QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=3600,
    soft_time_limit=3540,
)
def send_campaign_task(campaign_id: int) -> dict:
    """Plan (first run) and send the campaign's due messages. Messages due later (quiet
    hours, deferred retries) are picked up by `resume_campaigns_task`: no long countdowns,
    which the Redis broker would deliver twice after its visibility timeout."""
    result = campaign_run(campaign_id=campaign_id)
    return {"campaign_id": campaign_id, "status": result.status, "sent": result.sent}


def senders_start(campaign_id: int, *, countdown: float = 0.0) -> None:
    """CAMPAIGNS_SENDERS sender tasks for the campaign: the worker pool runs them side by
    side (the rows they claim never overlap)."""
    for _ in range(max(1, int(settings.CAMPAIGNS_SENDERS))):
        send_campaign_task.apply_async(args=[campaign_id], countdown=countdown, queue=EMAIL_QUEUE)


@shared_task(name="campaigns.resume_campaigns_task", queue=EMAIL_QUEUE, time_limit=60)
def resume_campaigns_task() -> list[int]:
    """Start a sender for each campaign with due messages that no sender holds."""
    winners_pick()  # a test's winner released to the rest becomes due at once
    campaign_ids = campaigns_due()
    for campaign_id in campaign_ids:
        senders_start(campaign_id)
    return campaign_ids


@shared_task(name="campaigns.redeem_coupons_task", time_limit=600)
def redeem_coupons_task() -> int:
    """Mark coupon codes that orders used as redeemed; returns how many."""
    return coupons_redeem()


@shared_task(name="campaigns.run_journeys_task", time_limit=600, soft_time_limit=540)
def run_journeys_task() -> dict:
    """Enroll new triggers of active journeys and run the steps that are due."""
    return journeys_tick()
