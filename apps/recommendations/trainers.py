"""ML kind `recommendations.hybrid`: registration, params, trainer.

`register_kinds()` is called from `RecommendationsConfig.ready()`. The trainer is thin: it
hands the validated params to `apps.recommendations.services.training.recommender_model_train`,
which loads the data through the owning apps' selectors, calls the engine's `fit_champion`
(every algorithm evaluated within the time budget, the best one or blend kept) and writes
the `RecommenderModel` artifact (`recommender.npz`).
"""

from __future__ import annotations

from typing import Any

from apps.ml.contracts import (
    TrainingContext,
    TrainingOutput,
    number_param,
    unknown_params_reject,
)
from apps.ml.services import registry as ml_registry
from apps.recommendations.services.answers import answers_invalidate
from apps.recommendations.services.config import KIND
from apps.recommendations.services.training import recommender_model_train

DESCRIPTION = (
    "Hybrid product recommender: collaborative filtering, item-item, content and popularity "
    "models evaluated on a time split; the best (or blend) serves, with per-segment cold start."
)
DEFAULTS: dict[str, Any] = {"k": 10, "time_budget_s": 120, "half_life_days": 60, "seed": 0}
LIMITS: dict[str, tuple[float, float, bool]] = {
    # name: (low, high, whole number)
    "k": (1, 100, True),
    "time_budget_s": (5, 3600, False),
    "half_life_days": (1, 3650, False),
    "seed": (0, 2**31 - 1, True),
}


def hybrid_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`k` 1-100 (the cut-off of the evaluation), `time_budget_s` 5-3600 (for trying
    algorithms), `half_life_days` 1-3650 (decay of history and segment popularity), `seed`."""
    unknown_params_reject(params, DEFAULTS)
    return {
        name: number_param(params, name, low=low, high=high, integer=whole)
        for name, (low, high, whole) in LIMITS.items()
    }


def hybrid_train(context: TrainingContext) -> TrainingOutput:
    """Trainer of `recommendations.hybrid`."""
    return recommender_model_train(
        params=dict(context.params),
        work_dir=context.work_dir,
        report_progress=context.report_progress,
    )


def recommender_activated(model_version_id: int) -> None:
    """A new champion: answers kept for the old one are stale; precompute its candidates
    per customer on an ML worker."""
    from apps.recommendations.tasks import precompute_candidates_task  # tasks import services

    answers_invalidate()
    precompute_candidates_task.apply_async(queue="ml_cpu")


def register_kinds() -> None:
    """Register the recommender with the ML platform (idempotent); called from `ready()`."""
    ml_registry.register(
        KIND,
        hybrid_train,
        description=DESCRIPTION,
        gpu_capable=True,
        default_params=DEFAULTS,
        validate_params=hybrid_validate,
        on_activate=recommender_activated,
    )
