"""Reads of the ML platform: runs, versions, the champion of each kind, artifact files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from apps.core.errors import NotFound
from apps.ml import registry
from apps.ml.choices import Alias, RunStatus
from apps.ml.contracts import KindSpec
from apps.ml.engine.fingerprint import file_sha256
from apps.ml.models import ModelAlias, ModelVersion, TrainingRun

ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


def artifact_root() -> Path:
    """Folder that holds every published artifact (`ML_ARTIFACT_ROOT`)."""
    return Path(settings.ML_ARTIFACT_ROOT)


def artifact_path(model_version: ModelVersion) -> Path:
    """Absolute path of a version's artifact file (complete and hashed when it was registered)."""
    return artifact_root() / model_version.artifact_path


def artifact_intact(model_version: ModelVersion) -> bool:
    """Whether the artifact file still hashes to the content hash recorded at publication
    (read in 1 MiB chunks). FileNotFoundError when the file is missing."""
    return file_sha256(artifact_path(model_version))[0] == model_version.content_hash


def training_run_list(
    *, kind: str | None = None, status: str | None = None
) -> QuerySet[TrainingRun]:
    """Runs, newest first, with who started them and the version they produced."""
    runs = TrainingRun.objects.select_related("triggered_by", "model_version", "rerun_of")
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-id")


def training_run_get(*, run_id: int) -> TrainingRun:
    """One run, or NotFound."""
    run = training_run_list().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Training run {run_id} does not exist")
    return run


def training_run_any_active() -> bool:
    """Whether some run is queued or running (the UI keeps polling while this holds)."""
    return TrainingRun.objects.filter(status__in=ACTIVE_STATUSES).exists()


def model_version_list(*, kind: str | None = None) -> QuerySet[ModelVersion]:
    """Versions by kind, newest first, each annotated with `is_champion`."""
    champion = ModelAlias.objects.filter(model_version=OuterRef("pk"), alias=Alias.CHAMPION)
    versions = ModelVersion.objects.select_related("training_run").annotate(
        is_champion=Exists(champion)
    )
    if kind:
        versions = versions.filter(kind=kind)
    return versions.order_by("kind", "-version")


def model_version_get(*, model_version_id: int) -> ModelVersion:
    """One version (with `is_champion`), or NotFound."""
    version = model_version_list().filter(pk=model_version_id).first()
    if version is None:
        raise NotFound(f"Model version {model_version_id} does not exist")
    return version


def champion_get(kind: str) -> ModelVersion | None:
    """The version serving `kind` now (the `champion` alias), or None before any training."""
    alias = (
        ModelAlias.objects.select_related("model_version")
        .filter(kind=kind, alias=Alias.CHAMPION)
        .first()
    )
    return alias.model_version if alias else None


def champion_list() -> list[ModelAlias]:
    """The champion alias of every kind that has one, by kind."""
    return list(
        ModelAlias.objects.select_related("model_version", "model_version__training_run")
        .filter(alias=Alias.CHAMPION)
        .order_by("kind")
    )


def kind_list() -> list[KindSpec]:
    """Every registered kind, sorted by name."""
    return registry.kinds()
