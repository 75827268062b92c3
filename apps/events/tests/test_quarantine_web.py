"""Data > Quarantine: the list with counts and filters, an entry's page with its payload, and
the replay, new-id replay, discard and bulk actions (who may do what)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.events.models import Event, QuarantinedMessage
from apps.events.services import events_ingest, quarantine_record_malformed
from apps.events.tests.conftest import track_message
from apps.events.web.quarantine import payload_lines

pytestmark = pytest.mark.django_db

LIST = "/data/quarantine/"


def _quarantine(*messages: dict, source: str = "api") -> list[int]:
    """Send messages through the ingest pipeline; returns the quarantine ids of the rejects."""
    result = events_ingest(messages=list(messages), source=source, received_via="batch")
    return [outcome.quarantine_id for outcome in result.rejected]


def _texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_empty_quarantine_says_how_messages_get_here(analyst_client):
    response = analyst_client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page"><i class="bi bi-shield-exclamation me-1"></i>Quarantine' in html
    assert "Nothing waiting in quarantine" in html
    assert "a message_id re-sent with a different payload" in html
    assert response.context["counts"] == {
        "rejected": 0,
        "conflict": 0,
        "malformed": 0,
        "total": 0,
    }


def test_the_list_shows_open_entries_with_counts_by_kind(analyst_client):
    # given two rejects from web, a conflict from api, a malformed body and a discarded entry
    bad_type, bad_time = _quarantine(
        track_message(type="shout"), track_message(timestamp="yesterday"), source="web"
    )
    original = track_message()
    events_ingest(messages=[original])
    (conflict,) = _quarantine({**original, "properties": {"sku": "SKU-2"}})
    malformed = quarantine_record_malformed(
        raw_body=b"{oops", error="body: not valid JSON", received_via="batch"
    )
    (discarded,) = _quarantine(track_message(event=""))
    QuarantinedMessage.objects.filter(pk=discarded).update(status="discarded")

    # when the analyst opens the list
    response = analyst_client.get(LIST)

    # then the open entries are listed newest first, with the open counts per kind
    assert response.status_code == 200
    assert [row.entry.pk for row in response.context["rows"]] == [
        malformed,
        conflict,
        bad_time,
        bad_type,
    ]
    assert response.context["counts"] == {"rejected": 2, "conflict": 1, "malformed": 1, "total": 4}
    time_row = response.context["rows"][2]
    assert time_row.field == "timestamp"
    assert time_row.message.startswith("'yesterday' is not an ISO 8601")
    html = response.content.decode()
    assert '<span class="error-field font-monospace">timestamp</span>' in html
    assert f'href="/data/quarantine/{conflict}/"' in html
    # and an analyst gets no bulk actions
    assert 'data-testid="bulk-bar"' not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "rejected"}, ["bad_time", "bad_type"]),
        ({"source": "web"}, ["bad_time", "bad_type"]),
        ({"source": "app"}, ["conflict"]),
        ({"search": "yesterday"}, ["bad_time"]),
        ({"status": "discarded"}, ["discarded"]),
        ({"status": "all", "kind": "conflict"}, ["conflict"]),
        ({"status": "all"}, ["discarded", "conflict", "bad_time", "bad_type"]),
    ],
)
def test_filters_narrow_the_list(analyst_client, query, expected):
    bad_type, bad_time = _quarantine(
        track_message(type="shout"), track_message(timestamp="yesterday"), source="web"
    )
    original = track_message(source="app")
    events_ingest(messages=[original])
    (conflict,) = _quarantine({**original, "properties": {"sku": "SKU-2"}})
    (discarded,) = _quarantine(track_message(event=""))
    QuarantinedMessage.objects.filter(pk=discarded).update(status="discarded")
    names = {
        bad_type: "bad_type",
        bad_time: "bad_time",
        conflict: "conflict",
        discarded: "discarded",
    }

    response = analyst_client.get(LIST, query)

    assert [names[row.entry.pk] for row in response.context["rows"]] == expected


def test_a_search_by_message_id_or_entry_number_finds_the_entry(analyst_client):
    target = track_message(type="shout")
    (entry_id,) = _quarantine(target)
    _quarantine(track_message(type="shout"))

    by_message = analyst_client.get(LIST, {"search": target["message_id"][:8]})
    by_number = analyst_client.get(LIST, {"search": f"#{entry_id}"})

    assert [row.entry.pk for row in by_message.context["rows"]] == [entry_id]
    assert [row.entry.pk for row in by_number.context["rows"]] == [entry_id]


def test_an_htmx_filter_request_gets_the_results_fragment_only(analyst_client):
    _quarantine(track_message(type="shout"))

    response = analyst_client.get(LIST, {"kind": "conflict"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert '<div id="quarantine-results"' in html
    assert "data-tabs" not in html
    assert "No entries match" in html


def test_the_entry_page_shows_the_payload_with_the_field_marked_and_a_prefilled_editor(
    marketer_client,
):
    message = track_message(timestamp="yesterday")
    (entry_id,) = _quarantine(message)

    response = marketer_client.get(f"{LIST}{entry_id}/")

    assert response.status_code == 200
    assert json.loads(response.context["text"]) == message
    marked = [line.text.strip() for line in response.context["lines"] if line.highlighted]
    assert marked == ['"timestamp": "yesterday",']
    html = response.content.decode()
    assert 'data-testid="replay-form"' in html
    assert 'data-testid="discard-form"' in html
    assert 'data-testid="replay-new-id"' not in html  # only conflicts get it


def test_a_conflict_page_explains_the_new_message_id(marketer_client):
    original = track_message()
    events_ingest(messages=[original])
    (entry_id,) = _quarantine({**original, "properties": {"sku": "SKU-2"}})

    html = marketer_client.get(f"{LIST}{entry_id}/").content.decode()

    assert 'data-testid="replay-new-id"' in html
    assert f"{original['message_id']}~replay-{entry_id}" in html


def test_a_malformed_entry_shows_its_raw_body_in_the_editor(marketer_client):
    entry_id = quarantine_record_malformed(
        raw_body=b'{"batch": [{"type": "track",', error="body: not valid JSON", received_via="batch"
    )

    response = marketer_client.get(f"{LIST}{entry_id}/")

    assert response.context["text"] == '{"batch": [{"type": "track",'
    assert response.context["lines"] == []
    assert "The body as received" in response.content.decode()


def test_an_analyst_sees_an_entry_read_only_and_cannot_act(analyst_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    page = analyst_client.get(f"{LIST}{entry_id}/")
    replay = analyst_client.post(f"{LIST}{entry_id}/replay/", {"mode": "as_is"})
    discard = analyst_client.post(f"{LIST}{entry_id}/discard/", {"note": "x"})
    bulk = analyst_client.post(f"{LIST}bulk/", {"action": "discard", "ids": [entry_id]})

    assert page.status_code == 200
    assert 'data-testid="replay-form"' not in page.content.decode()
    assert "Read-only" in page.content.decode()
    assert (replay.status_code, discard.status_code, bulk.status_code) == (403, 403, 403)
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "open"


def test_an_unknown_entry_is_a_404(analyst_client):
    assert analyst_client.get(f"{LIST}999999/").status_code == 404


def test_replay_with_the_edit_stores_the_event_and_says_so(marketer_client):
    # given a message rejected for its timestamp
    message = track_message(timestamp="yesterday")
    (entry_id,) = _quarantine(message)
    fixed = {**message, "timestamp": (timezone.now() - timedelta(hours=1)).isoformat()}

    # when the fixed JSON is replayed from the editor
    response = marketer_client.post(
        f"{LIST}{entry_id}/replay/", {"mode": "edited", "payload": json.dumps(fixed, indent=2)}
    )

    # then the event is stored, the entry closed, and a message names what happened
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{entry_id}/"
    assert Event.objects.get().event_id == message["message_id"]
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "replayed"
    assert _texts(response) == [
        f"Entry #{entry_id} replayed: message {message['message_id']} stored as an event. "
        "It is closed."
    ]
    page = marketer_client.get(response["Location"])
    assert 'data-testid="entry-resolution"' in page.content.decode()
    assert 'data-testid="replay-form"' not in page.content.decode()


def test_replay_as_stored_of_an_unfixed_entry_keeps_it_open_and_says_why(marketer_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    response = marketer_client.post(f"{LIST}{entry_id}/replay/", {"mode": "as_is"})

    assert response.status_code == 302
    assert _texts(response) == [
        f"Entry #{entry_id} still rejected: type: 'shout' is not one of track, page, screen, "
        "identify, alias. It stays open with this reason: fix the payload and replay again."
    ]
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "open"
    assert QuarantinedMessage.objects.count() == 1
    assert Event.objects.count() == 0


def test_an_edit_that_is_not_json_is_shown_again_with_the_error(marketer_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    response = marketer_client.post(
        f"{LIST}{entry_id}/replay/", {"mode": "edited", "payload": '{"type": "track",'}
    )

    assert response.status_code == 200
    assert response.context["text"] == '{"type": "track",'
    assert response.context["text_error"].startswith("Not valid JSON: ")
    assert 'data-testid="payload-error"' in response.content.decode()
    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert (entry.status, entry.resolution_note) == ("open", "")


def test_nan_in_an_edit_is_refused_as_not_json(marketer_client):
    message = track_message(properties={"price": "x"}, type="shout")
    (entry_id,) = _quarantine(message)
    edited = json.dumps({**message, "type": "track"}).replace('"x"', "NaN")

    response = marketer_client.post(
        f"{LIST}{entry_id}/replay/", {"mode": "edited", "payload": edited}
    )

    assert (
        response.context["text_error"] == "Not valid JSON: NaN is not JSON (write null or a number)"
    )
    assert QuarantinedMessage.objects.get(pk=entry_id).payload == message
    assert Event.objects.count() == 0


def test_a_conflict_replayed_with_a_new_id_is_stored_next_to_the_first_copy(marketer_client):
    original = track_message()
    events_ingest(messages=[original])
    changed = {**original, "properties": {"sku": "SKU-2"}}
    (entry_id,) = _quarantine(changed)

    response = marketer_client.post(
        f"{LIST}{entry_id}/replay/", {"mode": "new_id", "payload": json.dumps(changed)}
    )

    new_id = f"{original['message_id']}~replay-{entry_id}"
    assert sorted(Event.objects.values_list("event_id", flat=True)) == sorted(
        [original["message_id"], new_id]
    )
    assert _texts(response) == [
        f"Entry #{entry_id} replayed: message {new_id} stored as an event. It is closed."
    ]


def test_a_second_replay_is_refused_with_a_warning(marketer_client):
    message = track_message(timestamp="yesterday")
    (entry_id,) = _quarantine(message)
    QuarantinedMessage.objects.filter(pk=entry_id).update(status="replayed")

    response = marketer_client.post(f"{LIST}{entry_id}/replay/", {"mode": "as_is"})

    assert _texts(response) == [
        f"Not replayed: quarantined message {entry_id} is already replayed."
    ]
    assert Event.objects.count() == 0


def test_a_malformed_body_fixed_in_the_editor_replays_every_message(marketer_client):
    messages = [track_message(), track_message(type="page", name="Home")]
    entry_id = quarantine_record_malformed(
        raw_body=json.dumps({"batch": messages}).encode()[:-3],
        error="body: not valid JSON",
        received_via="batch",
    )

    response = marketer_client.post(
        f"{LIST}{entry_id}/replay/", {"mode": "edited", "payload": json.dumps({"batch": messages})}
    )

    assert _texts(response) == [
        f"Entry #{entry_id} replayed: 2 messages stored as events, 0 were stored already. "
        "It is closed."
    ]
    assert Event.objects.count() == 2


def test_discard_closes_the_entry_with_the_note(marketer_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    response = marketer_client.post(f"{LIST}{entry_id}/discard/", {"note": "staging noise"})

    entry = QuarantinedMessage.objects.get(pk=entry_id)
    assert (entry.status, entry.resolution_note) == ("discarded", "staging noise")
    assert _texts(response) == [f"Entry #{entry_id} discarded: nothing was stored."]
    assert Event.objects.count() == 0


def test_actions_need_post(marketer_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    assert marketer_client.get(f"{LIST}{entry_id}/replay/").status_code == 405
    assert marketer_client.get(f"{LIST}{entry_id}/discard/").status_code == 405


def test_bulk_replay_of_ticked_entries_after_the_cause_was_fixed(marketer_client):
    # given two rejects whose stored payloads a data fix corrected, and one still wrong
    fixable = [track_message(type="shout"), track_message(type="shout")]
    first, second = _quarantine(*fixable)
    (still_wrong,) = _quarantine(track_message(type="shout"))
    for entry_id, message in zip((first, second), fixable, strict=True):
        QuarantinedMessage.objects.filter(pk=entry_id).update(payload={**message, "type": "track"})

    # when the three are replayed as stored in bulk
    response = marketer_client.post(
        f"{LIST}bulk/",
        {"action": "replay", "scope": "selected", "ids": [first, second, still_wrong]},
    )

    # then the two fixed ones are stored and closed, the third stays open
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?"
    assert _texts(response) == [
        "Replayed 2 entries (2 events stored); 1 still rejected and left open with the new reason."
    ]
    assert Event.objects.count() == 2
    statuses = dict(QuarantinedMessage.objects.values_list("id", "status"))
    assert statuses == {first: "replayed", second: "replayed", still_wrong: "open"}


def test_bulk_replay_mixes_sources_malformed_bodies_and_closed_entries(marketer_client):
    # given the same bad message quarantined twice, a fixable one from another source,
    # a malformed body that was valid JSON all along, and an entry already discarded
    twice = track_message(type="shout")
    copy_one, copy_two = _quarantine(twice, twice)
    (from_app,) = _quarantine(track_message(type="shout"), source="app")
    for entry in QuarantinedMessage.objects.filter(pk__in=[copy_one, copy_two, from_app]):
        entry.payload = {**entry.payload, "type": "track"}
        entry.save()
    batch_body = json.dumps({"batch": [track_message(), track_message()]}).encode()
    malformed = quarantine_record_malformed(
        raw_body=batch_body, error="body: a proxy said so", received_via="batch"
    )
    (closed,) = _quarantine(track_message(type="shout"))
    QuarantinedMessage.objects.filter(pk=closed).update(status="discarded")

    # when they are all replayed in bulk
    response = marketer_client.post(
        f"{LIST}bulk/",
        {"action": "replay", "ids": [copy_one, copy_two, from_app, malformed, closed]},
    )

    # then the first copy is stored, the second acknowledged as stored, all four closed
    assert _texts(response) == ["Replayed 4 entries (4 events stored); 1 no longer open, skipped."]
    assert sorted(Event.objects.values_list("source", flat=True)) == ["api", "api", "api", "app"]
    statuses = dict(QuarantinedMessage.objects.values_list("id", "status"))
    assert statuses == {
        copy_one: "replayed",
        copy_two: "replayed",
        from_app: "replayed",
        malformed: "replayed",
        closed: "discarded",
    }
    assert QuarantinedMessage.objects.get(pk=copy_two).resolution_note == (
        "Replayed: 0 stored, 1 already stored."
    )


def test_bulk_discard_of_every_open_entry_matching_the_filters(marketer_client):
    web = _quarantine(track_message(type="shout"), track_message(type="shout"), source="web")
    (other,) = _quarantine(track_message(type="shout"), source="app")

    response = marketer_client.post(
        f"{LIST}bulk/",
        {
            "action": "discard",
            "scope": "matching",
            "source": "web",
            "note": "bot",
            "query": "source=web",
        },
    )

    assert response["Location"] == f"{LIST}?source=web"
    assert _texts(response) == ["2 entries discarded."]
    statuses = dict(QuarantinedMessage.objects.values_list("id", "status"))
    assert statuses == {web[0]: "discarded", web[1]: "discarded", other: "open"}
    assert set(
        QuarantinedMessage.objects.filter(status="discarded").values_list(
            "resolution_note", flat=True
        )
    ) == {"bot"}


def test_bulk_with_nothing_ticked_changes_nothing(marketer_client):
    (entry_id,) = _quarantine(track_message(type="shout"))

    response = marketer_client.post(f"{LIST}bulk/", {"action": "discard", "scope": "selected"})

    assert _texts(response) == ["Nothing selected: tick entries first, or choose all matching."]
    assert QuarantinedMessage.objects.get(pk=entry_id).status == "open"


def test_payload_lines_mark_a_nested_field_and_camel_case_names():
    payload = {"messageId": "m1", "properties": {"products": [{"sku": "A"}, {"sku": ""}]}}

    by_nested = payload_lines(payload, "properties.products[1].sku")
    by_alias = payload_lines(payload, "message_id")

    assert [line.text.strip() for line in by_nested if line.highlighted] == ['"sku": ""']
    assert [line.text.strip() for line in by_alias if line.highlighted] == ['"messageId": "m1",']
    assert "\n".join(line.text for line in by_nested) == json.dumps(payload, indent=2)
