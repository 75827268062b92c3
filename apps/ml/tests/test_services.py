"""The job runner: start, execute, publish, fail, lose and re-run training runs (eager)."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from apps.accounts.choices import AuditAction
from apps.accounts.models import AuditLog
from apps.core.errors import Conflict, NotEnoughData, NotFound, ValidationFailed
from apps.ml import services
from apps.ml.choices import Alias, RunStatus, TriggerSource
from apps.ml.contracts import TrainingContext, TrainingOutput
from apps.ml.engine.fingerprint import file_sha256
from apps.ml.errors import RunBusy
from apps.ml.models import ModelAlias, ModelVersion, TrainingRun
from apps.ml.selectors import artifact_path, champion_get, model_version_list
from apps.ml.services import (
    model_version_activate,
    training_run_execute,
    training_run_mark_stale,
    training_run_rerun,
    training_run_start,
)
from apps.ml.tasks import mark_stale_runs_task
from apps.ml.tests.factories import (
    ModelVersionFactory,
    OrderLineFactory,
    TrainingRunFactory,
    shop_create,
)
from apps.ml.trainers import MIN_PURCHASES, PRODUCT_POPULARITY, SELFTEST

pytestmark = pytest.mark.django_db


def _train(capture, *, kind: str, params: dict | None = None) -> TrainingRun:
    """Start a run and execute its task in-process, as eager Celery does after commit."""
    with capture(execute=True):
        run = training_run_start(kind=kind, params=params, trigger=TriggerSource.CLI)
    run.refresh_from_db()
    return run


def test_product_popularity_trains_publishes_and_becomes_champion(
    django_capture_on_commit_callbacks, artifact_root
):
    # given a small shop whose first product sells most
    products = shop_create()

    # when
    run = _train(django_capture_on_commit_callbacks, kind=PRODUCT_POPULARITY)

    # then the run succeeded with its metrics
    assert run.status == RunStatus.SUCCEEDED
    assert run.progress == 100
    assert run.error == ""
    assert run.attempts == 1
    assert run.device == "cpu"
    assert run.queue == "ml_cpu"
    assert run.started_at is not None and run.finished_at is not None
    assert run.metrics["purchases"] == 30
    assert run.metrics["products_scored"] == 6
    assert run.metrics["holdout_purchases"] > 0
    assert 0.0 <= run.metrics["hit_rate_at_50"] <= 1.0
    assert set(run.timings) == {"queued_seconds", "train_seconds", "total_seconds"}
    # and one version was registered and serves as champion
    version = ModelVersion.objects.get()
    assert version.kind == PRODUCT_POPULARITY
    assert version.version == 1
    assert version.training_run_id == run.pk
    assert (
        version.params == run.params == services.registry.get(PRODUCT_POPULARITY).clean_params({})
    )
    assert version.dataset_hash == run.dataset_hash and len(run.dataset_hash) == 64
    assert champion_get(PRODUCT_POPULARITY) == version
    # and the artifact is in place, its hash and size as registered
    path = artifact_path(version)
    assert path == artifact_root / PRODUCT_POPULARITY / f"v1-{version.content_hash[:12]}.json"
    assert file_sha256(path) == (version.content_hash, version.size_bytes)
    payload = json.loads(path.read_text())
    assert payload["product_ids"][0] == products[0].pk
    assert len(payload["product_ids"]) == len(payload["scores"]) == 6
    # and no work folder is left behind
    assert list((artifact_root / ".tmp").iterdir()) == []


def test_start_records_an_audit_row_and_enqueues_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = training_run_start(kind=SELFTEST, params={"seconds": 0}, trigger=TriggerSource.API)

    assert len(callbacks) == 1
    assert run.status == RunStatus.QUEUED
    assert run.params == {"seconds": 0.0, "fail": False}
    assert run.queue == "ml_cpu"
    assert len(run.task_id) == 36
    audit = AuditLog.objects.get()
    assert audit.action == AuditAction.TRAINING_STARTED
    assert audit.data["run_id"] == run.pk


def test_second_success_becomes_version_two(django_capture_on_commit_callbacks):
    first = _train(django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0})
    second = _train(django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0})

    assert [v.version for v in model_version_list(kind=SELFTEST)] == [2, 1]
    assert champion_get(SELFTEST).training_run_id == second.pk
    assert first.model_version.version == 1


def test_failure_keeps_previous_champion_and_registers_nothing(
    django_capture_on_commit_callbacks, artifact_root
):
    # given a champion
    _train(django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0})
    champion = champion_get(SELFTEST)

    # when the next run fails
    failed = _train(
        django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0, "fail": True}
    )

    # then it is failed with a readable first line, and nothing changed
    assert failed.status == RunStatus.FAILED
    assert failed.error.splitlines()[0] == "RuntimeError: Self-test failure requested (fail=true)"
    assert "Traceback" in failed.error
    assert failed.finished_at is not None
    assert ModelVersion.objects.count() == 1
    assert champion_get(SELFTEST) == champion
    assert [p.name for p in (artifact_root / SELFTEST).iterdir()] == [
        Path(champion.artifact_path).name
    ]
    assert list((artifact_root / ".tmp").iterdir()) == []


def test_not_enough_data_is_an_explicit_outcome(django_capture_on_commit_callbacks):
    # given fewer purchases than the engine needs
    for _ in range(MIN_PURCHASES - 1):
        OrderLineFactory()

    run = _train(django_capture_on_commit_callbacks, kind=PRODUCT_POPULARITY)

    assert run.status == RunStatus.NOT_ENOUGH_DATA
    assert run.error.startswith(
        f"Product popularity needs at least {MIN_PURCHASES} purchases of known products"
    )
    assert "found 19" in run.error
    assert "Traceback" not in run.error
    assert run.progress_message == "Not enough data"
    assert ModelVersion.objects.count() == 0
    assert champion_get(PRODUCT_POPULARITY) is None


def test_progress_is_written_while_the_trainer_runs(
    django_capture_on_commit_callbacks, register_kind
):
    seen: list[tuple[int, str, str]] = []

    def trainer(context: TrainingContext) -> TrainingOutput:
        context.report_progress(40.4, "Halfway there")
        row = TrainingRun.objects.get(pk=context.run_id)
        seen.append((row.progress, row.progress_message, row.status))
        context.report_progress(100, "Trainer says done")  # capped: published means done
        row.refresh_from_db()
        seen.append((row.progress, row.progress_message, row.status))
        artifact = context.work_dir / "model.bin"
        artifact.write_bytes(b"weights")
        return TrainingOutput(artifact_path=artifact, metrics={"loss": 0.5})

    register_kind("test.progress", trainer)

    run = _train(django_capture_on_commit_callbacks, kind="test.progress")

    assert seen == [
        (40, "Halfway there", RunStatus.RUNNING),
        (99, "Trainer says done", RunStatus.RUNNING),
    ]
    assert run.progress == 100
    assert run.progress_message == "Done: v1 is the champion"
    assert run.heartbeat_at is not None
    assert run.model_version.artifact_path.endswith(".bin")


def test_trainer_not_enough_data_from_any_kind(django_capture_on_commit_callbacks, register_kind):
    def trainer(context: TrainingContext) -> TrainingOutput:
        raise NotEnoughData("Needs 3 campaigns with results; found 1.")

    register_kind("test.scarce", trainer)

    run = _train(django_capture_on_commit_callbacks, kind="test.scarce")

    assert run.status == RunStatus.NOT_ENOUGH_DATA
    assert run.error == "Needs 3 campaigns with results; found 1."


def test_artifact_outside_work_dir_fails_the_run(
    django_capture_on_commit_callbacks, register_kind, tmp_path
):
    def trainer(context: TrainingContext) -> TrainingOutput:
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_text("{}")
        return TrainingOutput(artifact_path=elsewhere)

    register_kind("test.escape", trainer)

    run = _train(django_capture_on_commit_callbacks, kind="test.escape")

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("ValueError: The trainer of test.escape wrote its artifact outside")
    assert ModelVersion.objects.count() == 0


def test_soft_time_limit_fails_with_a_readable_reason(
    django_capture_on_commit_callbacks, register_kind
):
    def trainer(context: TrainingContext) -> TrainingOutput:
        raise SoftTimeLimitExceeded()

    register_kind("test.slow", trainer)

    run = _train(django_capture_on_commit_callbacks, kind="test.slow")

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("Stopped at the time limit after")
    assert ModelVersion.objects.count() == 0


def test_start_refuses_an_unknown_kind():
    with pytest.raises(ValidationFailed) as caught:
        training_run_start(kind="nope.nothing", params={}, trigger=TriggerSource.CLI)

    assert caught.value.field == "kind"
    assert "Unknown kind 'nope.nothing'; registered kinds:" in caught.value.message
    assert "ml.selftest" in caught.value.message
    assert TrainingRun.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"seconds": -1}, "params: seconds must be between 0 and 3600, got -1"),
        ({"seconds": "soon"}, "params: seconds must be a number, got 'soon'"),
        ({"fail": "maybe"}, "params: fail must be true or false, got 'maybe'"),
        ({"speed": 2}, "params: unknown parameter(s) speed; known: fail, seconds"),
        ([1, 2], "params: must be a JSON object"),
    ],
)
def test_start_refuses_bad_params(params, message):
    with pytest.raises(ValidationFailed) as caught:
        training_run_start(kind=SELFTEST, params=params, trigger=TriggerSource.CLI)

    assert caught.value.field == "params"
    assert caught.value.message == message
    assert TrainingRun.objects.count() == 0


def test_training_goes_to_the_gpu_queue_when_enabled(settings):
    settings.ML_GPU_QUEUE_ENABLED = True

    run = training_run_start(kind=SELFTEST, params={}, trigger=TriggerSource.CLI)

    assert run.queue == "ml_gpu"


def test_device_is_cpu_for_kinds_that_are_not_gpu_capable(
    django_capture_on_commit_callbacks, register_kind, monkeypatch
):
    monkeypatch.setattr(services, "device_pick", lambda: "cuda")  # as on a GPU host
    devices: dict[str, str] = {}

    def trainer(context: TrainingContext) -> TrainingOutput:
        devices[context.kind] = context.device
        artifact = context.work_dir / "model.bin"
        artifact.write_bytes(context.device.encode())
        return TrainingOutput(artifact_path=artifact)

    register_kind("test.gpu", trainer, gpu_capable=True)
    register_kind("test.cpu", trainer)

    gpu_run = _train(django_capture_on_commit_callbacks, kind="test.gpu")
    cpu_run = _train(django_capture_on_commit_callbacks, kind="test.cpu")

    assert devices == {"test.gpu": "cuda", "test.cpu": "cpu"}
    assert (gpu_run.device, cpu_run.device) == ("cuda", "cpu")


def test_execute_leaves_a_finished_run_alone():
    run = TrainingRunFactory(status=RunStatus.SUCCEEDED, attempts=1, progress=100)

    result = training_run_execute(run_id=run.pk, worker="w2")

    assert result.status == RunStatus.SUCCEEDED
    assert result.attempts == 1
    assert result.worker == ""


def test_execute_of_a_missing_run_returns_none():
    assert training_run_execute(run_id=987654, worker="w") is None


def test_execute_refuses_a_run_held_by_a_live_worker():
    run = TrainingRunFactory(
        status=RunStatus.RUNNING, attempts=1, worker="w1", heartbeat_at=timezone.now()
    )

    with pytest.raises(RunBusy):
        training_run_execute(run_id=run.pk, worker="w2")

    run.refresh_from_db()
    assert (run.worker, run.attempts, run.status) == ("w1", 1, RunStatus.RUNNING)


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.LOST])
def test_execute_takes_over_a_run_whose_worker_died(settings, status):
    settings.ML_RUN_STALE_SECONDS = 60
    run = TrainingRunFactory(
        status=status,
        attempts=1,
        worker="dead",
        heartbeat_at=timezone.now() - timedelta(seconds=61),
    )

    result = training_run_execute(run_id=run.pk, worker="w2")

    assert result.status == RunStatus.SUCCEEDED
    assert result.attempts == 2
    assert result.worker == "w2"
    assert result.model_version.version == 1


def test_execute_gives_up_after_max_attempts():
    run = TrainingRunFactory(
        status=RunStatus.RUNNING,
        attempts=services.MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(days=1),
    )

    result = training_run_execute(run_id=run.pk, worker="w")

    assert result.status == RunStatus.FAILED
    assert result.error.startswith(f"Gave up after {services.MAX_ATTEMPTS} attempts")
    assert ModelVersion.objects.count() == 0


def test_a_superseded_attempt_publishes_nothing(register_kind):
    def trainer(context: TrainingContext) -> TrainingOutput:
        # meanwhile another worker took the run over (its attempt number moved on)
        TrainingRun.objects.filter(pk=context.run_id).update(attempts=context.attempt + 1)
        artifact = context.work_dir / "model.bin"
        artifact.write_bytes(b"late")
        return TrainingOutput(artifact_path=artifact)

    register_kind("test.superseded", trainer)
    run = TrainingRunFactory(kind="test.superseded", params={})

    result = training_run_execute(run_id=run.pk, worker="w")

    assert result.status == RunStatus.RUNNING
    assert result.attempts == 2
    assert ModelVersion.objects.count() == 0


def test_mark_stale_marks_only_runs_without_recent_heartbeat():
    now = timezone.now()
    stale = TrainingRunFactory(
        status=RunStatus.RUNNING, worker="w1", heartbeat_at=now - timedelta(seconds=30)
    )
    fresh = TrainingRunFactory(status=RunStatus.RUNNING, heartbeat_at=now)
    queued = TrainingRunFactory(status=RunStatus.QUEUED)

    count = training_run_mark_stale(stale_after_seconds=10)

    assert count == 1
    stale.refresh_from_db()
    assert stale.status == RunStatus.LOST
    assert stale.error.startswith("Worker lost: w1 stopped sending heartbeats")
    assert TrainingRun.objects.get(pk=fresh.pk).status == RunStatus.RUNNING
    assert TrainingRun.objects.get(pk=queued.pk).status == RunStatus.QUEUED


def test_mark_stale_task_uses_the_setting(settings):
    settings.ML_RUN_STALE_SECONDS = 120
    run = TrainingRunFactory(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=121)
    )

    assert mark_stale_runs_task.delay().get() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.LOST


def test_rerun_starts_a_new_run_with_the_same_kind_and_params(django_capture_on_commit_callbacks):
    lost = TrainingRunFactory(status=RunStatus.LOST, params={"seconds": 0.0, "fail": False})

    with django_capture_on_commit_callbacks(execute=True):
        rerun = training_run_rerun(run_id=lost.pk, triggered_by=None)

    rerun.refresh_from_db()
    assert rerun.pk != lost.pk
    assert rerun.rerun_of_id == lost.pk
    assert (rerun.kind, rerun.params) == (lost.kind, lost.params)
    assert rerun.status == RunStatus.SUCCEEDED
    assert TrainingRun.objects.get(pk=lost.pk).status == RunStatus.LOST


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_rerun_refuses_an_unfinished_run(status):
    run = TrainingRunFactory(status=status)

    with pytest.raises(Conflict):
        training_run_rerun(run_id=run.pk, triggered_by=None)

    assert TrainingRun.objects.count() == 1


def test_rerun_of_a_missing_run_is_not_found():
    with pytest.raises(NotFound):
        training_run_rerun(run_id=424242, triggered_by=None)


def test_activate_points_the_champion_at_an_older_version(django_capture_on_commit_callbacks):
    _train(django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0})
    _train(django_capture_on_commit_callbacks, kind=SELFTEST, params={"seconds": 0})
    first = ModelVersion.objects.get(kind=SELFTEST, version=1)

    alias = model_version_activate(model_version_id=first.pk)

    assert alias.alias == Alias.CHAMPION
    assert champion_get(SELFTEST) == first
    assert ModelAlias.objects.filter(kind=SELFTEST).count() == 1


def test_activate_refuses_a_version_whose_file_is_missing():
    version = ModelVersionFactory()

    with pytest.raises(Conflict, match="artifact .* is missing"):
        model_version_activate(model_version_id=version.pk)

    assert champion_get(version.kind) is None


def test_popularity_counts_only_revenue_orders_of_known_products(
    django_capture_on_commit_callbacks,
):
    shop_create()
    OrderLineFactory(order__status="cancelled")
    OrderLineFactory(product=None, sku="GONE-1")

    run = _train(django_capture_on_commit_callbacks, kind=PRODUCT_POPULARITY)

    assert run.status == RunStatus.SUCCEEDED
    assert run.metrics["purchases"] == 30


def test_popularity_dataset_hash_is_stable_for_the_same_data(django_capture_on_commit_callbacks):
    shop_create()

    first = _train(django_capture_on_commit_callbacks, kind=PRODUCT_POPULARITY)
    second = _train(django_capture_on_commit_callbacks, kind=PRODUCT_POPULARITY)

    assert first.dataset_hash == second.dataset_hash
    assert first.model_version.content_hash == second.model_version.content_hash
    assert (first.model_version.version, second.model_version.version) == (1, 2)


def test_register_refuses_a_second_trainer_for_the_same_kind(register_kind):
    def trainer(context: TrainingContext) -> TrainingOutput:
        raise NotImplementedError

    register_kind("test.once", trainer)
    register_kind("test.once", trainer)  # the same trainer again: no-op

    with pytest.raises(ValueError, match="already registered"):
        services.registry.register("test.once", lambda context: None, description="other")
    with pytest.raises(ValueError, match="letters, digits"):
        services.registry.register("bad kind!", trainer, description="x")


def test_work_folders_of_dead_attempts_are_cleaned_up(artifact_root):
    work = artifact_root / ".tmp"
    work.mkdir(parents=True)
    run = TrainingRunFactory(
        status=RunStatus.LOST, attempts=1, params={"seconds": 0.0, "fail": False}
    )
    own = work / f"run{run.pk}-a1-xyz"
    old = work / "run999999-a1-old"
    recent = work / "run888888-a1-new"
    for folder in (own, old, recent):
        folder.mkdir()
    os.utime(old, (time.time() - 2 * 86400,) * 2)

    training_run_execute(run_id=run.pk, worker="w")

    assert sorted(p.name for p in work.iterdir()) == [recent.name]


def test_a_lost_run_that_was_rerun_is_not_taken_back_by_a_late_redelivery(artifact_root):
    # given a lost run that has already been re-run to success
    lost = TrainingRunFactory(status=RunStatus.LOST, params={"seconds": 0.0, "fail": False})
    TrainingRunFactory(status=RunStatus.SUCCEEDED, rerun_of=lost)

    # when its original task message is redelivered
    services.training_run_execute(run_id=lost.pk)

    # then nothing trains or publishes
    lost.refresh_from_db()
    assert lost.status == RunStatus.LOST
    assert lost.attempts == 0
    assert ModelVersion.objects.count() == 0


def test_a_run_the_broker_cannot_take_fails_saying_so(
    django_capture_on_commit_callbacks, monkeypatch
):
    # given a broker that refuses connections (the outside world failing)
    from kombu.exceptions import OperationalError

    from apps.ml.tasks import train_model_task

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(train_model_task, "apply_async", refuse)

    # when a run is started
    with django_capture_on_commit_callbacks(execute=True):
        run = training_run_start(kind=SELFTEST, params={"seconds": 0.0}, trigger=TriggerSource.API)

    # then it is not left queued forever: it failed, says why, and can be re-run
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(
        "Could not enqueue the task on queue ml_cpu: the broker is unreachable"
    )
    assert ModelVersion.objects.count() == 0


def test_a_queued_run_no_worker_ever_started_is_marked_lost_after_the_timeout(settings):
    # given a run queued 7 hours ago that no worker took, and one queued a minute ago
    settings.ML_RUN_QUEUED_TIMEOUT_SECONDS = 6 * 3600
    forgotten = TrainingRunFactory(status=RunStatus.QUEUED)
    TrainingRun.objects.filter(pk=forgotten.pk).update(
        created_at=timezone.now() - timedelta(hours=7)
    )
    recent = TrainingRunFactory(status=RunStatus.QUEUED)

    # when stale runs are swept
    count = training_run_mark_stale()

    # then only the forgotten one is lost, says why, and may be re-run
    assert count == 1
    forgotten.refresh_from_db()
    assert forgotten.status == RunStatus.LOST
    assert forgotten.error.startswith("Never started: queued since")
    assert TrainingRun.objects.get(pk=recent.pk).status == RunStatus.QUEUED
    assert training_run_rerun(run_id=forgotten.pk).rerun_of_id == forgotten.pk


def _bin_trainer(context: TrainingContext) -> TrainingOutput:
    artifact = context.work_dir / "model.bin"
    artifact.write_bytes(f"weights {context.run_id}".encode())
    return TrainingOutput(artifact_path=artifact, metrics={})


def test_on_activate_runs_after_publish_and_after_a_hand_made_activation(
    django_capture_on_commit_callbacks, register_kind
):
    # given a kind whose hook records what became champion
    activated: list[int] = []
    register_kind("test.hooked", _bin_trainer, on_activate=activated.append)

    # when two runs publish, then the first version is made champion again by hand
    _train(django_capture_on_commit_callbacks, kind="test.hooked")
    _train(django_capture_on_commit_callbacks, kind="test.hooked")
    first, second = ModelVersion.objects.filter(kind="test.hooked").order_by("version")
    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(model_version_id=first.pk)

    # then the hook saw each activation once, in order
    assert activated == [first.pk, second.pk, first.pk]


def test_a_failed_run_does_not_call_on_activate(django_capture_on_commit_callbacks, register_kind):
    activated: list[int] = []

    def trainer(context: TrainingContext) -> TrainingOutput:
        raise ValueError("bad data")

    register_kind("test.hooked_fail", trainer, on_activate=activated.append)

    run = _train(django_capture_on_commit_callbacks, kind="test.hooked_fail")

    assert run.status == RunStatus.FAILED
    assert activated == []


def test_a_failing_on_activate_hook_leaves_the_published_champion(
    django_capture_on_commit_callbacks, register_kind
):
    def hook(model_version_id: int) -> None:
        raise RuntimeError("broker down")

    register_kind("test.hooked_broken", _bin_trainer, on_activate=hook)

    run = _train(django_capture_on_commit_callbacks, kind="test.hooked_broken")

    assert run.status == RunStatus.SUCCEEDED
    assert champion_get("test.hooked_broken") == run.model_version
