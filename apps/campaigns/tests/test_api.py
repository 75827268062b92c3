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


def test_provider_feedback_suppresses_bounces_and_pauses_a_campaign():
    from apps.campaigns.models import CampaignMessage, Suppression
    from apps.campaigns.services import campaign_plan
    from apps.campaigns.tests.factories import CampaignFactory
    from apps.events.models import Event

    key = api_key_create(name="esp", scopes=["events:write"]).raw_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    people = [subscriber() for _ in range(100)]
    campaign = CampaignFactory(status="sending", complaint_pause_rate=0.01)
    campaign_plan(campaign=campaign)
    CampaignMessage.objects.filter(campaign=campaign).update(status="sent")
    rows = list(CampaignMessage.objects.filter(campaign=campaign).order_by("id"))

    response = client.post(
        "/api/v1/email/feedback",
        {"events": [
            {"type": "bounce", "message_id": f"<{rows[0].token}@mkt.example.com>", "reason": "5.1.1"},
            {"type": "bounce", "bounce_type": "soft", "message_id": str(rows[1].token)},
            {"type": "complaint", "message_id": str(rows[2].token)},
            {"type": "complaint", "message_id": str(rows[3].token)},
            {"type": "delivered", "message_id": str(rows[4].token)},
            {"type": "bounce", "message_id": "<nobody@x>"},
            {"type": "opened", "message_id": str(rows[5].token)},
        ]},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 5
    assert [r["index"] for r in body["rejected"]] == [5, 6]
    assert body["rejected"][0]["reason"] == "events[5].message_id: no message token in it"
    assert set(Suppression.objects.values_list("email", flat=True)) == {
        rows[0].email,
        rows[2].email,
        rows[3].email,
    }
    assert body["paused_campaigns"] == [campaign.pk]  # 2 complaints of 100 > 1%
    assert Event.objects.filter(event_type="email_bounce").count() == 2
    assert len(people) == 100


def test_a_partner_builds_and_activates_a_journey(api):
    created = api.post(
        "/api/v1/journeys", {"template": "post_purchase", "name": "Cross-sell"},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    journey = created.json()
    assert journey["name"] == "Cross-sell" and journey["status"] == "draft"
    assert set(journey["step_counts"]) == {"wait-3d", "email"}

    broken = api.patch(
        f"/api/v1/journeys/{journey['id']}",
        {"steps": [{"id": "a", "type": "wait", "hours": 1, "next": "b"}]},
        content_type="application/json",
    )
    assert broken.status_code == 400
    assert broken.json()["detail"] == "steps[0].next: no step with id 'b'"

    activated = api.post(f"/api/v1/journeys/{journey['id']}/activate")
    assert activated.status_code == 200, activated.content
    assert activated.json()["status"] == "active"
    refused = api.patch(
        f"/api/v1/journeys/{journey['id']}", {"name": "x"}, content_type="application/json"
    )
    assert refused.status_code == 409
