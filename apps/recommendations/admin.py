"""Admin of recommendations: placements (saved through the services, which check SKUs and
category slugs) with their last 30 days' online numbers, and the served-request log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin import ServiceErrorsAdminMixin
from apps.recommendations.contracts import PlacementStats
from apps.recommendations.models import Placement, ServedRecommendation
from apps.recommendations.selectors import recommendation_stats
from apps.recommendations.services import placement_create, placement_delete, placement_update
from apps.recommendations.services.placements import EDITABLE_FIELDS

STATS_DAYS = 30


def _totals(placement: Placement) -> tuple[int, int, int]:
    rows: list[PlacementStats] = recommendation_stats(days=STATS_DAYS, placement=placement.key)
    return (
        sum(row.requests for row in rows),
        sum(row.impressions for row in rows),
        sum(row.clicks for row in rows),
    )


@admin.register(Placement)
class PlacementAdmin(ServiceErrorsAdminMixin):
    list_display = (
        "key", "name", "is_active", "default_count", "diversity", "exclude_purchased_days",
        "requests_30d", "impressions_30d", "clicks_30d", "ctr_30d",
    )  # fmt: skip
    list_filter = ("is_active",)
    search_fields = ("key", "name", "description")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("key", "name", "description", "is_active")}),
        ("Ranking", {"fields": ("default_count", "diversity", "exclude_purchased_days")}),
        (
            "Rules",
            {
                "fields": (
                    "exclude_out_of_stock",
                    "include_categories",
                    "exclude_categories",
                    "pinned_skus",
                    "boosts",
                    "category_boosts",
                )
            },
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=f"Requests ({STATS_DAYS} d)")
    def requests_30d(self, obj: Placement) -> int:
        return _totals(obj)[0]

    @admin.display(description=f"Impressions ({STATS_DAYS} d)")
    def impressions_30d(self, obj: Placement) -> int:
        return _totals(obj)[1]

    @admin.display(description=f"Clicks ({STATS_DAYS} d)")
    def clicks_30d(self, obj: Placement) -> int:
        return _totals(obj)[2]

    @admin.display(description=f"CTR ({STATS_DAYS} d)")
    def ctr_30d(self, obj: Placement) -> str:
        _, impressions, clicks = _totals(obj)
        return f"{clicks / impressions:.1%}" if impressions else "-"

    def save_model(self, request: HttpRequest, obj: Placement, form: Any, change: bool) -> None:
        values = {
            name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data
        }
        if change:
            placement_update(placement=obj, changes=values)
            return
        saved = placement_create(**values)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: Placement) -> None:
        placement_delete(placement=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for placement in queryset:
            placement_delete(placement=placement)


@admin.register(ServedRecommendation)
class ServedRecommendationAdmin(admin.ModelAdmin):
    """Read-only: rows are written by serving and counted by feedback only."""

    list_display = (
        "request_id", "served_at", "placement", "visitor_id", "model_version", "source",
        "cache", "item_count", "impressions", "clicks",
    )  # fmt: skip
    list_filter = ("placement", "source", "cache", "served_at")
    search_fields = ("request_id", "visitor_id", "anchor_sku")
    date_hierarchy = "served_at"
    list_select_related = ("model_version",)
    readonly_fields = (
        "request_id", "served_at", "customer", "visitor_id", "placement", "anchor_sku",
        "model_version", "source", "cache", "items", "impressions", "clicks",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="Items")
    def item_count(self, obj: ServedRecommendation) -> int:
        return len(obj.items or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
