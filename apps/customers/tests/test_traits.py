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


def test_traits_name_the_model_version_of_each_score_and_the_top_reasons():
    from apps.ml.tests.factories import ModelVersionFactory

    customer = CustomerFactory(external_id="C-VERSIONS")
    CustomerScores.objects.create(
        customer=customer,
        clv_historical=Decimal("300.00"),
        clv_discounted=Decimal("290.10"),
        clv_12m=Decimal("120.00"),
        p_alive=0.75,
        expected_purchases_90d=1.25,
        clv_model_version=ModelVersionFactory(kind="segments.clv", version=3),
        churn_risk=0.3,
        churn_model_version=ModelVersionFactory(kind="segments.churn", version=2),
        purchase_propensity=0.6,
        propensity_model_version=ModelVersionFactory(kind="segments.propensity", version=7),
        cluster=1,
        cluster_name="Bargain hunters",
        explanations={
            "churn": [["days_since_last_order", 0.9], ["email_opens_30d", -0.25]],
            "propensity": [["days_since_last_event", -1.5]],
        },
    )
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    traits = client.get("/api/v1/customers/C-VERSIONS").json()["traits"]

    assert (traits["clv_model_version"], traits["churn_model_version"]) == (3, 2)
    assert (traits["propensity_model_version"], traits["cluster_model_version"]) == (7, None)
    assert (traits["p_alive"], traits["expected_purchases_90d"]) == (0.75, 1.25)
    assert (traits["clv_discounted"], traits["clv_historical"]) == ("290.10", "300.00")
    assert traits["churn_reasons"] == [
        {"feature": "days_since_last_order", "label": "Days since the last order",
         "contribution": 0.9},
        {"feature": "email_opens_30d", "label": "Email opens, 30 days", "contribution": -0.25},
    ]  # fmt: skip
    assert traits["propensity_reasons"] == [
        {"feature": "days_since_last_event", "label": "Days since the last visit",
         "contribution": -1.5},
    ]  # fmt: skip


def test_traits_without_models_have_null_versions_and_no_reasons():
    _scored_customer()  # RFM and hand-written scores, no model versions, churn reasons only
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=["customers:read"])))

    traits = client.get("/api/v1/customers/C-TRAITS").json()["traits"]

    assert [traits[f"{name}_model_version"] for name in ("clv", "churn", "propensity", "cluster")] \
        == [None, None, None, None]  # fmt: skip
    assert traits["propensity_reasons"] == []
    assert [reason["contribution"] for reason in traits["churn_reasons"]] == [0.8]
