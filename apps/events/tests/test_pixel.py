"""The tracking pixel: GET /api/v1/pixel.gif always answers a transparent GIF, records the
message its URL describes once, and quarantines bad input instead of breaking the image."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.api.tracking import TRANSPARENT_GIF, derived_message_id, pixel_message
from apps.events.models import Event, MessageReceipt, QuarantinedMessage

pytestmark = pytest.mark.django_db

PIXEL = "/api/v1/pixel.gif"
NO_CACHE = "no-store, no-cache, must-revalidate, private, max-age=0"


@pytest.fixture
def browser_key():
    return ApiKeyFactory(scopes=["events:write"])


def _get(client: APIClient, params: dict, **headers):
    return client.get(PIXEL + "?" + urlencode(params), **headers)


def _assert_gif(response, status: int, outcome: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "image/gif"
    assert response.content == TRANSPARENT_GIF
    assert response["Cache-Control"] == NO_CACHE
    assert response["Pragma"] == "no-cache"
    assert response["X-SmartMkt-Outcome"] == outcome


def test_the_gif_is_a_valid_one_pixel_image():
    assert TRANSPARENT_GIF[:6] == b"GIF89a"
    assert int.from_bytes(TRANSPARENT_GIF[6:8], "little") == 1
    assert int.from_bytes(TRANSPARENT_GIF[8:10], "little") == 1
    assert len(TRANSPARENT_GIF) == 43 and TRANSPARENT_GIF.endswith(b";")


def test_an_email_open_is_recorded_for_the_customer_with_its_properties(browser_key):
    # given a customer and an email open pixel with merge tags filled in
    customer = CustomerFactory(external_id="cus-ada")
    params = {
        "key": browser_key.raw_key,
        "event": "Email Opened",
        "uid": "cus-ada",
        "p[campaign]": "spring-sale",
        "p[variant]": "B",
    }

    # when the mail client loads it
    response = _get(APIClient(), params, HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")

    # then it gets the GIF and the open is stored once, for the customer
    _assert_gif(response, 200, "accepted")
    event = Event.objects.get()
    assert event.event_type == "email_open"
    assert event.name == "Email Opened"
    assert event.customer_id == customer.pk
    assert event.source == "pixel"
    assert event.properties == {"campaign": "spring-sale", "variant": "B"}
    assert event.context == {"library": {"name": "smartmkt-pixel", "version": "1"}}
    assert event.event_id.startswith("px_") and len(event.event_id) == 35
    assert QuarantinedMessage.objects.count() == 0


def test_the_same_url_loaded_again_is_a_duplicate_whatever_its_cache_buster(browser_key):
    params = {"key": browser_key.raw_key, "event": "Email Opened", "uid": "cus-ada"}
    params["p[campaign]"] = "spring-sale"
    first = _get(APIClient(), {**params, "cb": "1"})

    again = _get(APIClient(), {**params, "cb": "2"})
    other_campaign = _get(APIClient(), {**params, "p[campaign]": "summer", "cb": "3"})

    _assert_gif(first, 200, "accepted")
    _assert_gif(again, 200, "duplicate")
    _assert_gif(other_campaign, 200, "accepted")
    assert sorted(Event.objects.values_list("properties__campaign", flat=True)) == [
        "spring-sale",
        "summer",
    ]
    assert MessageReceipt.objects.filter(source="pixel").count() == 2
    assert QuarantinedMessage.objects.count() == 0


def test_an_explicit_message_id_page_view_with_json_properties_and_timestamp(browser_key):
    params = {
        "key": browser_key.raw_key,
        "type": "page",
        "name": "Order confirmation",
        "aid": "anon-42",
        "mid": "confirm-ORD-7",
        "timestamp": "2026-01-15T10:30:00+01:00",
        "properties": '{"path": "/thanks", "order_id": "ORD-7"}',
        "p[path]": "/thank-you",
    }

    response = _get(APIClient(), params)

    _assert_gif(response, 200, "accepted")
    event = Event.objects.get()
    assert (event.event_type, event.name, event.event_id) == (
        "page_view",
        "Order confirmation",
        "confirm-ORD-7",
    )
    assert event.anonymous_id == "anon-42"
    assert event.customer_id is None
    assert event.occurred_at == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert event.properties == {"path": "/thank-you", "order_id": "ORD-7"}


def test_an_identify_pixel_applies_traits_to_the_customer(browser_key):
    params = {
        "key": browser_key.raw_key,
        "type": "identify",
        "uid": "cus-new",
        "aid": "anon-7",
        "t[email]": "new@example.com",
    }

    response = _get(APIClient(), params)

    _assert_gif(response, 200, "accepted")
    assert Customer.objects.get(external_id="cus-new").email == "new@example.com"
    assert Event.objects.get().event_type == "identify"


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"uid": "cus-1"}, "event", "event: track needs the event name"),
        (
            {"event": "Email Opened", "uid": "cus-1", "properties": "{not json"},
            "properties",
            "properties: must be an object, not str",
        ),
        (
            {"event": "Email Opened"},
            "user_id",
            "user_id or anonymous_id: one of them is required",
        ),
        (
            {"event": "Email Opened", "uid": "cus-1", "type": "shout"},
            "type",
            "type: 'shout' is not one of track, page, screen, identify, alias",
        ),
    ],
)
def test_bad_input_still_gets_the_gif_and_goes_to_the_quarantine(
    browser_key, params, field, reason
):
    response = _get(APIClient(), {"key": browser_key.raw_key, **params})

    _assert_gif(response, 200, "rejected")
    assert Event.objects.count() == 0
    assert MessageReceipt.objects.count() == 0
    entry = QuarantinedMessage.objects.get()
    assert (entry.kind, entry.field, entry.error) == ("rejected", field, reason)
    assert entry.received_via == "pixel"
    assert entry.source == "pixel"
    assert entry.api_key_prefix == browser_key.prefix
    assert entry.payload["message_id"].startswith("px_")


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("smk_000000000000_not-a-real-key", 401), ("read-only", 403)],
)
def test_a_missing_wrong_or_unscoped_key_gets_the_gif_with_its_status_and_records_nothing(
    key, status
):
    params = {"event": "Email Opened", "uid": "cus-ada"}
    if key == "read-only":
        key = ApiKeyFactory(scopes=["events:read"]).raw_key
    if key:
        params["key"] = key

    response = _get(APIClient(), params)

    _assert_gif(response, status, "error")
    assert Event.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_the_key_may_also_come_in_the_authorization_header(browser_key):
    client = APIClient()
    client.credentials(**bearer(browser_key))

    response = _get(client, {"event": "Email Link Clicked", "uid": "cus-ada"})

    _assert_gif(response, 200, "accepted")
    assert Event.objects.get().event_type == "email_click"


def test_head_requests_of_link_checkers_record_nothing(browser_key):
    response = APIClient().head(
        PIXEL + "?" + urlencode({"key": browser_key.raw_key, "event": "Email Opened", "uid": "c"})
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["X-SmartMkt-Outcome"] == "not-recorded"
    assert Event.objects.count() == 0


def test_pixel_message_ignores_unknown_parameters_and_derives_a_stable_id():
    query = QueryDict("key=k&e=Email+Opened&uid=cus-1&p[campaign]=c1&utm_source=x&_=123")

    message = pixel_message(query)

    assert message == {
        "type": "track",
        "event": "Email Opened",
        "user_id": "cus-1",
        "properties": {"campaign": "c1"},
        "context": {"library": {"name": "smartmkt-pixel", "version": "1"}},
        "message_id": message["message_id"],
    }
    without_id = {name: value for name, value in message.items() if name != "message_id"}
    assert message["message_id"] == derived_message_id(without_id)
    assert pixel_message(QueryDict("uid=cus-1&p[campaign]=c1&event=Email+Opened")) == message
    assert pixel_message(QueryDict("uid=cus-2&p[campaign]=c1&event=Email+Opened")) != message
