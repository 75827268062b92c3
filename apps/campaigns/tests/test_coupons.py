"""Coupons: issued once per customer, targeting of the persuadable with a holdout, budgets,
the email block, redemption from orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.campaigns.models import Coupon, CouponProgram
from apps.campaigns.services import campaign_launch, campaign_run, message_preview
from apps.campaigns.services.coupons import coupon_offer, coupon_program_create, coupons_redeem
from apps.campaigns.tests.factories import CampaignFactory, subscriber
from apps.core.errors import ValidationFailed
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.segments.models import CustomerScores

pytestmark = pytest.mark.django_db


def _program(**fields) -> CouponProgram:
    values = {"key": "spring", "name": "Spring", "value": Decimal("10"), "holdout_percent": 0}
    return coupon_program_create(**{**values, **fields})


def test_a_customer_gets_one_code_however_often_asked():
    program = _program(code_prefix="SPR")
    customer = CustomerFactory()

    first = coupon_offer(program=program, customer_id=customer.pk)
    second = coupon_offer(program=program, customer_id=customer.pk)

    assert first is not None and first.code == second.code
    assert first.code.startswith("SPR-") and len(first.code) == 12
    assert first.label == "10% off"
    assert Coupon.objects.count() == 1


def test_persuadable_targeting_skips_sure_things_and_lost_causes():
    program = _program(target="persuadable", min_propensity=0.1, max_propensity=0.6)
    sure, lost, middle, unscored = (CustomerFactory() for _ in range(4))
    for customer, propensity in ((sure, 0.9), (lost, 0.02), (middle, 0.3)):
        CustomerScores.objects.create(customer=customer, purchase_propensity=propensity)

    offers = {
        name: coupon_offer(program=program, customer_id=customer.pk)
        for name, customer in (
            ("sure", sure),
            ("lost", lost),
            ("middle", middle),
            ("unscored", unscored),
        )
    }

    assert offers["sure"] is None and offers["lost"] is None
    assert offers["middle"] is not None and offers["unscored"] is not None


def test_the_holdout_is_recorded_and_gets_no_code():
    program = _program(holdout_percent=50)
    customers = [CustomerFactory() for _ in range(60)]

    offers = [coupon_offer(program=program, customer_id=c.pk) for c in customers]

    held = Coupon.objects.filter(program=program, held_out=True)
    assert 15 <= held.count() <= 45
    assert sum(offer is None for offer in offers) == held.count()
    assert set(held.values_list("code", flat=True)) == {""}


def test_the_budget_and_count_caps_stop_issuing():
    program = _program(max_issued=2)
    customers = [CustomerFactory() for _ in range(3)]

    offers = [coupon_offer(program=program, customer_id=c.pk) for c in customers]

    assert [offer is not None for offer in offers] == [True, True, False]


def test_orders_redeem_codes_with_their_discount():
    program = _program()
    customer = CustomerFactory()
    offer = coupon_offer(program=program, customer_id=customer.pk)
    OrderFactory(
        customer=customer, coupon_code=offer.code, placed_at=timezone.now(),
        discount_total=Decimal("4.50"),
    )  # fmt: skip

    assert coupons_redeem() == 1
    assert coupons_redeem() == 0

    coupon = Coupon.objects.get()
    assert coupon.redeemed_at is not None and coupon.discount == Decimal("4.50")


def test_bad_programs_are_refused_naming_the_field():
    with pytest.raises(ValidationFailed, match="^value: a percent"):
        _program(value=Decimal("150"))
    with pytest.raises(ValidationFailed, match="^min_propensity"):
        _program(key="x", min_propensity=0.7, max_propensity=0.2)


def test_the_email_block_issues_codes_on_send_and_shows_samples_in_previews(smtp_sink):
    _program(code_prefix="SPR", valid_days=7)
    people = [subscriber(first_name=n) for n in ("Ann", "Bo")]
    campaign = CampaignFactory(html_body='<p>Hi</p>{% coupon "spring" %}')

    preview = message_preview(campaign=campaign, customer=people[0])
    assert "SPR-" in preview.html and not Coupon.objects.exists()

    campaign_launch(campaign=campaign, enqueue=False)
    campaign_run(campaign_id=campaign.pk)

    codes = dict(Coupon.objects.values_list("customer_id", "code"))
    assert set(codes) == {p.pk for p in people}
    for received in smtp_sink.received:
        html = received.message().get_body(("html",)).get_content()
        assert sum(code in html for code in codes.values()) == 1
    assert Coupon.objects.filter(campaign=campaign).count() == 2


def test_a_campaign_naming_a_missing_program_is_refused_at_launch():
    subscriber()
    campaign = CampaignFactory(html_body='{% coupon "nope" %}')

    with pytest.raises(ValidationFailed, match="^html_body: coupon program 'nope'"):
        campaign_launch(campaign=campaign, enqueue=False)


def test_expiry_follows_valid_days():
    program = _program(valid_days=3)
    customer = CustomerFactory()
    before = timezone.now()

    offer = coupon_offer(program=program, customer_id=customer.pk)

    assert before + timedelta(days=3) <= offer.expires_at <= timezone.now() + timedelta(days=3)
