"""Shapes of the imports API: import jobs and the upload that starts one."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.imports.choices import ImportFormat, ImportKind, ImportStatus
from apps.imports.models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    """An import job with its live progress, counts and where its failed rows are."""

    progress = serializers.IntegerField(
        read_only=True, help_text="Percent of the rows processed, 0-100 (100 once done)."
    )
    file_name = serializers.CharField(
        source="original_filename", read_only=True, help_text="Name of the uploaded file."
    )
    mapping = serializers.DictField(
        source="ordered_mapping",
        read_only=True,
        help_text="Column -> field used, in the file's column order; '' leaves a column out, "
        "'+' keeps it as a customer attribute / event property.",
    )
    errors_url = serializers.SerializerMethodField(
        help_text="URL of the error file (CSV of the failed rows); null when no row failed."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "file_name",
            "file_size",
            "sha256",
            "format",
            "encoding",
            "delimiter",
            "columns",
            "mapping",
            "rows_total",
            "rows_processed",
            "rows_created",
            "rows_updated",
            "rows_skipped",
            "rows_failed",
            "details",
            "error_message",
            "errors_url",
            "trigger",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Import id."},
            "kind": {"help_text": "customers, products, orders, events, reviews or social."},
            "status": {
                "help_text": "queued, running, succeeded or failed (draft: awaiting mapping)."
            },
            "file_size": {"help_text": "Bytes."},
            "sha256": {"help_text": "SHA-256 of the file."},
            "format": {"help_text": "csv, json (an array of objects) or jsonl."},
            "encoding": {"help_text": "Text encoding the file was read with."},
            "delimiter": {"help_text": "CSV delimiter that was used (detected unless given)."},
            "columns": {"help_text": "Columns of the file (CSV header or JSON keys)."},
            "rows_total": {"help_text": "Data rows in the file; null until counted."},
            "rows_processed": {"help_text": "Rows read and committed so far."},
            "rows_created": {"help_text": "Rows that created data."},
            "rows_updated": {"help_text": "Rows that changed existing data."},
            "rows_skipped": {"help_text": "Rows already imported before: nothing new stored."},
            "rows_failed": {"help_text": "Rows refused, each in the error file with its reason."},
            "details": {
                "help_text": "Counts per kind, e.g. orders_created, orders_skipped, "
                "customers_created (bare profiles for unknown customer ids)."
            },
            "error_message": {"help_text": "Why the import as a whole failed, if it did."},
            "trigger": {"help_text": "Where it was started: ui, api, admin or cli."},
            "attempts": {"help_text": "Times a worker started it (more than 1: it resumed)."},
            "created_at": {"help_text": "When the file was uploaded."},
            "started_at": {"help_text": "When a worker started it."},
            "finished_at": {"help_text": "When it ended."},
        }

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_errors_url(self, job: ImportJob) -> str | None:
        if not job.rows_failed:
            return None
        path = reverse("api:imports-errors", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportCreateSerializer(serializers.Serializer):
    """Upload a file (multipart/form-data) and start importing it."""

    kind = serializers.ChoiceField(
        choices=ImportKind.choices, help_text="What a row of the file is."
    )
    file = serializers.FileField(
        help_text="CSV (delimiter detected, UTF-8 with or without BOM), a JSON array of objects, "
        "or JSON Lines."
    )
    mapping = serializers.JSONField(
        required=False,
        binary=True,
        help_text='Optional JSON object {"column": "field"} over the suggested mapping; "" or '
        '"-" leaves a column out, "+" keeps it as attribute/property.',
    )
    format = serializers.ChoiceField(
        choices=ImportFormat.choices,
        required=False,
        default="",
        help_text="csv, json or jsonl; detected from the file name and content when left out.",
    )
    encoding = serializers.ChoiceField(
        choices=["utf-8", "cp1252", "latin-1"],
        required=False,
        default="utf-8",
        help_text="Text encoding of a CSV file (default utf-8).",
    )
    delimiter = serializers.ChoiceField(
        choices=[",", ";", "\t", "|"],
        required=False,
        default="",
        help_text="CSV delimiter; detected when left out.",
    )

    def validate_mapping(self, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError('must be a JSON object {"column": "field"}')
        return value


class ImportListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ImportKind.choices, required=False, help_text="Only imports of this kind."
    )
    status = serializers.ChoiceField(
        choices=ImportStatus.choices, required=False, help_text="Only imports in this status."
    )
