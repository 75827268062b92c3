"""Insights API: analyse ad-hoc texts; read stored analyses, trends, topics, keywords, product
insights and alerts; manage custom categories and jobs. Thin views over services/selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.selectors import product_get
from apps.core.api.views import ScopedAPIView, ScopedGenericAPIView
from apps.core.errors import NotFound
from apps.customers.selectors import customer_get
from apps.insights import selectors
from apps.insights.api import serializers as shapes
from apps.insights.models import AnalysisJob, TextCategory, TopicModel
from apps.insights.services import alerts, categories, store
from apps.insights.services.analysis import texts_analyze

READ = "insights:read"
WRITE = "insights:write"


def _id(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=f"{what} id.")


class AnalyzeView(ScopedAPIView):
    required_scopes = {"POST": READ}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="insights_analyze",
        summary="Analyse texts (nothing stored)",
        request=shapes.AnalyzeRequestSerializer,
        responses=shapes.AnalyzeResponseSerializer,
    )
    def post(self, request: Request) -> Response:
        """Language, sentiment (label and score in [-1, 1]), emotion, aspects, custom categories
        and keywords of up to 100 texts, English or Chinese, in input order."""
        body = shapes.AnalyzeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = texts_analyze(body.validated_data["texts"], categories=store.category_specs())
        return Response(
            {
                "results": [result.as_dict() for result in results],
                "model_version": results[0].model_version if results else "",
            }
        )


class TextListView(ScopedGenericAPIView):
    required_scopes = {"GET": READ}
    serializer_class = shapes.TextAnalysisSerializer

    @extend_schema(
        operation_id="insights_texts_list",
        summary="Analysed reviews and posts",
        parameters=[shapes.TextListQuerySerializer],
        responses=OpenApiResponse(shapes.TextAnalysisSerializer(many=True)),
    )
    def get(self, request: Request) -> Response:
        """Stored analyses, newest first, each with its model version."""
        query = shapes.TextListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters: dict[str, Any] = dict(query.validated_data)
        sku = filters.pop("product", "")
        if sku:
            filters["product_id"] = product_get(sku=sku).pk
        external_id = filters.pop("customer", "")
        if external_id:
            filters["customer_id"] = customer_get(external_id=external_id).pk
        if "topic" in filters:
            filters["topic_id"] = filters.pop("topic")
        queryset = selectors.analysis_list(**filters).prefetch_related("category_matches__category")
        return self.list_response(queryset)


class TextDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_texts_get",
        summary="One analysed text",
        parameters=[_id("analysis_id", "Analysis")],
        responses=shapes.TextAnalysisSerializer,
    )
    def get(self, request: Request, analysis_id: int) -> Response:
        analysis = selectors.analysis_list().filter(pk=analysis_id).first()
        if analysis is None:
            raise NotFound(f"Analysis {analysis_id} does not exist")
        return Response(shapes.TextAnalysisSerializer(analysis).data)


class TrendView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_trend",
        summary="Sentiment over time",
        parameters=[shapes.TrendQuerySerializer],
        responses=shapes.TrendPointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Texts per day (or week) by sentiment, for all texts, a channel or a product."""
        query = shapes.TrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        product_id = product_get(sku=values["product"]).pk if values.get("product") else None
        points = selectors.sentiment_trend(
            days=values["days"],
            channel=values["channel"],
            product_id=product_id,
            weekly=values["interval"] == "week",
        )
        return Response(
            [{**vars(point), "negative_share": point.negative_share} for point in points]
        )


class TopicsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_topics",
        summary="Active topics of a language",
        parameters=[shapes.TopicQuerySerializer],
        responses=shapes.TopicsResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        """Topics (words, size, share, sentiment) of the active LDA or embedding model."""
        query = shapes.TopicQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        model: TopicModel | None = selectors.topic_model_active(**query.validated_data)
        return Response(
            {
                **query.validated_data,
                "fitted_at": model.created_at if model else None,
                "documents": model.documents if model else 0,
                "coherence": model.coherence if model else {},
                "topics": shapes.TopicSerializer(
                    model.topics.order_by("-size") if model else [], many=True
                ).data,
            }
        )


class KeywordsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_keywords_trending",
        summary="Trending keywords",
        parameters=[shapes.KeywordQuerySerializer],
        responses=shapes.TrendingKeywordSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """Terms rising in the last `days` days against the `days` before (z-score ranked)."""
        query = shapes.KeywordQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        trends = selectors.keyword_trends(days=query.validated_data["days"])
        return Response(shapes.TrendingKeywordSerializer(trends, many=True).data)


class ProductInsightsView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_product",
        summary="What texts say about a product",
        parameters=[
            OpenApiParameter("sku", str, OpenApiParameter.PATH, description="Product SKU.")
        ],
        responses=shapes.ProductInsightsSerializer,
    )
    def get(self, request: Request, sku: str) -> Response:
        product = product_get(sku=sku)
        found = selectors.product_insights(product_id=product.pk)
        return Response(
            {
                "sku": product.sku,
                "texts": found.texts,
                "average": found.average,
                "negative_share": found.negative_share,
                "trend": [{**vars(p), "negative_share": p.negative_share} for p in found.trend],
                "aspects": {name: vars(summary) for name, summary in found.aspects.items()},
                "topics": [
                    {"id": topic.pk, "label": topic.label, "texts": count}
                    for topic, count in found.topics
                ],
                "keywords": [{"term": term, "weight": weight} for term, weight in found.keywords],
                "emotions": found.emotions,
            }
        )


class AlertListView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_alerts_list",
        summary="Negative-share alerts",
        parameters=[shapes.AlertQuerySerializer],
        responses=shapes.AlertSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = shapes.AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            shapes.AlertSerializer(selectors.alert_list(**query.validated_data), many=True).data
        )


class AlertAcknowledgeView(ScopedAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="insights_alerts_acknowledge",
        summary="Acknowledge an alert",
        parameters=[_id("alert_id", "Alert")],
        request=None,
        responses=shapes.AlertSerializer,
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = alerts.insight_alert_acknowledge(alert_id=alert_id, user=request.user)
        return Response(shapes.AlertSerializer(alert).data)


class CategoryListView(ScopedAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="insights_categories_list",
        summary="Custom text categories",
        responses=shapes.TextCategorySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(
            shapes.TextCategorySerializer(TextCategory.objects.order_by("name"), many=True).data
        )

    @extend_schema(
        operation_id="insights_categories_create",
        summary="Create a category from examples",
        request=shapes.TextCategoryWriteSerializer,
        responses={201: shapes.TextCategorySerializer},
    )
    def post(self, request: Request) -> Response:
        """A category defined by 2-50 example texts; stored texts are matched at once."""
        body = shapes.TextCategoryWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        category = categories.text_category_create(
            name=values["name"],
            examples=list(values.get("examples") or []),
            threshold=values.get("threshold"),
            description=values.get("description", ""),
            user=request.user,
        )
        return Response(
            shapes.TextCategorySerializer(category).data, status=status.HTTP_201_CREATED
        )


class CategoryDetailView(ScopedAPIView):
    required_scopes = {"GET": READ, "PUT": WRITE, "DELETE": WRITE}
    parser_classes = [JSONParser]

    def _get(self, category_id: int) -> TextCategory:
        category = TextCategory.objects.filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"Category {category_id} does not exist")
        return category

    @extend_schema(
        operation_id="insights_categories_get",
        summary="A category",
        parameters=[_id("category_id", "Category")],
        responses=shapes.TextCategorySerializer,
    )
    def get(self, request: Request, category_id: int) -> Response:
        return Response(shapes.TextCategorySerializer(self._get(category_id)).data)

    @extend_schema(
        operation_id="insights_categories_update",
        summary="Change a category",
        parameters=[_id("category_id", "Category")],
        request=shapes.TextCategoryWriteSerializer,
        responses=shapes.TextCategorySerializer,
    )
    def put(self, request: Request, category_id: int) -> Response:
        self._get(category_id)
        body = shapes.TextCategoryWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        category = categories.text_category_update(
            category_id=category_id,
            name=values["name"],
            examples=list(values.get("examples") or []),
            threshold=values.get("threshold"),
            description=values.get("description", ""),
            is_active=values.get("is_active", True),
        )
        return Response(shapes.TextCategorySerializer(category).data)

    @extend_schema(
        operation_id="insights_categories_delete",
        summary="Delete a category",
        parameters=[_id("category_id", "Category")],
        responses={204: None},
    )
    def delete(self, request: Request, category_id: int) -> Response:
        categories.text_category_delete(category_id=category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobListView(ScopedAPIView):
    required_scopes = {"POST": WRITE}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="insights_jobs_start",
        summary="Start an analysis or topic job",
        request=shapes.JobRequestSerializer,
        responses={202: shapes.JobSerializer},
    )
    def post(self, request: Request) -> Response:
        """analyze: new and changed texts; reanalyze: every text; topics: refit topics. A job
        of that kind already queued or running is returned instead of a second one."""
        body = shapes.JobRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = store.analysis_job_start(kind=body.validated_data["kind"], user=request.user)
        job.refresh_from_db()
        return Response(shapes.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobDetailView(ScopedAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="insights_jobs_get",
        summary="A job and its progress",
        parameters=[_id("job_id", "Job")],
        responses=shapes.JobSerializer,
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = AnalysisJob.objects.filter(pk=job_id).first()
        if job is None:
            raise NotFound(f"Job {job_id} does not exist")
        return Response(shapes.JobSerializer(job).data)
