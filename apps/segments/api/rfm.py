"""RFM, lifecycle and clusters API: read the counts and profiles, start runs, save segments."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedAPIView
from apps.segments.api.rfm_serializers import (
    ClusterRunCreateSerializer,
    ClustersOverviewSerializer,
    RfmOverviewSerializer,
    RunSerializer,
    SavedSegmentSerializer,
    SegmentSaveSerializer,
)
from apps.segments.services.clustering import (
    cluster_segment_save,
    clusters_overview,
    clusters_run_start,
)
from apps.segments.services.rfm import rfm_cell_segment_save, rfm_overview, rfm_run_start

READ = "segments:read"
WRITE = "segments:write"
API_TRIGGER = "api"


def _actor(request: Request) -> Any:
    return request.user


def _rfm_document() -> dict[str, Any]:
    overview = rfm_overview()
    return {
        "computed_at": overview.computed_at,
        "customers_scored": overview.customers_scored,
        "buyers": overview.buyers,
        "cells": [
            {"cell": cell, "label": label, "customers": customers}
            for cell, label, customers in overview.cells
        ],
        "grid": [
            {
                "recency": square.recency,
                "frequency_monetary": square.frequency_monetary,
                "cell": square.cell,
                "customers": square.customers,
            }
            for row in overview.grid
            for square in row
        ],
        "stages": [
            {"stage": stage, "label": label, "customers": customers}
            for stage, label, customers in overview.stages
        ],
        "boundaries": overview.boundaries,
        "shop_cycle_days": overview.shop_cycle_days,
    }


def _clusters_document() -> dict[str, Any]:
    overview = clusters_overview()
    if overview is None:
        return {
            "model_version": None,
            "model_version_id": None,
            "applied": False,
            "algorithm": "",
            "k": 0,
            "kmeans_k": 0,
            "gmm_k": 0,
            "silhouette": None,
            "customers": 0,
            "used_text": False,
            "as_of": "",
            "selection": [],
            "clusters": [],
        }
    return {
        "model_version": overview.model_version.version,
        "model_version_id": overview.model_version.pk,
        "applied": not overview.stale,
        "algorithm": overview.algorithm,
        "k": overview.k,
        "kmeans_k": overview.kmeans_k,
        "gmm_k": overview.gmm_k,
        "silhouette": overview.silhouette,
        "customers": overview.customers,
        "used_text": overview.used_text,
        "as_of": overview.as_of,
        "selection": overview.selection,
        "clusters": [
            {
                "cluster": row.cluster,
                "name": row.name,
                "size": row.size,
                "share": row.share,
                "members_now": row.members_now,
                "top_categories": [[name, share] for name, share in row.top_categories],
                "traits": row.traits,
                "features": row.features,
            }
            for row in overview.clusters
        ],
    }


def _segment_document(segment: Any) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "kind": segment.kind,
        "member_count": segment.member_count,
    }


class RfmOverviewView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="RFM cells, grid and lifecycle stages", responses=RfmOverviewSerializer)
    def get(self, request: Request) -> Response:
        """Customers per RFM cell, per square of the R x FM grid and per lifecycle stage."""
        return Response(RfmOverviewSerializer(_rfm_document()).data)


class RfmRunView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Recompute RFM and lifecycle", request=None, responses={201: RunSerializer}
    )
    def post(self, request: Request) -> Response:
        """Start a `segments.rfm` run on the ML platform; follow it at /api/v1/ml/runs/{id}."""
        run = rfm_run_start(trigger=API_TRIGGER, triggered_by=_actor(request))
        run.refresh_from_db()
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RfmCellSegmentView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Save an RFM cell as a segment",
        request=SegmentSaveSerializer,
        responses={
            201: SavedSegmentSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown cell."),
            409: OpenApiResponse(ErrorSerializer, description="A segment with that name exists."),
        },
    )
    def post(self, request: Request, cell: str) -> Response:
        """A dynamic segment "RFM cell is <cell>": its members follow every recompute."""
        body = SegmentSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        segment = rfm_cell_segment_save(
            cell=cell, name=body.validated_data.get("name", ""), actor=_actor(request)
        )
        return Response(
            SavedSegmentSerializer(_segment_document(segment)).data, status=status.HTTP_201_CREATED
        )


class ClustersOverviewView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="Customer clusters", responses=ClustersOverviewSerializer)
    def get(self, request: Request) -> Response:
        """The serving clustering: k selection and every cluster's profile and name."""
        return Response(ClustersOverviewSerializer(_clusters_document()).data)


class ClustersRunView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Fit the clusters",
        request=ClusterRunCreateSerializer,
        responses={
            201: RunSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad parameters."),
        },
    )
    def post(self, request: Request) -> Response:
        """Start a `segments.clusters` run; its clusters are written to customers when it
        succeeds. Follow it at /api/v1/ml/runs/{id}."""
        body = ClusterRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = clusters_run_start(
            params=dict(body.validated_data), trigger=API_TRIGGER, triggered_by=_actor(request)
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class ClusterSegmentView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        summary="Save a cluster as a segment",
        request=SegmentSaveSerializer,
        responses={
            201: SavedSegmentSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown cluster."),
            409: OpenApiResponse(ErrorSerializer, description="A segment with that name exists."),
            422: OpenApiResponse(ErrorSerializer, description="No clusters fitted yet."),
        },
    )
    def post(self, request: Request, cluster: int) -> Response:
        """A static segment of the cluster's current members (cluster numbers change with
        every refit, so the segment keeps the customers, not the number)."""
        body = SegmentSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        segment = cluster_segment_save(
            cluster=cluster, name=body.validated_data.get("name", ""), actor=_actor(request)
        )
        return Response(
            SavedSegmentSerializer(_segment_document(segment)).data, status=status.HTTP_201_CREATED
        )
