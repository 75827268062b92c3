"""A customer's predictive traits (segments app scores) on the API and the profile page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, UserFactory, bearer
from apps.customers.tests.factories import CustomerFactory
from apps.segments.models import CustomerScores

pytestmark = pytest.mark.django_db


def _scored_customer():
    customer = CustomerFactory(external_id="C-TRAITS")
    CustomerScores.objects.create(
        customer=customer,
        rfm_recency=5,
        rfm_frequency=4,
        rfm_monetary=3,
        rfm_cell="potential_loyalists",
        lifecycle_stage="active",
        clv_12m=Decimal("123.45"),
        p_alive=0.9,
        churn_risk=0.25,
        purchase_propensity=0.4,
        explanations={"churn": [["Days since the last visit", 0.8]]},
    )
    return customer


def test_the_customer_api_returns_traits():
    _scored_customer()
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    body = client.get("/api/v1/customers/C-TRAITS").json()

    traits = body["traits"]
    assert (traits["rfm_cell"], traits["rfm_recency"], traits["lifecycle_stage"]) == (
        "potential_loyalists",
        5,
        "active",
    )
    assert (traits["clv_12m"], traits["churn_risk"], traits["p_alive"]) == ("123.45", 0.25, 0.9)
    assert traits["explanations"]["churn"] == [["Days since the last visit", 0.8]]


def test_a_customer_without_scores_has_null_traits():
    CustomerFactory(external_id="C-PLAIN")
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    assert client.get("/api/v1/customers/C-PLAIN").json()["traits"] is None


def test_the_profile_page_shows_scores_and_reasons():
    _scored_customer()
    browser = Client()
    browser.force_login(UserFactory(role="analyst"))

    page = browser.get("/customers/C-TRAITS/").content.decode()

    assert "Potential loyalists" in page
    assert 'data-testid="churn-risk">25%' in page
    assert "Days since the last visit" in page
    assert "Not in any segment" in page
