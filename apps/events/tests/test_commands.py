"""The events app's commands: quarantine and event_partitions."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.events.models import Event
from apps.events.services import events_ingest
from apps.events.services.partitions import event_partitions_forget

pytestmark = pytest.mark.django_db


def _run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def _quarantined(message: dict) -> int:
    return events_ingest(messages=[message]).rejected[0].quarantine_id


def test_quarantine_list_and_show():
    entry_id = _quarantined({"type": "track", "event": "X", "message_id": "c-1"})

    listed = _run("quarantine", "list")
    shown = _run("quarantine", "show", str(entry_id))

    assert [entry["id"] for entry in listed["entries"]] == [entry_id]
    assert shown["error"] == "user_id or anonymous_id: one of them is required"
    assert shown["payload"] == {"type": "track", "event": "X", "message_id": "c-1"}


def test_quarantine_replay_with_a_fixed_payload_file_stores_the_event(tmp_path):
    entry_id = _quarantined({"type": "track", "event": "X", "message_id": "c-2"})
    fixed = tmp_path / "fixed.json"
    fixed.write_text(
        json.dumps({"type": "track", "event": "X", "message_id": "c-2", "user_id": "C-1"})
    )

    document = _run("quarantine", "replay", str(entry_id), "--payload-file", str(fixed))

    assert document["entry"]["status"] == "replayed"
    assert document["result"]["counts"]["accepted"] == 1
    assert Event.objects.filter(event_id="c-2").count() == 1


def test_quarantine_discard_and_a_second_discard_is_refused():
    entry_id = _quarantined({"type": "shout", "message_id": "c-3"})

    assert _run("quarantine", "discard", str(entry_id), "--note", "test")["status"] == ("discarded")
    with pytest.raises(CommandError, match="already discarded"):
        call_command("quarantine", "discard", str(entry_id))


def test_a_bad_payload_file_exits_with_a_one_line_reason(tmp_path):
    entry_id = _quarantined({"type": "shout", "message_id": "c-4"})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    with pytest.raises(CommandError, match="is not JSON"):
        call_command("quarantine", "replay", str(entry_id), "--payload-file", str(broken))


def test_event_partitions_lists_and_ensures():
    event_partitions_forget()

    document = _run("event_partitions", "--ensure")

    names = [partition["name"] for partition in document["partitions"]]
    assert "events_event_default" in names
    assert any(name.startswith("events_event_p") for name in names)
