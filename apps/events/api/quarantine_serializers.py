"""Quarantine API shapes: an entry, a replay request and a replay's answer."""

from __future__ import annotations

from rest_framework import serializers

from apps.events.api.ingest import IngestResultSerializer
from apps.events.models import QuarantinedMessage


class QuarantinedMessageSerializer(serializers.ModelSerializer):
    """A message that was not stored: the payload as received, why, and what became of it."""

    class Meta:
        model = QuarantinedMessage
        fields = [
            "id",
            "kind",
            "status",
            "source",
            "message_id",
            "message_type",
            "error",
            "field",
            "payload",
            "raw_body",
            "received_via",
            "api_key_prefix",
            "received_at",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Id of the entry: GET/POST /quarantine/{id}."},
            "kind": {
                "help_text": "rejected (invalid), conflict (a message_id re-sent with a "
                "different payload) or malformed (a body that is not JSON or not a batch)."
            },
            "status": {
                "help_text": "open (waiting to be fixed), replayed (stored by a replay) or "
                "discarded."
            },
            "source": {"help_text": "Source the message was sent under: web, app, api ..."},
            "message_id": {"help_text": "The message's idempotency key as sent; empty if none."},
            "message_type": {"help_text": "track, page, screen, identify or alias, if known."},
            "error": {
                "help_text": "Why it was not stored, naming the field; after a refused "
                "replay, why the replay was refused."
            },
            "field": {"help_text": "The offending field, e.g. properties.sku or timestamp."},
            "payload": {"help_text": "The message as received (JSON); null for a malformed body."},
            "raw_body": {"help_text": "The request body as received, for malformed entries."},
            "received_via": {"help_text": "The endpoint: batch, track, page, pixel, import ..."},
            "api_key_prefix": {"help_text": "Public prefix of the key that sent it."},
            "received_at": {"help_text": "When it arrived."},
            "resolved_at": {"help_text": "When it was replayed or discarded; null while open."},
            "resolution_note": {"help_text": "What the last replay did, or why it was discarded."},
        }


class QuarantineReplaySerializer(serializers.Serializer):
    """What to replay: the entry as stored, or a fixed copy."""

    payload = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            "The fixed message (an object), or for a malformed entry the fixed body as JSON "
            '(`{"batch": [...]}` or one message). Left out or null: replay as stored.'
        ),
    )
    new_message_id = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Store under a new message id, `<message_id>~replay-<entry id>`: for a conflict "
            "(the id is taken by the first copy), so this copy is kept as a second event."
        ),
    )


class QuarantineDiscardSerializer(serializers.Serializer):
    """Why an entry is discarded."""

    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Why it is discarded (kept in resolution_note), e.g. 'test traffic'.",
    )


class QuarantineReplayResultSerializer(serializers.Serializer):
    """The entry after the replay and what became of each replayed message."""

    entry = QuarantinedMessageSerializer(
        help_text="The entry: replayed when every message was stored (or already was)."
    )
    result = IngestResultSerializer(
        help_text="Outcome per message, as /batch answers it (nothing new is quarantined)."
    )


class QuarantineReplayRefusedSerializer(QuarantineReplayResultSerializer):
    """A replay whose messages were refused again: the entry stays open with the reason."""

    detail = serializers.CharField(help_text="Why the replay was refused, naming the field.")
    code = serializers.CharField(help_text="`rejected`.")
    field = serializers.CharField(help_text="The offending field of the first refused message.")
