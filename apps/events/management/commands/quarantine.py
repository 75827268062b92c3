"""`manage.py quarantine list|show|replay|discard`: the quarantine of messages not stored.

quarantine list [--status open] [--kind rejected|conflict|malformed] [--source S] [--json]
quarantine show ID [--json]
quarantine replay ID [--payload-file fixed.json] [--new-message-id] [--json]
quarantine discard ID [--note "why"] [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.events.models import QuarantinedMessage
from apps.events.selectors import quarantine_get, quarantine_list
from apps.events.services import quarantine_discard, quarantine_replay

LIST_LIMIT = 100


def _entry(entry: QuarantinedMessage) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "status": entry.status,
        "source": entry.source,
        "message_id": entry.message_id,
        "message_type": entry.message_type,
        "error": entry.error,
        "field": entry.field,
        "received_via": entry.received_via,
        "received_at": entry.received_at.isoformat(),
        "resolution_note": entry.resolution_note,
        "payload": entry.payload,
        "raw_body": entry.raw_body,
    }


class Command(BaseCommand):
    help = "List, show, replay (as stored or fixed) or discard quarantined messages."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Entries, newest first (at most 100).")
        listing.add_argument("--status", default="open", help="open, replayed or discarded.")
        listing.add_argument("--kind", default="", help="rejected, conflict or malformed.")
        listing.add_argument("--source", default="")
        listing.add_argument("--json", action="store_true")
        show = actions.add_parser("show", help="One entry with its payload.")
        show.add_argument("entry_id", type=int)
        show.add_argument("--json", action="store_true")
        replay = actions.add_parser("replay", help="Send an entry through the pipeline again.")
        replay.add_argument("entry_id", type=int)
        replay.add_argument(
            "--payload-file", help="A JSON file with the fixed message (or batch) to replay."
        )
        replay.add_argument(
            "--new-message-id",
            action="store_true",
            help="Store a conflict under <id>~replay-<entry id> (a second event).",
        )
        replay.add_argument("--json", action="store_true")
        discard = actions.add_parser("discard", help="Close an entry without storing it.")
        discard.add_argument("entry_id", type=int)
        discard.add_argument("--note", default="")
        discard.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from error
        if options["json"]:
            self.stdout.write(json.dumps(document, default=str))
        else:
            self._print(document)

    def _list(self, options: dict[str, Any]) -> dict[str, Any]:
        entries = quarantine_list(
            status=options["status"], kind=options["kind"], source=options["source"]
        )
        return {"entries": [_entry(entry) for entry in entries[:LIST_LIMIT]]}

    def _show(self, options: dict[str, Any]) -> dict[str, Any]:
        return _entry(quarantine_get(entry_id=options["entry_id"]))

    def _replay(self, options: dict[str, Any]) -> dict[str, Any]:
        payload = None
        if options["payload_file"]:
            path = Path(options["payload_file"])
            try:
                payload = json.loads(path.read_text(encoding="utf-8"))
            except OSError as error:
                raise CommandError(f"--payload-file: cannot read {path}: {error}") from error
            except json.JSONDecodeError as error:
                raise CommandError(f"--payload-file: {path} is not JSON: {error}") from error
        entry, result = quarantine_replay(
            entry_id=options["entry_id"],
            payload=payload,
            new_message_id=options["new_message_id"],
        )
        return {"entry": _entry(entry), "result": result.as_dict()}

    def _discard(self, options: dict[str, Any]) -> dict[str, Any]:
        return _entry(quarantine_discard(entry_id=options["entry_id"], note=options["note"]))

    def _print(self, document: dict[str, Any]) -> None:
        entries = document.get("entries")
        if entries is not None:
            for entry in entries:
                self.stdout.write(
                    f"#{entry['id']:<6} {entry['kind']:<9} {entry['status']:<9} "
                    f"{entry['message_id'] or '(no id)'}: {entry['error']}"
                )
            self.stdout.write(f"{len(entries)} entries")
            return
        entry = document.get("entry", document)
        self.stdout.write(f"#{entry['id']} {entry['kind']} {entry['status']}: {entry['error']}")
        if entry["resolution_note"]:
            self.stdout.write(entry["resolution_note"])
