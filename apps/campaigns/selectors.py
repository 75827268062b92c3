"""Reads of campaigns: lists, messages, and the campaign report (funnel, A/B/n and holdout
statistics, attribution, ROI)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.campaigns.choices import MessageStatus
from apps.campaigns.engine.stats import (
    AnalysisConfig,
    MeanSummary,
    ProportionSummary,
    StatisticsInputError,
    VariantData,
    compare,
)
from apps.campaigns.models import Campaign, CampaignMessage
from apps.core.errors import NotFound
from apps.events.selectors import customer_orders_between

HOLDOUT = "holdout"
# Half-life of the time-decay attribution model.
DECAY_HALF_LIFE = timedelta(days=2)


def campaign_list(*, status: str = "", search: str = "") -> QuerySet[Campaign]:
    queryset = (
        Campaign.objects.filter(journey__isnull=True)
        .select_related("owner")
        .annotate(
            sent=Count("messages", filter=Q(messages__status=MessageStatus.SENT)),
            opened=Count("messages", filter=Q(messages__opened_at__isnull=False)),
            clicked=Count("messages", filter=Q(messages__clicked_at__isnull=False)),
        )
    )
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(name__icontains=search.strip())
    return queryset.order_by("-created_at", "-id")


def campaign_get(*, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("owner").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist", code="campaign_not_found")
    return campaign


def campaign_message_list(*, campaign: Campaign, status: str = "") -> QuerySet[CampaignMessage]:
    queryset = CampaignMessage.objects.select_related("customer").filter(campaign=campaign)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("id")


def attribution_days() -> int:
    return int(settings.CAMPAIGNS_ATTRIBUTION_DAYS)


@dataclass(frozen=True)
class Funnel:
    targeted: int  # planned rows minus the holdout
    sent: int
    delivered: int
    opened: int
    clicked: int
    converted: int
    unsubscribed: int
    bounced: int
    complained: int
    machine_opens: int
    revenue: Decimal

    def rate(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None


@dataclass
class Arm:
    """One group of the campaign: a variant's recipients, or the holdout (eligible only)."""

    name: str
    customers: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: float = 0.0
    revenue_squares: float = 0.0  # sum over customers of (their revenue)^2

    def successes(self, metric: str) -> int:
        """How many customers of the arm did it: open, click or conversion."""
        return {"open": self.opened, "click": self.clicked, "conversion": self.converted}[metric]

    def rate(self, metric: str) -> float:
        return self.successes(metric) / self.customers if self.customers else 0.0

    def proportion(self, metric: str) -> VariantData:
        return VariantData(
            self.name, ProportionSummary(n=self.customers, conversions=self.successes(metric))
        )


@dataclass(frozen=True)
class Test:
    """One comparison of a metric between a group and its baseline."""

    metric: str
    baseline: str
    variant: str
    baseline_value: float
    variant_value: float
    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_win: float
    significant: bool
    difference: str = "relative"  # or absolute (when the baseline's rate is 0)


@dataclass(frozen=True)
class Attribution:
    model: str  # last_touch | linear | time_decay
    orders: float
    revenue: float


@dataclass
class CampaignReport:
    campaign_id: int
    window_days: int
    funnel: Funnel
    arms: list[Arm]
    variant_tests: list[Test] = field(default_factory=list)
    holdout_tests: list[Test] = field(default_factory=list)
    attribution: list[Attribution] = field(default_factory=list)
    incremental_conversions: float | None = None
    incremental_revenue: float | None = None
    cost: float = 0.0
    roi: float | None = None  # (attributed last-touch revenue - cost) / cost
    notes: list[str] = field(default_factory=list)


def _tests(arms: list[Arm], metric: str, *, alpha: float = 0.05) -> list[Test]:
    """Each arm after the first against the first, frequentist: the relative lift, or the
    absolute difference when the first arm's rate is 0 (a relative lift is undefined then).
    Comparisons without any variance yet are left out."""
    variants = []
    for arm in arms:
        if arm.customers < 2:
            return []
        if metric == "revenue":  # per customer
            summary = MeanSummary(n=arm.customers, sum=arm.revenue, sum_squares=arm.revenue_squares)
            variants.append(VariantData(arm.name, summary))
        else:
            variants.append(arm.proportion(metric))
    control = variants[0]
    tests = []
    for treatment in variants[1:]:
        comparison = None
        for difference in ("relative", "absolute"):
            try:
                comparison = compare(
                    control, treatment, AnalysisConfig(alpha=alpha, difference_type=difference)
                )
                break
            except StatisticsInputError:
                continue
        if comparison is None or not all(
            math.isfinite(v) for v in (comparison.lift, comparison.ci_low, comparison.p_value)
        ):
            continue
        tests.append(
            Test(
                metric=metric,
                baseline=control.name,
                variant=comparison.variant,
                baseline_value=comparison.control_mean,
                variant_value=comparison.treatment_mean,
                lift=comparison.lift,
                ci_low=comparison.ci_low,
                ci_high=comparison.ci_high,
                p_value=comparison.p_value,
                chance_to_win=comparison.chance_to_win,
                significant=comparison.p_value < alpha,
                difference=comparison.difference_type,
            )
        )
    return tests


def _credits(touches: list[datetime], placed_at: datetime) -> dict[str, list[float]]:
    """Each model's share of one order for each touch (oldest first)."""
    count = len(touches)
    last = [0.0] * count
    last[-1] = 1.0
    weights = [0.5 ** ((placed_at - at) / DECAY_HALF_LIFE) for at in touches]
    total = sum(weights)
    return {
        "last_touch": last,
        "linear": [1.0 / count] * count,
        "time_decay": [weight / total for weight in weights],
    }


def campaign_report(*, campaign: Campaign, now: datetime | None = None) -> CampaignReport:
    """The campaign's funnel, its arms (variants, and the holdout) with conversions and revenue
    within the attribution window, the A/B/n and holdout tests, attribution by three models,
    incremental results and ROI."""
    now = now or timezone.now()
    window = timedelta(days=attribution_days())
    rows = list(
        CampaignMessage.objects.filter(campaign=campaign).values_list(
            "id", "customer_id", "status", "skip_reason", "variant", "sent_at", "opened_at",
            "clicked_at", "unsubscribed_at", "bounced_at", "complained_at",
            "machine_open_count", "in_test",
        )
    )  # fmt: skip
    start = campaign.started_at or campaign.planned_at or campaign.created_at
    customer_ids = sorted({row[1] for row in rows if row[1] is not None})
    orders = customer_orders_between(
        customer_ids=customer_ids, start=start, end=now + timedelta(minutes=1)
    )
    by_customer: dict[int, list[tuple[datetime, Decimal, str]]] = defaultdict(list)
    for customer_id, placed_at, total, coupon in orders:
        by_customer[customer_id].append((placed_at, total, coupon))

    arms: dict[str, Arm] = {}
    funnel_counts: dict[str, Any] = defaultdict(int)
    funnel_revenue = Decimal("0")
    for (
        _, customer_id, status, skip_reason, variant, sent_at, opened_at, clicked_at,
        unsubscribed_at, bounced_at, complained_at, machine_opens, in_test,
    ) in rows:  # fmt: skip
        funnel_counts["machine_opens"] += machine_opens
        if status != MessageStatus.HOLDOUT:
            funnel_counts["targeted"] += 1
        if status == MessageStatus.SENT:
            funnel_counts["sent"] += 1
            funnel_counts["delivered"] += 0 if bounced_at else 1
            funnel_counts["opened"] += 1 if opened_at else 0
            funnel_counts["clicked"] += 1 if clicked_at else 0
            funnel_counts["unsubscribed"] += 1 if unsubscribed_at else 0
            funnel_counts["complained"] += 1 if complained_at else 0
        funnel_counts["bounced"] += 1 if bounced_at else 0
        # Arms compare eligible customers only (skipped ones never could be reached), and of a
        # test with an automatic winner only the test group.
        if skip_reason or not in_test:
            continue
        name = HOLDOUT if status == MessageStatus.HOLDOUT else (variant or "all")
        arm = arms.setdefault(name, Arm(name))
        arm.customers += 1
        arm.sent += 1 if status == MessageStatus.SENT else 0
        arm.opened += 1 if opened_at else 0
        arm.clicked += 1 if clicked_at else 0
        # converted: any order within the window after the send (holdout: after the start)
        since = sent_at if status == MessageStatus.SENT and sent_at else start
        value = sum(
            (float(total) for placed_at, total, _ in by_customer.get(customer_id, ())
             if since <= placed_at < since + window),
            0.0,
        )  # fmt: skip
        if value > 0:
            arm.converted += 1
            arm.revenue += value
            arm.revenue_squares += value * value
            if status == MessageStatus.SENT:
                funnel_counts["converted"] += 1
                funnel_revenue += Decimal(str(round(value, 2)))

    funnel = Funnel(
        targeted=funnel_counts["targeted"],
        sent=funnel_counts["sent"],
        delivered=funnel_counts["delivered"],
        opened=funnel_counts["opened"],
        clicked=funnel_counts["clicked"],
        converted=funnel_counts["converted"],
        unsubscribed=funnel_counts["unsubscribed"],
        bounced=funnel_counts["bounced"],
        complained=funnel_counts["complained"],
        machine_opens=funnel_counts["machine_opens"],
        revenue=funnel_revenue,
    )
    holdout = arms.pop(HOLDOUT, None)
    variant_keys = [v.key for v in campaign.variants.all()]
    ordered = [arms[key] for key in variant_keys if key in arms] + [
        arm for key, arm in sorted(arms.items()) if key not in variant_keys
    ]
    report = CampaignReport(
        campaign_id=campaign.pk,
        window_days=window.days,
        funnel=funnel,
        arms=ordered + ([holdout] if holdout else []),
        cost=float(campaign.cost),
    )
    if len(ordered) >= 2:
        for metric in ("conversion", "open", "click", "revenue"):
            report.variant_tests += _tests(ordered, metric)
    if holdout is not None and ordered:
        treated = Arm("recipients")
        for arm in ordered:
            for name in ("customers", "sent", "opened", "clicked", "converted"):
                setattr(treated, name, getattr(treated, name) + getattr(arm, name))
            treated.revenue += arm.revenue
            treated.revenue_squares += arm.revenue_squares
        for metric in ("conversion", "revenue"):
            report.holdout_tests += _tests([holdout, treated], metric)
        if holdout.customers and treated.customers:
            rate_gap = treated.converted / treated.customers - holdout.converted / holdout.customers
            value_gap = treated.revenue / treated.customers - holdout.revenue / holdout.customers
            report.incremental_conversions = rate_gap * treated.customers
            report.incremental_revenue = value_gap * treated.customers
    elif campaign.holdout_percent == 0:
        report.notes.append("No holdout: uplift cannot be measured (set a holdout share).")
    else:
        report.notes.append("Nobody eligible fell in the holdout yet: uplift needs both groups.")
    report.attribution = _attribution(campaign, rows, by_customer, window)
    last_touch = next(a for a in report.attribution if a.model == "last_touch")
    if campaign.cost > 0:
        report.roi = (last_touch.revenue - float(campaign.cost)) / float(campaign.cost)
    return report


def _attribution(
    campaign: Campaign,
    rows: list[tuple[Any, ...]],
    by_customer: dict[int, list[tuple[datetime, Decimal, str]]],
    window: timedelta,
) -> list[Attribution]:
    """This campaign's share of its recipients' orders under three models, counting every
    marketing email each customer got in the window before each order (any campaign)."""
    recipients = {row[1] for row in rows if row[2] == MessageStatus.SENT and row[1] is not None}
    totals = {"last_touch": [0.0, 0.0], "linear": [0.0, 0.0], "time_decay": [0.0, 0.0]}
    if not recipients:
        return [Attribution(model, 0.0, 0.0) for model in totals]
    touches: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for customer_id, sent_at, campaign_id in CampaignMessage.objects.filter(
        customer_id__in=recipients, status=MessageStatus.SENT
    ).values_list("customer_id", "sent_at", "campaign_id"):
        if sent_at is not None:
            touches[customer_id].append((sent_at, campaign_id))
    for customer_id in recipients:
        mine = sorted(touches.get(customer_id, []))
        for placed_at, total, _ in by_customer.get(customer_id, ()):
            before = [(at, cid) for at, cid in mine if placed_at - window <= at <= placed_at]
            if not before or all(cid != campaign.pk for _, cid in before):
                continue
            credits = _credits([at for at, _ in before], placed_at)
            for model, shares in credits.items():
                share = sum(
                    s for s, (_, cid) in zip(shares, before, strict=True) if cid == campaign.pk
                )
                totals[model][0] += share
                totals[model][1] += share * float(total)
    return [Attribution(model, round(v[0], 4), round(v[1], 2)) for model, v in totals.items()]


@dataclass
class CouponProgramReport:
    """Codes issued and used, what they cost, and whether they made people buy: customers
    given a code against the holdout (conversion within the codes' validity)."""

    key: str
    issued: int
    held_out: int
    redeemed: int
    discount_total: float
    redemption_rate: float | None
    tests: list[Test] = field(default_factory=list)
    incremental_buyers: float | None = None
    cost_per_incremental_buyer: float | None = None


def coupon_program_list() -> QuerySet[Any]:
    from apps.campaigns.models import CouponProgram

    return CouponProgram.objects.annotate(
        issued=Count("coupons", filter=Q(coupons__held_out=False)),
        redeemed=Count("coupons", filter=Q(coupons__redeemed_at__isnull=False)),
    ).order_by("-created_at")


def coupon_program_report(*, program: Any, now: datetime | None = None) -> CouponProgramReport:
    from apps.campaigns.models import Coupon

    now = now or timezone.now()
    rows = list(
        Coupon.objects.filter(program=program).values_list(
            "customer_id", "held_out", "created_at", "redeemed_at", "discount"
        )
    )
    validity = timedelta(days=program.valid_days)
    ids = sorted({row[0] for row in rows if row[0] is not None})
    start = min((row[2] for row in rows), default=now)
    orders = customer_orders_between(customer_ids=ids, start=start, end=now + timedelta(minutes=1))
    bought: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, placed_at, _total, _coupon in orders:
        bought[customer_id].append(placed_at)
    given, holdout = Arm("code"), Arm("holdout")
    discount = 0.0
    redeemed = 0
    for customer_id, held_out, issued_at, redeemed_at, amount in rows:
        arm = holdout if held_out else given
        arm.customers += 1
        if any(issued_at <= at < issued_at + validity for at in bought.get(customer_id, ())):
            arm.converted += 1
        if redeemed_at is not None:
            redeemed += 1
            discount += float(amount)
    report = CouponProgramReport(
        key=program.key,
        issued=given.customers,
        held_out=holdout.customers,
        redeemed=redeemed,
        discount_total=round(discount, 2),
        redemption_rate=redeemed / given.customers if given.customers else None,
    )
    if given.customers and holdout.customers:
        report.tests = _tests([holdout, given], "conversion")
        gap = given.converted / given.customers - holdout.converted / holdout.customers
        report.incremental_buyers = gap * given.customers
        if report.incremental_buyers > 0:
            report.cost_per_incremental_buyer = discount / report.incremental_buyers
    return report


@dataclass(frozen=True)
class Overview:
    """The campaigns dashboard: the last `days` of marketing email."""

    days: int
    sent: int
    opened: int
    clicked: int
    unsubscribed: int
    active_journeys: int
    coupons_redeemed: int
    sent_per_day: dict[str, list[Any]]

    @property
    def open_rate(self) -> float | None:
        return 100.0 * self.opened / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return 100.0 * self.clicked / self.sent if self.sent else None


def campaigns_overview(*, days: int = 30, now: datetime | None = None) -> Overview:
    from django.db.models.functions import TruncDate

    from apps.campaigns.models import Coupon, Journey

    now = now or timezone.now()
    since = now - timedelta(days=days)
    sent = CampaignMessage.objects.filter(status=MessageStatus.SENT, sent_at__gte=since)
    totals = sent.aggregate(
        sent=Count("id"),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    per_day = dict(
        sent.annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )
    labels, values = [], []
    for offset in range(days, -1, -1):
        day = (now - timedelta(days=offset)).date()
        labels.append(day.isoformat())
        values.append(per_day.get(day, 0))
    return Overview(
        days=days,
        sent=totals["sent"],
        opened=totals["opened"],
        clicked=totals["clicked"],
        unsubscribed=totals["unsubscribed"],
        active_journeys=Journey.objects.filter(status="active").count(),
        coupons_redeemed=Coupon.objects.filter(redeemed_at__gte=since).count(),
        sent_per_day={"labels": labels, "values": values},
    )


def campaign_send_days(*, since: datetime, until: datetime) -> set[date]:
    """Days on which a campaign started sending or is scheduled to (a regressor of
    campaign-driven demand: past days explain history, scheduled ones shape the forecast)."""
    starts = (
        Campaign.objects.annotate(day_at=Coalesce("started_at", "scheduled_at"))
        .filter(day_at__gte=since, day_at__lt=until)
        .values_list("day_at", flat=True)
    )
    return {timezone.localtime(started).date() for started in starts}
