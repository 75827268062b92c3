"""Admin of segments and customer scores.

Segments are built in the UI (the builder) or the API; here an admin can rename or describe
one, refresh it, or delete it, each through the services (audit rows, history, cascades).
Memberships and their history are read-only: only refreshes write them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ServiceErrorsAdminMixin
from apps.core.errors import DomainError
from apps.segments.models import (
    CustomerScores,
    Segment,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentSize,
)
from apps.segments.services.segments import segment_delete, segment_refresh, segment_update


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Segment)
class SegmentAdmin(ServiceErrorsAdminMixin):
    list_display = ("name", "kind", "member_count", "status", "last_refreshed_at", "created_by")
    list_filter = ("kind", "status")
    search_fields = ("name", "description")
    fields = (
        "name", "description", "kind", "definition", "status", "error", "member_count",
        "last_refreshed_at", "last_refresh_seconds", "upload_report", "created_by",
        "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = tuple(name for name in fields if name not in ("name", "description"))
    actions = ["refresh_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # built in the UI (segment builder) or the API

    def save_model(self, request: HttpRequest, obj: Segment, form: Any, change: bool) -> None:
        segment_update(
            segment=obj,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            actor=request.user,
        )

    def delete_model(self, request: HttpRequest, obj: Segment) -> None:
        segment_delete(segment=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset:
            try:
                segment_delete(segment=segment, actor=request.user)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.action(description="Refresh the selected segments now")
    def refresh_selected(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset:
            result = segment_refresh(segment=segment)
            self.message_user(
                request,
                f"{segment.name}: {result.member_count:,} members "
                f"(+{result.entered:,} −{result.exited:,}) in {result.seconds:.2f} s",
            )


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(ReadOnlyAdmin):
    list_display = ("segment", "customer", "since")
    list_filter = ("segment",)
    search_fields = ("customer__external_id", "customer__email")
    list_select_related = ("segment", "customer")
    raw_id_fields = ("customer",)


@admin.register(SegmentMembershipEvent)
class SegmentMembershipEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "segment", "customer", "kind")
    list_filter = ("kind", "segment")
    search_fields = ("customer__external_id",)
    list_select_related = ("segment", "customer")
    date_hierarchy = "at"


@admin.register(SegmentSize)
class SegmentSizeAdmin(ReadOnlyAdmin):
    list_display = ("segment", "day", "member_count", "entered", "exited")
    list_filter = ("segment",)


@admin.register(CustomerScores)
class CustomerScoresAdmin(ReadOnlyAdmin):
    list_display = (
        "customer", "rfm_cell", "lifecycle_stage", "cluster_name", "clv_12m", "p_alive",
        "churn_risk", "purchase_propensity", "updated_at",
    )  # fmt: skip
    list_filter = ("rfm_cell", "lifecycle_stage")
    search_fields = ("customer__external_id", "customer__email")
    list_select_related = ("customer",)
