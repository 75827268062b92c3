"""Predictions API: churn and purchase propensity models (latest metrics) and retraining."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedAPIView
from apps.ml import selectors as ml_selectors
from apps.segments.api.predict_serializers import (
    PredictionRunSerializer,
    PredictionSerializer,
    PredictionTrainSerializer,
)
from apps.segments.services.predict import (
    prediction_kind_get,
    prediction_overview_list,
    prediction_training_start,
)

READ = "segments:read"
WRITE = "segments:write"


class PredictionListView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        summary="Prediction models (churn, propensity)",
        responses=PredictionSerializer(many=True),
        tags=["Segments"],
    )
    def get(self, request: Request) -> Response:
        """Each model with its champion's backtest metrics, the latest run and how many
        customers hold a score."""
        overviews = prediction_overview_list()
        return Response({"models": PredictionSerializer(overviews, many=True).data})


class PredictionTrainView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Retrain a prediction model",
        request=PredictionTrainSerializer,
        responses={
            202: PredictionRunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A bad option."),
            404: OpenApiResponse(ErrorSerializer, description="Unknown model kind."),
        },
        tags=["Segments"],
    )
    def post(self, request: Request, kind: str) -> Response:
        """Start a training run of `churn` or `propensity`; follow it at /api/v1/ml/runs/{id}.
        Customers are re-scored with the new champion by the scheduled refresh."""
        spec = prediction_kind_get(kind)
        body = PredictionTrainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = prediction_training_start(
            kind=spec.name,
            horizon_days=body.validated_data.get("horizon_days"),
            active_days=body.validated_data.get("active_days"),
            trigger="api",
            triggered_by=f"api: {request.user}",
        )
        run = ml_selectors.training_run_get(run_id=run.pk)  # may have run already (eager mode)
        return Response(PredictionRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
