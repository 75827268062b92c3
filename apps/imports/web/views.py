"""Data > Imports: upload a file, map its columns, watch the job (htmx polls the partials)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_scopes
from apps.core.errors import DomainError, NotFound
from apps.core.web.decorators import scope_required
from apps.imports import selectors, services
from apps.imports.choices import ImportStatus, ImportTrigger
from apps.imports.models import ImportJob
from apps.imports.web.forms import ImportUploadForm

JOBS_SHOWN = 50
ERRORS_SHOWN = 50
IMPORTS_READ = "imports:read"
IMPORTS_WRITE = "imports:write"


def _job(job_id: int) -> ImportJob:
    try:
        return selectors.import_job_get(job_id=job_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _can_upload(request: HttpRequest) -> bool:
    return IMPORTS_WRITE in user_scopes(user=request.user)


def _jobs_context() -> dict[str, Any]:
    return {
        "jobs": selectors.import_job_list()[:JOBS_SHOWN],
        "any_active": selectors.import_job_any_active(),
    }


def _index(request: HttpRequest, form: ImportUploadForm, status: int = 200) -> HttpResponse:
    context = {
        **_jobs_context(),
        "form": form,
        "can_upload": _can_upload(request),
        "requirements": selectors.kind_requirements(),
    }
    return render(request, "imports/index.html", context, status=status)


@scope_required(IMPORTS_READ)
def index(request: HttpRequest) -> HttpResponse:
    return _index(request, ImportUploadForm())


@scope_required(IMPORTS_READ)
def job_table(request: HttpRequest) -> HttpResponse:
    """The jobs table alone; it polls itself every 2 s while an import is queued or running."""
    return render(request, "imports/_jobs.html", _jobs_context())


@scope_required(IMPORTS_WRITE)
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Store the file as a draft job and go to its column mapping."""
    form = ImportUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                kind=form.cleaned_data["kind"],
                file=upload_file,
                filename=upload_file.name,
                encoding=form.cleaned_data["encoding"] or "utf-8",
                delimiter=form.cleaned_data["delimiter"],
                trigger=ImportTrigger.UI,
                created_by=request.user,
                start=False,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("imports:mapping", job_id=job.pk)
    return _index(request, form, status=400)


@scope_required(IMPORTS_READ)
def mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET: the columns, the first rows and a field per column. POST: start the import."""
    job = _job(job_id)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:detail", job_id=job.pk)
    preview = selectors.import_job_preview(job=job)
    chosen = dict(preview.mapping)
    error = ""
    if request.method == "POST":
        if not _can_upload(request):
            raise PermissionDenied(f"Your role does not include {IMPORTS_WRITE}.")
        chosen = {
            column: request.POST.get(f"target-{index}", "")
            for index, column in enumerate(preview.columns)
        }
        try:
            services.import_job_start(job_id=job.pk, mapping=chosen)
        except DomainError as refusal:
            error = refusal.message
        else:
            messages.success(request, f"Import {job.pk} of {job.original_filename} started.")
            return redirect("imports:detail", job_id=job.pk)
    columns = [
        {
            "index": index,
            "name": column,
            "target": chosen.get(column, ""),
            "samples": [row.cells[index] for row in preview.rows if index < len(row.cells)][:3],
        }
        for index, column in enumerate(preview.columns)
    ]
    context = {
        "job": job,
        "preview": preview,
        "columns": columns,
        "targets": selectors.mapping_targets(kind=job.kind),
        "error": error,
        "previous": selectors.import_job_previous(job=job),
        "can_upload": _can_upload(request),
    }
    return render(request, "imports/mapping.html", context, status=400 if error else 200)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _detail_context(job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "duration": _duration(job.duration_seconds),
        "details": [
            (name.replace("_", " ").capitalize(), count)
            for name, count in sorted(job.details.items())
        ],
    }


@scope_required(IMPORTS_READ)
def detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    if job.status == ImportStatus.DRAFT:
        return redirect("imports:mapping", job_id=job.pk)
    context = {
        **_detail_context(job),
        "row_errors": selectors.import_row_error_list(job=job)[:ERRORS_SHOWN],
        "previous": selectors.import_job_previous(job=job),
        "can_upload": _can_upload(request),
        "can_resume": job.status == ImportStatus.FAILED or selectors.import_job_stalled(job=job),
    }
    return render(request, "imports/detail.html", context)


@scope_required(IMPORTS_READ)
def status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The status card alone; it polls itself every second while the import runs."""
    job = _job(job_id)
    context = {**_detail_context(job), "can_upload": _can_upload(request)}
    response = render(request, "imports/_status.html", context)
    ended = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    if ended and job.rows_failed and request.headers.get("HX-Request"):
        # The job just ended with failed rows: reload the page once to show their table.
        response["HX-Refresh"] = "true"
    return response


@scope_required(IMPORTS_READ)
def errors(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = _job(job_id)
    response = StreamingHttpResponse(
        selectors.error_file_lines(job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@scope_required(IMPORTS_WRITE)
@require_POST
def discard(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.import_job_discard(job_id=job_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("imports:detail", job_id=job_id)
    messages.success(request, "The upload was discarded.")
    return redirect("imports:index")


@scope_required(IMPORTS_WRITE)
@require_POST
def resume(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.import_job_resume(job_id=job_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Import {job_id} resumes after its last committed row.")
    return redirect("imports:detail", job_id=job_id)
