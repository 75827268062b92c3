"""Training through a real Celery worker: the queue, the runner, killing a worker mid-run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from apps.ml.choices import FINISHED_STATUSES, RunStatus, TriggerSource
from apps.ml.engine.fingerprint import file_sha256
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.selectors import artifact_path, champion_get
from apps.ml.services import training_run_mark_stale, training_run_rerun, training_run_start
from apps.ml.tests.factories import shop_create
from apps.ml.trainers import PRODUCT_POPULARITY, SELFTEST

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(
    run_id: int, condition: Callable[[TrainingRun], bool], *, timeout: float, worker
) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while True:
        run = TrainingRun.objects.get(pk=run_id)
        if condition(run):
            return run
        if time.monotonic() > deadline:
            logs = "\n".join(w.log() for w in worker.started)
            pytest.fail(
                f"Run {run_id} stuck at {run.status} {run.progress}% after {timeout} s\n{logs}"
            )
        time.sleep(0.2)


def _finished(run: TrainingRun) -> bool:
    return run.status in FINISHED_STATUSES


def test_real_worker_trains_product_popularity_and_publishes_the_champion(real_worker):
    # given a worker on ml_cpu and a small shop
    worker = real_worker.start()
    products = shop_create()

    # when a run is started the normal way
    run = training_run_start(kind=PRODUCT_POPULARITY, params={}, trigger=TriggerSource.CLI)

    # then the worker trains and publishes it
    run = _wait_for(run.pk, _finished, timeout=60, worker=real_worker)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.progress == 100
    assert run.queue == "ml_cpu"
    assert run.worker.startswith(worker.hostname)
    assert run.attempts == 1
    version = champion_get(PRODUCT_POPULARITY)
    assert version is not None
    assert version.training_run_id == run.pk
    assert file_sha256(artifact_path(version)) == (version.content_hash, version.size_bytes)
    assert run.metrics["products_scored"] == len(products)


def test_killed_worker_publishes_nothing_and_the_run_reruns_on_a_fresh_worker(real_worker):
    # given a self-test run in progress on a worker
    first = real_worker.start()
    run = training_run_start(kind=SELFTEST, params={"seconds": 8}, trigger=TriggerSource.CLI)
    _wait_for(
        run.pk,
        lambda r: r.status == RunStatus.RUNNING and r.progress >= 10,
        timeout=30,
        worker=real_worker,
    )

    # when the worker's process group is killed mid-run
    first.kill()

    # then nothing was published and the run did not succeed
    time.sleep(1.5)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert 10 <= run.progress < 100
    assert ModelVersion.objects.count() == 0
    assert champion_get(SELFTEST) is None
    assert not (Path(settings.ML_ARTIFACT_ROOT) / SELFTEST).exists()

    # when its heartbeat is found stale, it is marked lost
    assert training_run_mark_stale(stale_after_seconds=1) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.LOST
    assert run.error.startswith(f"Worker lost: {first.hostname}")

    # and a re-run on a fresh worker succeeds
    real_worker.start()
    rerun = training_run_rerun(run_id=run.pk, triggered_by=None)
    rerun = _wait_for(rerun.pk, _finished, timeout=60, worker=real_worker)
    assert rerun.status == RunStatus.SUCCEEDED, rerun.error
    assert rerun.rerun_of_id == run.pk
    assert rerun.progress == 100
    assert ModelVersion.objects.count() == 1
    assert champion_get(SELFTEST).training_run_id == rerun.pk
    assert TrainingRun.objects.get(pk=run.pk).status == RunStatus.LOST
