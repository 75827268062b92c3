"""Recommendations API: personal and similar items, feedback, online stats, placements and the
recommender's models. Thin views over apps.recommendations services and selectors."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.recommendations import selectors, services
from apps.recommendations.api import serializers as shapes
from apps.recommendations.contracts import Recommendations

READ = "recommendations:read"
WRITE = "recommendations:write"
# Impressions and clicks are tracking data: the shop's public (browser) key sends them, as
# it sends every other event.
FEEDBACK = "events:write"

EXTERNAL_ID = OpenApiParameter(
    "external_id",
    str,
    OpenApiParameter.PATH,
    description="The customer's external id or alias, or any anonymous visitor id (unknown ids "
    "get cold-start items, never an error).",
)
SKU = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The product's SKU.")
PLACEMENT_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The placement's key."
)


@functools.cache
def _query_fields(serializer_class: type[Any]) -> dict[str, Any]:
    """The bound fields of one instance, reused: building a serializer per request (it
    deep-copies its fields) cost more than answering from a kept answer."""
    return dict(serializer_class().fields)


def _query(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    """The query string validated field by field as `serializer_class` declares it (a field
    left out takes its default, or stays out); errors name the field, as is_valid would."""
    params = request.query_params
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, field in _query_fields(serializer_class).items():
        if name not in params:
            if not field.required and field.default is not empty:
                values[name] = field.get_default()
            continue
        try:
            values[name] = field.run_validation(params[name])
        except ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise ValidationError(errors)
    return values


def _document(result: Recommendations) -> dict[str, Any]:
    """The response body, built directly in the RecommendationsSerializer's shape (which
    documents it): the serializer's own field copying cost more than the rest of a request
    answered from a kept answer."""
    version = result.model_version
    return {
        "items": [
            {
                "product_id": item.product_id,
                "score": float(item.score),
                "reason": item.reason,
                "reason_code": item.reason_code,
                "model_version": version,
                "position": int(item.position),
                "title": item.title,
                "category": item.category,
            }
            for item in result.items
        ],
        "request_id": result.request_id,
        "model_version": result.model_version,
        "source": result.source,
        "cache": result.cache,
        "placement": result.placement,
    }


class RecommendationsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="recommendations_for_customer",
        summary="Recommendations for a customer or visitor",
        parameters=[EXTERNAL_ID, shapes.RecommendationQuerySerializer],
        responses=shapes.RecommendationsSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        """Up to n products for a customer (external id or alias) or anonymous visitor, with
        a reason each, ranked by the champion recommender with the visitor's current history
        (what was viewed or bought a second ago counts) and the placement's rules. Unknown
        ids get cold-start items; before any recommender is trained, catalog popularity."""
        query = _query(shapes.RecommendationQuerySerializer, request)
        result = services.recommendations_for(customer_id=external_id, **query)
        return Response(_document(result))


class SimilarProductsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="products_similar",
        summary="Products similar to a product",
        parameters=[SKU, shapes.SimilarQuerySerializer],
        responses=shapes.RecommendationsSerializer,
    )
    def get(self, request: Request, sku: str) -> Response:
        """Products like this one (the recommender's item neighbours and content; before it
        is trained, popular products of its category), available ones only."""
        query = _query(shapes.SimilarQuerySerializer, request)
        query.setdefault("n", 10)
        result = services.similar_products(sku=sku, **query)
        return Response(_document(result))


class FeedbackView(ScopedAPIView):
    required_scopes = {"POST": FEEDBACK}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="recommendations_feedback",
        summary="Report impressions or clicks",
        request=shapes.RecommendationFeedbackSerializer,
        responses={201: shapes.RecommendationFeedbackResultSerializer},
    )
    def post(self, request: Request) -> Response:
        """Report which items of a served list were shown (`impression`) or clicked (`click`).
        Each becomes an event (re-sending is safe: stored and counted once) and counts
        towards the online CTR of its placement and model version."""
        body = shapes.RecommendationFeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        result = services.feedback_record(
            request_id=values["request_id"],
            kind=values["type"],
            product_ids=values["product_ids"],
            occurred_at=values["timestamp"],
            visitor_id=values["visitor_id"],
            api_key_prefix=getattr(request.auth, "prefix", "") or "",
        )
        data = shapes.RecommendationFeedbackResultSerializer(dataclasses.asdict(result)).data
        return Response(data, status=status.HTTP_201_CREATED)


class StatsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="recommendations_stats",
        summary="Online CTR per placement and model version",
        parameters=[shapes.RecommendationStatsQuerySerializer],
        responses=shapes.RecommendationStatsSerializer,
    )
    def get(self, request: Request) -> Response:
        """Requests answered, impressions, clicks and CTR per placement and model version over
        the last `days`."""
        query = _query(shapes.RecommendationStatsQuerySerializer, request)
        services.served_log_flush()  # requests served a moment ago count
        rows = selectors.recommendation_stats(**query)
        data = [{**dataclasses.asdict(row), "ctr": row.ctr} for row in rows]
        return Response(
            shapes.RecommendationStatsSerializer({"days": query["days"], "results": data}).data
        )


class ModelsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="recommendations_models",
        summary="The recommender's models and their comparison",
        responses=shapes.RecommenderModelsSerializer,
    )
    def get(self, request: Request) -> Response:
        """The champion with every algorithm's offline metrics from its evaluation (which one
        won), the latest run, whether candidates are precomputed, and how many interactions
        arrived since training. Train with `manage.py recommend train` or
        POST /api/v1/ml/runs {"kind": "recommendations.hybrid"}."""
        overview = services.recommender_overview()
        document = {
            "champion": overview.champion,
            "best": overview.best,
            "algorithms": overview.algorithms,
            "report": overview.report,
            "latest_run": overview.latest_run,
            "precomputed": overview.precomputed,
            "new_interactions": overview.new_interactions,
            "retrain_threshold": overview.retrain_threshold,
        }
        return Response(shapes.RecommenderModelsSerializer(document).data)


class PlacementListView(ScopedGenericAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    serializer_class = shapes.PlacementSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="recommendations_placements_list",
        summary="List placements",
        responses=OpenApiResponse(
            shapes.PlacementSerializer(many=True), description="A page of placements."
        ),
    )
    def get(self, request: Request) -> Response:
        """Placements by key, with their rules."""
        return self.list_response(selectors.placement_list())

    @extend_schema(
        operation_id="recommendations_placements_create",
        summary="Create a placement",
        request=shapes.PlacementWriteSerializer,
        responses={201: shapes.PlacementSerializer},
    )
    def post(self, request: Request) -> Response:
        """Create a placement; pinned and boosted SKUs and category slugs must exist. A key in
        use is a 409."""
        body = shapes.PlacementWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        placement = services.placement_create(**body.validated_data)
        return Response(shapes.PlacementSerializer(placement).data, status=status.HTTP_201_CREATED)


class PlacementDetailView(ScopedAPIView):
    required_scopes = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="recommendations_placements_retrieve",
        summary="Get a placement",
        parameters=[PLACEMENT_KEY],
        responses=shapes.PlacementSerializer,
    )
    def get(self, request: Request, key: str) -> Response:
        """One placement and its rules."""
        return Response(shapes.PlacementSerializer(selectors.placement_get(key=key)).data)

    @extend_schema(
        operation_id="recommendations_placements_update",
        summary="Update a placement",
        parameters=[PLACEMENT_KEY],
        request=shapes.PlacementWriteSerializer(partial=True),
        responses=shapes.PlacementSerializer,
    )
    def patch(self, request: Request, key: str) -> Response:
        """Change the given fields; fields left out keep their value. Takes effect on the next
        request."""
        placement = selectors.placement_get(key=key)
        body = shapes.PlacementWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        placement = services.placement_update(placement=placement, changes=body.validated_data)
        return Response(shapes.PlacementSerializer(placement).data)

    @extend_schema(
        operation_id="recommendations_placements_destroy",
        summary="Delete a placement",
        parameters=[PLACEMENT_KEY],
        responses={204: None},
    )
    def delete(self, request: Request, key: str) -> Response:
        """Delete a placement; requests naming it are refused from then on."""
        services.placement_delete(placement=selectors.placement_get(key=key))
        return Response(status=status.HTTP_204_NO_CONTENT)
