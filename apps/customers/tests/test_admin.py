"""Customer admin: pages render, and saves go through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.customers.models import Consent, Customer, CustomerAlias
from apps.customers.tests.factories import ConsentFactory, CustomerAliasFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _inline_management(response: Any, rows: dict[str, dict[str, str]] | None = None) -> dict:
    """Management-form data for every inline of an admin page, plus rows for some of them."""
    data: dict[str, str] = {}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        extra = (rows or {}).get(prefix, {})
        data |= {
            f"{prefix}-TOTAL_FORMS": str(inline.formset.initial_form_count() + (1 if extra else 0)),
            f"{prefix}-INITIAL_FORMS": str(inline.formset.initial_form_count()),
        }
        index = inline.formset.initial_form_count()
        data |= {f"{prefix}-{index}-{field}": value for field, value in extra.items()}
        for number, form in enumerate(inline.formset.initial_forms):
            data[f"{prefix}-{number}-id"] = str(form.instance.pk)
    return data


def test_list_and_change_pages_render(admin_client):
    customer = CustomerFactory()
    ConsentFactory(customer=customer)
    CustomerAliasFactory(customer=customer)

    listing = admin_client.get("/admin/customers/customer/", {"q": customer.external_id})
    change = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")

    assert listing.status_code == 200
    assert customer.external_id in listing.content.decode()
    assert change.status_code == 200


def test_adding_a_customer_normalises_the_email(admin_client):
    page = admin_client.get("/admin/customers/customer/add/")
    data = {"external_id": "c-1", "email": " Ana@Example.COM ", "attributes": "{}"}

    response = admin_client.post("/admin/customers/customer/add/", data | _inline_management(page))

    assert response.status_code == 302
    assert Customer.objects.get().email == "ana@example.com"


def _save_consent_and_alias(
    client: Client, customer: Customer, *, alias: str, kind: str, follow: bool = False
) -> Any:
    """Post the customer's change form with one new consent row and one new alias row."""
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/")
    prefixes = [inline.formset.prefix for inline in page.context["inline_admin_formsets"]]
    consent_prefix, alias_prefix = prefixes[1], prefixes[3]
    rows = {
        consent_prefix: {
            "purpose": "email_marketing",
            "granted": "on",
            "recorded_at_0": "2026-01-05",
            "recorded_at_1": "10:00:00",
            "source": "phone call",
        },
        alias_prefix: {"alias": alias, "kind": kind},
    }
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in ("email", "first_name", "last_name")}
    data |= {"attributes": "{}", "signup_at_0": "2026-01-01", "signup_at_1": "00:00:00"}
    return client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        data | _inline_management(page, rows),
        follow=follow,
    )


def test_recording_consent_and_an_alias_in_the_admin(admin_client):
    customer = CustomerFactory(external_id="c-1")

    response = _save_consent_and_alias(admin_client, customer, alias="device-7", kind="anonymous")

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    consent = Consent.objects.get()
    assert (consent.purpose, consent.granted, consent.source) == (
        "email_marketing",
        True,
        "phone call",
    )
    assert CustomerAlias.objects.get().alias == "device-7"


def test_a_refused_save_shows_the_reason_and_writes_nothing(admin_client):
    # given a customer, and another whose external_id the alias would shadow
    customer = CustomerFactory(external_id="c-1")
    CustomerFactory(external_id="c-2")

    # when the admin saves a consent and the clashing alias together
    response = _save_consent_and_alias(
        admin_client, customer, alias="c-2", kind="external", follow=True
    )

    # then the page says why, and neither the consent nor the alias was written
    assert response.status_code == 200
    assert "Not saved: alias: &#x27;c-2&#x27; is another customer&#x27;s external_id" in (
        response.content.decode()
    )
    assert Consent.objects.count() == 0
    assert CustomerAlias.objects.count() == 0
