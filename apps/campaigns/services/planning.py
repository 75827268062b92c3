"""A campaign's audience turned into message rows: one per customer, each pending (with the
earliest time it may go), skipped with its reason, or held out. Planning is idempotent: run
again (a retried task), it adds only customers without a row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

from apps.campaigns.choices import MessageStatus
from apps.campaigns.engine.assignment import assign, unit_hash
from apps.campaigns.engine.send_time import best_send_hours, is_quiet, next_send_time
from apps.campaigns.engine.zones import customer_zone
from apps.campaigns.models import Campaign, CampaignMessage
from apps.campaigns.services.guards import skip_reasons
from apps.core.errors import ValidationFailed
from apps.customers.selectors import customer_all_ids, customers_by_ids
from apps.events.selectors import customer_engagement_times
from apps.segments.selectors import segment_member_customer_ids

CHUNK = 2000
# Send-time optimisation's hour for everyone while nobody has any engagement (local time).
DEFAULT_SEND_HOUR = 10
# Send-time optimisation learns from this much engagement history.
SEND_TIME_HISTORY = timedelta(days=180)


@dataclass
class PlanResult:
    """What planning produced: rows per status and skips per reason (this call's rows)."""

    audience: int = 0
    created: int = 0
    statuses: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)


def audience_ids(campaign: Campaign) -> list[int]:
    """Customer ids of the audience (any of the segments, or everyone) minus the members of
    the excluded segments, sorted."""
    if campaign.all_customers:
        ids = set(customer_all_ids().values_list("id", flat=True))
    else:
        ids = set()
        for segment in campaign.segments.all():
            ids.update(
                segment_member_customer_ids(segment_id=segment.pk).values_list(
                    "customer_id", flat=True
                )
            )
    for segment in campaign.excluded_segments.all():
        ids.difference_update(
            segment_member_customer_ids(segment_id=segment.pk).values_list("customer_id", flat=True)
        )
    return sorted(ids)


def quiet_hours() -> tuple[int, int] | None:
    """CAMPAIGNS_QUIET_HOURS as (start hour, end hour); None when empty."""
    text = str(settings.CAMPAIGNS_QUIET_HOURS).strip()
    if not text:
        return None
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise ValidationFailed(
            f"CAMPAIGNS_QUIET_HOURS: {text!r} is not like 21-8", field="CAMPAIGNS_QUIET_HOURS"
        ) from None
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise ValidationFailed(
            f"CAMPAIGNS_QUIET_HOURS: {text!r} needs two different hours 0-23",
            field="CAMPAIGNS_QUIET_HOURS",
        )
    return start, end


def quiet_hours_end(moment: datetime, zone: Any, hours: tuple[int, int] | None) -> datetime:
    """`moment` if it is outside the quiet hours in `zone`, else when they end there."""
    local = moment.astimezone(zone)
    hour = local.hour
    if hours is None or not is_quiet(hour, hours):
        return moment
    start, end = hours
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    wake = datetime(day.year, day.month, day.day, end, tzinfo=zone)
    return wake.astimezone(moment.tzinfo)


def customer_zone_for(customer: Any) -> Any:
    """The customer's time zone: their timezone attribute, else their country's, else the
    site default."""
    return customer_zone(
        zone_name=str((customer.attributes or {}).get("timezone", "")),
        country=customer.country,
        default=str(settings.CAMPAIGNS_DEFAULT_TIMEZONE),
    )


def best_hours(customer_ids: list[int], *, now: datetime) -> tuple[dict[int, int], int]:
    """customer id -> best local send hour (from their opens and clicks in their own zone,
    smoothed towards everyone's), and the population's best hour for the rest."""
    times = customer_engagement_times(customer_ids=customer_ids, since=now - SEND_TIME_HISTORY)
    if not times:  # nobody has opened or clicked yet: everyone at the usual hour
        return {}, DEFAULT_SEND_HOUR
    index = {customer_id: position for position, customer_id in enumerate(customer_ids)}
    zones = {
        pk: customer_zone_for(c) for pk, c in customers_by_ids(customer_ids=customer_ids).items()
    }
    people = [index[customer_id] for customer_id, _ in times]
    hours = [at.astimezone(zones[customer_id]).hour for customer_id, at in times]
    result = best_send_hours(
        np.asarray(people, dtype=np.int64), np.asarray(hours, dtype=np.int64),
        n_customers=len(customer_ids),
    )  # fmt: skip
    chosen = {
        customer_id: int(result.best_hour[position])
        for customer_id, position in index.items()
        if not result.fallback[position]
    }
    return chosen, result.population_best_hour


def campaign_plan(*, campaign: Campaign, now: datetime | None = None) -> PlanResult:
    """Create the campaign's message rows for every audience member without one."""
    now = now or timezone.now()
    start = max(now, campaign.scheduled_at) if campaign.scheduled_at else now
    hours = quiet_hours() if campaign.respect_quiet_hours else None
    rows_of_variants = list(campaign.variants.all())
    variants = [(variant.key, variant.weight) for variant in rows_of_variants]
    # send time per arm: the campaign's setting unless a variant says otherwise (an experiment)
    optimized = {
        variant.key: campaign.optimize_send_time
        if variant.optimize_send_time is None
        else variant.optimize_send_time
        for variant in rows_of_variants
    }
    any_optimized = campaign.optimize_send_time or any(optimized.values())
    result = PlanResult()
    ids = audience_ids(campaign)
    result.audience = len(ids)
    existing = set(
        CampaignMessage.objects.filter(campaign=campaign).values_list("customer_id", flat=True)
    )
    todo = [customer_id for customer_id in ids if customer_id not in existing]
    personal_hours: dict[int, int] = {}
    population_hour = 10
    if any_optimized and todo:
        personal_hours, population_hour = best_hours(todo, now=now)
    for offset in range(0, len(todo), CHUNK):
        customers = customers_by_ids(customer_ids=todo[offset : offset + CHUNK])
        reasons = skip_reasons(
            {pk: customer.email for pk, customer in customers.items()},
            now=now,
            frequency_cap=not campaign.ignore_frequency_cap,
        )
        rows = []
        for pk, customer in customers.items():
            held_out, variant = assign(
                salt=f"campaign:{campaign.pk}",
                key=str(pk),
                holdout_percent=campaign.holdout_percent,
                variants=variants,
            )
            row = CampaignMessage(
                campaign=campaign,
                customer_id=pk,
                email=customer.email.lower(),
                variant=variant,
                send_after=start,
            )
            if variants and campaign.winner_metric and not held_out:
                in_test = unit_hash(f"campaign:{campaign.pk}:test", str(pk)) < (
                    campaign.test_percent / 100.0
                )
                if not in_test:  # waits for the winner (guards are checked again then)
                    row.in_test = False
                    row.variant = ""
            if held_out:
                # the guard that would have stopped them, kept: the report compares the
                # eligible holdout with the eligible recipients
                row.status = MessageStatus.HOLDOUT
                row.skip_reason = reasons.get(pk, "")
            elif pk in reasons:
                row.status = MessageStatus.SKIPPED
                row.skip_reason = reasons[pk]
                result.skipped[reasons[pk]] += 1
            elif not row.in_test:
                row.status = MessageStatus.WAITING
            elif optimized.get(row.variant, campaign.optimize_send_time):
                row.send_after = next_send_time(
                    personal_hours.get(pk, population_hour),
                    not_before=start,
                    zone=customer_zone_for(customer),
                    quiet_hours=hours,
                )
            elif hours is not None:
                row.send_after = quiet_hours_end(start, customer_zone_for(customer), hours)
            result.statuses[row.status] += 1
            rows.append(row)
        created = CampaignMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        result.created += len(created)
    return result
