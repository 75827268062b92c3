"""ML API: start and watch training runs, list model versions and trainable kinds."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.ml import selectors, services
from apps.ml.api.serializers import (
    KindSerializer,
    ModelVersionListQuerySerializer,
    ModelVersionSerializer,
    TrainingRunCreateSerializer,
    TrainingRunListQuerySerializer,
    TrainingRunSerializer,
)
from apps.ml.choices import TriggerSource

ML_READ = "ml:read"
ML_RUN = "ml:run"


def _acting_user(request: Request) -> Any:
    """The signed-in user, or the key's user (which services record by label)."""
    return request.user


class TrainingRunListCreateView(ScopedGenericAPIView):
    required_scopes = {"GET": ML_READ, "POST": ML_RUN}
    serializer_class = TrainingRunSerializer

    @extend_schema(
        operation_id="ml_runs_list",
        parameters=[TrainingRunListQuerySerializer],
        responses=TrainingRunSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Training runs, newest first (paginated)."""
        query = TrainingRunListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = selectors.training_run_list(**query.validated_data)
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(TrainingRunSerializer(page, many=True).data)

    @extend_schema(
        operation_id="ml_runs_create",
        request=TrainingRunCreateSerializer,
        responses={201: TrainingRunSerializer},
    )
    def post(self, request: Request) -> Response:
        """Start a run of a registered kind; it is queued for a worker. Poll it by id."""
        body = TrainingRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.training_run_start(
            kind=body.validated_data["kind"],
            params=body.validated_data["params"],
            trigger=TriggerSource.API,
            triggered_by=_acting_user(request),
        )
        run = selectors.training_run_get(run_id=run.pk)  # may have run already (eager mode)
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailView(ScopedAPIView):
    required_scopes = {"GET": ML_READ}

    @extend_schema(operation_id="ml_runs_retrieve", responses=TrainingRunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        """One run with its status, progress, metrics and error."""
        return Response(TrainingRunSerializer(selectors.training_run_get(run_id=run_id)).data)


class TrainingRunRerunView(ScopedAPIView):
    required_scopes = {"POST": ML_RUN}

    @extend_schema(
        operation_id="ml_runs_rerun", request=None, responses={201: TrainingRunSerializer}
    )
    def post(self, request: Request, run_id: int) -> Response:
        """Start a new run with the kind and params of this one (after a failure or lost worker)."""
        run = services.training_run_rerun(
            run_id=run_id, triggered_by=_acting_user(request), trigger=TriggerSource.API
        )
        run = selectors.training_run_get(run_id=run.pk)
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelVersionListView(ScopedGenericAPIView):
    required_scopes = {"GET": ML_READ}
    serializer_class = ModelVersionSerializer

    @extend_schema(
        operation_id="ml_models_list",
        parameters=[ModelVersionListQuerySerializer],
        responses=ModelVersionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Published model versions by kind, newest first; `is_champion` marks the serving one."""
        query = ModelVersionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.model_version_list(**query.validated_data))
        return self.get_paginated_response(ModelVersionSerializer(page, many=True).data)


class ModelVersionActivateView(ScopedAPIView):
    required_scopes = {"POST": ML_RUN}

    @extend_schema(
        operation_id="ml_models_activate", request=None, responses=ModelVersionSerializer
    )
    def post(self, request: Request, model_version_id: int) -> Response:
        """Make this version the champion of its kind (roll back or forward)."""
        services.model_version_activate(model_version_id=model_version_id, actor=request.user)
        version = selectors.model_version_get(model_version_id=model_version_id)
        return Response(ModelVersionSerializer(version).data)


class KindListView(ScopedAPIView):
    required_scopes = {"GET": ML_READ}

    @extend_schema(operation_id="ml_kinds_list", responses=KindSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Kinds of model that can be trained, with their default parameters."""
        return Response(KindSerializer(selectors.kind_list(), many=True).data)
