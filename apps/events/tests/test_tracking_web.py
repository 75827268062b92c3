"""Data > Tracking: the embed instructions, a browser key made on the page, the live list of
events from the web, and the sandbox shop page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.accounts.models import ApiKey, AuditLog
from apps.accounts.selectors import api_key_get_by_raw
from apps.catalog.tests.factories import ProductFactory
from apps.events.tests.factories import EventFactory
from apps.events.web.tracking import loader_snippet

pytestmark = pytest.mark.django_db

TRACKING = "/data/tracking/"
RECENT = "/data/tracking/recent/"
SANDBOX = "/data/tracking/sandbox/"


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(TRACKING)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_analyst_sees_the_snippets_with_a_placeholder_key_and_no_key_form(analyst_client):
    response = analyst_client.get(TRACKING)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="data-tabs"' in html
    assert 'aria-current="page"><i class="bi bi-broadcast me-1"></i>Tracking' in html
    loader = response.context["loader"]
    assert loader == loader_snippet(host="http://testserver", write_key="YOUR_WRITE_KEY")
    assert 't.src = "http://testserver/static/js/smartmkt.js";' in loader
    assert 's.init({ writeKey: "YOUR_WRITE_KEY", host: "http://testserver" });' in loader
    assert response.context["pixel"] == (
        '<img src="http://testserver/api/v1/pixel.gif?key=YOUR_WRITE_KEY&event=Email+Opened'
        '&uid={{customer.external_id}}&p[campaign]={{campaign.id}}" width="1" height="1" '
        'alt="" style="display:block;border:0">'
    )
    assert 'data-testid="create-key-form"' not in html
    assert "Your role is read-only" in html


def test_an_analyst_cannot_create_a_key(analyst_client):
    response = analyst_client.post(TRACKING, {"name": "Shop"})

    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_a_marketer_creates_a_browser_key_that_can_only_send_events(marketer_client):
    # when the marketer creates a key on the page
    response = marketer_client.post(TRACKING, {"name": "shop.example.com"})

    # then it holds events:write only, is audited, and is shown once in the snippets
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.created_by.username) == (
        "shop.example.com",
        ["events:write"],
        "mark",
    )
    raw_key = response.context["created_key"]
    assert api_key_get_by_raw(raw_key=raw_key) == key
    assert f'writeKey: "{raw_key}"' in response.context["loader"]
    assert f"key={raw_key}&" in response.context["pixel"]
    assert f'data-testid="created-key" class="wrap">{raw_key}</pre>' in response.content.decode()
    assert response.context["sandbox_query"] == f"key={raw_key}"
    assert AuditLog.objects.get().action == "api_key.created"


def test_a_key_without_a_name_is_refused_and_nothing_is_created(marketer_client):
    response = marketer_client.post(TRACKING, {"name": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert response.context["created_key"] == ""
    assert ApiKey.objects.count() == 0


def test_recent_lists_the_latest_twenty_web_events_newest_first(analyst_client):
    now = timezone.now()
    for minute in range(25):
        EventFactory(
            source="web",
            event_id=f"web-{minute:02d}",
            occurred_at=now - timedelta(minutes=minute),
        )
    EventFactory(source="pixel", event_id="pixel-newest", occurred_at=now)

    response = analyst_client.get(RECENT, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert [event.event_id for event in response.context["events"]] == [
        f"web-{minute:02d}" for minute in range(20)
    ]
    html = response.content.decode()
    assert html.count("<tr data-event-type=") == 20
    assert "<html" not in html


def test_recent_says_what_to_do_when_nothing_arrived(analyst_client):
    response = analyst_client.get(RECENT)

    assert "Nothing received from the web yet" in response.content.decode()
    assert f'href="{SANDBOX}"' in response.content.decode()


def test_the_sandbox_asks_for_a_key_and_loads_nothing_without_one(analyst_client):
    response = analyst_client.get(SANDBOX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="key-form"' in html
    assert "smartmkt.js" in html  # named in the banner only
    assert "<script" not in html


def test_the_sandbox_embeds_the_loader_with_its_key_and_the_catalogue(analyst_client):
    ProductFactory(sku="SKU-B", title="Boots")
    ProductFactory(sku="SKU-A", title="Anorak")
    ProductFactory(sku="SKU-OLD", title="Retired", is_active=False)

    response = analyst_client.get(SANDBOX, {"key": "smk_abc_secret"})

    html = response.content.decode()
    assert loader_snippet(host="http://testserver", write_key="smk_abc_secret") in html
    assert [product.sku for product in response.context["products"]] == ["SKU-A", "SKU-B"]
    assert 'data-testid="add-SKU-A"' in html


def test_the_sandbox_uses_demo_products_when_the_catalogue_is_empty(analyst_client):
    response = analyst_client.get(SANDBOX, {"key": "k"})

    assert [product.sku for product in response.context["products"]] == [
        "SANDBOX-TEE",
        "SANDBOX-MUG",
        "SANDBOX-TOTE",
    ]


def test_a_key_cannot_break_out_of_the_sandbox_script(analyst_client):
    hostile = '"</script><script>alert(1)</script>'

    response = analyst_client.get(SANDBOX, {"key": hostile})

    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert 'writeKey: "\\"\\u003C/script\\u003E\\u003Cscript\\u003Ealert(1)' in html


def test_the_documented_loader_is_the_one_the_page_hands_out():
    documented = (Path(settings.BASE_DIR) / "docs" / "tracking.md").read_text()

    snippet = loader_snippet(host="https://smartmkt.example.com", write_key="YOUR_WRITE_KEY")

    assert f"```html\n{snippet}\n```" in documented
