"""Shapes of the data quality API: reports, cleaning runs and their changes, merges."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.quality.choices import Entity
from apps.quality.models import CleaningChange, CleaningRun, QualityReport


class CleaningChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CleaningChange
        fields = ["entity", "rule", "action", "field", "rows_affected", "examples", "parameters"]
        read_only_fields = fields
        extra_kwargs = {
            "entity": {"help_text": "customers, products or orders."},
            "rule": {"help_text": "The rule applied, e.g. phone_e164, impute_group_mode."},
            "action": {"help_text": "updated, imputed, flagged, merged or reported."},
            "field": {"help_text": "The field written (or read, for reported findings)."},
            "rows_affected": {"help_text": "Rows changed; rows found for reported findings."},
            "examples": {"help_text": "Up to 5 rows as {id, before, after} (id: external id/SKU)."},
            "parameters": {"help_text": "What the rule used: medians, modes, bounds, groups."},
        }


class CleaningRunSerializer(serializers.ModelSerializer):
    """A cleaning run with everything it changed."""

    changes = CleaningChangeSerializer(many=True, read_only=True)
    seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Run time; null until it finished."
    )

    class Meta:
        model = CleaningRun
        fields = [
            "id",
            "entities",
            "trigger",
            "status",
            "requested_label",
            "created_at",
            "started_at",
            "finished_at",
            "seconds",
            "totals",
            "error",
            "changes",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Run id."},
            "entities": {"help_text": "Entities cleaned, in pipeline order."},
            "trigger": {"help_text": "import, ingest, manual or schedule."},
            "status": {"help_text": "queued, running, succeeded or failed."},
            "requested_label": {"help_text": "Who or what asked for it (key name, cli ...)."},
            "created_at": {"help_text": "When it was queued."},
            "started_at": {"help_text": "When it started."},
            "finished_at": {"help_text": "When it finished."},
            "totals": {"help_text": "Per entity: rows, rows_changed, changes, merged, seconds."},
            "error": {"help_text": "Why it failed; empty when it succeeded."},
        }


class CleaningRunCreateSerializer(serializers.Serializer):
    entities = serializers.ListField(
        child=serializers.ChoiceField(choices=Entity.choices),
        required=False,
        allow_empty=True,
        help_text="Entities to clean; omitted or empty means all of them.",
    )


class CleaningRunListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["queued", "running", "succeeded", "failed"],
        required=False,
        help_text="Only runs in this status.",
    )
    entity = serializers.ChoiceField(
        choices=Entity.choices, required=False, help_text="Only runs that cleaned this entity."
    )


class QualityReportSerializer(serializers.ModelSerializer):
    """The latest quality snapshot of one entity."""

    run_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The cleaning run that computed it."
    )

    class Meta:
        model = QualityReport
        fields = ["entity", "computed_at", "rows", "run_id", "metrics"]
        read_only_fields = fields
        extra_kwargs = {
            "entity": {"help_text": "customers, products, orders, events, reviews or social."},
            "computed_at": {"help_text": "When the snapshot was computed."},
            "rows": {"help_text": "Rows of the entity (events: the last 30 days)."},
            "metrics": {
                "help_text": "completeness [{field, filled, percent}], duplicates, invalid "
                "[{field, reason, count, examples}], freshness (events: per source), imputed, "
                "flags (orders), bands, latest. See docs/data_quality.md."
            },
        }


class DuplicateGroupSerializer(serializers.Serializer):
    external_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Members, the suggested survivor first."
    )
    keys = serializers.DictField(
        help_text="Shared normalised values: {email: [...], phone: [...]}."
    )
    conflicts = serializers.ListField(
        child=serializers.CharField(), help_text="Identity fields whose values disagree."
    )
    exact = serializers.BooleanField(
        help_text="True when nothing disagrees (the pipeline merges these on its own)."
    )


class MergeCreateSerializer(serializers.Serializer):
    survivor_external_id = serializers.CharField(help_text="The profile to keep.")
    merged_external_ids = serializers.ListField(
        child=serializers.CharField(),
        allow_empty=False,
        help_text="Profiles to merge into it; all merge or none does.",
    )


class MergeSerializer(serializers.Serializer):
    """A merge of one profile into another (read from customers' CustomerMerge rows)."""

    id = serializers.IntegerField(help_text="Merge id; split it back with POST .../split.")
    survivor_external_id = serializers.CharField(help_text="The profile kept.")
    merged_external_id = serializers.CharField(help_text="The profile merged into it.")
    status = serializers.CharField(help_text="merged or split.")
    reason = serializers.CharField(help_text="manual, duplicate_exact (automatic) ...")
    moved = serializers.SerializerMethodField(help_text="Rows moved per kind.")
    created_at = serializers.DateTimeField(help_text="When it was merged.")
    split_at = serializers.DateTimeField(allow_null=True, help_text="When it was split back.")

    def get_moved(self, merge: Any) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in merge.moved.items() if isinstance(ids, list)}
