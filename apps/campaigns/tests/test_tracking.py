"""Open pixel, click redirect, one-click unsubscribe and the preference centre, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.campaigns.choices import MessageStatus, SkipReason
from apps.campaigns.models import CampaignMessage
from apps.campaigns.services import campaign_plan, tracking
from apps.campaigns.tests.factories import CampaignFactory, subscriber
from apps.customers.models import Consent
from apps.events.models import Event

pytestmark = pytest.mark.django_db

PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"


@pytest.fixture
def sent_message():
    customer = subscriber()
    campaign = CampaignFactory()
    campaign_plan(campaign=campaign)
    message = CampaignMessage.objects.get(campaign=campaign)
    CampaignMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, sent_at=timezone.now() - timedelta(minutes=5)
    )
    message.refresh_from_db()
    assert message.customer_id == customer.pk
    return message


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_an_open_by_a_person_counts_and_becomes_an_event(client, sent_message):
    response = client.get(_path(tracking.open_url(sent_message.token)), HTTP_USER_AGENT=PERSON)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    sent_message.refresh_from_db()
    assert (sent_message.open_count, sent_message.machine_open_count) == (1, 0)
    assert sent_message.opened_at is not None
    event = Event.objects.get(event_type="email_open")
    assert event.customer_id == sent_message.customer_id
    assert event.properties["machine"] is False
    assert event.properties["campaign_id"] == sent_message.campaign_id


def test_an_open_by_a_privacy_proxy_is_flagged_not_counted(client, sent_message):
    client.get(
        _path(tracking.open_url(sent_message.token)),
        HTTP_USER_AGENT="Mozilla/5.0 (via ggpht.com GoogleImageProxy)",
    )
    client.get(_path(tracking.open_url(sent_message.token)), HTTP_USER_AGENT="Mozilla/5.0")

    sent_message.refresh_from_db()
    assert (sent_message.open_count, sent_message.machine_open_count) == (0, 2)
    assert sent_message.opened_at is None
    assert list(Event.objects.values_list("properties__machine", flat=True)) == [True, True]


def test_a_forged_pixel_records_nothing(client, sent_message):
    response = client.get(f"/e/o/{sent_message.token}/forged.gif", HTTP_USER_AGENT=PERSON)

    assert response.status_code == 200  # still an image, to the mail client
    sent_message.refresh_from_db()
    assert sent_message.open_count == 0
    assert not Event.objects.exists()


def test_a_click_redirects_to_the_signed_destination_only(client, sent_message):
    url = tracking.click_url(sent_message.token, "https://shop.example.com/p/1?utm_source=x")

    response = client.get(_path(url), HTTP_USER_AGENT=PERSON)

    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/p/1?utm_source=x"
    sent_message.refresh_from_db()
    assert sent_message.click_count == 1 and sent_message.clicked_at is not None
    assert sent_message.opened_at is not None  # a click implies an open
    assert (
        Event.objects.get(event_type="email_click")
        .properties["url"]
        .startswith("https://shop.example.com/p/1")
    )
    # the same signature for another destination is refused: no open redirect
    forged = url.replace("shop.example.com", "evil.example.net")
    refused = client.get(_path(forged), HTTP_USER_AGENT=PERSON)
    assert refused.status_code == 404
    assert "Location" not in refused


def test_one_click_unsubscribe_withdraws_consent_and_the_next_campaign_skips(client, sent_message):
    path = _path(tracking.unsubscribe_url(sent_message.token))

    # a GET (a link scanner) only shows the page
    page = client.get(path)
    assert page.status_code == 200
    assert b"Unsubscribe" in page.content
    assert not Consent.objects.filter(granted=False).exists()

    # the mail client's RFC 8058 POST unsubscribes
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    latest = Consent.objects.filter(customer_id=sent_message.customer_id).latest("recorded_at")
    assert latest.granted is False and latest.source.startswith("unsubscribe")
    assert Event.objects.get(event_type="email_unsubscribe").properties["how"] == "one_click"
    next_campaign = CampaignFactory()
    campaign_plan(campaign=next_campaign)
    row = CampaignMessage.objects.get(campaign=next_campaign)
    assert row.skip_reason == SkipReason.UNSUBSCRIBED


def test_the_preference_centre_resubscribes(client, sent_message):
    path = _path(tracking.preferences_url(sent_message.token))
    client.post(_path(tracking.unsubscribe_url(sent_message.token)))

    response = client.post(path, data={"subscribed": "1"})

    assert response.status_code == 200
    assert b"Saved." in response.content
    latest = Consent.objects.filter(customer_id=sent_message.customer_id).latest("recorded_at")
    assert latest.granted is True and latest.source == "preference_centre"


def test_a_marketer_schedules_a_campaign_from_its_page(client):
    from tests.browser.shop_data import PASSWORD, create_user

    subscriber()
    campaign = CampaignFactory()
    create_user(username="mia", role="marketer")
    client.login(username="mia", password=PASSWORD)

    response = client.post(f"/campaigns/{campaign.pk}/launch", {"at": "2030-01-02T09:30"})

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    assert (
        timezone.localtime(campaign.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2030-01-02 09:30"
    )
    assert not CampaignMessage.objects.filter(campaign=campaign).exists()  # not planned yet
