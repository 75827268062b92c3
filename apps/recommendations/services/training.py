"""Training the recommender: the trainer's body, `recommend train`, and retraining.

* `recommender_model_train` (called by the `recommendations.hybrid` trainer on a worker):
  loads interactions, the catalogue and customer features through the owning apps'
  selectors, asks the engine's `fit_champion` for the best algorithm or blend, adds the
  per-segment popular items cold-start visitors get, and writes `recommender.npz`; the run's
  metrics are the engine's evaluation report (every algorithm's metrics, `best`) plus counts;
* `recommender_train` (the `recommend train` command): starts a run, waits, makes sure its
  version is the champion and precomputes the candidates; returns a summary;
* `recommender_retrain_start` / `recommender_retrain_if_needed`: the schedules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.utils import timezone

from apps.core.errors import DomainError, NotEnoughData
from apps.ml import selectors as ml_selectors
from apps.ml import services as ml_services
from apps.ml.contracts import TrainingOutput, arrays_fingerprint
from apps.recommendations.contracts import RecommenderOverview
from apps.recommendations.engine.data import InteractionLog, UserFeatures
from apps.recommendations.services import data
from apps.recommendations.services.cache import (
    CacheUnavailable,
    candidates_precompute,
    precompute_state_or_none,
)
from apps.recommendations.services.config import KIND, setting

logger = logging.getLogger(__name__)

MIN_INTERACTIONS = 50
MIN_USERS = 20  # as the engine needs to learn and validate
MIN_ITEMS = 2
COHORT_TOP = 50
COHORT_MIN_USERS = 5
ACTIVE_STATUSES = ("queued", "running")
FINISHED_STATUSES = ("succeeded", "failed", "not_enough_data", "lost")
ARTIFACT_NAME = "recommender.npz"

Progress = Callable[[float, str], None]


def _no_progress(percent: float, message: str = "") -> None:
    """Progress sink for callers that show none."""


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat()


def cohort_popularity(
    log: InteractionLog, users: UserFeatures, *, half_life_days: float, top: int = COHORT_TOP
) -> dict[str, dict[str, list[str]]]:
    """Feature -> value -> SKUs most interacted with by users of that value (time-decayed).

    What a customer with no history of their own is shown ("Popular in your segment"): only
    values shared by at least COHORT_MIN_USERS users of the log get a list.
    """
    if log.user_ids.size == 0:
        return {}
    weights = log.weights.astype(np.float64) * data.decay(
        float(log.timestamps.max()) - log.timestamps, half_life_days
    )
    item_names, item_codes = np.unique(log.item_ids, return_inverse=True)
    position = {str(user): index for index, user in enumerate(users.user_ids.tolist())}
    rows_user = np.asarray([position.get(str(user), -1) for user in log.user_ids.tolist()])
    cohorts: dict[str, dict[str, list[str]]] = {}
    for name in data.USER_FEATURES:
        column = users.features.get(name)
        if column is None:
            continue
        values = np.where(rows_user >= 0, column[np.maximum(rows_user, 0)], "")
        lists: dict[str, list[str]] = {}
        for value in np.unique(values):
            if not value:
                continue
            mask = values == value
            if np.unique(log.user_ids[mask]).size < COHORT_MIN_USERS:
                continue
            totals = np.bincount(item_codes[mask], weights=weights[mask], minlength=item_names.size)
            order = np.argsort(-totals, kind="stable")[:top]
            lists[str(value)] = [str(item_names[i]) for i in order if totals[i] > 0]
        if lists:
            cohorts[name] = lists
    return cohorts


def recommender_model_train(
    *,
    params: dict[str, Any],
    work_dir: Any,
    report_progress: Progress = _no_progress,
) -> TrainingOutput:
    """Train the recommender on the database and write its artifact into `work_dir`.

    Raises NotEnoughData (the run ends `not_enough_data` with this message) when there are
    too few interactions, customers or products to learn from.
    """
    report_progress(1, "Loading interactions")
    loaded = data.interaction_log_load(
        progress=lambda percent, message: report_progress(1 + percent, message)
    )
    log = loaded.log
    users = np.unique(log.user_ids)
    items = np.unique(log.item_ids)
    if log.user_ids.size < MIN_INTERACTIONS or users.size < MIN_USERS or items.size < MIN_ITEMS:
        raise NotEnoughData(
            f"Recommendations need at least {MIN_INTERACTIONS} interactions (purchases, "
            f"add-to-carts, product views) by at least {MIN_USERS} customers or visitors with "
            f"at least {MIN_ITEMS} products; found {log.user_ids.size} interactions by "
            f"{users.size} with {items.size} products. Send product events (Product Viewed, "
            "Product Added, Order Completed) or import orders, then train again."
        )
    # Imported here: the engine pulls in heavier libraries only a training run needs.
    from apps.recommendations.engine.train import NotEnoughInteractions, fit_champion

    report_progress(10, "Loading the catalogue and customer features")
    item_features = data.item_features_load()
    user_features = data.user_features_load(users)
    half_life = float(params["half_life_days"])

    def engine_progress(percent: float, message: str) -> None:
        report_progress(12 + 0.8 * max(0.0, min(100.0, float(percent))), message)

    try:
        result = fit_champion(
            log,
            items=item_features,
            users=user_features,
            k=int(params["k"]),
            time_budget_s=float(params["time_budget_s"]),
            progress=engine_progress,
            seed=int(params["seed"]),
        )
    except NotEnoughInteractions as error:
        raise NotEnoughData(
            f"Recommendations: {error}. Send product events (Product Viewed, Product Added, "
            "Order Completed) or import orders, then train again."
        ) from None
    report_progress(93, "Ranking popular items per segment")
    model = result.model
    model.metadata = {
        **(model.metadata or {}),
        "half_life_days": half_life,
        "cohorts": cohort_popularity(log, user_features, half_life_days=half_life),
        "published_by": KIND,
    }
    report_progress(96, "Writing the model")
    artifact = work_dir / ARTIFACT_NAME
    model.save(artifact)
    metrics = {
        **result.report,
        "data": {
            "interactions": int(log.user_ids.size),
            "purchases": loaded.purchases,
            "add_to_carts": loaded.carts,
            "views": loaded.views,
            "clicks": loaded.clicks,
            "users": int(users.size),
            "items_with_interactions": int(items.size),
            "catalogue": int(item_features.item_ids.size),
            "data_start": _iso(float(log.timestamps.min())),
            "data_end": _iso(float(log.timestamps.max())),
        },
    }
    dataset_hash = arrays_fingerprint(log.user_ids, log.item_ids, log.timestamps, log.weights)
    return TrainingOutput(artifact_path=artifact, metrics=metrics, dataset_hash=dataset_hash)


# --- starting runs ----------------------------------------------------------------------------


def _active_run() -> Any:
    return ml_selectors.training_run_list(kind=KIND).filter(status__in=ACTIVE_STATUSES).first()


def _version_summary(version: Any) -> dict[str, Any] | None:
    if version is None:
        return None
    champion = ml_selectors.champion_get(KIND)
    return {
        "id": version.pk,
        "version": version.version,
        "content_hash": version.content_hash,
        "is_champion": champion is not None and champion.pk == version.pk,
    }


def recommender_train(
    *,
    wait: bool = True,
    params: dict[str, Any] | None = None,
    timeout: float | None = None,
    trigger: str = "cli",
    triggered_by: Any = None,
    progress: Progress = _no_progress,
    poll_seconds: float = 0.5,
) -> dict[str, Any]:
    """Train the recommender on the database; with `wait`, follow the run to its end. A run
    that succeeded (waited for, or already done in this process: no broker) has its version
    made the champion and its candidates precomputed.

    Returns a JSON-able summary: run id, status, error, model version, the evaluation report
    (`algorithms`, `best`), the precompute (None when skipped or the cache is down) and a
    one-line `message`. Bad params raise ValidationFailed naming the field.
    Not atomic on purpose: the run is enqueued when the platform's transaction commits.
    """
    run = ml_services.training_run_start(
        kind=KIND, params=params or {}, trigger=trigger, triggered_by=triggered_by
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    while wait:
        run.refresh_from_db()
        progress(float(run.progress), run.progress_message)
        if run.status in FINISHED_STATUSES:
            break
        if deadline is not None and time.monotonic() > deadline:
            timed_out = True
            break
        time.sleep(poll_seconds)
    run = ml_selectors.training_run_get(run_id=run.pk)
    version = getattr(run, "model_version", None)
    precomputed: dict[str, Any] | None = None
    message = ""
    if run.status == "succeeded" and version is not None:
        champion = ml_selectors.champion_get(KIND)
        if champion is None or champion.pk != version.pk:
            ml_services.model_version_activate(model_version_id=version.pk)
        try:
            # The kind's on_activate hook may have precomputed already (in-process runs).
            state = precompute_state_or_none(model_version_id=version.pk)
            if state is None:
                summary = candidates_precompute(model_version_id=version.pk)
                state = {"customers": summary.customers, "seconds": summary.seconds}
            precomputed = {"customers": state["customers"], "seconds": state.get("seconds")}
            summary_customers = int(state["customers"])
            message = (
                f"v{version.version} is the champion; candidates of {summary_customers:,} "
                "customers precomputed"
            )
        except CacheUnavailable as error:
            message = (
                f"v{version.version} is the champion; the cache is unreachable ({error}), "
                "so requests are scored online until the scheduled precompute runs"
            )
        except DomainError as error:
            message = f"v{version.version} is the champion; precompute skipped: {error.message}"
    elif timed_out:
        message = (
            f"Run {run.pk} still {run.status} after {timeout:g} s; it continues in the "
            "background and its candidates are precomputed by the schedule"
        )
    elif run.status in ACTIVE_STATUSES:
        message = f"Run {run.pk} is {run.status}; follow it at /models/ or /api/v1/ml/runs/{run.pk}"
    else:
        first_line = run.error.splitlines()[0] if run.error else run.status
        message = f"Run {run.pk} ended {run.status}: {first_line}"
    return {
        "run_id": run.pk,
        "kind": KIND,
        "status": run.status,
        "error": run.error,
        "params": run.params,
        "model_version": _version_summary(version),
        "report": run.metrics,
        "best": (run.metrics or {}).get("best"),
        "precomputed": precomputed,
        "message": message,
    }


def recommender_retrain_start(*, trigger: str = "schedule", reason: str = "") -> Any:
    """Start a run unless one is queued or running (then None)."""
    if _active_run() is not None:
        logger.info("Recommender retrain (%s) skipped: a run is already active", reason or trigger)
        return None
    logger.info("Starting a recommender retrain (%s)", reason or trigger)
    return ml_services.training_run_start(kind=KIND, params={}, trigger=trigger)


def _baseline() -> Any:
    """When the data the serving model knows ends: its run's start, else the last attempt."""
    champion = ml_selectors.champion_get(KIND)
    if champion is not None:
        run = champion.training_run
        return run.started_at if run is not None and run.started_at else champion.created_at
    latest = ml_selectors.training_run_list(kind=KIND).first()
    return latest.created_at if latest is not None else None


def new_interactions_since_champion() -> int:
    """Interactions that happened since the champion's run started (all of them without one)."""
    return data.interactions_count(since=_baseline())


def recommender_retrain_if_needed() -> Any:
    """Start a run when enough new interactions arrived since the champion was trained
    (RECOMMENDATIONS_RETRAIN_MIN_INTERACTIONS; the first model: MIN_INTERACTIONS in all).

    After a run that left no champion (not enough data, failed) it waits for the same
    threshold of new interactions, so a small shop is not retrained every hour. Returns the
    run or None.
    """
    if _active_run() is not None:
        return None
    has_history = _baseline() is not None
    threshold = (
        int(setting("RECOMMENDATIONS_RETRAIN_MIN_INTERACTIONS"))
        if has_history
        else MIN_INTERACTIONS
    )
    count = new_interactions_since_champion()
    if count < threshold:
        return None
    return recommender_retrain_start(
        trigger="schedule", reason=f"{count} new interactions (threshold {threshold})"
    )


def recommender_overview() -> RecommenderOverview:
    """The champion with its evaluation report (every algorithm's metrics, the best), the
    latest run, whether its candidates are precomputed, and the retrain check's numbers."""
    champion = ml_selectors.champion_get(KIND)
    latest = ml_selectors.training_run_list(kind=KIND).first()
    return RecommenderOverview(
        champion=champion,
        report=dict(champion.metrics) if champion is not None else {},
        latest_run=latest,
        precomputed=(
            precompute_state_or_none(model_version_id=champion.pk) if champion is not None else None
        ),
        new_interactions=new_interactions_since_champion(),
        retrain_threshold=int(setting("RECOMMENDATIONS_RETRAIN_MIN_INTERACTIONS")),
        checked_at=timezone.now(),
    )
