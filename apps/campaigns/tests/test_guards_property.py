"""Property: whatever the audience, unsubscribed, non-consenting, suppressed and capped
customers never receive a marketing email, and everyone else receives exactly one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.campaigns.models import Campaign, CampaignMessage, Suppression
from apps.campaigns.services import campaign_launch, campaign_run
from apps.campaigns.tests.factories import CampaignFactory
from apps.customers.models import Consent, Customer
from apps.customers.tests.factories import ConsentFactory, CustomerFactory
from apps.events.models import Event

pytestmark = pytest.mark.django_db

CONSENT = st.sampled_from(["none", "granted", "withdrawn", "unsubscribed", "regranted"])
PERSON = st.fixed_dictionaries(
    {
        "email": st.booleans(),
        "consent": CONSENT,
        "suppressed": st.booleans(),
        "recent_sends": st.integers(min_value=0, max_value=4),
    }
)


def _make(index: int, spec: dict) -> tuple[Customer, bool]:
    customer = CustomerFactory(email=f"p{index}@example.com" if spec["email"] else "")
    now = timezone.now()
    steps = {
        "none": [],
        "granted": [(True, "signup_form")],
        "withdrawn": [(True, "signup_form"), (False, "api")],
        "unsubscribed": [(True, "signup_form"), (False, "unsubscribe:campaign 1")],
        "regranted": [(True, "signup_form"), (False, "unsubscribe:x"), (True, "preference_centre")],
    }[spec["consent"]]
    for offset, (granted, source) in enumerate(steps):
        ConsentFactory(
            customer=customer, granted=granted, source=source,
            recorded_at=now - timedelta(hours=10 - offset),
        )  # fmt: skip
    if spec["suppressed"] and customer.email:
        Suppression.objects.create(email=customer.email, reason="complaint")
    for _ in range(spec["recent_sends"]):
        CampaignMessage.objects.create(
            campaign=CampaignFactory(), customer=customer, email=customer.email, status="sent",
            send_after=now, sent_at=now - timedelta(days=1),
        )  # fmt: skip
    eligible = (
        bool(customer.email)
        and spec["consent"] in ("granted", "regranted")
        and not spec["suppressed"]
        and spec["recent_sends"] < 3
    )
    return customer, eligible


@hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(PERSON, min_size=1, max_size=12))
def test_only_eligible_customers_receive_exactly_one_email(smtp_sink, people):
    # given a fresh random audience (each example starts from an empty shop)
    Event.objects.all().delete()
    CampaignMessage.objects.all().delete()
    Campaign.objects.all().delete()
    Suppression.objects.all().delete()
    Consent.objects.all().delete()
    Customer.objects.all().delete()
    smtp_sink.received.clear()
    made = [_make(index, spec) for index, spec in enumerate(people)]

    # when a campaign to everyone is sent
    campaign = campaign_launch(campaign=CampaignFactory(), enqueue=False)
    campaign_run(campaign_id=campaign.pk)

    # then exactly the eligible ones got one email each
    expected = sorted(customer.email for customer, eligible in made if eligible)
    assert sorted(smtp_sink.recipients()) == expected
