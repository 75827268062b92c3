"""Admin of imports: watch jobs and their progress, upload a file, resume a failed job.

Rows are read-only here: a job is created and run only through the services, as from the
web UI, the API and the command line.
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
from django.utils.html import format_html, format_html_join

from apps.core.errors import DomainError
from apps.imports import selectors, services
from apps.imports.choices import ACTIVE_STATUSES, ImportStatus, ImportTrigger
from apps.imports.models import ImportJob
from apps.imports.web.forms import ImportAdminUploadForm

# Admin pages have no Bootstrap: badges get their colours inline.
_STATUS_COLOURS = {
    ImportStatus.DRAFT: "#6c757d",
    ImportStatus.QUEUED: "#6c757d",
    ImportStatus.RUNNING: "#0d6efd",
    ImportStatus.SUCCEEDED: "#198754",
    ImportStatus.FAILED: "#dc3545",
}
ERRORS_SHOWN = 20


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "original_filename",
        "kind",
        "status_badge",
        "progress_display",
        "rows_created",
        "rows_updated",
        "rows_skipped",
        "rows_failed",
        "trigger",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("status", "kind", "format", "trigger")
    search_fields = ("=id", "original_filename", "sha256", "error_message")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    actions = ["resume_selected"]
    change_list_template = "imports/admin/importjob_change_list.html"
    fieldsets = (
        (
            "File",
            {
                "fields": (
                    "kind",
                    "original_filename",
                    "file",
                    "file_size_display",
                    "sha256",
                    "format",
                    "encoding",
                    "delimiter",
                    "columns",
                    "mapping",
                ),
                "description": "The uploaded file as stored, how it is read (format, encoding, "
                "CSV delimiter), its columns and the field each column fills.",
            },
        ),
        (
            "Progress",
            {
                "fields": (
                    "status_badge",
                    "progress_display",
                    "rows_total",
                    "rows_processed",
                    "rows_created",
                    "rows_updated",
                    "rows_skipped",
                    "rows_failed",
                    "details",
                    "error_message",
                ),
                "description": "Counts are committed with every chunk of rows, so they say "
                "exactly how far the file got; a resumed job goes on from there.",
            },
        ),
        (
            "Failed rows",
            {
                "fields": ("error_file_link", "first_errors"),
                "description": "Row numbers are where the row is in the file: CSV counts the "
                "header as row 1, JSON Lines counts lines, a JSON array counts objects.",
            },
        ),
        (
            "Execution",
            {
                "fields": (
                    "trigger",
                    "created_by",
                    "created_by_label",
                    "task_id",
                    "attempts",
                    "created_at",
                    "started_at",
                    "finished_at",
                ),
                "description": "Who uploaded it and how, the Celery task on the ingest queue, "
                "and how many times a worker started it (more than once: it resumed).",
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field for _, options in self.fieldsets for field in options["fields"]]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # jobs change only through the import runner; the admin shows them

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status in ACTIVE_STATUSES:
            return False  # a queued or running job is deleted once it has ended
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        """Through the service: the uploaded file and the error file go with the row."""
        services.import_job_delete(job_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        for job in queryset.order_by("pk"):
            try:
                services.import_job_delete(job_id=job.pk)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, job: ImportJob) -> str:
        return format_html(
            '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px">{}</span>',
            _STATUS_COLOURS.get(job.status, "#6c757d"),
            job.get_status_display(),
        )

    @admin.display(description="Progress")
    def progress_display(self, job: ImportJob) -> str:
        total = "?" if job.rows_total is None else f"{job.rows_total:,}"
        return format_html(
            '<progress max="100" value="{}"></progress> {} / {} rows',
            job.progress,
            f"{job.rows_processed:,}",
            total,
        )

    @admin.display(description="Size")
    def file_size_display(self, job: ImportJob) -> str:
        return filesizeformat(job.file_size)

    @admin.display(description="Uploaded by")
    def uploaded_by(self, job: ImportJob) -> str:
        return str(job.created_by) if job.created_by else job.created_by_label or "-"

    @admin.display(description="Error file")
    def error_file_link(self, job: ImportJob) -> str:
        if not job.rows_failed:
            return "-"
        return format_html(
            '<a href="{}">Download the {} failed rows (CSV)</a>',
            reverse("imports:errors", args=[job.pk]),
            job.rows_failed,
        )

    @admin.display(description="First failed rows")
    def first_errors(self, job: ImportJob) -> str:
        errors = selectors.import_row_error_list(job=job)[:ERRORS_SHOWN]
        if not errors:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((error.row_number, error.column or "-", error.reason) for error in errors),
        )
        return format_html(
            "<table><thead><tr><th>Row</th><th>Column</th><th>Reason</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Resume selected failed imports", permissions=["add"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        for job in queryset.order_by("pk"):
            try:
                services.import_job_resume(job_id=job.pk)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.message_user(request, f"Import {job.pk} resumes.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        upload = path(
            "upload/", self.admin_site.admin_view(self.upload_view), name="imports_importjob_upload"
        )
        return [upload, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return redirect("admin:imports_importjob_upload")  # "Add" means: upload a file

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file and start importing it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportAdminUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_job_create(
                    kind=form.cleaned_data["kind"],
                    file=upload,
                    filename=upload.name,
                    mapping=form.cleaned_data["mapping"],
                    encoding=form.cleaned_data["encoding"] or "utf-8",
                    delimiter=form.cleaned_data["delimiter"],
                    trigger=ImportTrigger.ADMIN,
                    created_by=request.user,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(
                    request,
                    f"Import {job.pk} of {job.original_filename} started.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:imports_importjob_change", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a file to import",
            "opts": self.model._meta,
            "form": form,
            "requirements": selectors.kind_requirements(),
        }
        return TemplateResponse(request, "imports/admin/upload.html", context)
