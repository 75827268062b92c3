"""Forecasts API: series and their latest forecast, what-if scenarios, refresh runs and stock
alerts. Thin views over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.core.errors import NotFound
from apps.forecasts import selectors
from apps.forecasts.api import serializers as shapes
from apps.forecasts.choices import RunTrigger
from apps.forecasts.services.runs import forecast_run_start
from apps.forecasts.services.whatif import campaign_whatif

READ = "forecasts:read"
WRITE = "forecasts:write"
SERIES = OpenApiParameter(
    "series", str, OpenApiParameter.PATH, description="Series key, e.g. shop.all.revenue.W."
)


class SeriesListView(ScopedGenericAPIView):
    required_scopes = {"GET": READ}
    serializer_class = shapes.SeriesSummarySerializer

    @extend_schema(
        operation_id="forecasts_list",
        summary="Forecast series with their latest forecast",
        parameters=[shapes.SeriesListQuerySerializer],
        responses=OpenApiResponse(shapes.SeriesSummarySerializer(many=True)),
    )
    def get(self, request: Request) -> Response:
        query = shapes.SeriesListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.series_list(**query.validated_data))
        rows = [
            shapes.SeriesSummarySerializer.from_summary(s)
            for s in selectors.series_summaries(page or [])
        ]
        return self.get_paginated_response(rows)


class SeriesDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="forecasts_get",
        summary="The latest forecast of a series",
        parameters=[SERIES],
        responses=shapes.ForecastDetailSerializer,
    )
    def get(self, request: Request, series: str) -> Response:
        """Forecast with 80% and 95% intervals, the model chosen, the backtest of every
        candidate (MASE, sMAPE, coverage) and the history it was made from."""
        row = selectors.series_get(key=series)
        latest = selectors.forecast_latest(series=row)
        if latest is None:
            raise NotFound(
                f"{series} has no forecast yet: start a refresh (POST /api/v1/forecasts/runs)"
            )
        return Response(shapes.ForecastDetailSerializer.from_forecast(row, latest))


class WhatIfView(ScopedAPIView):
    required_scopes = {"POST": READ}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="forecasts_whatif",
        summary="What if we run a campaign on these days (nothing stored)",
        parameters=[SERIES],
        request=shapes.WhatIfRequestSerializer,
        responses=shapes.WhatIfSerializer,
    )
    def post(self, request: Request, series: str) -> Response:
        body = shapes.WhatIfRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = selectors.series_get(key=series)
        return Response(campaign_whatif(row=row, days=body.validated_data["days"]))


class RunListView(ScopedAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="forecasts_runs_list",
        summary="Recent refresh runs",
        responses=shapes.ForecastRunSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(shapes.ForecastRunSerializer(selectors.run_list(), many=True).data)

    @extend_schema(
        operation_id="forecasts_runs_start",
        summary="Refresh every forecast now",
        request=None,
        responses={202: shapes.ForecastRunSerializer},
    )
    def post(self, request: Request) -> Response:
        """Queues a run over every active series (a run already going is returned)."""
        run = forecast_run_start(trigger=RunTrigger.MANUAL, user=request.user)
        run.refresh_from_db()
        return Response(shapes.ForecastRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="forecasts_runs_get",
        summary="A refresh run and its progress",
        parameters=[OpenApiParameter("run_id", int, OpenApiParameter.PATH, description="Run id.")],
        responses=shapes.ForecastRunSerializer,
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(shapes.ForecastRunSerializer(selectors.run_get(run_id=run_id)).data)


class StockAlertListView(ScopedGenericAPIView):
    required_scopes = {"GET": READ}
    serializer_class = shapes.StockAlertSerializer

    @extend_schema(
        operation_id="forecasts_stock_alerts",
        summary="Products whose forecast demand exceeds their stock",
        parameters=[shapes.StockAlertQuerySerializer],
        responses=OpenApiResponse(shapes.StockAlertSerializer(many=True)),
    )
    def get(self, request: Request) -> Response:
        query = shapes.StockAlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response(selectors.stock_alert_list(**query.validated_data))
