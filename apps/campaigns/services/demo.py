"""Marketing for the demo shop (`manage.py campaign demo`, run by `make demo`): coupon
programs, the six journey templates (active), and one A/B-tested campaign with a holdout sent
through the configured email backend, whose recipients then behave like people: a seeded
share opens and clicks through the real tracking services (the synthetic part, like the demo
shop's own events). Runs once: a second run finds the demo campaign and does nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.campaigns.engine.journeys import TEMPLATES
from apps.campaigns.models import Campaign, CampaignMessage, CouponProgram, Journey
from apps.campaigns.services import tracking
from apps.campaigns.services.campaigns import (
    DEFAULT_HTML,
    campaign_create,
    campaign_launch,
    campaign_run,
    campaign_update,
)
from apps.campaigns.services.coupons import coupon_program_create
from apps.campaigns.services.journeys import journey_activate, journey_create

DEMO_CAMPAIGN = "Spring picks (demo)"
PERSON = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"
PROGRAMS: list[dict[str, Any]] = [
    {"key": "welcome", "name": "Welcome 10%", "value": Decimal("10"), "code_prefix": "HELLO"},
    {"key": "cart-10", "name": "Cart rescue 10%", "value": Decimal("10"), "valid_days": 3,
     "target": "persuadable"},
    {"key": "win-back", "name": "Win-back 15%", "value": Decimal("15"), "target": "persuadable"},
    {"key": "birthday", "name": "Birthday 5.00 off", "value": Decimal("5"),
     "discount_type": "amount", "holdout_percent": 0},
]  # fmt: skip


@dataclass
class DemoResult:
    created: bool
    campaign_id: int | None = None
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    journeys: list[str] = field(default_factory=list)


def campaigns_demo_setup(*, seed: int = 7, open_share: float = 0.32) -> DemoResult:
    existing = Campaign.objects.filter(name=DEMO_CAMPAIGN).first()
    if existing is not None:
        return DemoResult(created=False, campaign_id=existing.pk)
    for program in PROGRAMS:
        if not CouponProgram.objects.filter(key=program["key"]).exists():
            coupon_program_create(**program)
    result = DemoResult(created=True)
    for key in TEMPLATES:
        if not Journey.objects.filter(template=key).exists():
            journey = journey_create(template=key)
            journey_activate(journey=journey)
            result.journeys.append(journey.name)
    campaign = campaign_create(
        name=DEMO_CAMPAIGN,
        subject="Picked for you, {{ customer.first_name|default:'friend' }}",
        html_body=DEFAULT_HTML.replace(
            "<p>We picked these for you:</p>",
            '<p>We picked these for you:</p>{% coupon "welcome" %}',
        ),
        all_customers=True,
        holdout_percent=10,
        respect_quiet_hours=False,
        cost=Decimal("40.00"),
    )
    campaign_update(
        campaign=campaign,
        changes={},
        variants=[
            {"key": "A", "weight": 1},
            {
                "key": "B",
                "weight": 1,
                "subject": "{{ customer.first_name|default:'You' }}, these are back in stock",
            },
        ],
    )
    campaign_launch(campaign=campaign, enqueue=False)
    summary = campaign_run(campaign_id=campaign.pk)
    result.campaign_id, result.sent = campaign.pk, summary.sent
    rng = random.Random(seed)
    for message in CampaignMessage.objects.filter(campaign=campaign, status="sent").order_by("id"):
        # B's subject is a little better; a quarter of openers click
        share = open_share * (1.25 if message.variant == "B" else 1.0)
        if rng.random() >= share:
            continue
        token = str(message.token)
        tracking.open_record(
            token=token,
            signature=tracking.open_url(token).rsplit("/", 1)[1].removesuffix(".gif"),
            user_agent=PERSON,
        )
        result.opened += 1
        if rng.random() < 0.25:
            destination = "https://shop.example.com/?from=email"
            signature = tracking.click_url(token, destination).rsplit("s=", 1)[1]
            tracking.click_record(
                token=token, destination=destination, signature=signature, user_agent=PERSON
            )
            result.clicked += 1
    return result
