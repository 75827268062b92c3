"""Events admin: orders, events, reviews and posts are shown read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.events.tests.factories import (
    EventFactory,
    OrderLineFactory,
    ReviewFactory,
    SocialPostFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["order", "event", "review", "socialpost"])
def test_list_and_detail_pages_render_read_only(admin_client, model):
    rows = {
        "order": OrderLineFactory().order,
        "event": EventFactory(),
        "review": ReviewFactory(),
        "socialpost": SocialPostFactory(),
    }

    listing = admin_client.get(f"/admin/events/{model}/")
    detail = admin_client.get(f"/admin/events/{model}/{rows[model].pk}/change/")
    add = admin_client.get(f"/admin/events/{model}/add/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert b'type="submit" value="Save"' not in detail.content
    assert add.status_code == 403


def test_orders_cannot_be_deleted_but_spam_reviews_can(admin_client):
    order = OrderLineFactory().order
    review = ReviewFactory()

    order_delete = admin_client.get(f"/admin/events/order/{order.pk}/delete/")
    review_delete = admin_client.get(f"/admin/events/review/{review.pk}/delete/")

    assert order_delete.status_code == 403
    assert review_delete.status_code == 200


def _quarantine(messages):
    from apps.events.services import events_ingest

    result = events_ingest(messages=messages)
    return [outcome.quarantine_id for outcome in result.rejected]


def test_quarantine_admin_lists_and_shows_a_rejected_message(admin_client):
    [entry_id] = _quarantine([{"type": "track", "event": "X", "message_id": "q-1"}])

    listing = admin_client.get("/admin/events/quarantinedmessage/")
    detail = admin_client.get(f"/admin/events/quarantinedmessage/{entry_id}/change/")

    assert listing.status_code == 200
    assert "q-1" in listing.content.decode()
    assert detail.status_code == 200
    assert "one of them is required" in detail.content.decode()


def test_quarantine_admin_replay_stores_a_message_that_is_valid_now(admin_client):
    from apps.events.models import Event, QuarantinedMessage
    from apps.events.services.quarantine import QuarantineEntry, quarantine_record_many

    # Rejected earlier by a rule since fixed on the server: valid as it stands today.
    payload = {"type": "track", "event": "X", "user_id": "C-1", "message_id": "q-2"}
    [entry_id] = quarantine_record_many(
        entries=[QuarantineEntry(kind="rejected", error="old rule", payload=payload)]
    )

    response = admin_client.post(
        "/admin/events/quarantinedmessage/",
        {"action": "replay_selected", "_selected_action": [entry_id]},
    )

    assert response.status_code == 302
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "replayed"
    assert Event.objects.filter(event_id="q-2").count() == 1


def test_quarantine_admin_replay_of_a_still_bad_message_keeps_it_open_then_discard(
    admin_client,
):
    from apps.events.models import Event, QuarantinedMessage

    [entry_id] = _quarantine([{"type": "track", "message_id": "q-3", "user_id": "C-1"}])

    admin_client.post(
        "/admin/events/quarantinedmessage/",
        {"action": "replay_selected", "_selected_action": [entry_id]},
    )

    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert entry.status == "open"
    assert "event: track needs the event name" in entry.resolution_note
    assert QuarantinedMessage.objects.count() == 1

    admin_client.post(
        "/admin/events/quarantinedmessage/",
        {"action": "discard_selected", "_selected_action": [entry_id]},
    )
    entry.refresh_from_db()
    assert entry.status == "discarded"
    assert Event.objects.filter(event_id="q-3").count() == 0
