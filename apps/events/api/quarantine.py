"""Quarantine API: list and read the messages that were not stored, replay them (as sent or
fixed) through the ingest pipeline, or discard them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedGenericAPIView
from apps.events import selectors, services
from apps.events.api.quarantine_filters import QuarantineFilter
from apps.events.api.quarantine_serializers import (
    QuarantineDiscardSerializer,
    QuarantinedMessageSerializer,
    QuarantineReplayRefusedSerializer,
    QuarantineReplayResultSerializer,
    QuarantineReplaySerializer,
)
from apps.events.contracts import IngestResult
from apps.events.models import QuarantinedMessage

ENTRY_ID = OpenApiParameter(
    "entry_id", int, OpenApiParameter.PATH, description="Id of the quarantine entry."
)
NOT_OPEN = OpenApiResponse(
    ErrorSerializer, description="The entry is not open any more (replayed or discarded)."
)


class QuarantineListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = QuarantineFilter

    @extend_schema(
        summary="List quarantined messages",
        responses=OpenApiResponse(
            QuarantinedMessageSerializer(many=True), description="A page of entries."
        ),
    )
    def get(self, request: Request) -> Response:
        """Messages that were not stored (rejected, conflicting or malformed), newest first."""
        entries = selectors.quarantine_list(**self.query_filters())
        return self.list_response(entries, QuarantinedMessageSerializer)


class QuarantineDetailView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}

    @extend_schema(
        summary="Get a quarantined message",
        parameters=[ENTRY_ID],
        responses=OpenApiResponse(QuarantinedMessageSerializer, description="The entry."),
    )
    def get(self, request: Request, entry_id: int) -> Response:
        """One entry with its payload (or raw body), the error and its resolution."""
        entry = selectors.quarantine_get(entry_id=entry_id)
        return Response(QuarantinedMessageSerializer(entry).data)


def _replay_answer(entry: QuarantinedMessage, result: IngestResult) -> Response:
    body: dict[str, Any] = {
        "entry": QuarantinedMessageSerializer(entry).data,
        "result": result.as_dict(),
    }
    if not result.rejected:
        return Response(body)
    total = len(result.accepted) + len(result.duplicates) + len(result.rejected)
    detail = result.rejected[0].reason
    if total > 1:
        detail = (
            f"{len(result.rejected)} of {total} messages still rejected "
            f"({total - len(result.rejected)} stored or already stored): {entry.error}"
        )
    return Response(
        {"detail": detail, "code": "rejected", "field": result.rejected[0].field, **body},
        status=400,
    )


class QuarantineReplayView(ScopedGenericAPIView):
    required_scopes = {"POST": "quarantine:write"}
    serializer_class = QuarantineReplaySerializer

    @extend_schema(
        summary="Replay a quarantined message",
        parameters=[ENTRY_ID],
        request=QuarantineReplaySerializer,
        examples=[
            OpenApiExample("As stored (after fixing the catalogue, say)", value={}),
            OpenApiExample(
                "With a fixed payload",
                value={
                    "payload": {
                        "type": "track",
                        "event": "Product Viewed",
                        "anonymous_id": "4f1c2a9e",
                        "properties": {"sku": "SKU-00042"},
                        "timestamp": "2026-11-29T10:15:00Z",
                        "message_id": "0d5e7a4c",
                    }
                },
            ),
            OpenApiExample("A conflict, kept as a second event", value={"new_message_id": True}),
        ],
        responses={
            200: OpenApiResponse(
                QuarantineReplayResultSerializer,
                description="Every message stored (or already stored): the entry is replayed.",
            ),
            400: OpenApiResponse(
                QuarantineReplayRefusedSerializer,
                description=(
                    "Refused again (`code` rejected): the entry stays open with the new reason "
                    "and the payload sent; nothing new is quarantined. Or a bad request body "
                    "(`code` invalid)."
                ),
            ),
            409: NOT_OPEN,
        },
    )
    def post(self, request: Request, entry_id: int) -> Response:
        """Send the entry through the ingest pipeline again, as stored or with `payload`.

        Messages stored now or before count as done: the entry is closed (replayed). When a
        message is refused again the entry stays open with the new reason (400, code
        `rejected`); fix it and replay again. A conflict is stored only under a new id
        (`new_message_id`)."""
        serializer = QuarantineReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry, result = services.quarantine_replay(entry_id=entry_id, **serializer.validated_data)
        return _replay_answer(entry, result)


class QuarantineDiscardView(ScopedGenericAPIView):
    required_scopes = {"POST": "quarantine:write"}
    serializer_class = QuarantineDiscardSerializer

    @extend_schema(
        summary="Discard a quarantined message",
        parameters=[ENTRY_ID],
        request=QuarantineDiscardSerializer,
        examples=[OpenApiExample("Test traffic", value={"note": "load test from staging"})],
        responses={
            200: OpenApiResponse(
                QuarantinedMessageSerializer, description="The entry, now discarded."
            ),
            409: NOT_OPEN,
        },
    )
    def post(self, request: Request, entry_id: int) -> Response:
        """Close an open entry without storing it; the note says why."""
        serializer = QuarantineDiscardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.quarantine_discard(entry_id=entry_id, **serializer.validated_data)
        return Response(QuarantinedMessageSerializer(entry).data)
