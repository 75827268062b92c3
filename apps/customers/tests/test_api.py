"""Customer API: list and filters, create, get by id or alias, update, consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.customers.models import Consent, Customer
from apps.customers.tests.factories import (
    ConsentFactory,
    CustomerAliasFactory,
    CustomerFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    api_key = ApiKeyFactory(scopes=["customers:read", "customers:write"])
    api_client = APIClient()
    api_client.credentials(**bearer(api_key))
    return api_client


def test_list_is_paginated_newest_sign_ups_first(client):
    now = timezone.now()
    CustomerFactory(external_id="old", signup_at=now - timedelta(days=9))
    CustomerFactory(external_id="new", signup_at=now - timedelta(days=1))

    response = client.get("/api/v1/customers")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert [row["external_id"] for row in body["results"]] == ["new", "old"]
    assert set(body["results"][0]) >= {"external_id", "email", "country", "signup_at"}


def test_list_filters_by_search_country_and_consent(client):
    granted = CustomerFactory(external_id="c-granted", country="DE")
    ConsentFactory(customer=granted, purpose="email_marketing", granted=True)
    withdrawn = CustomerFactory(external_id="c-withdrawn", country="DE")
    ConsentFactory(customer=withdrawn, purpose="email_marketing", granted=False)
    CustomerFactory(external_id="c-fr", country="FR", email="")

    by_consent = client.get("/api/v1/customers", {"consent": "email_marketing"})
    by_country = client.get("/api/v1/customers", {"country": "fr"})
    by_search = client.get("/api/v1/customers", {"search": "withdrawn"})
    without_email = client.get("/api/v1/customers", {"has_email": "false"})

    assert [r["external_id"] for r in by_consent.json()["results"]] == ["c-granted"]
    assert [r["external_id"] for r in by_country.json()["results"]] == ["c-fr"]
    assert [r["external_id"] for r in by_search.json()["results"]] == ["c-withdrawn"]
    assert [r["external_id"] for r in without_email.json()["results"]] == ["c-fr"]


def test_list_with_a_bad_filter_is_400_naming_it(client):
    response = client.get("/api/v1/customers", {"channel": "television"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("channel: ")


def test_page_size_is_honoured(client):
    CustomerFactory.create_batch(3)

    body = client.get("/api/v1/customers", {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_create_returns_201_with_the_normalised_customer(client):
    response = client.post(
        "/api/v1/customers",
        {"external_id": "c-1", "email": " Ana@Example.com ", "country": "de"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["external_id"] == "c-1"
    assert body["email"] == "ana@example.com"
    assert body["country"] == "DE"
    assert body["aliases"] == []
    assert Customer.objects.get().email == "ana@example.com"


def test_create_with_an_invalid_email_is_400_and_creates_nothing(client):
    response = client.post(
        "/api/v1/customers", {"external_id": "c-1", "email": "nope"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "email: Enter a valid email address."
    assert body["errors"] == {"email": ["Enter a valid email address."]}
    assert Customer.objects.count() == 0


def test_create_without_external_id_is_400(client):
    response = client.post("/api/v1/customers", {"email": "a@b.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "external_id: This field is required."
    assert Customer.objects.count() == 0


def test_create_of_a_taken_external_id_is_409(client):
    CustomerFactory(external_id="c-1", email="first@example.com")

    response = client.post(
        "/api/v1/customers", {"external_id": "c-1", "email": "x@example.com"}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "external_id: customer 'c-1' already exists",
        "code": "customer_exists",
        "field": "external_id",
    }
    assert Customer.objects.get().email == "first@example.com"


def test_get_by_external_id_or_alias(client):
    customer = CustomerFactory(external_id="c-1")
    CustomerAliasFactory(customer=customer, alias="device-42")

    by_id = client.get("/api/v1/customers/c-1")
    by_alias = client.get("/api/v1/customers/device-42")

    assert by_id.status_code == 200
    assert by_id.json()["aliases"] == ["device-42"]
    assert by_alias.json()["external_id"] == "c-1"


def test_get_unknown_is_404_with_the_error_shape(client):
    response = client.get("/api/v1/customers/nobody")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "customer 'nobody' does not exist",
        "code": "customer_not_found",
    }


def test_patch_changes_only_the_given_fields(client):
    CustomerFactory(external_id="c-1", email="a@example.com", city="Berlin")

    response = client.patch("/api/v1/customers/c-1", {"email": "B@Example.com"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == "b@example.com"
    customer = Customer.objects.get()
    assert customer.email == "b@example.com"
    assert customer.city == "Berlin"


def test_patch_with_a_bad_country_is_400_and_changes_nothing(client):
    CustomerFactory(external_id="c-1", country="DE")

    response = client.patch("/api/v1/customers/c-1", {"country": "Germany"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("country: ")
    assert Customer.objects.get().country == "DE"


def test_patch_unknown_is_404_and_creates_nothing(client):
    response = client.patch("/api/v1/customers/ghost", {"city": "Rome"}, format="json")

    assert response.status_code == 404
    assert Customer.objects.count() == 0


def test_consents_show_the_state_in_force_and_the_history(client):
    customer = CustomerFactory(external_id="c-1")
    now = timezone.now()
    ConsentFactory(customer=customer, granted=True, recorded_at=now - timedelta(days=5))
    ConsentFactory(customer=customer, granted=False, recorded_at=now - timedelta(days=1))

    response = client.get("/api/v1/customers/c-1/consents")

    assert response.status_code == 200
    body = response.json()
    assert body["customer"] == "c-1"
    in_force = {row["purpose"]: row["granted"] for row in body["in_force"]}
    assert in_force == {"email_marketing": False, "sms_marketing": False, "profiling": False}
    assert [row["granted"] for row in body["history"]] == [False, True]


def test_post_consent_records_a_decision(client):
    CustomerFactory(external_id="c-1")

    response = client.post(
        "/api/v1/customers/c-1/consents",
        {"purpose": "profiling", "granted": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["purpose"] == "profiling"
    assert response.json()["source"] == "api"
    consent = Consent.objects.get()
    assert consent.granted is True
    assert consent.source == "api"


def test_post_consent_with_an_unknown_purpose_is_400_and_records_nothing(client):
    CustomerFactory(external_id="c-1")

    response = client.post(
        "/api/v1/customers/c-1/consents", {"purpose": "spam", "granted": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("purpose: ")
    assert Consent.objects.count() == 0


def test_read_only_key_cannot_record_consent():
    CustomerFactory(external_id="c-1")
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    response = client.post(
        "/api/v1/customers/c-1/consents", {"purpose": "profiling", "granted": True}, format="json"
    )

    assert response.status_code == 403
    assert Consent.objects.count() == 0
