"""Celery entry points of the forecasts app: fetch by id, call a service (house rule 7)."""

from __future__ import annotations

from celery import shared_task

from apps.forecasts.choices import RunTrigger
from apps.forecasts.services.runs import forecast_chunk_run, forecast_run_start

# A chunk of 50 series with the full candidate set takes a few minutes on one core.
CHUNK_SOFT_TIME_LIMIT_SECONDS = 25 * 60
CHUNK_HARD_TIME_LIMIT_SECONDS = 30 * 60


@shared_task(
    name="forecasts.forecast_series_chunk_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CHUNK_SOFT_TIME_LIMIT_SECONDS,
    time_limit=CHUNK_HARD_TIME_LIMIT_SECONDS,
)
def forecast_series_chunk_task(run_id: int, series_ids: list[int]) -> dict[str, int]:
    """Forecast one chunk of a run (series this run already has are skipped)."""
    return forecast_chunk_run(run_id=run_id, series_ids=series_ids)


@shared_task(name="forecasts.refresh_forecasts_task", soft_time_limit=120, time_limit=150)
def refresh_forecasts_task() -> int:
    """Nightly: start the day's refresh of every series (once per day)."""
    return forecast_run_start(trigger=RunTrigger.NIGHTLY).pk
