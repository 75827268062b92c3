"""Data quality API: quality reports, cleaning runs, duplicate customers, merges and splits."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.customers.services.identity import customer_merge_list, customer_split
from apps.quality import selectors, services
from apps.quality.api.serializers import (
    CleaningRunCreateSerializer,
    CleaningRunListQuerySerializer,
    CleaningRunSerializer,
    DuplicateGroupSerializer,
    MergeCreateSerializer,
    MergeSerializer,
    QualityReportSerializer,
)
from apps.quality.choices import CleaningTrigger

READ = "events:read"
WRITE = "quality:write"
CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"


def _actor_label(request: Request) -> str:
    return f"api: {request.user}"


class QualityReportListView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="Latest quality reports", responses=QualityReportSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The newest report of every entity that has one (customers, products, orders,
        events, reviews, social)."""
        reports = selectors.quality_report_latest_all()
        return Response(QualityReportSerializer(reports, many=True).data)


class QualityReportDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        summary="Latest quality report of an entity",
        responses={
            200: QualityReportSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Unknown entity or no report yet."),
        },
    )
    def get(self, request: Request, entity: str) -> Response:
        """Completeness per field, duplicates, invalid values with examples, freshness."""
        report = selectors.quality_report_latest(entity=entity)
        return Response(QualityReportSerializer(report).data)


class CleaningRunListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    serializer_class = CleaningRunSerializer

    @extend_schema(
        summary="List cleaning runs",
        parameters=[CleaningRunListQuerySerializer],
        responses=CleaningRunSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Cleaning runs, newest first, each with the changes it recorded (paginated)."""
        query = CleaningRunListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response(selectors.cleaning_run_list(**query.validated_data))

    @extend_schema(
        summary="Start a cleaning run",
        request=CleaningRunCreateSerializer,
        responses={202: CleaningRunSerializer},
    )
    def post(self, request: Request) -> Response:
        """Queue a cleaning run of the given entities (all by default); poll it by id."""
        body = CleaningRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.cleaning_start(
            entities=body.validated_data.get("entities") or None,
            trigger=CleaningTrigger.MANUAL,
            actor=request.user,
            actor_label=_actor_label(request),
        )
        run = selectors.cleaning_run_get(run_id=run.pk)  # may have run already (eager mode)
        return Response(CleaningRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class CleaningRunDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="A cleaning run", responses=CleaningRunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        """One run with its status, totals and recorded changes."""
        return Response(CleaningRunSerializer(selectors.cleaning_run_get(run_id=run_id)).data)


class DuplicateListView(ScopedAPIView):
    required_scopes = {"GET": CUSTOMERS_READ}

    @extend_schema(
        summary="Possible duplicate customers", responses=DuplicateGroupSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        """Groups of customers sharing a normalised email or phone (from the latest customers
        report), members that still exist only."""
        groups = selectors.duplicate_candidates(limit=100)
        return Response(DuplicateGroupSerializer(groups, many=True).data)


class MergeListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": CUSTOMERS_READ, "POST": CUSTOMERS_WRITE}
    serializer_class = MergeSerializer

    @extend_schema(summary="List merges", responses=MergeSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Customer merges, newest first (paginated)."""
        return self.list_response(customer_merge_list())

    @extend_schema(
        summary="Merge customers",
        request=MergeCreateSerializer,
        responses={
            201: MergeSerializer(many=True),
            404: OpenApiResponse(ErrorSerializer, description="A customer does not exist."),
            409: OpenApiResponse(ErrorSerializer, description="The merge would lose rows."),
        },
    )
    def post(self, request: Request) -> Response:
        """Merge profiles into a survivor (all or none); each becomes an alias of it."""
        body = MergeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        merges = services.duplicate_group_merge(
            survivor_external_id=body.validated_data["survivor_external_id"],
            merged_external_ids=body.validated_data["merged_external_ids"],
            actor=request.user,
            actor_label=_actor_label(request),
            reason="api",
        )
        return Response(MergeSerializer(merges, many=True).data, status=status.HTTP_201_CREATED)


class MergeSplitView(ScopedAPIView):
    required_scopes = {"POST": CUSTOMERS_WRITE}

    @extend_schema(
        summary="Split a merge back",
        request=None,
        responses={
            200: MergeSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Already split, or blocked."),
        },
    )
    def post(self, request: Request, merge_id: int) -> Response:
        """Restore the merged profile with its id, fields and rows, as before the merge."""
        merge = customer_split(
            merge_id=merge_id, actor=request.user, actor_label=_actor_label(request)
        )
        return Response(MergeSerializer(merge).data)
