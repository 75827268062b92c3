"""ML kind `recommendations.hybrid`: registration, params, trainer.

`register_kinds()` is called from `RecommendationsConfig.ready()`. The trainer is thin: it
hands the validated params to `apps.recommendations.services.training.recommender_model_train`,
which loads the data through the owning apps' selectors, calls the engine's `fit_champion`
(every algorithm evaluated within the time budget, the best one or blend kept) and writes
the `RecommenderModel` artifact (`recommender.npz`).
"""

from __future__ import annotations

import math
from typing import Any

from apps.ml.contracts import TrainingContext, TrainingOutput
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


def _number(params: dict[str, Any], name: str) -> float | int:
    low, high, whole = LIMITS[name]
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    if whole:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def hybrid_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`k` 1-100 (the cut-off of the evaluation), `time_budget_s` 5-3600 (for trying
    algorithms), `half_life_days` 1-3650 (decay of history and segment popularity), `seed`."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}"
        )
    return {name: _number(params, name) for name in DEFAULTS}


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
