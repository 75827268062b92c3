"""Writes of the ML platform: start, execute, publish, mark lost, re-run and activate.

A run moves queued -> running -> succeeded | failed | not_enough_data, or -> lost when its
worker dies. `training_run_execute` is the only code that runs a trainer; it publishes an
artifact only once the file is complete and hashed, and registers it (new `ModelVersion` +
`champion` alias) in one transaction, so a worker killed at any point leaves either the
previous champion or the new one, never a half-written file behind an alias.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.accounts.contracts import AuditAction
from apps.accounts.services import audit_log_record
from apps.core.errors import Conflict, DomainError, NotEnoughData, NotFound, ValidationFailed
from apps.ml import registry
from apps.ml.choices import FINISHED_STATUSES, Alias, RunStatus, TriggerSource
from apps.ml.contracts import KindSpec, TrainingContext, TrainingOutput
from apps.ml.engine.device import device_pick
from apps.ml.engine.fingerprint import file_sha256
from apps.ml.errors import RunBusy
from apps.ml.models import ModelAlias, ModelVersion, TrainingRun
from apps.ml.selectors import artifact_path, artifact_root

logger = logging.getLogger(__name__)

# A run whose worker died this many times is failed instead of being taken over again:
# something in it (memory, the hard time limit) kills every worker that tries.
MAX_ATTEMPTS = 3
WORK_DIR_NAME = ".tmp"
# No run lives longer than the task's hard time limit (55 min): older work folders are debris.
WORK_DIR_MAX_AGE_SECONDS = 24 * 3600
_PUBLISH_TRIES = 3


def training_queue_for(spec: KindSpec) -> str:
    """ml_gpu when a GPU worker is configured (ML_GPU_QUEUE_ENABLED), else ml_cpu.

    Every kind goes there, GPU-capable or not, so one setting decides where training runs;
    kinds that are not GPU-capable still run on the CPU of that host.
    """
    return "ml_gpu" if settings.ML_GPU_QUEUE_ENABLED else "ml_cpu"


def _stale_seconds() -> int:
    return int(settings.ML_RUN_STALE_SECONDS)


def _user_or_none(user: Any) -> Any:
    """Django users only: API keys act through an `ApiKeyUser`, which is not a row."""
    return user if getattr(user, "pk", None) else None


def _enqueue(*, run_id: int, queue: str, task_id: str) -> None:
    """Send the run's task; if the broker cannot take it, the run fails saying so.

    Without this a committed run would wait as "queued" forever for a message that was never
    sent (and could not be re-run, since queued runs are refused).
    """
    # Imported here: tasks import this module.
    from apps.ml.tasks import train_model_task

    try:
        train_model_task.apply_async(args=[run_id], queue=queue, task_id=task_id)
    except (KombuOperationalError, RedisError) as error:
        logger.error("Training run %s could not be enqueued on %s: %s", run_id, queue, error)
        TrainingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"Could not enqueue the task on queue {queue}: the broker is unreachable "
            f"({error}). Nothing ran; re-run it once Redis is back.",
            progress_message="Not enqueued",
        )


def _training_run_create(
    *,
    kind: str,
    params: Any,
    trigger: str,
    triggered_by: Any = None,
    rerun_of: TrainingRun | None = None,
) -> TrainingRun:
    try:
        spec = registry.get(kind)
    except registry.UnknownKind as error:
        raise ValidationFailed(f"kind: {error}", field="kind") from None
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed("params: must be a JSON object", field="params")
    try:
        cleaned = spec.clean_params(params)
    except (TypeError, ValueError) as error:
        raise ValidationFailed(f"params: {error}", field="params") from None
    if trigger not in TriggerSource.values:
        raise ValidationFailed(
            f"trigger: unknown trigger {trigger!r}; known: {', '.join(TriggerSource.values)}",
            field="trigger",
        )
    queue = training_queue_for(spec)
    task_id = str(uuid.uuid4())
    user = _user_or_none(triggered_by)
    run = TrainingRun.objects.create(
        kind=kind,
        params=cleaned,
        trigger=trigger,
        triggered_by=user,
        rerun_of=rerun_of,
        queue=queue,
        task_id=task_id,
        status=RunStatus.QUEUED,
        progress_message="Waiting for a worker",
    )
    audit_log_record(
        action=AuditAction.TRAINING_STARTED,
        target=str(run),
        actor=user,
        actor_label=f"{trigger}: {triggered_by}" if triggered_by and not user else trigger,
        data={
            "run_id": run.pk,
            "kind": kind,
            "params": cleaned,
            "rerun_of": getattr(rerun_of, "pk", None),
        },
    )
    transaction.on_commit(functools.partial(_enqueue, run_id=run.pk, queue=queue, task_id=task_id))
    return run


@transaction.atomic
def training_run_start(
    *, kind: str, params: dict[str, Any] | None = None, trigger: str, triggered_by: Any = None
) -> TrainingRun:
    """Create a queued run of a registered kind and enqueue it once the row is committed.

    The one way to start training, whatever the interface (admin, API, CLI, web, schedule):
    params are validated by the kind before anything is written, and the task is sent only
    after commit so a worker never looks for a row that does not exist yet.
    """
    return _training_run_create(
        kind=kind, params=params, trigger=trigger, triggered_by=triggered_by
    )


@transaction.atomic
def training_run_rerun(
    *, run_id: int, triggered_by: Any = None, trigger: str | None = None
) -> TrainingRun:
    """Start a new run with the kind and params of an earlier one (`rerun_of` points back).

    Used after a failure or a lost worker; a queued or running run cannot be re-run until it
    finishes or is marked lost, so one request never trains twice by accident.
    """
    original = TrainingRun.objects.filter(pk=run_id).first()
    if original is None:
        raise NotFound(f"Training run {run_id} does not exist")
    if original.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        raise Conflict(
            f"Run {run_id} is still {original.status}; re-run it once it has finished "
            "or has been marked lost"
        )
    return _training_run_create(
        kind=original.kind,
        params=original.params,
        trigger=trigger or original.trigger,
        triggered_by=triggered_by,
        rerun_of=original,
    )


@transaction.atomic
def _activation_notify(*, kind: str, model_version_id: int) -> None:
    """Run the kind's `on_activate` hook (after commit). A failing hook is logged, never
    raised: the version is champion either way, and scheduled catch-ups repair what it missed."""
    if not registry.is_registered(kind):
        return
    hook = registry.get(kind).on_activate
    if hook is None:
        return
    try:
        hook(model_version_id)
    except Exception:
        logger.exception(
            "on_activate hook of %s failed for model version %s", kind, model_version_id
        )


def _activation_schedule(*, kind: str, model_version_id: int) -> None:
    transaction.on_commit(
        functools.partial(_activation_notify, kind=kind, model_version_id=model_version_id)
    )


def model_version_activate(*, model_version_id: int, actor: Any = None) -> ModelAlias:
    """Point the `champion` alias of the version's kind at it (roll back or forward by hand).

    Refused when the artifact file is missing, so serving never follows an alias to nothing.
    """
    version = ModelVersion.objects.filter(pk=model_version_id).first()
    if version is None:
        raise NotFound(f"Model version {model_version_id} does not exist")
    if not artifact_path(version).is_file():
        raise Conflict(
            f"{version} cannot serve: its artifact {version.artifact_path} is missing from "
            "ML_ARTIFACT_ROOT"
        )
    alias, _ = ModelAlias.objects.update_or_create(
        kind=version.kind, alias=Alias.CHAMPION, defaults={"model_version": version}
    )
    audit_log_record(
        action=AuditAction.MODEL_ACTIVATED,
        target=str(version),
        actor=actor,
        data={"kind": version.kind, "version": version.version},
    )
    _activation_schedule(kind=version.kind, model_version_id=version.pk)
    return alias


def model_version_import(
    *,
    kind: str,
    source: Path,
    metrics: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    activate: bool = True,
) -> ModelVersion:
    """Register a ready-made artifact (a model shipped with the product) as a version of `kind`.

    Why: some kinds start from a model trained elsewhere (the sentiment head built from
    labelled data the product does not carry); it must be a version like any other so every
    stored prediction can name it. Idempotent: a version of `kind` with the same content
    hash is returned as it is (and made champion when `activate` and there is none).
    """
    source = Path(source)
    if not source.is_file():
        raise NotFound(f"No artifact file at {source}")
    content_hash, size = file_sha256(source)
    with transaction.atomic():
        _kind_lock(kind)
        version = ModelVersion.objects.filter(kind=kind, content_hash=content_hash).first()
        if version is None:
            latest = ModelVersion.objects.filter(kind=kind).aggregate(latest=Max("version"))
            number = (latest["latest"] or 0) + 1
            extension = "".join(source.suffixes)[-16:] or ".bin"
            relative = f"{kind}/v{number}-{content_hash[:12]}{extension}"
            destination = artifact_root() / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_name(destination.name + f".{uuid.uuid4().hex}.part")
            shutil.copyfile(source, partial)
            os.replace(partial, destination)
            version = ModelVersion.objects.create(
                kind=kind,
                version=number,
                artifact_path=relative,
                content_hash=content_hash,
                size_bytes=size,
                metrics=json_safe(metrics or {}),
                params=json_safe(params or {}),
            )
        has_champion = ModelAlias.objects.filter(kind=kind, alias=Alias.CHAMPION).exists()
        if activate and not has_champion:
            ModelAlias.objects.create(kind=kind, alias=Alias.CHAMPION, model_version=version)
            _activation_schedule(kind=kind, model_version_id=version.pk)
    return version


@transaction.atomic
def training_run_mark_stale(*, stale_after_seconds: int | None = None) -> int:
    """Mark runs nobody is working on as lost; return how many.

    Running runs whose heartbeat is older than the threshold: their worker died (killed, out
    of memory, host gone). Queued runs older than ML_RUN_QUEUED_TIMEOUT_SECONDS that no worker
    ever started: their task message was lost. Nothing was published in either case, and the
    run can be re-run. Runs locked by a worker right now are skipped, not waited for.
    """
    seconds = _stale_seconds() if stale_after_seconds is None else stale_after_seconds
    now = timezone.now()
    threshold = now - timedelta(seconds=seconds)
    queued_threshold = now - timedelta(seconds=int(settings.ML_RUN_QUEUED_TIMEOUT_SECONDS))
    stale = TrainingRun.objects.select_for_update(skip_locked=True).filter(
        Q(status=RunStatus.RUNNING, heartbeat_at__lt=threshold)
        | Q(status=RunStatus.RUNNING, heartbeat_at__isnull=True)
        | Q(status=RunStatus.QUEUED, started_at__isnull=True, created_at__lt=queued_threshold)
    )
    count = 0
    for run in stale:
        if run.status == RunStatus.QUEUED:
            run.error = (
                f"Never started: queued since {run.created_at:%Y-%m-%d %H:%M:%S} UTC on "
                f"{run.queue or 'its queue'} and no worker took it (is a worker consuming that "
                "queue?). Nothing was published; re-run it."
            )
            last_seen = "never started"
        else:
            last_seen = f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if run.heartbeat_at else "never"
            run.error = (
                f"Worker lost: {run.worker or 'the worker'} stopped sending heartbeats "
                f"(last seen {last_seen}). Nothing was published; re-run it."
            )
        run.status = RunStatus.LOST
        run.finished_at = now
        run.progress_message = "Worker lost"
        run.save(update_fields=["status", "finished_at", "error", "progress_message", "updated_at"])
        logger.warning("Training run %s marked lost (%s)", run.pk, last_seen)
        count += 1
    return count


# --- execution -----------------------------------------------------------------------------


class _Superseded(Exception):
    """Another worker took this run over while we were training: our result is discarded."""


class _ProgressWriter:
    """Writes progress with a plain UPDATE (autocommit) so the UI sees it while training runs."""

    def __init__(self, *, run_id: int, attempt: int) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self._last: tuple[int, str] | None = None
        self._last_at = 0.0

    def __call__(self, percent: float, message: str = "") -> None:
        # 100 is written by the publish step: "done" means the model is registered.
        value = int(min(99, max(0, round(float(percent)))))
        text = str(message)[:255]
        now = time.monotonic()
        if (value, text) == self._last and now - self._last_at < 1.0:
            return
        self._last, self._last_at = (value, text), now
        _live_runs(self.run_id, self.attempt).update(
            progress=value,
            progress_message=text,
            heartbeat_at=timezone.now(),
            status=RunStatus.RUNNING,
        )


def _live_runs(run_id: int, attempt: int) -> Any:
    """This attempt's row while it is running (or was wrongly marked lost but is alive)."""
    return TrainingRun.objects.filter(
        pk=run_id, attempts=attempt, status__in=(RunStatus.RUNNING, RunStatus.LOST)
    )


class _Heartbeat(threading.Thread):
    """Refreshes `heartbeat_at` while the trainer works, even in a long silent phase.

    It stops with the process, so a killed worker's run goes stale and can be marked lost.
    """

    def __init__(self, *, run_id: int, attempt: int) -> None:
        super().__init__(name=f"ml-heartbeat-{run_id}", daemon=True)
        self.run_id = run_id
        self.attempt = attempt
        self.interval = max(1.0, min(30.0, _stale_seconds() / 4))
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    _live_runs(self.run_id, self.attempt).update(
                        heartbeat_at=timezone.now(), status=RunStatus.RUNNING
                    )
                except DatabaseError:
                    logger.warning("Heartbeat of run %s failed", self.run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


def _is_stale(heartbeat_at: Any, now: Any) -> bool:
    return heartbeat_at is None or (now - heartbeat_at).total_seconds() > _stale_seconds()


@transaction.atomic
def _training_run_claim(*, run_id: int, worker: str) -> tuple[TrainingRun, KindSpec] | None:
    """Lock the row and take the run, or say why not (finished, missing, held by a live worker)."""
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        logger.warning("Training run %s does not exist; nothing to do", run_id)
        return None
    if run.status in FINISHED_STATUSES:
        logger.info("Training run %s already %s; nothing to do", run_id, run.status)
        return None
    if run.status == RunStatus.LOST and run.reruns.exists():
        # A late redelivery of a lost run that was already re-run: training it too would
        # publish twice and could replace the re-run's (or a hand-picked) champion.
        logger.info("Training run %s was lost and re-run; not taking it back", run_id)
        return None
    now = timezone.now()
    if run.status == RunStatus.RUNNING and not _is_stale(run.heartbeat_at, now):
        raise RunBusy(f"Run {run_id} is running on {run.worker} (fresh heartbeat)")
    if run.attempts >= MAX_ATTEMPTS:
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.error = (
            f"Gave up after {run.attempts} attempts: the worker running it was lost each time "
            "(killed, out of memory or past the hard time limit)."
        )
        run.save(update_fields=["status", "finished_at", "error", "updated_at"])
        return None
    try:
        spec = registry.get(run.kind)
    except registry.UnknownKind:
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.error = (
            f"Kind {run.kind!r} is not registered on worker {worker}; is it running an older "
            "release than the web app?"
        )
        run.save(update_fields=["status", "finished_at", "error", "updated_at"])
        return None
    if run.status != RunStatus.QUEUED:
        logger.warning(
            "Taking over training run %s (%s, worker %s)", run_id, run.status, run.worker
        )
    run.status = RunStatus.RUNNING
    run.attempts += 1
    run.started_at = now
    run.heartbeat_at = now
    run.finished_at = None
    run.worker = worker[:128]
    run.device = device_pick() if spec.gpu_capable else "cpu"
    run.progress = 0
    run.progress_message = f"Started on {run.device}"
    run.error = ""
    run.save()
    return run, spec


def _work_dir_create(run: TrainingRun) -> Path:
    """A private folder on the artifact volume, so the final move is an atomic rename."""
    parent = artifact_root() / WORK_DIR_NAME
    parent.mkdir(parents=True, exist_ok=True)
    # Folders of attempts whose worker died: this run's, and any older than a run can live.
    expired = time.time() - WORK_DIR_MAX_AGE_SECONDS
    for leftover in parent.iterdir():
        if leftover.name.startswith(f"run{run.pk}-") or leftover.stat().st_mtime < expired:
            shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"run{run.pk}-a{run.attempts}-", dir=parent))


def json_safe(value: Any) -> Any:
    """Plain JSON for a JSON column: numpy scalars unwrapped, NaN/inf as null (Postgres
    rejects them), anything else as its string. Shared by the apps that store model output."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _error_text(error: BaseException) -> str:
    """A readable first line (what went wrong), then the traceback for whoever debugs it."""
    if isinstance(error, DomainError):
        headline = error.message
    else:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        headline = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return f"{headline}\n\n{traceback.format_exc()}".strip()


def _training_run_finish(
    *, run_id: int, attempt: int, status: str, error: str, timings: dict[str, float]
) -> None:
    updated = _live_runs(run_id, attempt).update(
        status=status,
        error=error,
        finished_at=timezone.now(),
        timings=timings,
        progress_message=RunStatus(status).label,
        updated_at=timezone.now(),
    )
    if not updated:
        logger.warning(
            "Run %s attempt %s was taken over; its outcome %s is dropped", run_id, attempt, status
        )


def _artifact_check(output: Any, work_dir: Path, kind: str) -> Path:
    if not isinstance(output, TrainingOutput):
        raise TypeError(
            f"The trainer of {kind} returned {type(output).__name__}, not TrainingOutput"
        )
    source = Path(output.artifact_path).resolve()
    if not source.is_relative_to(work_dir.resolve()):
        raise ValueError(f"The trainer of {kind} wrote its artifact outside its work_dir: {source}")
    if not source.is_file():
        raise FileNotFoundError(f"The trainer of {kind} returned no artifact file at {source}")
    return source


def _artifact_publish(
    *,
    run_id: int,
    attempt: int,
    spec: KindSpec,
    output: TrainingOutput,
    source: Path,
    timings: dict[str, float],
) -> ModelVersion:
    """Hash the finished file, then register it and move it into place in one transaction."""
    content_hash, size = file_sha256(source)
    extension = "".join(source.suffixes)[-16:] or ".bin"
    metrics = json_safe(output.metrics or {})
    for attempt_number in range(1, _PUBLISH_TRIES + 1):
        try:
            return _artifact_register(
                run_id=run_id,
                attempt=attempt,
                kind=spec.kind,
                source=source,
                extension=extension,
                content_hash=content_hash,
                size=size,
                metrics=metrics,
                dataset_hash=output.dataset_hash[:64],
                timings=timings,
            )
        except IntegrityError:
            # Another run of this kind took the same version number first; take the next.
            if attempt_number == _PUBLISH_TRIES:
                raise
    raise AssertionError("unreachable")


def _kind_lock(kind: str) -> None:
    """Serialise version numbering per kind (PostgreSQL); other databases rely on the unique key."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"ml.version:{kind}"])


def _artifact_register(
    *,
    run_id: int,
    attempt: int,
    kind: str,
    source: Path,
    extension: str,
    content_hash: str,
    size: int,
    metrics: dict[str, Any],
    dataset_hash: str,
    timings: dict[str, float],
) -> ModelVersion:
    destination: Path | None = None
    try:
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update().get(pk=run_id)
            if run.attempts != attempt:
                raise _Superseded()
            _kind_lock(kind)
            latest = ModelVersion.objects.filter(kind=kind).aggregate(latest=Max("version"))[
                "latest"
            ]
            version_number = (latest or 0) + 1
            relative = f"{kind}/v{version_number}-{content_hash[:12]}{extension}"
            model_version = ModelVersion.objects.create(
                kind=kind,
                version=version_number,
                artifact_path=relative,
                content_hash=content_hash,
                size_bytes=size,
                metrics=metrics,
                params=run.params,
                dataset_hash=dataset_hash,
                training_run=run,
            )
            ModelAlias.objects.update_or_create(
                kind=kind, alias=Alias.CHAMPION, defaults={"model_version": model_version}
            )
            _activation_schedule(kind=kind, model_version_id=model_version.pk)
            now = timezone.now()
            run.status = RunStatus.SUCCEEDED
            run.progress = 100
            run.progress_message = f"Done: v{version_number} is the champion"
            run.metrics = metrics
            run.dataset_hash = dataset_hash
            run.finished_at = now
            run.heartbeat_at = now
            run.timings = timings
            run.error = ""
            run.save()
            # Last step inside the transaction: the rows commit only with the file in place.
            destination = artifact_root() / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)
    except BaseException:
        if destination is not None and destination.exists() and not source.exists():
            os.replace(destination, source)  # rolled back: nothing may point at it, undo the move
        raise
    return model_version


def training_run_execute(*, run_id: int, worker: str = "") -> TrainingRun | None:
    """Claim a run, train it and publish the artifact; the only place a trainer is called.

    Idempotent for task re-delivery: a finished run is left alone, a run held by a live
    worker raises RunBusy (the task retries later), a run whose worker died (stale heartbeat
    or marked lost) is taken over. Outcomes are recorded on the row, never raised: trainers'
    NotEnoughData becomes `not_enough_data` with its message; any other error becomes
    `failed` with a readable first line, and the previous champion keeps serving.
    Returns the row as it ends, or None when it does not exist.
    """
    claimed = _training_run_claim(run_id=run_id, worker=worker or socket.gethostname())
    if claimed is None:
        return TrainingRun.objects.filter(pk=run_id).first()
    run, spec = claimed
    attempt = run.attempts
    queued_seconds = (run.started_at - run.created_at).total_seconds() if run.started_at else 0.0
    timings: dict[str, float] = {"queued_seconds": round(queued_seconds, 3)}
    started = time.monotonic()
    work_dir: Path | None = None
    heartbeat = _Heartbeat(run_id=run.pk, attempt=attempt)
    heartbeat.start()
    try:
        work_dir = _work_dir_create(run)
        context = TrainingContext(
            run_id=run.pk,
            kind=run.kind,
            params=dict(run.params),
            device=run.device,
            work_dir=work_dir,
            attempt=attempt,
            progress_callback=_ProgressWriter(run_id=run.pk, attempt=attempt),
        )
        output = spec.trainer(context)
        timings["train_seconds"] = round(time.monotonic() - started, 3)
        source = _artifact_check(output, work_dir, run.kind)
        context.report_progress(99, "Publishing the model")
        timings["total_seconds"] = round(time.monotonic() - started, 3)
        version = _artifact_publish(
            run_id=run.pk, attempt=attempt, spec=spec, output=output, source=source, timings=timings
        )
        logger.info("Training run %s published %s", run.pk, version)
    except NotEnoughData as error:
        timings["total_seconds"] = round(time.monotonic() - started, 3)
        _training_run_finish(
            run_id=run.pk,
            attempt=attempt,
            status=RunStatus.NOT_ENOUGH_DATA,
            error=error.message,
            timings=timings,
        )
    except SoftTimeLimitExceeded:
        timings["total_seconds"] = round(time.monotonic() - started, 3)
        _training_run_finish(
            run_id=run.pk,
            attempt=attempt,
            status=RunStatus.FAILED,
            error=f"Stopped at the time limit after {timings['total_seconds']:.0f} s; "
            "train on less data or with lighter params.",
            timings=timings,
        )
    except _Superseded:
        logger.warning("Run %s was taken over by another worker; result discarded", run.pk)
    except Exception as error:
        logger.exception("Training run %s (%s) failed", run.pk, run.kind)
        timings["total_seconds"] = round(time.monotonic() - started, 3)
        _training_run_finish(
            run_id=run.pk,
            attempt=attempt,
            status=RunStatus.FAILED,
            error=_error_text(error),
            timings=timings,
        )
    finally:
        heartbeat.stop()
        if work_dir is not None:
            shutil.rmtree(work_dir, ignore_errors=True)
    return TrainingRun.objects.filter(pk=run_id).first()
