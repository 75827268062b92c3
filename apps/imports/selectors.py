"""Reads of import jobs: lists, one job, the mapping preview and the error file's lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import NotFound
from apps.imports.choices import ACTIVE_STATUSES, ImportKind, ImportStatus
from apps.imports.engine.fields import EXTRA_TARGETS, KIND_FIELDS, FieldSpec, required_fields
from apps.imports.engine.mapping import EXTRA, IGNORE
from apps.imports.engine.readers import FileLayout, FileProblem, preview_records
from apps.imports.models import ImportJob, ImportRowError

# Columns of the error file before the row's original values.
ERROR_FILE_COLUMNS = ("row_number", "column", "field", "reason")
PREVIEW_ROWS = 10
# A running job whose progress has not moved for this long lost its worker: it may be resumed.
# Chunks commit every few seconds, so a live job never looks stalled.
STALLED_AFTER_SECONDS = 15 * 60


@dataclass(frozen=True)
class PreviewRow:
    row_number: int
    cells: tuple[str, ...]
    problem: str = ""


@dataclass(frozen=True)
class ImportPreview:
    """What the column-mapping page shows: columns, the first rows, the fields to map to."""

    columns: tuple[str, ...]
    rows: tuple[PreviewRow, ...]
    mapping: dict[str, str]
    fields: tuple[FieldSpec, ...]
    extras_target: str
    problem: str = ""

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields if spec.required)


def import_job_list(*, kind: str = "", status: str = "") -> QuerySet[ImportJob]:
    """Import jobs, newest first."""
    queryset = ImportJob.objects.select_related("created_by")
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def import_job_get(*, job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"import {job_id} does not exist", code="import_not_found")
    return job


def import_job_any_active() -> bool:
    return ImportJob.objects.filter(status__in=ACTIVE_STATUSES).exists()


def import_job_stalled(*, job: ImportJob) -> bool:
    """Running, but no progress for STALLED_AFTER_SECONDS: its worker is gone."""
    limit = timezone.now() - timedelta(seconds=STALLED_AFTER_SECONDS)
    return job.status == ImportStatus.RUNNING and job.updated_at < limit


def import_job_previous(*, job: ImportJob) -> ImportJob | None:
    """An earlier import of the very same file (same SHA-256) as the same kind, if any."""
    return (
        ImportJob.objects.filter(sha256=job.sha256, kind=job.kind, created_at__lt=job.created_at)
        .exclude(status=ImportStatus.DRAFT)
        .exclude(pk=job.pk)
        .order_by("-created_at")
        .first()
    )


def import_row_error_list(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row_number", "id")


def job_layout(job: ImportJob) -> FileLayout:
    return FileLayout(
        format=job.format,
        columns=tuple(job.columns),
        delimiter=job.delimiter or ",",
        encoding=job.encoding or "utf-8",
    )


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def import_job_preview(*, job: ImportJob, limit: int = PREVIEW_ROWS) -> ImportPreview:
    """The first rows of the stored file by column, with the job's (suggested) mapping."""
    rows: list[PreviewRow] = []
    problem = ""
    try:
        with default_storage.open(job.file.name or "", "rb") as stream:
            records = preview_records(stream, layout=job_layout(job), limit=limit)
    except (FileProblem, FileNotFoundError) as error:
        records, problem = [], str(error)
    for record in records:
        if record.cells is not None:
            cells = tuple(record.cells)
        else:
            cells = tuple(_display(record.values.get(column)) for column in job.columns)
        rows.append(PreviewRow(row_number=record.row_number, cells=cells, problem=record.problem))
    return ImportPreview(
        columns=tuple(job.columns),
        rows=tuple(rows),
        mapping=dict(job.mapping),
        fields=KIND_FIELDS[job.kind],
        extras_target=EXTRA_TARGETS.get(job.kind, ""),
        problem=problem,
    )


def mapping_targets(*, kind: str) -> list[tuple[str, str]]:
    """(value, label) choices for a column: every field, keep as extra (when kept), ignore."""
    choices = [
        (spec.name, spec.name + (" *" if spec.required else "")) for spec in KIND_FIELDS[kind]
    ]
    if kind in EXTRA_TARGETS:
        choices.append((EXTRA, f"keep in {EXTRA_TARGETS[kind]}"))
    choices.append((IGNORE, "do not import"))
    return choices


def kind_requirements() -> list[tuple[str, tuple[str, ...]]]:
    """(kind label, required fields) for every kind, for help texts."""
    return [(label, required_fields(kind)) for kind, label in ImportKind.choices]


def error_file_lines(job: ImportJob) -> Iterator[str]:
    """The error file, one CSV line at a time: row_number, column, field, reason, then the
    row's original values (CSV: under the file's own column names, so a fixed error file can be
    uploaded again; JSON: the record as JSON text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    tabular = job.format == "csv"
    yield line([*ERROR_FILE_COLUMNS, *(job.columns if tabular else ["record"])])
    for error in import_row_error_list(job=job).iterator(chunk_size=2000):
        meta = [error.row_number, error.column, error.field, error.reason]
        if tabular:
            values = error.values if isinstance(error.values, list) else []
            yield line([*meta, *values])
        else:
            record = json.dumps(error.values, ensure_ascii=False) if error.values else ""
            yield line([*meta, record])
