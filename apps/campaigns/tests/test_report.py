"""The campaign report: funnel, arms, holdout uplift and attribution, by hand-computed numbers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.campaigns.engine.stats import ProportionSummary, VariantData, analyze_experiment
from apps.campaigns.models import CampaignMessage
from apps.campaigns.selectors import _credits, campaign_report
from apps.campaigns.tests.factories import CampaignFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def _row(campaign, *, status, sent_at=None, skip_reason="", variant="", **fields):
    customer = CustomerFactory()
    return CampaignMessage.objects.create(
        campaign=campaign, customer=customer, email=customer.email, status=status,
        skip_reason=skip_reason, variant=variant, send_after=sent_at or timezone.now(),
        sent_at=sent_at, **fields,
    )  # fmt: skip


def test_report_counts_the_funnel_and_the_holdout_uplift_by_hand():
    now = timezone.now()
    start = now - timedelta(days=3)
    campaign = CampaignFactory(status="done", started_at=start, cost=Decimal("10.00"))
    sent = start + timedelta(minutes=5)
    # 10 recipients: 4 opened, 2 clicked, 2 bought (30 and 50) within the week
    recipients = [_row(campaign, status="sent", sent_at=sent) for _ in range(10)]
    for row in recipients[:4]:
        CampaignMessage.objects.filter(pk=row.pk).update(opened_at=sent, open_count=1)
    for row in recipients[:2]:
        CampaignMessage.objects.filter(pk=row.pk).update(clicked_at=sent)
    OrderFactory(customer=recipients[0].customer, placed_at=sent + timedelta(hours=2),
                 total=Decimal("30.00"))  # fmt: skip
    OrderFactory(customer=recipients[5].customer, placed_at=sent + timedelta(days=1),
                 total=Decimal("50.00"))  # fmt: skip
    OrderFactory(
        customer=recipients[6].customer, placed_at=start - timedelta(days=1), total=Decimal("99.00")
    )  # fmt: skip  (before the campaign: not counted)
    # 10 in the eligible holdout, 1 of whom bought (40); 1 ineligible holdout who bought
    holdout = [_row(campaign, status="holdout") for _ in range(10)]
    OrderFactory(customer=holdout[0].customer, placed_at=start + timedelta(days=1),
                 total=Decimal("40.00"))  # fmt: skip
    ineligible = _row(campaign, status="holdout", skip_reason="consent")
    OrderFactory(customer=ineligible.customer, placed_at=start + timedelta(hours=1))
    _row(campaign, status="skipped", skip_reason="consent")

    report = campaign_report(campaign=campaign, now=now)

    funnel = report.funnel
    assert (funnel.targeted, funnel.sent, funnel.delivered) == (11, 10, 10)
    assert (funnel.opened, funnel.clicked, funnel.converted) == (4, 2, 2)
    assert funnel.revenue == Decimal("80.00")
    by_name = {arm.name: arm for arm in report.arms}
    assert (by_name["all"].customers, by_name["all"].converted) == (10, 2)
    assert (by_name["holdout"].customers, by_name["holdout"].converted) == (10, 1)
    assert by_name["all"].revenue_squares == 30.0**2 + 50.0**2
    # uplift: 2/10 vs 1/10 conversion, 8.0 vs 4.0 revenue per customer, times 10 recipients
    assert report.incremental_conversions == pytest.approx(1.0)
    assert report.incremental_revenue == pytest.approx(40.0)
    conversion = next(t for t in report.holdout_tests if t.metric == "conversion")
    expected = analyze_experiment(
        [
            VariantData("holdout", ProportionSummary(n=10, conversions=1)),
            VariantData("recipients", ProportionSummary(n=10, conversions=2)),
        ]
    ).comparisons[0]
    assert conversion.lift == pytest.approx(1.0)  # 0.2 / 0.1 - 1
    assert conversion.p_value == pytest.approx(expected.p_value)
    assert conversion.significant is False
    # attribution: both orders had only this campaign's email before them
    models = {a.model: a for a in report.attribution}
    assert models["last_touch"].orders == 2 and models["last_touch"].revenue == 80.0
    assert models["linear"].revenue == 80.0
    assert report.roi == pytest.approx((80.0 - 10.0) / 10.0)


def test_attribution_shares_an_order_between_two_campaigns_emails():
    now = timezone.now()
    first = CampaignFactory(status="done", started_at=now - timedelta(days=4))
    second = CampaignFactory(status="done", started_at=now - timedelta(days=2))
    customer = CustomerFactory()
    for campaign, days in ((first, 4), (second, 2)):
        CampaignMessage.objects.create(
            campaign=campaign, customer=customer, email=customer.email, status="sent",
            send_after=now, sent_at=now - timedelta(days=days),
        )  # fmt: skip
    OrderFactory(customer=customer, placed_at=now - timedelta(days=1), total=Decimal("100.00"))

    first_report = campaign_report(campaign=first, now=now)
    second_report = campaign_report(campaign=second, now=now)

    first_models = {a.model: a.revenue for a in first_report.attribution}
    second_models = {a.model: a.revenue for a in second_report.attribution}
    # last touch: all to the later email; linear: half each; time decay (half-life 2 days):
    # weights 0.5^(3/2) and 0.5^(1/2) -> 0.3333 and 0.6667
    assert (first_models["last_touch"], second_models["last_touch"]) == (0.0, 100.0)
    assert (first_models["linear"], second_models["linear"]) == (50.0, 50.0)
    assert first_models["time_decay"] == pytest.approx(33.33, abs=0.01)
    assert second_models["time_decay"] == pytest.approx(66.67, abs=0.01)


def test_credit_models_sum_to_one():
    now = timezone.now()
    touches = [now - timedelta(days=d) for d in (6, 3, 1)]
    for shares in _credits(touches, now).values():
        assert sum(shares) == pytest.approx(1.0)
