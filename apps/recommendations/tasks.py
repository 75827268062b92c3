"""Celery entry points of recommendations: each calls one service (house rule 7).

Idempotent: retraining skips while a run is active, the precompute runs only when the
champion's candidates are not stored yet (and holds a lock in the cache), pruning deletes
what is past the retention.
"""

from __future__ import annotations

from celery import shared_task

from apps.recommendations.services import (
    candidates_precompute_if_stale,
    recommender_retrain_if_needed,
    recommender_retrain_start,
    served_log_flush,
    served_recommendations_prune,
)


@shared_task(name="recommendations.retrain_recommender_task", time_limit=300, soft_time_limit=240)
def retrain_recommender_task() -> int | None:
    """Scheduled retrain (an ML run); returns the run id, None when one is already active."""
    run = recommender_retrain_start(trigger="schedule", reason="daily schedule")
    return run.pk if run is not None else None


@shared_task(
    name="recommendations.retrain_recommender_if_needed_task", time_limit=300, soft_time_limit=240
)
def retrain_recommender_if_needed_task() -> int | None:
    """Retrain when enough new interactions arrived since the champion was trained."""
    run = recommender_retrain_if_needed()
    return run.pk if run is not None else None


@shared_task(
    name="recommendations.precompute_candidates_task", time_limit=3300, soft_time_limit=3000
)
def precompute_candidates_task() -> int:
    """Store the champion's candidates per customer unless stored; returns how many."""
    summary = candidates_precompute_if_stale()
    return summary.customers if summary is not None else 0


@shared_task(name="recommendations.prune_served_task", time_limit=900, soft_time_limit=840)
def prune_served_task() -> int:
    """Delete served-request rows past the retention; returns how many."""
    return served_recommendations_prune()


@shared_task(name="recommendations.flush_served_task", time_limit=600, soft_time_limit=540)
def flush_served_task() -> int:
    """Move the queued served-request rows into the table; returns how many."""
    return served_log_flush()
