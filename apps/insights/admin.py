"""Admin of the insights app: analyses (read-only), topics, categories, alerts, jobs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.insights.models import (
    AnalysisJob,
    InsightAlert,
    TextAnalysis,
    TextCategory,
    Topic,
    TopicModel,
)


class ReadOnly(admin.ModelAdmin):
    """Rows written by jobs: looked at here, changed only by the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TextAnalysis)
class TextAnalysisAdmin(ReadOnly):
    list_display = (
        "id",
        "source",
        "channel",
        "language",
        "sentiment",
        "sentiment_score",
        "emotion",
        "written_at",
        "model_label",
    )
    list_filter = ("source", "sentiment", "emotion", "language", "channel")
    search_fields = ("keywords", "terms")
    date_hierarchy = "written_at"
    exclude = ("embedding",)
    raw_id_fields = ("review", "social_post", "customer", "product", "model_version")


class TopicInline(admin.TabularInline):
    model = Topic
    fields = ("index", "label", "size", "share", "average_sentiment", "negative_share")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(TopicModel)
class TopicModelAdmin(ReadOnly):
    list_display = (
        "id",
        "method",
        "language",
        "is_active",
        "topic_count",
        "documents",
        "seconds",
        "created_at",
    )
    list_filter = ("method", "language", "is_active")
    inlines = [TopicInline]


@admin.register(TextCategory)
class TextCategoryAdmin(admin.ModelAdmin):
    """Categories are edited on the Insights pages (they re-match texts); here for a look."""

    list_display = ("name", "threshold", "is_active", "created_at")
    readonly_fields = ("created_by",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InsightAlert)
class InsightAlertAdmin(ReadOnly):
    list_display = (
        "day",
        "scope",
        "share",
        "expected",
        "upper",
        "total",
        "status",
        "webhook_status",
    )
    list_filter = ("status", "scope", "webhook_status")


@admin.register(AnalysisJob)
class AnalysisJobAdmin(ReadOnly):
    list_display = ("id", "kind", "status", "progress", "texts", "created_at", "finished_at")
    list_filter = ("kind", "status")
