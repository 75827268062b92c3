"""Customer services: create, upsert, consent decisions and aliases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed
from apps.customers.models import Consent, Customer, CustomerAlias
from apps.customers.selectors import consent_state, customer_get, customer_id_for
from apps.customers.services import (
    consent_record,
    customer_alias_add,
    customer_create,
    customer_update,
)
from apps.customers.tests.factories import CustomerAliasFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_normalises_the_profile():
    customer = customer_create(
        external_id=" c-1 ",
        email="  Ana.Lima@Example.COM ",
        first_name=" Ana ",
        country="br",
        birth_date=date(1990, 5, 17),
    )

    stored = Customer.objects.get()
    assert stored == customer
    assert stored.external_id == "c-1"
    assert stored.email == "ana.lima@example.com"
    assert stored.first_name == "Ana"
    assert stored.country == "BR"
    assert stored.birth_date == date(1990, 5, 17)
    assert stored.signup_at is not None


def test_customer_create_refuses_a_taken_external_id():
    CustomerFactory(external_id="c-1", email="first@example.com")

    with pytest.raises(Conflict) as error:
        customer_create(external_id="c-1", email="second@example.com")

    assert error.value.field == "external_id"
    assert list(Customer.objects.values_list("email", flat=True)) == ["first@example.com"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"gender": "robot"}, "gender"),
        ({"acquisition_channel": "tv"}, "acquisition_channel"),
        ({"country": "DEU"}, "country"),
    ],
)
def test_customer_create_refuses_invalid_fields_and_writes_nothing(changes, field):
    with pytest.raises(ValidationFailed) as error:
        customer_create(external_id="c-1", **changes)

    assert error.value.field == field
    assert error.value.message.startswith(f"{field}: ")
    assert Customer.objects.count() == 0


def test_customer_update_changes_only_the_given_fields():
    CustomerFactory(external_id="c-1", email="a@example.com", city="Berlin", first_name="Ana")

    customer, created = customer_update(
        external_id="c-1", changes={"email": " NEW@Example.com", "city": "Hamburg"}
    )

    assert created is False
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert customer.city == "Hamburg"
    assert customer.first_name == "Ana"


def test_customer_update_creates_an_unknown_customer():
    customer, created = customer_update(external_id="c-9", changes={"email": "X@Y.com"})

    assert created is True
    assert Customer.objects.get().external_id == "c-9"
    assert customer.email == "x@y.com"
    assert customer.signup_at is not None


def test_customer_update_refuses_an_unknown_field_and_keeps_the_row():
    CustomerFactory(external_id="c-1", email="a@example.com")

    with pytest.raises(ValidationFailed) as error:
        customer_update(external_id="c-1", changes={"email": "b@example.com", "vip": True})

    assert error.value.field == "vip"
    assert Customer.objects.get().email == "a@example.com"


def test_customer_update_with_an_invalid_email_keeps_the_old_one():
    CustomerFactory(external_id="c-1", email="a@example.com")

    with pytest.raises(ValidationFailed):
        customer_update(external_id="c-1", changes={"email": "broken@"})

    assert Customer.objects.get().email == "a@example.com"


def test_consent_record_appends_and_the_latest_is_in_force():
    # given a customer who granted and then withdrew email marketing
    customer = CustomerFactory()
    now = timezone.now()
    consent_record(
        customer=customer,
        purpose="email_marketing",
        granted=True,
        recorded_at=now - timedelta(days=2),
        source="signup_form",
    )
    consent_record(customer=customer, purpose="email_marketing", granted=False, source="api")

    # then both rows exist and the withdrawal is in force
    assert Consent.objects.filter(customer=customer).count() == 2
    state = {row["purpose"]: row for row in consent_state(customer=customer)}
    assert state["email_marketing"]["granted"] is False
    assert state["email_marketing"]["source"] == "api"
    assert state["profiling"]["granted"] is False
    assert state["profiling"]["recorded_at"] is None


@pytest.mark.parametrize(
    ("purpose", "recorded_at", "field"),
    [
        ("newsletter", None, "purpose"),
        ("profiling", timezone.now() + timedelta(days=1), "recorded_at"),
    ],
)
def test_consent_record_refuses_bad_input(purpose, recorded_at, field):
    customer = CustomerFactory()

    with pytest.raises(ValidationFailed) as error:
        consent_record(customer=customer, purpose=purpose, granted=True, recorded_at=recorded_at)

    assert error.value.field == field
    assert Consent.objects.count() == 0


def test_customer_alias_add_links_an_anonymous_id_idempotently():
    customer = CustomerFactory(external_id="c-1")

    first = customer_alias_add(customer=customer, alias="device-42")
    second = customer_alias_add(customer=customer, alias=" device-42 ")

    assert first == second
    assert CustomerAlias.objects.count() == 1
    assert customer_get(external_id="device-42") == customer
    assert customer_id_for(identifier="device-42") == customer.pk


def test_customer_alias_add_refuses_an_alias_of_another_customer():
    CustomerAliasFactory(alias="device-42")
    other = CustomerFactory()

    with pytest.raises(Conflict):
        customer_alias_add(customer=other, alias="device-42")

    assert CustomerAlias.objects.filter(customer=other).count() == 0


def test_customer_alias_add_refuses_another_customers_external_id():
    CustomerFactory(external_id="c-1")
    other = CustomerFactory(external_id="c-2")

    with pytest.raises(Conflict):
        customer_alias_add(customer=other, alias="c-1")

    assert CustomerAlias.objects.count() == 0
