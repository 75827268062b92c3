"""Factories for campaigns, and customers who may (or may not) get marketing email."""

from __future__ import annotations

import factory

from apps.campaigns.models import Campaign, Suppression
from apps.campaigns.services import DEFAULT_HTML
from apps.customers.tests.factories import ConsentFactory, CustomerFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    subject = "Hello {{ customer.first_name|default:'there' }}"
    html_body = DEFAULT_HTML
    all_customers = True
    status = "draft"
    respect_quiet_hours = False


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    email = factory.Sequence(lambda n: f"bounced-{n}@example.com")
    reason = "hard_bounce"


def subscriber(**fields):
    """A customer with an email address and email-marketing consent."""
    customer = CustomerFactory(**fields)
    ConsentFactory(customer=customer, granted=True)
    return customer
