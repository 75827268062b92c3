"""Import jobs (a file being loaded, a first-class row like NetBox's jobs) and their failed rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.imports.choices import ImportFormat, ImportKind, ImportStatus, ImportTrigger


class ImportJob(BaseModel):
    """One uploaded file loaded as customers, products, orders, events, reviews or social posts.

    Progress is committed with every chunk of rows (in the same transaction as the rows), so
    `rows_processed` is exactly how far a crashed job got and a re-run resumes from there.
    """

    kind = models.CharField(
        max_length=16, choices=ImportKind.choices, help_text="What a row of the file is."
    )
    status = models.CharField(
        max_length=16,
        choices=ImportStatus.choices,
        default=ImportStatus.QUEUED,
        help_text="draft (awaiting column mapping), queued, running, succeeded or failed.",
    )
    file = models.FileField(
        upload_to="imports/", max_length=500, help_text="The uploaded file, in default storage."
    )
    original_filename = models.CharField(max_length=255, help_text="Name of the uploaded file.")
    file_size = models.BigIntegerField(default=0, help_text="Bytes.")
    sha256 = models.CharField(
        max_length=64, db_index=True, help_text="SHA-256 of the file: tells a re-upload apart."
    )
    format = models.CharField(
        max_length=8, choices=ImportFormat.choices, help_text="csv, json (array) or jsonl."
    )
    encoding = models.CharField(max_length=16, default="utf-8", help_text="Text encoding.")
    delimiter = models.CharField(
        max_length=2, blank=True, help_text="CSV delimiter (detected unless given)."
    )
    columns = models.JSONField(
        default=list, blank=True, help_text="Columns of the file (CSV header or JSON keys)."
    )
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Column -> field; '' ignores a column, '+' keeps it as attribute/property.",
    )
    rows_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Data rows in the file; counted when the job starts."
    )
    rows_processed = models.PositiveIntegerField(
        default=0, help_text="Rows read and committed (created + updated + skipped + failed)."
    )
    rows_created = models.PositiveIntegerField(default=0, help_text="Rows that created data.")
    rows_updated = models.PositiveIntegerField(default=0, help_text="Rows that changed data.")
    rows_skipped = models.PositiveIntegerField(
        default=0, help_text="Rows already imported before (nothing new to store)."
    )
    rows_failed = models.PositiveIntegerField(
        default=0, help_text="Rows refused; each is in the error file with its reason."
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text="Counts per kind, e.g. orders_created, customers_created for orders.",
    )
    error_file = models.FileField(
        upload_to="imports/", max_length=500, blank=True, help_text="CSV of the failed rows."
    )
    error_message = models.TextField(
        blank=True, help_text="Why the job as a whole failed, for people."
    )
    trigger = models.CharField(
        max_length=8, choices=ImportTrigger.choices, default=ImportTrigger.UI
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who uploaded it (empty for API keys and the command line).",
    )
    created_by_label = models.CharField(
        max_length=128, blank=True, help_text="API key name or 'command line' when no user."
    )
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task id.")
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started it (more than 1: it resumed)."
    )
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it ended.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="importjob_kind_status")]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.kind} {self.original_filename} ({self.status})"

    @property
    def ordered_mapping(self) -> dict[str, str]:
        """The mapping in the file's column order (PostgreSQL's jsonb keeps no key order)."""
        mapping = dict(self.mapping)
        ordered = {column: mapping.pop(column) for column in self.columns if column in mapping}
        return {**ordered, **mapping}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def progress(self) -> int:
        """Percent of rows processed, 0-100 (100 once the job has succeeded)."""
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_processed * 100 // self.rows_total)


class ImportRowError(models.Model):
    """A row that was refused: where it is in the file, why, and its original values."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(
        help_text="CSV: spreadsheet row (header = 1); JSON Lines: line; JSON array: position."
    )
    column = models.CharField(max_length=255, blank=True, help_text="Column of the file at fault.")
    field = models.CharField(max_length=64, blank=True, help_text="Field it maps to.")
    reason = models.TextField(help_text="Why the row was refused.")
    values = models.JSONField(
        null=True, blank=True, help_text="The row as read: CSV cells or the JSON record."
    )

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="importrowerror_job_row")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason[:60]}"
