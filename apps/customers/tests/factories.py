"""Factories for customers, their consent decisions and aliases."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.customers.choices import AcquisitionChannel, ConsentPurpose
from apps.customers.models import Consent, Customer, CustomerAlias


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n:06d}")
    email = factory.LazyAttribute(lambda customer: f"{customer.external_id}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    country = "DE"
    city = "Berlin"
    acquisition_channel = AcquisitionChannel.ORGANIC
    signup_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    purpose = ConsentPurpose.EMAIL_MARKETING
    granted = True
    recorded_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    source = "signup_form"


class CustomerAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAlias

    customer = factory.SubFactory(CustomerFactory)
    alias = factory.Sequence(lambda n: f"anon-{n:06d}")
    kind = "anonymous"
