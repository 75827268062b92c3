"""Quarantine API: list and read entries, replay them as stored or fixed, discard them.

Entries are made the way production makes them: by sending bad messages to /api/v1/batch.
"""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, all_scopes_except, bearer
from apps.events.models import Event, MessageReceipt, QuarantinedMessage
from apps.events.tests.conftest import api_client, track_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer() -> APIClient:
    return api_client("events:write", "quarantine:write")


@pytest.fixture
def reader() -> APIClient:
    return api_client("events:read")


def _send(client: APIClient, batch: list, **query) -> dict:
    response = client.post(
        "/api/v1/batch" + (f"?source={query['source']}" if query else ""),
        data=orjson.dumps({"batch": batch}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def _quarantined(client: APIClient, message: dict) -> int:
    """Send one bad message through /batch; returns its quarantine id."""
    body = _send(client, [message])
    assert body["counts"]["rejected"] == 1
    return body["rejected"][0]["quarantine_id"]


def _replay(client: APIClient, entry_id: int, **body):
    return client.post(f"/api/v1/quarantine/{entry_id}/replay", body, format="json")


def test_list_shows_entries_newest_first_with_filters(writer, reader):
    # given a rejected message from web, a conflict from the api, and a malformed body
    bad_timestamp = track_message(timestamp="yesterday", source="web")
    rejected_id = _quarantined(writer, bad_timestamp)
    original = track_message()
    _send(writer, [original])
    conflict_id = _quarantined(writer, {**original, "properties": {"sku": "SKU-2"}})
    malformed = writer.post(
        "/api/v1/batch", data=b'{"batch": [', content_type="application/json"
    ).json()["quarantine_id"]

    # when the reader lists them, unfiltered and filtered
    everything = reader.get("/api/v1/quarantine").json()
    conflicts = reader.get("/api/v1/quarantine?kind=conflict").json()
    from_web = reader.get("/api/v1/quarantine?source=web").json()
    searched = reader.get("/api/v1/quarantine", {"search": "yesterday"}).json()
    by_id = reader.get("/api/v1/quarantine", {"search": bad_timestamp["message_id"]}).json()
    closed = reader.get("/api/v1/quarantine?status=replayed").json()

    # then each answer is a standard page holding exactly the matching entries
    assert everything["count"] == 3
    assert [row["id"] for row in everything["results"]] == [malformed, conflict_id, rejected_id]
    assert [row["id"] for row in conflicts["results"]] == [conflict_id]
    assert [row["id"] for row in from_web["results"]] == [rejected_id]
    assert [row["id"] for row in searched["results"]] == [rejected_id]
    assert [row["id"] for row in by_id["results"]] == [rejected_id]
    assert closed["count"] == 0
    row = from_web["results"][0]
    assert row["kind"] == "rejected"
    assert row["status"] == "open"
    assert row["field"] == "timestamp"
    assert row["error"].startswith("timestamp: 'yesterday' is not an ISO 8601")
    assert row["payload"] == bad_timestamp
    assert row["received_via"] == "batch"
    assert row["resolved_at"] is None


def test_a_bad_filter_value_is_a_400_naming_it(reader):
    response = reader.get("/api/v1/quarantine?status=lost")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("status: Select a valid choice.")


def test_detail_shows_a_malformed_body_as_received(writer, reader):
    entry_id = writer.post(
        "/api/v1/batch", data=b'{"batch": [{"type": "track",', content_type="application/json"
    ).json()["quarantine_id"]

    response = reader.get(f"/api/v1/quarantine/{entry_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "malformed"
    assert body["payload"] is None
    assert body["raw_body"] == '{"batch": [{"type": "track",'
    assert body["error"].startswith("body: not valid JSON")


def test_detail_of_an_unknown_entry_is_a_404(reader):
    response = reader.get("/api/v1/quarantine/999999")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "quarantined message 999999 does not exist",
        "code": "not_found",
    }


def test_replay_of_a_fixed_rejected_message_stores_the_event_and_closes_the_entry(writer):
    # given a message rejected for its timestamp
    broken = track_message(timestamp="yesterday")
    entry_id = _quarantined(writer, broken)
    fixed = {**broken, "timestamp": (timezone.now() - timedelta(hours=1)).isoformat()}

    # when it is replayed with the fixed payload
    response = _replay(writer, entry_id, payload=fixed)

    # then the event is stored under its message id and the entry is closed
    assert response.status_code == 200
    body = response.json()
    assert body["result"]["counts"] == {"accepted": 1, "duplicates": 0, "rejected": 0}
    assert body["entry"]["status"] == "replayed"
    assert body["entry"]["payload"] == fixed
    assert body["entry"]["resolution_note"] == "Replayed: 1 stored, 0 already stored."
    assert body["entry"]["resolved_at"] is not None
    event = Event.objects.get()
    assert event.event_id == broken["message_id"]
    assert event.event_type == "product_view"
    assert QuarantinedMessage.objects.count() == 1


def test_replay_of_an_unfixed_message_keeps_it_open_with_the_reason(writer):
    # given a rejected message
    entry_id = _quarantined(writer, track_message(type="shout"))

    # when it is replayed as stored
    response = _replay(writer, entry_id)

    # then the replay is refused with the reason, the entry stays open, nothing new is kept
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rejected"
    assert body["field"] == "type"
    assert body["detail"] == "type: 'shout' is not one of track, page, screen, identify, alias"
    assert body["entry"]["status"] == "open"
    assert body["entry"]["error"] == body["detail"]
    assert body["entry"]["resolution_note"].endswith(f"refused: {body['detail']}")
    assert body["result"]["counts"] == {"accepted": 0, "duplicates": 0, "rejected": 1}
    assert "quarantine_id" not in body["result"]["rejected"][0]
    assert QuarantinedMessage.objects.count() == 1
    assert Event.objects.count() == 0
    assert MessageReceipt.objects.count() == 0


def test_replay_with_a_fix_that_is_still_wrong_keeps_the_new_payload_and_reason(writer):
    broken = track_message(timestamp="yesterday")
    entry_id = _quarantined(writer, broken)
    still_wrong = {**broken, "timestamp": "2026-13-45"}

    response = _replay(writer, entry_id, payload=still_wrong)

    assert response.status_code == 400
    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert entry.status == "open"
    assert entry.payload == still_wrong
    assert entry.field == "timestamp"
    assert "'2026-13-45'" in entry.error
    assert Event.objects.count() == 0


def test_a_conflict_replayed_with_a_new_message_id_is_stored_as_a_second_event(writer):
    # given a stored message and a re-send of its id with another payload (a conflict)
    original = track_message(properties={"sku": "SKU-1"})
    _send(writer, [original])
    changed = {**original, "properties": {"sku": "SKU-2"}}
    entry_id = _quarantined(writer, changed)

    # when replayed as stored, the id is still taken
    refused = _replay(writer, entry_id)
    assert refused.status_code == 400
    assert "different payload" in refused.json()["detail"]

    # when replayed with a new message id
    response = _replay(writer, entry_id, new_message_id=True)

    # then the second copy is stored under <id>~replay-<entry id> and the entry is closed
    assert response.status_code == 200
    new_id = f"{original['message_id']}~replay-{entry_id}"
    assert response.json()["result"]["accepted"] == [{"index": 0, "message_id": new_id}]
    assert dict(Event.objects.values_list("event_id", "properties")) == {
        original["message_id"]: {"sku": "SKU-1"},
        new_id: {"sku": "SKU-2"},
    }
    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert entry.status == "replayed"
    assert entry.payload == changed  # the entry keeps the message as it was sent
    assert entry.resolution_note == (
        f"Replayed: 1 stored, 0 already stored. Stored under new message ids ending in "
        f"~replay-{entry_id}."
    )


def test_a_new_message_id_is_given_once_even_when_a_replay_is_refused(writer):
    # given a conflict whose re-id'd replay is refused for another reason first
    original = track_message()
    _send(writer, [original])
    entry_id = _quarantined(writer, {**original, "properties": {"sku": "SKU-2"}})
    broken = {**original, "properties": {"sku": "SKU-2"}, "timestamp": "soon"}
    assert _replay(writer, entry_id, payload=broken, new_message_id=True).status_code == 400

    # when it is fixed and replayed with a new id again
    fixed = {**broken, "timestamp": original["timestamp"]}
    response = _replay(writer, entry_id, payload=fixed, new_message_id=True)

    # then the id carries the suffix once
    assert response.status_code == 200
    assert sorted(Event.objects.values_list("event_id", flat=True)) == sorted(
        [original["message_id"], f"{original['message_id']}~replay-{entry_id}"]
    )


def test_a_malformed_body_fixed_into_a_batch_replays_all_its_messages(writer):
    # given a batch cut off in transit
    messages = [
        track_message(),
        track_message(type="page", name="Home"),
        track_message(event="Signed Up"),
    ]
    whole = orjson.dumps({"batch": messages})
    entry_id = writer.post(
        "/api/v1/batch", data=whole[:-9], content_type="application/json"
    ).json()["quarantine_id"]
    assert Event.objects.count() == 0

    # when it is replayed with the fixed body
    response = _replay(writer, entry_id, payload={"batch": messages})

    # then every message is stored and the entry closed, keeping the fixed body
    assert response.status_code == 200
    assert response.json()["result"]["counts"] == {"accepted": 3, "duplicates": 0, "rejected": 0}
    assert set(Event.objects.values_list("event_id", flat=True)) == {
        message["message_id"] for message in messages
    }
    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert entry.status == "replayed"
    assert orjson.loads(entry.raw_body) == {"batch": messages}


def test_a_malformed_body_with_one_bad_message_stores_the_others_and_stays_open(writer):
    good, bad = track_message(), track_message(timestamp="never")
    entry_id = writer.post(
        "/api/v1/batch", data=b"not json", content_type="application/json"
    ).json()["quarantine_id"]

    response = _replay(writer, entry_id, payload={"batch": [good, bad]})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("1 of 2 messages still rejected (1 stored or already stored)")
    assert body["field"] == "timestamp"
    assert list(Event.objects.values_list("event_id", flat=True)) == [good["message_id"]]
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "open"
    assert QuarantinedMessage.objects.count() == 1


def test_replaying_a_malformed_body_as_stored_says_it_is_still_not_json(writer):
    entry_id = writer.post(
        "/api/v1/batch", data=b"not json", content_type="application/json"
    ).json()["quarantine_id"]

    response = _replay(writer, entry_id)

    assert response.status_code == 400
    assert response.json()["field"] == "payload"
    assert "still not JSON" in response.json()["detail"]
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "open"


def test_a_second_replay_of_a_replayed_entry_is_refused_with_409(writer):
    broken = track_message(timestamp="yesterday")
    entry_id = _quarantined(writer, broken)
    fixed = {**broken, "timestamp": timezone.now().isoformat()}
    assert _replay(writer, entry_id, payload=fixed).status_code == 200

    response = _replay(writer, entry_id, payload=fixed)

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"quarantined message {entry_id} is already replayed",
        "code": "not_open",
    }
    assert Event.objects.count() == 1


def test_replay_of_an_unknown_entry_is_a_404(writer):
    response = _replay(writer, 999999)

    assert response.status_code == 404
    assert Event.objects.count() == 0


def test_discard_closes_the_entry_with_the_note_and_stores_nothing(writer):
    entry_id = _quarantined(writer, track_message(type="shout"))

    response = writer.post(
        f"/api/v1/quarantine/{entry_id}/discard", {"note": "load test"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "discarded"
    assert body["resolution_note"] == "load test"
    assert body["resolved_at"] is not None
    assert Event.objects.count() == 0
    again = writer.post(f"/api/v1/quarantine/{entry_id}/discard", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "not_open"
    replay = _replay(writer, entry_id)
    assert replay.status_code == 409
    assert Event.objects.count() == 0


def test_discard_without_a_note_says_discarded(writer):
    entry_id = _quarantined(writer, track_message(type="shout"))

    response = writer.post(f"/api/v1/quarantine/{entry_id}/discard", {}, format="json")

    assert response.json()["resolution_note"] == "Discarded."


def test_reads_need_events_read_and_actions_need_quarantine_write(writer):
    # given an entry, and keys with every scope but the one each call needs
    entry_id = _quarantined(writer, track_message(type="shout"))
    without_read = APIClient()
    without_read.credentials(**bearer(ApiKeyFactory(scopes=all_scopes_except("events:read"))))
    without_write = APIClient()
    without_write.credentials(**bearer(ApiKeyFactory(scopes=all_scopes_except("quarantine:write"))))
    anonymous = APIClient()

    # then reads are 401 without a key and 403 without events:read
    for path in ("/api/v1/quarantine", f"/api/v1/quarantine/{entry_id}"):
        assert anonymous.get(path).status_code == 401
        refused = without_read.get(path)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "This operation needs the scope events:read"
    # and actions are 401 without a key and 403 without quarantine:write, changing nothing
    for action in ("replay", "discard"):
        path = f"/api/v1/quarantine/{entry_id}/{action}"
        assert anonymous.post(path, {}, format="json").status_code == 401
        refused = without_write.post(path, {}, format="json")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "This operation needs the scope quarantine:write"
    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert entry.status == "open"
    assert entry.resolution_note == ""
