"""Celery entry points of imports: fetch the job by id, call the service (house rule 7)."""

from __future__ import annotations

from celery import shared_task

from apps.imports.services import import_job_run

# A 1,000,000-line file takes a few minutes; the limits stay below the broker's visibility
# timeout (CELERY_VISIBILITY_TIMEOUT, 3600 s) so Redis never re-delivers a running task. A job
# cut off by the hard limit is re-delivered (acks_late + reject_on_worker_lost) and resumes
# after its last committed chunk.
IMPORT_SOFT_TIME_LIMIT_SECONDS = 50 * 60
IMPORT_HARD_TIME_LIMIT_SECONDS = 55 * 60


@shared_task(
    name="imports.run_import_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT_SECONDS,
    time_limit=IMPORT_HARD_TIME_LIMIT_SECONDS,
)
def run_import_task(job_id: int) -> str:
    """Run import job `job_id`. Safe to deliver twice: a finished job returns at once and a
    second attempt takes over from the last committed chunk."""
    job = import_job_run(job_id=job_id)
    return job.status if job else "missing"
