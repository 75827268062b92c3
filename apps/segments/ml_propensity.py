"""ML kinds `segments.churn` and `segments.propensity`: registration, params, trainers.

`register_kinds()` is called from `SegmentsConfig.ready()`. The trainers are thin: they
validate nothing the validator has not, and hand over to
`apps.segments.services.predict.prediction_model_train`, which loads features, calls the pure
engine (`apps.segments.engine.propensity`) and writes the artifact.
"""

from __future__ import annotations

import math
from typing import Any

from apps.ml.contracts import TrainingContext, TrainingOutput, unknown_params_reject

# The registry through apps.ml.services (house rule 5), as ml_clv and ml_rfm do.
from apps.ml.services import registry as ml_registry
from apps.segments.services.predict import CHURN, PROPENSITY, PredictionKind, prediction_model_train

MAX_HORIZON_DAYS = 365
MAX_ACTIVE_DAYS = 3650
CHURN_DEFAULTS: dict[str, Any] = {
    "horizon_days": CHURN.default_horizon_days,
    "active_days": 365,
    "seed": 0,
}
PROPENSITY_DEFAULTS: dict[str, Any] = {
    "horizon_days": PROPENSITY.default_horizon_days,
    "seed": 0,
}


def _whole_number(params: dict[str, Any], name: str, *, low: int, high: int) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a whole number between {low} and {high}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")
    return int(number)


def churn_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`horizon_days` 1-365, `active_days` 1-3650 and `seed` (defaults merged in)."""
    unknown_params_reject(params, CHURN_DEFAULTS)
    cleaned = {
        "horizon_days": _whole_number(params, "horizon_days", low=1, high=MAX_HORIZON_DAYS),
        "active_days": _whole_number(params, "active_days", low=1, high=MAX_ACTIVE_DAYS),
        "seed": _whole_number(params, "seed", low=0, high=2**31 - 1),
    }
    return cleaned


def propensity_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`horizon_days` 1-365 and `seed` (defaults merged in)."""
    unknown_params_reject(params, PROPENSITY_DEFAULTS)
    return {
        "horizon_days": _whole_number(params, "horizon_days", low=1, high=MAX_HORIZON_DAYS),
        "seed": _whole_number(params, "seed", low=0, high=2**31 - 1),
    }


def _train(kind: PredictionKind, context: TrainingContext) -> TrainingOutput:
    params = context.params
    return prediction_model_train(
        kind=kind,
        horizon_days=int(params["horizon_days"]),
        active_days=int(params.get("active_days", CHURN_DEFAULTS["active_days"])),
        seed=int(params["seed"]),
        work_dir=context.work_dir,
        report_progress=context.report_progress,
    )


def churn_train(context: TrainingContext) -> TrainingOutput:
    """Trainer of `segments.churn`."""
    return _train(CHURN, context)


def propensity_train(context: TrainingContext) -> TrainingOutput:
    """Trainer of `segments.propensity`."""
    return _train(PROPENSITY, context)


def predictions_activated(model_version_id: int) -> None:
    """A new churn or propensity champion: re-score the customers it has not scored."""
    from apps.segments.tasks import refresh_prediction_scores_task  # tasks import the services

    refresh_prediction_scores_task.delay(only_stale=True)


def register_kinds() -> None:
    """Register both kinds with the ML platform (idempotent); called from `ready()`."""
    ml_registry.register(
        CHURN.ml_kind,
        churn_train,
        description=CHURN.description,
        default_params=CHURN_DEFAULTS,
        validate_params=churn_validate,
        on_activate=predictions_activated,
    )
    ml_registry.register(
        PROPENSITY.ml_kind,
        propensity_train,
        description=PROPENSITY.description,
        default_params=PROPENSITY_DEFAULTS,
        validate_params=propensity_validate,
        on_activate=predictions_activated,
    )
