"""ML kind `segments.clv`: BG/NBD + Gamma-Gamma customer lifetime value on the ML platform.

`register_kinds()` is called from `SegmentsConfig.ready()`. The trainer only fits: its
artifact is the fitted parameters (with the diagnostics) as JSON, its metrics the parameters,
log-likelihoods and holdout diagnostics. The per-customer predictions are written into
CustomerScores by `apps.segments.services.clv.clv_scores_store` once the platform has
published the version (the kind's `on_activate` hook enqueues it; the hourly catch-up
`clv_scores_store_if_stale` repairs a lost hook), so every stored prediction names its
model version.
"""

from __future__ import annotations

import json

from apps.ml.contracts import TrainingContext, TrainingOutput
from apps.ml.services import registry as ml_registry
from apps.segments.services.clv import (
    CLV_DEFAULTS,
    CLV_KIND,
    clv_model_fit,
    clv_params_validate,
)


def clv_train(context: TrainingContext) -> TrainingOutput:
    """Fit BG/NBD and Gamma-Gamma on the revenue orders; write the parameters as JSON."""
    result = clv_model_fit(params=dict(context.params), progress=context.report_progress)
    artifact = context.work_dir / "clv.json"
    artifact.write_text(json.dumps(result.document, separators=(",", ":")), encoding="utf-8")
    return TrainingOutput(
        artifact_path=artifact, metrics=result.metrics, dataset_hash=result.dataset_hash
    )


def clv_activated(model_version_id: int) -> None:
    """A new CLV champion: store its per-customer predictions on a worker."""
    from apps.segments.tasks import store_clv_scores_task  # tasks import the services

    store_clv_scores_task.delay()


def register_kinds() -> None:
    """Register `segments.clv` with the ML platform (idempotent)."""
    ml_registry.register(
        CLV_KIND,
        clv_train,
        description=(
            "Customer lifetime value: BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend) by "
            "exact maximum likelihood on revenue orders, with holdout diagnostics; stores "
            "historical, discounted and predicted 12-month CLV per customer."
        ),
        default_params=CLV_DEFAULTS,
        validate_params=clv_params_validate,
        on_activate=clv_activated,
    )
