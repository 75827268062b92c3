"""Data > Quarantine in a real browser: a bad message sent through the real /api/v1/batch with a
key shows up on the page, is fixed in the editor, replayed, and stored."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
import requests
from django.utils import timezone

from apps.accounts.tests.factories import ApiKeyFactory
from apps.events.models import Event, QuarantinedMessage
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rejected_message_is_fixed_in_the_page_replayed_and_stored(web):
    # given a key that sends events, and a batch whose second message has a broken timestamp
    api_key = ApiKeyFactory(scopes=["events:write"])
    good = {
        "type": "track",
        "event": "Product Viewed",
        "anonymous_id": "anon-7",
        "properties": {"sku": "SKU-1"},
        "timestamp": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "message_id": str(uuid.uuid4()),
    }
    broken = {**good, "message_id": str(uuid.uuid4()), "timestamp": "yesterday"}
    answer = requests.post(
        f"{web.base_url}/api/v1/batch",
        json={"batch": [good, broken]},
        headers={"Authorization": f"Bearer {api_key.raw_key}"},
        timeout=30,
    ).json()
    assert answer["counts"] == {"accepted": 1, "duplicates": 0, "rejected": 1}
    entry_id = answer["rejected"][0]["quarantine_id"]
    create_user(username="mark", role="marketer")

    # when the marketer opens Data > Quarantine
    web.sign_in("mark", PASSWORD)
    web.goto("/data/quarantine/")

    # then the entry is listed with its kind, message id and the offending field
    row = web.page.locator(f"tr[data-entry-id='{entry_id}']")
    assert row.is_visible()
    assert "Rejected" in row.inner_text()
    assert broken["message_id"] in row.inner_text()
    assert row.locator(".error-field").inner_text() == "timestamp"
    assert web.page.inner_text("[data-testid=count-rejected] .count-value") == "1"
    web.screenshot("quarantine-list")

    # when the entry is opened, the timestamp fixed in the editor, and replayed with the edit
    row.locator("[data-testid=entry-link]").click()
    web.page.wait_for_load_state("networkidle")
    assert web.page.url == f"{web.base_url}/data/quarantine/{entry_id}/"
    marked = web.page.locator("[data-testid=payload-view] .line.hl").all_inner_texts()
    assert [text.strip() for text in marked] == ['"timestamp": "yesterday",']
    editor = web.page.locator("[data-testid=payload-editor]")
    assert json.loads(editor.input_value()) == broken
    web.screenshot("quarantine-entry")
    fixed_time = (timezone.now() - timedelta(minutes=4)).isoformat()
    editor.fill(editor.input_value().replace('"yesterday"', json.dumps(fixed_time)))
    web.page.click("[data-testid=replay-edited]")
    web.page.wait_for_load_state("networkidle")

    # then the page says what happened and shows the entry replayed
    alert = web.page.inner_text(".alert-success[role=alert]")
    assert f"message {broken['message_id']} stored as an event" in alert
    assert web.page.inner_text("[data-testid=entry-status]").strip() == "Replayed"
    assert web.page.is_visible("[data-testid=entry-resolution]")
    assert not web.page.is_visible("[data-testid=replay-form]")
    web.screenshot("quarantine-replayed")
    # and the event is stored, the entry closed, with nothing new quarantined
    stored = Event.objects.get(event_id=broken["message_id"])
    assert stored.occurred_at == datetime.fromisoformat(fixed_time)
    entry = QuarantinedMessage.objects.get()
    assert (entry.pk, entry.status) == (entry_id, "replayed")
    assert Event.objects.count() == 2

    # and the list, back on the open entries, is empty and says how messages get here
    web.goto("/data/quarantine/")
    assert "Nothing waiting in quarantine" in web.page.inner_text("[data-testid=empty-state]")
    assert web.console_errors == []
