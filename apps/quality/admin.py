"""Admin of the data quality app: watch cleaning runs and their changes, start one, read
quality reports. Rows are read-only: runs change only through the pipeline."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.errors import DomainError
from apps.quality import services
from apps.quality.choices import CleaningTrigger
from apps.quality.models import CleaningChange, CleaningRun, QualityReport
from apps.quality.web.forms import CleaningStartForm

# Admin pages have no Bootstrap: badges get their colours inline.
_STATUS_COLOURS = {
    "queued": "#6c757d",
    "running": "#0d6efd",
    "succeeded": "#198754",
    "failed": "#dc3545",
}


class CleaningChangeInline(admin.TabularInline):
    model = CleaningChange
    fields = ["entity", "rule", "action", "field", "rows_affected", "examples", "parameters"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Recorded changes (rule, field, rows, examples)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CleaningRun)
class CleaningRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "entity_list",
        "trigger",
        "status_badge",
        "requested_by",
        "requested_label",
        "created_at",
        "seconds_display",
    ]
    list_filter = ["status", "trigger"]
    search_fields = ["=id", "error", "requested_label"]
    date_hierarchy = "created_at"
    list_select_related = ["requested_by"]
    inlines = [CleaningChangeInline]
    actions = ["rerun_selected"]
    fields = [
        "entities",
        "trigger",
        "status",
        "requested_by",
        "requested_label",
        "created_at",
        "started_at",
        "finished_at",
        "totals",
        "error",
    ]
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Entities")
    def entity_list(self, run: CleaningRun) -> str:
        return ", ".join(run.entities)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: CleaningRun) -> str:
        return format_html(
            '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px">{}</span>',
            _STATUS_COLOURS.get(run.status, "#6c757d"),
            run.get_status_display(),
        )

    @admin.display(description="Seconds")
    def seconds_display(self, run: CleaningRun) -> str:
        return "-" if run.seconds is None else f"{run.seconds:.2f}"

    @admin.action(description="Run cleaning again for the same entities", permissions=["add"])
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[CleaningRun]) -> None:
        for run in queryset.order_by("pk"):
            try:
                new_run = services.cleaning_start(
                    entities=run.entities,
                    trigger=CleaningTrigger.MANUAL,
                    actor=request.user,
                    actor_label="admin",
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.message_user(request, f"Cleaning run {new_run.pk} started.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        start = path(
            "start/",
            self.admin_site.admin_view(self.start_view),
            name="quality_cleaningrun_start",
        )
        return [start, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return redirect("admin:quality_cleaningrun_start")  # "Add" means: start a run

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Start a cleaning run of the chosen entities."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CleaningStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.cleaning_start(
                    entities=form.cleaned_data["entities"] or None,
                    trigger=CleaningTrigger.MANUAL,
                    actor=request.user,
                    actor_label="admin",
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Cleaning run {run.pk} started.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:quality_cleaningrun_change", args=[run.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a cleaning run",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "quality/admin/start_run.html", context)


@admin.register(QualityReport)
class QualityReportAdmin(admin.ModelAdmin):
    list_display = ["entity", "computed_at", "rows", "run"]
    list_filter = ["entity"]
    date_hierarchy = "computed_at"
    fields = ["entity", "computed_at", "rows", "run", "metrics_pretty"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports are computed by cleaning runs

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Metrics")
    def metrics_pretty(self, report: QualityReport) -> str:
        text = json.dumps(report.metrics, indent=2, ensure_ascii=False)
        return format_html('<pre style="max-height:40rem;overflow:auto">{}</pre>', text)
