"""Celery entry points of the ML platform: fetch by id, call a service (house rule 7)."""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.conf import settings

from apps.ml.errors import RunBusy
from apps.ml.services import training_run_execute, training_run_mark_stale

# Explicit limits for training. The soft limit raises inside the trainer (the run ends as
# failed with a readable reason); the hard limit kills the child process (the run goes stale
# and is taken over or marked lost). Both stay below the broker's visibility timeout
# (CELERY_VISIBILITY_TIMEOUT, 3600 s by default) so Redis never re-delivers a message whose
# task is still running. See workers/README.md before raising them.
TRAIN_SOFT_TIME_LIMIT_SECONDS = 50 * 60
TRAIN_HARD_TIME_LIMIT_SECONDS = 55 * 60
# A re-delivered message for a run that a live worker holds retries this many times.
BUSY_MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="ml.train_model_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=TRAIN_SOFT_TIME_LIMIT_SECONDS,
    time_limit=TRAIN_HARD_TIME_LIMIT_SECONDS,
    max_retries=BUSY_MAX_RETRIES,
)
def train_model_task(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """Execute training run `run_id`. Safe to deliver twice: the service claims the row."""
    worker = f"{self.request.hostname or socket.gethostname()} pid {os.getpid()}"
    try:
        run = training_run_execute(run_id=run_id, worker=worker)
    except RunBusy as error:
        # Another live worker holds it (a duplicate delivery): look again once a heartbeat
        # could have gone stale; by then it has finished or its worker is known dead.
        raise self.retry(exc=error, countdown=settings.ML_RUN_STALE_SECONDS) from error
    return run.status if run else "missing"


@shared_task(name="ml.mark_stale_runs_task", soft_time_limit=60, time_limit=90)
def mark_stale_runs_task() -> int:
    """Mark running runs whose worker stopped sending heartbeats as lost (every 5 minutes)."""
    return training_run_mark_stale()
