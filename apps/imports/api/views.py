"""Imports API: upload a file to import, watch the job, download the failed rows."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.imports import selectors, services
from apps.imports.api.serializers import (
    ImportCreateSerializer,
    ImportJobSerializer,
    ImportListQuerySerializer,
)
from apps.imports.choices import ImportTrigger

IMPORTS_READ = "imports:read"
IMPORTS_WRITE = "imports:write"
BROWSABLE_LINES = 200
IMPORT_ID = OpenApiParameter("import_id", int, OpenApiParameter.PATH, description="Import id.")


class ImportListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": IMPORTS_READ, "POST": IMPORTS_WRITE}
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="imports_list",
        summary="List imports",
        parameters=[ImportListQuerySerializer],
        responses=OpenApiResponse(ImportJobSerializer(many=True), description="A page of imports."),
    )
    def get(self, request: Request) -> Response:
        """Import jobs, newest first (paginated)."""
        query = ImportListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response(selectors.import_job_list(**query.validated_data))

    @extend_schema(
        operation_id="imports_create",
        summary="Upload a file to import",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            202: OpenApiResponse(
                ImportJobSerializer, description="Accepted: the import runs in the background."
            )
        },
    )
    def post(self, request: Request) -> Response:
        """Upload a CSV / JSON / JSON Lines file of customers, products, orders (one row per
        line), events, reviews or social posts. The file is checked first (format, header,
        required columns: a 400 names the column); rows then import in the background. Poll
        the job; failed rows are in its error file. Re-importing a file stores nothing twice."""
        body = ImportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        job = services.import_job_create(
            kind=body.validated_data["kind"],
            file=upload,
            filename=upload.name,
            mapping=body.validated_data.get("mapping"),
            format=body.validated_data["format"],
            encoding=body.validated_data["encoding"],
            delimiter=body.validated_data["delimiter"],
            trigger=ImportTrigger.API,
            created_by=request.user,
        )
        job = selectors.import_job_get(job_id=job.pk)  # may have run already (eager mode)
        data = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class ImportDetailView(ScopedAPIView):
    required_scopes = {"GET": IMPORTS_READ}

    @extend_schema(
        operation_id="imports_retrieve",
        summary="Get an import",
        parameters=[IMPORT_ID],
        responses=ImportJobSerializer,
    )
    def get(self, request: Request, import_id: int) -> Response:
        """One import with its status, progress and counts."""
        job = selectors.import_job_get(job_id=import_id)
        return Response(ImportJobSerializer(job, context={"request": request}).data)


class ErrorFileRenderer(renderers.BaseRenderer):
    """Lets clients ask for `text/csv`; an error body then comes as a two-column CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        if not isinstance(data, dict):
            return b""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(list(data))
        writer.writerow([str(value) for value in data.values()])
        return buffer.getvalue().encode()


class ImportErrorsView(ScopedAPIView):
    required_scopes = {"GET": IMPORTS_READ}
    renderer_classes = [
        renderers.JSONRenderer,
        renderers.BrowsableAPIRenderer,
        ErrorFileRenderer,
    ]

    @extend_schema(
        operation_id="imports_errors",
        summary="Download the failed rows of an import",
        parameters=[IMPORT_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV: row_number (CSV: spreadsheet row, the header being row 1; "
                "JSON Lines: line; JSON array: position), column, field, reason, then the "
                "row's original values (CSV: under the file's column names; JSON: `record`). "
                "Only the header row when no row failed.",
            )
        },
    )
    def get(self, request: Request, import_id: int) -> Any:
        """The failed rows so far (complete once the import has ended), as CSV."""
        job = selectors.import_job_get(job_id=import_id)
        if isinstance(request.accepted_renderer, renderers.BrowsableAPIRenderer):
            # A person browsing the API sees the start of the file as text.
            lines = itertools.islice(selectors.error_file_lines(job), BROWSABLE_LINES)
            return Response("".join(lines))
        response = StreamingHttpResponse(
            selectors.error_file_lines(job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


class ImportResumeView(ScopedAPIView):
    required_scopes = {"POST": IMPORTS_WRITE}

    @extend_schema(
        operation_id="imports_resume",
        summary="Resume a failed or stalled import",
        parameters=[IMPORT_ID],
        request=None,
        responses={202: ImportJobSerializer},
    )
    def post(self, request: Request, import_id: int) -> Response:
        """Queue a failed import again (or one whose worker died: running without progress for
        15 minutes); it goes on after its last committed row. 409 for any other import."""
        services.import_job_resume(job_id=import_id)
        job = selectors.import_job_get(job_id=import_id)
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
