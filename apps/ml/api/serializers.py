"""Shapes of the ML API: training runs, model versions, registered kinds."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.ml.choices import RunStatus
from apps.ml.models import ModelVersion, TrainingRun


class ModelVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Model version id.")
    version = serializers.IntegerField(help_text="Version number within its kind (1, 2, 3 ...).")


class TrainingRunSerializer(serializers.ModelSerializer):
    """A training run with its live status, progress, metrics and error."""

    model_version = serializers.SerializerMethodField(
        help_text="The version this run published; null until it succeeds."
    )
    error = serializers.SerializerMethodField(
        help_text="Why it failed, in one readable paragraph; the traceback stays in the admin."
    )

    def get_error(self, run: TrainingRun) -> str:
        # Partners and analysts get the headline, not server internals (paths, code lines).
        return run.error.split("\n\n", 1)[0]

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "progress",
            "progress_message",
            "metrics",
            "error",
            "dataset_hash",
            "timings",
            "queue",
            "device",
            "worker",
            "attempts",
            "trigger",
            "rerun_of",
            "model_version",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Run id."},
            "kind": {
                "help_text": "Registered kind that was trained, e.g. catalog.product_popularity."
            },
            "params": {"help_text": "Parameters after validation, defaults filled in."},
            "status": {"help_text": "queued, running, succeeded, failed, not_enough_data or lost."},
            "progress": {"help_text": "0-100; 100 once the model is published."},
            "progress_message": {"help_text": "What the trainer is doing now."},
            "metrics": {"help_text": "Evaluation metrics reported by the trainer."},
            "dataset_hash": {"help_text": "SHA-256 of the training data."},
            "timings": {"help_text": "Seconds queued, training and in total."},
            "queue": {"help_text": "Celery queue it was sent to (ml_cpu or ml_gpu)."},
            "device": {"help_text": "cpu or cuda."},
            "worker": {"help_text": "Worker host (and process) that ran it."},
            "attempts": {
                "help_text": "How many workers started it (more than 1 after a lost worker)."
            },
            "trigger": {"help_text": "Where it was started: admin, api, cli, ui, schedule, demo."},
            "rerun_of": {"help_text": "Id of the run this one repeats, if any."},
            "created_at": {"help_text": "When it was queued."},
            "started_at": {"help_text": "When a worker started it."},
            "heartbeat_at": {"help_text": "Last sign of life from its worker."},
            "finished_at": {"help_text": "When it ended."},
        }

    @extend_schema_field(ModelVersionRefSerializer(allow_null=True))
    def get_model_version(self, run: TrainingRun) -> dict[str, int] | None:
        version = getattr(run, "model_version", None)
        return {"id": version.pk, "version": version.version} if version else None


class TrainingRunCreateSerializer(serializers.Serializer):
    """Start a training run of a registered kind."""

    kind = serializers.CharField(max_length=64, help_text="A kind listed by GET /api/v1/ml/kinds.")
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="Kind parameters; omitted ones take the kind's defaults.",
    )


class TrainingRunListQuerySerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, help_text="Only runs of this kind.")
    status = serializers.ChoiceField(
        choices=RunStatus.choices, required=False, help_text="Only runs in this status."
    )


class ModelVersionSerializer(serializers.ModelSerializer):
    """A published model version; `is_champion` marks the one serving its kind."""

    is_champion = serializers.BooleanField(read_only=True, help_text="Serving its kind now.")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "kind",
            "version",
            "is_champion",
            "content_hash",
            "size_bytes",
            "metrics",
            "params",
            "dataset_hash",
            "training_run",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Model version id."},
            "kind": {"help_text": "Kind of model."},
            "version": {"help_text": "1, 2, 3 ... per kind."},
            "content_hash": {"help_text": "SHA-256 of the artifact file."},
            "size_bytes": {"help_text": "Artifact size in bytes."},
            "metrics": {"help_text": "Metrics of the run that produced it."},
            "params": {"help_text": "Parameters it was trained with."},
            "dataset_hash": {"help_text": "SHA-256 of the training data."},
            "training_run": {"help_text": "Id of the run that produced it."},
            "created_at": {"help_text": "When it was published."},
        }


class ModelVersionListQuerySerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, help_text="Only versions of this kind.")


class KindSerializer(serializers.Serializer):
    """A kind of model that can be trained."""

    kind = serializers.CharField(help_text="Name to pass as `kind` when starting a run.")
    description = serializers.CharField(help_text="What it trains.")
    gpu_capable = serializers.BooleanField(help_text="Runs on a GPU host when one is configured.")
    default_params = serializers.DictField(help_text="Parameters and their defaults.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "kind": instance.kind,
            "description": instance.description,
            "gpu_capable": instance.gpu_capable,
            "default_params": dict(instance.default_params),
        }
