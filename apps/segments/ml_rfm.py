"""ML kinds `segments.rfm` and `segments.clusters`: registration, params, trainers.

`register_kinds()` is called from `SegmentsConfig.ready()`. RFM is rule-based and cheap, but
runs as a job like every model so it is scheduled, recorded (a TrainingRun with its counts)
and visible on the Models page; its trainer writes the scores itself (they carry no model
version) and leaves a small JSON artifact with the quintile boundaries. The clusters trainer
only fits; `apps.segments.services.clustering.cluster_scores_apply` writes the champion's
clusters into CustomerScores once the platform has published it.
"""

from __future__ import annotations

import json
from typing import Any

from apps.ml.contracts import TrainingContext, TrainingOutput
from apps.ml.services import registry as ml_registry
from apps.segments.services.clustering import (
    CLUSTER_DEFAULTS,
    CLUSTERS_KIND,
    clusters_params_validate,
    clusters_train,
)
from apps.segments.services.rfm import RFM_KIND, rfm_compute

RFM_DEFAULTS: dict[str, Any] = {}


def rfm_params_validate(params: dict[str, Any]) -> dict[str, Any]:
    """RFM takes no parameters (the rules are fixed and documented)."""
    if params:
        raise ValueError(f"unknown parameter(s) {', '.join(sorted(params))}; RFM takes none")
    return {}


def rfm_train(context: TrainingContext) -> TrainingOutput:
    """Compute RFM and lifecycle for every customer; the artifact keeps the rules' numbers."""
    summary = rfm_compute(progress=context.report_progress)
    document = summary.as_dict()
    artifact = context.work_dir / "rfm.json"
    artifact.write_text(
        json.dumps({"kind": RFM_KIND, "format": 1, **document}, separators=(",", ":")),
        encoding="utf-8",
    )
    return TrainingOutput(
        artifact_path=artifact, metrics=document, dataset_hash=summary.dataset_hash
    )


def clusters_train_context(context: TrainingContext) -> TrainingOutput:
    """Fit the clusters (features, k-means and Gaussian mixtures over k, profiles, names)."""
    return clusters_train(
        params=dict(context.params),
        work_dir=context.work_dir,
        report_progress=context.report_progress,
    )


def clusters_activated(model_version_id: int) -> None:
    """A new cluster champion: write its clusters to the customers on a worker."""
    from apps.segments.tasks import apply_cluster_scores_task  # tasks import the services

    apply_cluster_scores_task.delay()


def register_kinds() -> None:
    """Register both kinds with the ML platform (idempotent)."""
    ml_registry.register(
        RFM_KIND,
        rfm_train,
        description=(
            "RFM scores (1-5 quintiles), the 11 named RFM cells and lifecycle stages of every "
            "customer, from their orders. Rule-based: writes CustomerScores directly."
        ),
        default_params=RFM_DEFAULTS,
        validate_params=rfm_params_validate,
    )
    ml_registry.register(
        CLUSTERS_KIND,
        clusters_train_context,
        description=(
            "Customer clusters: k-means and Gaussian mixture on standardised behavioural, "
            "monetary, demographic and interest features, k chosen by silhouette/BIC, "
            "with profiles and generated names."
        ),
        default_params=CLUSTER_DEFAULTS,
        validate_params=clusters_params_validate,
        on_activate=clusters_activated,
    )
