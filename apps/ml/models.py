"""Training runs, model versions and the aliases that serving reads."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from apps.core.models import BaseModel
from apps.ml.choices import Alias, RunStatus, TriggerSource


class TrainingRun(BaseModel):
    """One attempt to train a model of some kind: a first-class row, like NetBox's jobs."""

    kind = models.CharField(max_length=64, db_index=True, help_text="Registered engine kind.")
    params = models.JSONField(default=dict, blank=True, help_text="Engine parameters.")
    dataset_hash = models.CharField(
        max_length=64, blank=True, help_text="Hash of the training data."
    )
    status = models.CharField(
        max_length=20,
        choices=RunStatus.choices,
        default=RunStatus.QUEUED,
        help_text="queued, running, succeeded, failed, not_enough_data or lost.",
    )
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text="Percent done, 0-100."
    )
    progress_message = models.CharField(
        max_length=255, blank=True, help_text="What the run is doing now."
    )
    metrics = models.JSONField(default=dict, blank=True, help_text="Evaluation metrics.")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per phase.")
    error = models.TextField(blank=True, help_text="Why it failed; user-readable first line.")
    queue = models.CharField(max_length=20, blank=True, help_text="Celery queue it was sent to.")
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task id.")
    device = models.CharField(max_length=16, blank=True, help_text="cpu or cuda.")
    worker = models.CharField(max_length=128, blank=True, help_text="Host that ran it.")
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started it (more than 1: a worker was lost)."
    )
    trigger = models.CharField(
        max_length=16, choices=TriggerSource.choices, default=TriggerSource.CLI
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from its worker."
    )
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it ended.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="run_kind_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="run_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} {self.kind} ({self.status})"


class ModelVersion(BaseModel):
    """An immutable trained artifact: written fully, hashed, then registered here."""

    kind = models.CharField(max_length=64, db_index=True, help_text="Engine kind it serves.")
    version = models.PositiveIntegerField(help_text="1, 2, 3 ... per kind.")
    artifact_path = models.CharField(max_length=500, help_text="Relative to ML_ARTIFACT_ROOT.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the artifact file.")
    size_bytes = models.BigIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    dataset_hash = models.CharField(max_length=64, blank=True)
    training_run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version"], name="modelversion_kind_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class ModelAlias(BaseModel):
    """Points a name (champion, challenger) of a kind at one version; serving reads champion."""

    kind = models.CharField(max_length=64, help_text="Engine kind.")
    alias = models.CharField(max_length=20, choices=Alias.choices, default=Alias.CHAMPION)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="aliases"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "alias"], name="modelalias_kind_alias_unique"),
        ]
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return f"{self.kind}@{self.alias} -> v{self.model_version.version}"
