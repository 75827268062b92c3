"""Customer lifetime value API: the fit and stored predictions; start a refit."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedAPIView
from apps.segments.api.clv_serializers import (
    ClvFitSerializer,
    ClvOverviewSerializer,
    ClvRunSerializer,
)
from apps.segments.services.clv import clv_fit_start, clv_overview

READ = "segments:read"
WRITE = "segments:write"
API_TRIGGER = "api"
TOP_CUSTOMERS = 20


def _overview_document() -> dict[str, Any]:
    overview = clv_overview(top=TOP_CUSTOMERS)
    document = overview.document
    champion = overview.champion
    return {
        "model_version": champion.version if champion else None,
        "model_version_id": champion.pk if champion else None,
        "stale": overview.stale,
        "as_of": document.get("as_of", ""),
        "time_unit": document.get("time_unit", ""),
        "params": document.get("params", {}),
        "bgnbd": document.get("bgnbd"),
        "gamma_gamma": document.get("gamma_gamma"),
        "customers": document.get("customers", 0),
        "repeat_customers": document.get("repeat_customers", 0),
        "independence_check": document.get("independence_check"),
        "diagnostics": document.get("diagnostics"),
        "predictions": {
            "model_version": overview.stored_version,
            "customers": overview.customers,
            "total_clv_12m": overview.total_clv_12m,
            "total_historical": overview.total_historical,
            "mean_p_alive": overview.mean_p_alive,
            "expected_purchases_90d": overview.expected_purchases_90d,
            "distribution": overview.distribution,
        },
        "top_customers": overview.top_customers,
        "latest_run": overview.latest_run,
    }


class ClvOverviewView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="Customer lifetime value model", responses=ClvOverviewSerializer)
    def get(self, request: Request) -> Response:
        """The serving BG/NBD + Gamma-Gamma fit (parameters, independence check, holdout
        diagnostics) and a summary of the predictions stored per customer."""
        return Response(ClvOverviewSerializer(_overview_document()).data)


class ClvFitView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Refit customer lifetime value",
        request=ClvFitSerializer,
        responses={
            201: ClvRunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad parameters."),
        },
    )
    def post(self, request: Request) -> Response:
        """Start a `segments.clv` run on the ML platform; when it succeeds every customer's
        predictions are stored with the new version. Follow it at /api/v1/ml/runs/{id}."""
        body = ClvFitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = clv_fit_start(
            params=dict(body.validated_data), trigger=API_TRIGGER, triggered_by=request.user
        )
        return Response(ClvRunSerializer(run).data, status=status.HTTP_201_CREATED)
