"""Ingestion endpoints: Segment-style /batch, /track, /identify, /page, /screen, /alias.

Thin on purpose and fast: the body is read once and parsed with orjson (JSON or text/plain,
which sendBeacon and simple CORS requests send), the service does the rest, and the answer is
rendered with orjson. Keys come as `Authorization: Bearer <key>` or `?key=<key>`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedAPIView
from apps.events.services import MAX_BATCH_MESSAGES, events_ingest, quarantine_record_malformed

MAX_BODY_BYTES = 5 * 1024 * 1024


class MessageOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the message in the batch.")
    message_id = serializers.CharField(help_text="The message's idempotency key, as sent.")
    reason = serializers.CharField(required=False, help_text="Why it was rejected.")
    field = serializers.CharField(required=False, help_text="The offending field.")
    quarantine_id = serializers.IntegerField(
        required=False, help_text="Where the rejected message is kept (GET /quarantine/{id})."
    )


class IngestResultSerializer(serializers.Serializer):
    accepted = MessageOutcomeSerializer(many=True, help_text="Stored now.")
    duplicates = MessageOutcomeSerializer(
        many=True, help_text="Already stored (same message_id and payload): acknowledged."
    )
    rejected = MessageOutcomeSerializer(
        many=True, help_text="Invalid, or a conflict (same id, other payload): quarantined."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="accepted, duplicates, rejected."
    )


MESSAGE_EXAMPLE = {
    "type": "track",
    "event": "Product Viewed",
    "user_id": "C000123",
    "anonymous_id": "4f1c2a9e-0b7d-4c55-9a43-2f8e1d0c7b61",
    "properties": {"sku": "SKU-00042", "price": 59.9},
    "timestamp": "2026-11-29T10:15:00Z",
    "message_id": "0d5e7a4c-2b8f-4e61-8a9b-3c1f5e6d7a80",
    "context": {"page": {"url": "https://shop.example.com/p/42"}},
}


def _respond(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


class IngestView(ScopedAPIView):
    """Shared body handling of the ingestion endpoints."""

    required_scopes = {"POST": "events:write"}
    # `?key=` too (apps.accounts.authentication.QueryKeyAuthentication reads this flag).
    accepts_query_key = True
    message_type: ClassVar[str] = ""
    received_via: ClassVar[str] = "api"

    def _body(self, request: Request) -> tuple[Any, HttpResponse | None]:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return None, _respond(
                {
                    "detail": f"body: {length} bytes; at most {MAX_BODY_BYTES} (5 MB) per "
                    "request: send smaller batches",
                    "code": "payload_too_large",
                },
                413,
            )
        raw = request.body
        if len(raw) > MAX_BODY_BYTES:  # chunked bodies carry no Content-Length
            return None, _respond(
                {"detail": "body: more than 5 MB", "code": "payload_too_large"}, 413
            )
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError as error:
            return None, self._malformed(request, raw, f"body: not valid JSON ({error})")

    def _malformed(self, request: Request, raw: bytes, reason: str) -> HttpResponse:
        quarantine_id = quarantine_record_malformed(
            raw_body=raw,
            error=reason,
            received_via=self.received_via,
            api_key_prefix=getattr(request.auth, "prefix", "") or "",
        )
        return _respond(
            {"detail": reason, "code": "malformed", "quarantine_id": quarantine_id}, 400
        )

    def _ingest(self, request: Request, messages: list[Any]) -> dict[str, Any]:
        return events_ingest(
            messages=messages,
            source=request.query_params.get("source", "api")[:64] or "api",
            received_via=self.received_via,
            message_type=self.message_type,
            api_key_prefix=getattr(request.auth, "prefix", "") or "",
        ).as_dict()


class BatchView(IngestView):
    received_via = "batch"

    @extend_schema(
        summary="Send a batch of messages",
        description=(
            'Segment-style `{"batch": [messages]}`: at most 1,000 messages or 5 MB. Each '
            "message is validated on its own: good ones are stored even when others are bad. "
            "`message_id` is required and is the idempotency key (unique per `source`): a re-sent "
            "id with the same payload is acknowledged in `duplicates` and stored once; with a "
            "different payload it is rejected as a conflict and quarantined. Rejected messages "
            "list their index, reason and quarantine id. Accepts `application/json` and "
            "`text/plain` (sendBeacon). Key: `Authorization: Bearer <key>` or `?key=`."
        ),
        request=inline_serializer(
            "Batch",
            {
                "batch": serializers.ListField(
                    child=serializers.DictField(),
                    help_text="Up to 1,000 Segment-style messages, each with a message_id.",
                ),
                "context": serializers.DictField(
                    required=False, help_text="Merged into each message's context."
                ),
            },
        ),
        examples=[OpenApiExample("A batch", value={"batch": [MESSAGE_EXAMPLE]})],
        responses={
            200: OpenApiResponse(
                IngestResultSerializer, description="The outcome of every message."
            ),
            400: OpenApiResponse(ErrorSerializer, description="Not JSON, or not a batch."),
            413: OpenApiResponse(ErrorSerializer, description="More than 5 MB."),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        body, error = self._body(request)
        if error is not None:
            return error
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            return self._malformed(
                request, request.body, 'batch: the body must be an object {"batch": [...]}'
            )
        if len(batch) > MAX_BATCH_MESSAGES:
            return _respond(
                {
                    "detail": f"batch: {len(batch)} messages; at most {MAX_BATCH_MESSAGES} per "
                    "request: split it",
                    "code": "batch_too_large",
                    "field": "batch",
                },
                400,
            )
        shared = body.get("context")
        if isinstance(shared, dict) and shared:
            batch = [
                {**message, "context": {**shared, **(message.get("context") or {})}}
                if isinstance(message, dict) and isinstance(message.get("context") or {}, dict)
                else message
                for message in batch
            ]
        return _respond(self._ingest(request, batch))


class SingleMessageView(IngestView):
    """One message; the type comes from the path. 400 with the reason when it is rejected."""

    def post(self, request: Request) -> HttpResponse:
        body, error = self._body(request)
        if error is not None:
            return error
        result = self._ingest(request, [body])
        if result["rejected"]:
            rejected = result["rejected"][0]
            return _respond(
                {
                    "detail": rejected["reason"],
                    "code": "rejected",
                    "field": rejected.get("field", ""),
                    **result,
                },
                400,
            )
        return _respond(result)


def _single_schema(message_type: str, summary: str) -> Any:
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            request=inline_serializer(
                f"{message_type.capitalize()}Message",
                {"message_id": serializers.CharField(help_text="Idempotency key.")},
            ),
            examples=[
                OpenApiExample(message_type, value={**MESSAGE_EXAMPLE, "type": message_type})
            ],
            responses={
                200: OpenApiResponse(IngestResultSerializer, description="Stored, or a duplicate."),
                400: OpenApiResponse(ErrorSerializer, description="Rejected (quarantined)."),
            },
        )
    )


@_single_schema("track", "Track an event (Segment track)")
class TrackView(SingleMessageView):
    message_type = "track"
    received_via = "track"


@_single_schema("identify", "Identify a customer and merge their anonymous history")
class IdentifyView(SingleMessageView):
    message_type = "identify"
    received_via = "identify"


@_single_schema("page", "Record a page view")
class PageView(SingleMessageView):
    message_type = "page"
    received_via = "page"


@_single_schema("screen", "Record an app screen view")
class ScreenView(SingleMessageView):
    message_type = "screen"
    received_via = "screen"


@_single_schema("alias", "Link a previous id (anonymous or an old user id) to a customer")
class AliasView(SingleMessageView):
    message_type = "alias"
    received_via = "alias"
