"""Celery entry points of the insights app: fetch by id, call a service (house rule 7)."""

from __future__ import annotations

from celery import shared_task

from apps.insights.choices import JobKind
from apps.insights.services.store import analysis_job_run, analysis_job_start, pending_count

# Analysing a large backlog (a first import) takes minutes; topics on 100k texts a few more.
JOB_SOFT_TIME_LIMIT_SECONDS = 50 * 60
JOB_HARD_TIME_LIMIT_SECONDS = 55 * 60


@shared_task(
    name="insights.run_analysis_job_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=JOB_SOFT_TIME_LIMIT_SECONDS,
    time_limit=JOB_HARD_TIME_LIMIT_SECONDS,
)
def run_analysis_job_task(job_id: int) -> str:
    """Run analysis job `job_id` (claimed by the service: a second delivery does nothing)."""
    return analysis_job_run(job_id=job_id).status


@shared_task(name="insights.analyze_new_texts_task", soft_time_limit=60, time_limit=90)
def analyze_new_texts_task() -> int:
    """Every 5 minutes: queue an incremental job when reviews or posts wait for analysis."""
    waiting = pending_count()
    if waiting:
        analysis_job_start(kind=JobKind.ANALYZE)
    return waiting


@shared_task(name="insights.fit_topics_task", soft_time_limit=60, time_limit=90)
def fit_topics_task() -> int:
    """Weekly: queue a topic refit (new themes appear as texts accumulate)."""
    return analysis_job_start(kind=JobKind.TOPICS).pk


@shared_task(name="insights.rematch_categories_task", soft_time_limit=600, time_limit=660)
def rematch_categories_task() -> dict[str, int]:
    """A category changed: match every stored text against the categories again."""
    from apps.insights.services.categories import text_categories_rematch

    return text_categories_rematch()
