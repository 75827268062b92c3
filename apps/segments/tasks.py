"""Celery entry points of the segments app: fetch by id, call a service (house rule 7)."""

from __future__ import annotations

from celery import shared_task

from apps.segments.models import Segment
from apps.segments.services.clustering import cluster_scores_apply_if_stale, clusters_run_start
from apps.segments.services.clv import clv_fit_start, clv_scores_store_if_stale
from apps.segments.services.predict import prediction_scores_refresh_all
from apps.segments.services.rfm import rfm_run_start
from apps.segments.services.segments import (
    segment_refresh,
    segments_refresh_all,
    segments_refresh_touched,
)


@shared_task(name="segments.refresh_segments_task", time_limit=3600, soft_time_limit=3300)
def refresh_segments_task() -> int:
    """Scheduled full refresh of every dynamic segment, in dependency order.

    Catches what time alone changes (relative windows slide); idempotent: a second run finds
    nothing new to record. Returns the number of segments refreshed.
    """
    return len(segments_refresh_all())


@shared_task(name="segments.refresh_segment_task", time_limit=1800, soft_time_limit=1700)
def refresh_segment_task(segment_id: int) -> int | None:
    """Full refresh of one segment (returns its size; None when it was deleted meanwhile)."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return None
    return segment_refresh(segment=segment).member_count


@shared_task(name="segments.refresh_touched_segments_task", time_limit=1800, soft_time_limit=1700)
def refresh_touched_segments_task() -> int:
    """Incremental refresh for the customers touched by new events and orders since the last
    run (debounced by `segments_touch`). Returns how many customers were re-checked."""
    return segments_refresh_touched()


@shared_task(name="segments.compute_rfm_task", time_limit=1800, soft_time_limit=1700)
def compute_rfm_task() -> int:
    """Scheduled RFM and lifecycle run (an ML run); returns the run id."""
    return rfm_run_start(trigger="schedule").pk


@shared_task(name="segments.fit_clusters_task", time_limit=1800, soft_time_limit=1700)
def fit_clusters_task() -> int:
    """Scheduled clustering run (an ML run); returns the run id."""
    return clusters_run_start(trigger="schedule").pk


@shared_task(name="segments.apply_cluster_scores_task", time_limit=900, soft_time_limit=840)
def apply_cluster_scores_task() -> int:
    """Write the cluster champion's clusters to customers when they do not hold them yet."""
    summary = cluster_scores_apply_if_stale()
    return summary.assigned if summary else 0


@shared_task(name="segments.refit_clv_task", time_limit=3600, soft_time_limit=3300)
def refit_clv_task() -> int:
    """Scheduled CLV refit (an ML run); returns the run id."""
    return clv_fit_start(trigger="schedule").pk


@shared_task(name="segments.store_clv_scores_task", time_limit=1800, soft_time_limit=1700)
def store_clv_scores_task() -> int:
    """Store the CLV champion's predictions when no customer holds them yet."""
    summary = clv_scores_store_if_stale()
    return summary.stored if summary else 0


@shared_task(name="segments.refresh_prediction_scores_task", time_limit=3600, soft_time_limit=3300)
def refresh_prediction_scores_task(only_stale: bool = True) -> int:
    """Re-score customers with the churn and propensity champions (all of them when
    only_stale is False); returns how many scores were written."""
    return sum(summary.scored for summary in prediction_scores_refresh_all(only_stale=only_stale))
