"""The campaigns API end to end: create with variants, preview, test send, launch, report."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.services import api_key_create
from apps.campaigns.choices import CampaignStatus
from apps.campaigns.models import Campaign
from apps.campaigns.services import campaign_run
from apps.campaigns.tests.factories import subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    created = api_key_create(name="partner", scopes=["campaigns:read", "campaigns:write"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")


def test_a_partner_creates_tests_previews_launches_and_reads_the_report(api, smtp_sink):
    # given two subscribers
    ann = subscriber(first_name="Ann")
    subscriber(first_name="Bo")

    # when a campaign with two subject variants and a holdout is created
    response = api.post(
        "/api/v1/campaigns",
        {
            "name": "Spring",
            "subject": "Hi {{ customer.first_name }}",
            "all_customers": True,
            "holdout_percent": 0,
            "respect_quiet_hours": False,
            "variants": [{"key": "A", "weight": 1}, {"key": "B", "subject": "Psst {{ customer.first_name }}"}],
        },
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    campaign_id = response.json()["id"]
    assert [v["key"] for v in response.json()["variants"]] == ["A", "B"]

    # then it previews as a customer, per variant
    preview = api.post(
        f"/api/v1/campaigns/{campaign_id}/preview",
        {"customer_id": ann.external_id, "variant": "B"},
        content_type="application/json",
    )
    assert preview.status_code == 200
    assert preview.json()["subject"] == "Psst Ann"

    # and a test send reaches the SMTP server
    sent = api.post(
        f"/api/v1/campaigns/{campaign_id}/test-send",
        {"to": "me@example.com", "customer_id": ann.external_id},
        content_type="application/json",
    )
    assert sent.status_code == 202
    assert smtp_sink.recipients() == ["me@example.com"]
    assert smtp_sink.received[0].message()["Subject"] == "[Test] Hi Ann"

    # when launched (eager tasks in tests: the senders run at once)
    launched = api.post(
        f"/api/v1/campaigns/{campaign_id}/launch", {}, content_type="application/json"
    )
    assert launched.status_code == 200, launched.content
    campaign_run(campaign_id=campaign_id)
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.DONE
    assert len(smtp_sink.received) == 3

    # then the report has the funnel and both arms
    report = api.get(f"/api/v1/campaigns/{campaign_id}/report").json()
    assert report["funnel"]["sent"] == 2
    assert sorted(arm["name"] for arm in report["arms"]) == ["A", "B"] or len(report["arms"]) == 1
    assert {a["model"] for a in report["attribution"]} == {"last_touch", "linear", "time_decay"}

    # and a done campaign cannot be changed
    refused = api.patch(
        f"/api/v1/campaigns/{campaign_id}", {"name": "x"}, content_type="application/json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"


def test_a_broken_template_is_refused_at_launch_naming_the_field(api):
    subscriber()
    created = api.post(
        "/api/v1/campaigns",
        {"name": "Broken", "subject": "Hi", "all_customers": True, "html_body": "{% if %}"},
        content_type="application/json",
    ).json()

    response = api.post(
        f"/api/v1/campaigns/{created['id']}/launch", {}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("html_body:")
    assert Campaign.objects.get(pk=created["id"]).status == CampaignStatus.DRAFT


def test_reading_needs_the_campaigns_scope():
    created = api_key_create(name="other", scopes=["segments:read"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")

    assert client.get("/api/v1/campaigns").status_code == 403


def test_a_partner_runs_a_coupon_program_and_reads_its_uplift(api):
    from apps.customers.tests.factories import CustomerFactory

    customers = [CustomerFactory() for _ in range(20)]
    created = api.post(
        "/api/v1/coupon-programs",
        {"key": "welcome", "name": "Welcome", "value": "15", "holdout_percent": 30},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content

    codes = [
        api.post(
            "/api/v1/coupon-programs/welcome/issue", {"customer_id": c.external_id},
            content_type="application/json",
        ).json()["code"]
        for c in customers
    ]  # fmt: skip

    report = api.get("/api/v1/coupon-programs/welcome/report").json()
    assert report["issued"] + report["held_out"] == 20
    assert report["issued"] == sum(code is not None for code in codes)
    assert report["redeemed"] == 0
    bad = api.post(
        "/api/v1/coupon-programs",
        {"key": "bad", "name": "Bad", "value": "150"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["detail"].startswith("value:")
