"""Cleaning runs, the changes each one recorded, and quality report snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import BaseModel
from apps.quality.choices import ChangeAction, CleaningRule, CleaningTrigger, Entity, RunStatus


class CleaningRun(BaseModel):
    """One pass of the cleaning pipeline over some entities.

    A row exists before any work starts (queued), so the task that executes it can be
    delivered twice and still run once: it claims the row (queued -> running) first.
    """

    entities = models.JSONField(
        default=list, help_text='Entities cleaned, e.g. ["customers", "orders"].'
    )
    trigger = models.CharField(
        max_length=16, choices=CleaningTrigger.choices, help_text="Why the run started."
    )
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="User who started it by hand; empty for keys, commands and automatic runs.",
    )
    requested_label = models.CharField(
        max_length=200, blank=True, help_text="Who or what asked: ui, api key name, cli, import ..."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    totals = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per entity: rows scanned, rows changed, rules applied, seconds.",
    )
    error = models.TextField(blank=True, help_text="Why it failed; empty when it succeeded.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Cleaning run {self.pk} ({', '.join(self.entities)}) {self.status}"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CleaningChange(models.Model):
    """What one rule did in one run: how many rows, a few before -> after examples, parameters.

    Rules that change nothing are not recorded; rules that only find something (duplicates
    offered for merge) are recorded with action "reported".
    """

    run = models.ForeignKey(CleaningRun, on_delete=models.CASCADE, related_name="changes")
    entity = models.CharField(max_length=16, choices=Entity.choices)
    rule = models.CharField(max_length=40, choices=CleaningRule.choices)
    action = models.CharField(max_length=16, choices=ChangeAction.choices)
    field = models.CharField(max_length=64, blank=True, help_text="Field the rule wrote or read.")
    rows_affected = models.PositiveIntegerField(help_text="Rows changed (or found, if reported).")
    examples = models.JSONField(
        default=list, blank=True, help_text="A few rows: {id, before, after}."
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="What the rule used: the median, the group key ..."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run_id", "id"]
        indexes = [models.Index(fields=["entity", "rule"], name="cleaningchange_entity_rule")]

    def __str__(self) -> str:
        return f"{self.entity}.{self.field} {self.rule}: {self.rows_affected} rows"


class QualityReport(models.Model):
    """A snapshot of the quality metrics of one entity (completeness, duplicates, invalid
    values, freshness), computed after each cleaning run so pages and the API read it cheaply."""

    entity = models.CharField(max_length=16, choices=Entity.choices)
    computed_at = models.DateTimeField(default=timezone.now)
    run = models.ForeignKey(
        CleaningRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        help_text="The run that computed it; empty when computed on its own.",
    )
    rows = models.PositiveIntegerField(help_text="Rows of the entity when computed.")
    metrics = models.JSONField(
        default=dict, help_text="completeness, duplicates, invalid, freshness, ... (see docs)."
    )

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [
            models.Index(fields=["entity", "-computed_at"], name="qualityreport_entity_time")
        ]

    def __str__(self) -> str:
        return f"{self.entity} quality at {self.computed_at:%Y-%m-%d %H:%M}"
