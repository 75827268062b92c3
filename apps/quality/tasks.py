"""Celery entry point of the cleaning pipeline: fetch the run by id, call the service."""

from __future__ import annotations

from celery import shared_task

from apps.quality.services import cleaning_run_execute

# A run over 100,000 customers takes well under a minute; the limits only stop a runaway.
SOFT_TIME_LIMIT_SECONDS = 20 * 60
HARD_TIME_LIMIT_SECONDS = 25 * 60


@shared_task(
    name="quality.run_cleaning_task",
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=HARD_TIME_LIMIT_SECONDS,
)
def run_cleaning_task(run_id: int) -> str:
    """Execute cleaning run `run_id`. Safe to deliver twice: the service claims the queued
    row first and returns a run another delivery took as it is."""
    return cleaning_run_execute(run_id=run_id).status
