"""Segments API: CRUD, preview of a definition, members, history, sizes, refresh, export,
static uploads and per-customer explanations."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.customers.selectors import customer_get
from apps.segments import selectors
from apps.segments.api import serializers as shapes
from apps.segments.services import segments as services
from apps.segments.services.segments import DefinitionInvalid

SEGMENTS_READ = "segments:read"
SEGMENTS_WRITE = "segments:write"
BROWSABLE_LINES = 200
SEGMENT_ID = OpenApiParameter("segment_id", int, OpenApiParameter.PATH, description="Segment id.")
EXTERNAL_ID = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The customer's external id or alias."
)


def _refused(error: DefinitionInvalid) -> Response:
    """Every problem of a definition, with its JSON path, in the standard error shape."""
    errors: dict[str, list[str]] = {}
    for item in error.errors:
        errors.setdefault(item["path"] or "definition", []).append(item["message"])
    body = {"detail": error.message, "code": error.code, "field": "definition", "errors": errors}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _with_definition_errors(call: Callable[[], Response]) -> Response:
    try:
        return call()
    except DefinitionInvalid as error:
        return _refused(error)


class SegmentListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": SEGMENTS_READ, "POST": SEGMENTS_WRITE}
    serializer_class = shapes.SegmentSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="segments_list",
        summary="List segments",
        parameters=[shapes.SegmentListQuerySerializer],
        responses=OpenApiResponse(
            shapes.SegmentSerializer(many=True), description="A page of segments."
        ),
    )
    def get(self, request: Request) -> Response:
        """Segments by name, with their size and when they were last refreshed."""
        query = shapes.SegmentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response(selectors.segment_list(**query.validated_data))

    @extend_schema(
        operation_id="segments_create",
        summary="Create a segment",
        request=shapes.SegmentCreateSerializer,
        responses={201: shapes.SegmentSerializer},
    )
    def post(self, request: Request) -> Response:
        """Create a dynamic segment from a definition, or a static one from a list of
        customer ids; its members are computed at once. A bad definition is a 400 whose
        `errors` list every problem by JSON path (`conditions[1].value`)."""
        body = shapes.SegmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def create() -> Response:
            segment = services.segment_create(**body.validated_data, actor=request.user)
            data = shapes.SegmentSerializer(segment).data
            return Response(data, status=status.HTTP_201_CREATED)

        return _with_definition_errors(create)


class SegmentPreviewView(ScopedAPIView):
    required_scopes = {"POST": SEGMENTS_READ}

    @extend_schema(
        operation_id="segments_preview",
        summary="Preview a definition",
        request=shapes.SegmentPreviewSerializer,
        responses=shapes.SegmentPreviewResultSerializer,
    )
    def post(self, request: Request) -> Response:
        """How many customers a definition selects now and a sample of them, without saving
        anything (what the builder page shows while you edit)."""
        body = shapes.SegmentPreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def preview() -> Response:
            result = selectors.segment_preview(**body.validated_data)
            data = dataclasses.asdict(result)
            data["description"] = [
                {"depth": depth, "text": text} for depth, text in result.description
            ]
            return Response(shapes.SegmentPreviewResultSerializer(data).data)

        return _with_definition_errors(preview)


class SegmentDetailView(ScopedAPIView):
    required_scopes = {"GET": SEGMENTS_READ, "PATCH": SEGMENTS_WRITE, "DELETE": SEGMENTS_WRITE}

    @extend_schema(
        operation_id="segments_retrieve",
        summary="Get a segment",
        parameters=[SEGMENT_ID],
        responses=shapes.SegmentSerializer,
    )
    def get(self, request: Request, segment_id: int) -> Response:
        """One segment with its definition, size and freshness."""
        segment = selectors.segment_get(segment_id=segment_id)
        return Response(shapes.SegmentSerializer(segment).data)

    @extend_schema(
        operation_id="segments_update",
        summary="Update a segment",
        parameters=[SEGMENT_ID],
        request=shapes.SegmentUpdateSerializer,
        responses=shapes.SegmentSerializer,
    )
    def patch(self, request: Request, segment_id: int) -> Response:
        """Rename, describe, or change the definition (the members are recomputed and the
        entries and exits recorded)."""
        segment = selectors.segment_get(segment_id=segment_id)
        body = shapes.SegmentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def update() -> Response:
            updated = services.segment_update(
                segment=segment, **body.validated_data, actor=request.user
            )
            return Response(shapes.SegmentSerializer(updated).data)

        return _with_definition_errors(update)

    @extend_schema(
        operation_id="segments_destroy",
        summary="Delete a segment",
        parameters=[SEGMENT_ID],
        responses={204: OpenApiResponse(description="Deleted, with its members and history.")},
    )
    def delete(self, request: Request, segment_id: int) -> Response:
        """Delete a segment; 409 while other segments refer to it."""
        segment = selectors.segment_get(segment_id=segment_id)
        services.segment_delete(segment=segment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentMembersView(ScopedGenericAPIView):
    required_scopes = {"GET": SEGMENTS_READ}
    serializer_class = shapes.MemberSerializer

    @extend_schema(
        operation_id="segments_members",
        summary="List a segment's members",
        parameters=[SEGMENT_ID, shapes.MemberQuerySerializer],
        responses=OpenApiResponse(
            shapes.MemberSerializer(many=True), description="A page of members, newest first."
        ),
    )
    def get(self, request: Request, segment_id: int) -> Response:
        """The customers in the segment now, newest members first (paginated)."""
        segment = selectors.segment_get(segment_id=segment_id)
        query = shapes.MemberQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        members = selectors.segment_member_list(segment=segment, **query.validated_data)
        return self.list_response(members)


class SegmentExplainView(ScopedAPIView):
    required_scopes = {"GET": SEGMENTS_READ}

    @extend_schema(
        operation_id="segments_explain",
        summary="Why a customer is in a segment",
        parameters=[SEGMENT_ID, EXTERNAL_ID],
        responses=shapes.ExplanationSerializer,
    )
    def get(self, request: Request, segment_id: int, external_id: str) -> Response:
        """Every condition of the definition with whether it holds for the customer and the
        customer's actual value (count in the window, score, property ...)."""
        segment = selectors.segment_get(segment_id=segment_id)
        customer = customer_get(external_id=external_id)
        explanation = selectors.segment_explain(segment=segment, customer=customer)
        return Response(shapes.ExplanationSerializer(dataclasses.asdict(explanation)).data)


class SegmentHistoryView(ScopedGenericAPIView):
    required_scopes = {"GET": SEGMENTS_READ}
    serializer_class = shapes.HistorySerializer

    @extend_schema(
        operation_id="segments_history",
        summary="Entries and exits of a segment",
        parameters=[SEGMENT_ID, shapes.HistoryQuerySerializer],
        responses=OpenApiResponse(
            shapes.HistorySerializer(many=True), description="A page of changes, newest first."
        ),
    )
    def get(self, request: Request, segment_id: int) -> Response:
        """Customers entering and leaving the segment, newest first (paginated): what
        journeys trigger on."""
        segment = selectors.segment_get(segment_id=segment_id)
        query = shapes.HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer_id = None
        if query.validated_data["external_id"]:
            customer_id = customer_get(external_id=query.validated_data["external_id"]).pk
        history = selectors.segment_history(
            segment=segment, kind=query.validated_data["kind"], customer_id=customer_id
        )
        return self.list_response(history)


class SegmentSizesView(ScopedAPIView):
    required_scopes = {"GET": SEGMENTS_READ}

    @extend_schema(
        operation_id="segments_sizes",
        summary="Size of a segment over time",
        parameters=[SEGMENT_ID],
        responses=shapes.SizeSerializer(many=True),
    )
    def get(self, request: Request, segment_id: int) -> Response:
        """One row per day with a refresh in the last 365 days, oldest first."""
        segment = selectors.segment_get(segment_id=segment_id)
        rows = selectors.segment_size_series(segment=segment, days=365)
        return Response(shapes.SizeSerializer(rows, many=True).data)


class SegmentRefreshView(ScopedAPIView):
    required_scopes = {"POST": SEGMENTS_WRITE}

    @extend_schema(
        operation_id="segments_refresh",
        summary="Refresh a segment now",
        parameters=[SEGMENT_ID],
        request=None,
        responses=shapes.RefreshResultSerializer,
    )
    def post(self, request: Request, segment_id: int) -> Response:
        """Recompute the members now (one query), record who entered and left, and re-check
        the segments that refer to this one. Static segments are returned as they are."""
        segment = selectors.segment_get(segment_id=segment_id)
        result = services.segment_refresh(segment=segment)
        return Response(shapes.RefreshResultSerializer(dataclasses.asdict(result)).data)


class CsvRenderer(renderers.BaseRenderer):
    """Lets clients ask for `text/csv`; the export streams regardless."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, dict):
            return ",".join(f"{key}={value}" for key, value in data.items()).encode()
        return str(data or "").encode()


class SegmentExportView(ScopedAPIView):
    required_scopes = {"GET": SEGMENTS_READ}
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CsvRenderer]

    @extend_schema(
        operation_id="segments_export",
        summary="Export a segment's members as CSV",
        parameters=[SEGMENT_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV, streamed: external_id, email, first_name, last_name, "
                "country, city, member_since (ISO 8601).",
            )
        },
    )
    def get(self, request: Request, segment_id: int) -> Any:
        """Every member as a CSV row, streamed (constant memory whatever the size)."""
        segment = selectors.segment_get(segment_id=segment_id)
        lines = selectors.segment_export_lines(segment=segment)
        if isinstance(request.accepted_renderer, renderers.BrowsableAPIRenderer):
            return Response("".join(itertools.islice(lines, BROWSABLE_LINES)))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
        return response


class SegmentUploadView(ScopedAPIView):
    required_scopes = {"POST": SEGMENTS_WRITE}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="segments_upload",
        summary="Upload the members of a static segment",
        parameters=[SEGMENT_ID],
        request={"multipart/form-data": shapes.UploadSerializer},
        responses=shapes.UploadReportSerializer,
    )
    def post(self, request: Request, segment_id: int) -> Response:
        """Replace (or add to) a static segment's members from a CSV of external ids; ids
        that match no customer are reported by row and the rest is kept."""
        segment = selectors.segment_get(segment_id=segment_id)
        body = shapes.UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.segment_static_upload(
            segment=segment,
            file=body.validated_data["file"],
            mode=body.validated_data["mode"],
            actor=request.user,
        )
        return Response(shapes.UploadReportSerializer(report.as_json()).data)
