"""Admin of the ML platform: watch runs, start and re-run them, pick the champion.

Rows are read-only here: every change goes through a service (start, re-run, activate), so
audit rows and enqueued tasks happen exactly once, as from the API, CLI and web UI.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.errors import DomainError
from apps.ml import selectors, services
from apps.ml.choices import Alias, RunStatus, TriggerSource
from apps.ml.models import ModelAlias, ModelVersion, TrainingRun
from apps.ml.templatetags.ml_extras import first_line
from apps.ml.web.forms import TrainingRunStartForm

# Admin pages have no Bootstrap: badges get their colours inline.
_STATUS_COLOURS = {
    RunStatus.QUEUED: "#6c757d",
    RunStatus.RUNNING: "#0d6efd",
    RunStatus.SUCCEEDED: "#198754",
    RunStatus.FAILED: "#dc3545",
    RunStatus.NOT_ENOUGH_DATA: "#b58100",
    RunStatus.LOST: "#212529",
}


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status_badge",
        "progress_display",
        "trigger",
        "triggered_by",
        "worker",
        "device",
        "attempts",
        "created_at",
        "finished_at",
        "version_link",
    )
    list_filter = ("status", "kind", "trigger", "device", "queue")
    search_fields = ("=id", "kind", "error", "worker", "task_id")
    date_hierarchy = "created_at"
    list_select_related = ("triggered_by", "model_version")
    actions = ["rerun_selected"]
    change_list_template = "ml/admin/trainingrun_change_list.html"
    fieldsets = (
        (
            "What",
            {
                "fields": ("kind", "params", "trigger", "triggered_by", "rerun_of"),
                "description": "The registered kind trained, its validated parameters and who "
                "started it (admin, API, CLI, web UI, schedule). A re-run points at the run it repeats.",
            },
        ),
        (
            "Status",
            {
                "fields": ("status", "progress", "progress_message", "error_headline", "error"),
                "description": "Queued, running, then succeeded, failed, not enough data, or lost "
                "(its worker died; re-run it). Progress reaches 100 only once the model is published.",
            },
        ),
        (
            "Outcome",
            {
                "fields": ("metrics", "version_link", "dataset_hash", "timings"),
                "description": "Metrics reported by the trainer, the version it published (which "
                "became the champion), a SHA-256 of the training data, and seconds per phase.",
            },
        ),
        (
            "Execution",
            {
                "fields": (
                    "queue",
                    "task_id",
                    "worker",
                    "device",
                    "attempts",
                    "created_at",
                    "started_at",
                    "heartbeat_at",
                    "finished_at",
                ),
                "description": "Celery queue and task id, the worker host/process and device that "
                "ran it, how many workers started it, and its heartbeat (a stale heartbeat means "
                "the worker died).",
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field for _, options in self.fieldsets for field in options["fields"]]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # runs change only through the runner; the admin shows them

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: TrainingRun) -> str:
        return format_html(
            '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px">{}</span>',
            _STATUS_COLOURS.get(run.status, "#6c757d"),
            run.get_status_display(),
        )

    @admin.display(description="Progress", ordering="progress")
    def progress_display(self, run: TrainingRun) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {}%', run.progress, run.progress
        )

    @admin.display(description="Why it failed")
    def error_headline(self, run: TrainingRun) -> str:
        return first_line(run.error) or "-"

    @admin.display(description="Model version")
    def version_link(self, run: TrainingRun) -> str:
        version = getattr(run, "model_version", None)
        if version is None:
            return "-"
        url = reverse("admin:ml_modelversion_change", args=[version.pk])
        return format_html('<a href="{}">v{}</a>', url, version.version)

    @admin.action(description="Re-run selected", permissions=["add"])
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[TrainingRun]) -> None:
        for run in queryset.order_by("pk"):
            try:
                rerun = services.training_run_rerun(
                    run_id=run.pk, triggered_by=request.user, trigger=TriggerSource.ADMIN
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.message_user(
                    request, f"Run {rerun.pk} re-runs run {run.pk}.", messages.SUCCESS
                )

    def get_urls(self) -> list[Any]:
        start = path(
            "start/", self.admin_site.admin_view(self.start_view), name="ml_trainingrun_start"
        )
        return [start, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return redirect("admin:ml_trainingrun_start")  # "Add" means: start a run

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Start a new run of a chosen kind."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TrainingRunStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.training_run_start(
                    kind=form.cleaned_data["kind"],
                    params=form.cleaned_data["params"],
                    trigger=TriggerSource.ADMIN,
                    triggered_by=request.user,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, f"Run {run.pk} of {run.kind} started.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:ml_trainingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a training run",
            "opts": self.model._meta,
            "form": form,
            "kinds": selectors.kind_list(),
        }
        return TemplateResponse(request, "ml/admin/start_run.html", context)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "kind",
        "version",
        "champion",
        "short_hash",
        "size",
        "run_link",
        "created_at",
    )
    list_filter = ("kind",)
    search_fields = ("kind", "content_hash", "dataset_hash")
    list_select_related = ("training_run",)
    actions = ["make_champion"]
    fieldsets = (
        (
            "Version",
            {
                "fields": ("kind", "version", "champion", "run_link", "created_at"),
                "description": "An immutable trained artifact: written fully, hashed, then "
                "registered. The champion serves its kind.",
            },
        ),
        (
            "Artifact",
            {
                "fields": ("artifact_path", "content_hash", "size_bytes"),
                "description": "File relative to ML_ARTIFACT_ROOT, its SHA-256 and size.",
            },
        ),
        (
            "Training",
            {
                "fields": ("params", "metrics", "dataset_hash"),
                "description": "Parameters it was trained with, its metrics and a SHA-256 of the data.",
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelVersion]:
        return selectors.model_version_list()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field for _, options in self.fieldsets for field in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions are published by training runs only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ml.change_modelalias")

    @admin.display(description="Champion", boolean=True, ordering="is_champion")
    def champion(self, version: ModelVersion) -> bool:
        return bool(getattr(version, "is_champion", False))

    @admin.display(description="SHA-256")
    def short_hash(self, version: ModelVersion) -> str:
        return version.content_hash[:12]

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, version: ModelVersion) -> str:
        return filesizeformat(version.size_bytes)

    @admin.display(description="Training run")
    def run_link(self, version: ModelVersion) -> str:
        if not version.training_run_id:
            return "-"
        url = reverse("admin:ml_trainingrun_change", args=[version.training_run_id])
        return format_html('<a href="{}">run {}</a>', url, version.training_run_id)

    @admin.action(description="Make champion (serve this version)", permissions=["activate"])
    def make_champion(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        kinds = list(queryset.values_list("kind", flat=True))
        if len(kinds) != len(set(kinds)):
            self.message_user(request, "Pick at most one version per kind.", messages.ERROR)
            return
        for version in queryset:
            try:
                services.model_version_activate(model_version_id=version.pk, actor=request.user)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request, f"{version} now serves {version.kind}.", messages.SUCCESS
                )


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ("kind", "alias", "model_version", "updated_at")
    list_filter = ("alias", "kind")
    list_select_related = ("model_version",)
    readonly_fields = ("kind", "alias", "model_version", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": readonly_fields,
                "description": f"Which version serves each kind ({Alias.CHAMPION.label}). Change it "
                "with the 'Make champion' action on model versions.",
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
