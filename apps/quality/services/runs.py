"""Cleaning runs: start one by hand, schedule one after an import or ingest batch, execute.

A run is a row first (queued), then a task: `quality.run_cleaning_task` claims the row
(queued -> running) before doing anything, so a message delivered twice runs once. Each
entity is cleaned in its own transaction under a lock, so two runs never clean the same
entity at once and a failing entity leaves nothing half-written.
"""

from __future__ import annotations

import functools
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.accounts.services import audit_log_record
from apps.core.errors import NotFound, ValidationFailed
from apps.quality.choices import CleaningTrigger, Entity, RunStatus
from apps.quality.models import CleaningRun
from apps.quality.services.reports import quality_report_compute
from apps.quality.services.steps import ENTITY_STEPS

logger = logging.getLogger(__name__)

# Batches of one import arrive seconds apart: one run a little later covers all of them.
DEBOUNCE_SECONDS = 120
# The pending mark outlives the countdown, so a busy queue does not pile up runs; it is
# removed when the run starts, and expires on its own if no worker ever takes it.
PENDING_TTL_SECONDS = DEBOUNCE_SECONDS + 600
PENDING_KEY = "quality:cleaning:pending:{entity}"
# Runs asked for by new data (not by a person), debounced by the pending marks.
AUTOMATIC_TRIGGERS = (CleaningTrigger.IMPORT, CleaningTrigger.INGEST)
AUDIT_STARTED = "quality.cleaning_started"


def entities_parse(entities: Iterable[str] | str | None) -> list[str]:
    """Entities in pipeline order from a list or a comma-separated string; empty or "all"
    means every entity. An unknown name is a 400 naming it."""
    if entities is None:
        names: list[str] = []
    elif isinstance(entities, str):
        names = [part.strip() for part in entities.split(",") if part.strip()]
    else:
        names = [str(part).strip() for part in entities if str(part).strip()]
    if not names or names == ["all"]:
        return list(Entity.values)
    unknown = [name for name in names if name not in Entity.values]
    if unknown:
        raise ValidationFailed(
            f"entities: unknown entity {unknown[0]!r}; known: {', '.join(Entity.values)}",
            field="entities",
        )
    return [name for name in Entity.values if name in names]


def _check_trigger(trigger: str) -> None:
    if trigger not in CleaningTrigger.values:
        raise ValidationFailed(
            f"trigger: unknown trigger {trigger!r}; known: {', '.join(CleaningTrigger.values)}",
            field="trigger",
        )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _run_create(
    *, entities: list[str], trigger: str, actor: Any = None, actor_label: str = ""
) -> CleaningRun:
    _check_trigger(trigger)
    label = actor_label or ("" if actor is None or _user(actor) else str(actor))
    run = CleaningRun.objects.create(
        entities=entities,
        trigger=trigger,
        requested_by=_user(actor),
        requested_label=label[:200],
    )
    if trigger == CleaningTrigger.MANUAL:  # automatic runs are not someone's action
        audit_log_record(
            action=AUDIT_STARTED,
            target=str(run),
            actor=actor,
            actor_label=actor_label,
            data={"run_id": run.pk, "entities": entities},
        )
    return run


def _enqueue(*, run_id: int, countdown: int = 0) -> None:
    """Send the run's task; if the broker cannot take it, the run fails saying so."""
    # Imported here: tasks import this module.
    from apps.quality.tasks import run_cleaning_task

    try:
        run_cleaning_task.apply_async(args=[run_id], queue="default", countdown=countdown)
    except (KombuOperationalError, RedisError) as error:
        logger.error("Cleaning run %s could not be enqueued: %s", run_id, error)
        CleaningRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"Could not enqueue the task: the broker is unreachable ({error}). "
            "Nothing ran; start a run again once Redis is back.",
        )


@transaction.atomic
def cleaning_start(
    *,
    entities: Iterable[str] | str | None = None,
    trigger: str = CleaningTrigger.MANUAL,
    actor: Any = None,
    actor_label: str = "",
) -> CleaningRun:
    """Queue a cleaning run of `entities` (all by default) and enqueue it once committed.

    What the UI button, the API and the admin call; the CLI runs in-process instead.
    """
    run = _run_create(
        entities=entities_parse(entities), trigger=trigger, actor=actor, actor_label=actor_label
    )
    transaction.on_commit(functools.partial(_enqueue, run_id=run.pk))
    return run


def cleaning_schedule(*, entities: Sequence[str], trigger: str) -> None:
    """Ask for a cleaning run after a batch of new data; cheap and debounced.

    Called by imports and ingestion after each batch. Nothing happens until the caller's
    transaction commits (a rolled-back batch asks for nothing); then one Redis SET NX per
    entity decides whether a run is already pending. At most one run per entity is queued at
    a time; it starts DEBOUNCE_SECONDS later so that the following batches of the same
    import are cleaned by the same run. Entities the pipeline does not know are ignored.
    """
    _check_trigger(trigger)
    wanted = [name for name in Entity.values if name in set(entities)]
    if wanted:
        transaction.on_commit(
            functools.partial(_schedule_committed, entities=wanted, trigger=trigger), robust=True
        )


def _schedule_committed(*, entities: list[str], trigger: str) -> None:
    claimed = [
        entity
        for entity in entities
        if cache.add(PENDING_KEY.format(entity=entity), 1, timeout=PENDING_TTL_SECONDS)
    ]
    if not claimed:
        return
    with transaction.atomic():
        run = _run_create(entities=claimed, trigger=trigger, actor_label=f"after {trigger}")
        transaction.on_commit(
            functools.partial(_enqueue, run_id=run.pk, countdown=DEBOUNCE_SECONDS)
        )


def _entity_lock(entity: str) -> None:
    """Hold a transaction-scoped lock per entity (PostgreSQL), so two runs never clean the
    same entity at once: the second waits, then finds little left to change."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"quality.cleaning.{entity}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def cleaning_run_execute(
    *,
    run_id: int,
    auto_merge: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CleaningRun:
    """Execute a queued run: clean each entity, then compute its quality report.

    Idempotent: a run that is not queued (another delivery took it, or it finished) is
    returned untouched. A failing entity rolls back its own changes, ends the run as failed
    with the reason, and leaves the entities cleaned before it committed.
    """
    claimed = CleaningRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    run = CleaningRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"cleaning run {run_id} does not exist", code="run_not_found")
    if not claimed:
        return run
    # With a worker, the marks clear as the run starts, so batches arriving during the run get
    # the next one. In-process mode (no broker: the embedded demo) runs the cleaning inside the
    # request that asked for it, with no countdown: the marks then stay until they expire, so
    # at most one automatic run per entity per PENDING_TTL_SECONDS slows a request down.
    if not current_app.conf.task_always_eager or run.trigger not in AUTOMATIC_TRIGGERS:
        try:
            cache.delete_many([PENDING_KEY.format(entity=entity) for entity in run.entities])
        except RedisError as error:  # the marks expire on their own; cleaning goes on
            logger.warning("Cleaning run %s could not clear its pending marks: %s", run.pk, error)
    totals: dict[str, Any] = {}
    try:
        for entity in run.entities:
            if progress is not None:
                progress(entity)
            started = time.monotonic()
            with transaction.atomic():
                _entity_lock(entity)
                step = ENTITY_STEPS.get(entity)
                entity_totals = step(run, auto_merge=auto_merge) if step else {}
                report = quality_report_compute(entity=entity, run=run)
            totals[entity] = {
                **entity_totals,
                "rows": report.rows,
                "seconds": round(time.monotonic() - started, 3),
            }
            CleaningRun.objects.filter(pk=run.pk).update(totals=totals)
    except Exception as error:  # recorded on the run, which is what the UI and API show
        logger.exception("Cleaning run %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
    else:
        run.status = RunStatus.SUCCEEDED
    run.totals = totals
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "totals", "finished_at", "updated_at"])
    return run


def cleaning_run(
    *,
    entities: Iterable[str] | str | None = None,
    trigger: str = CleaningTrigger.MANUAL,
    actor: Any = None,
    actor_label: str = "",
    auto_merge: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CleaningRun:
    """Clean `entities` now, in this process, and return the finished run (the CLI's way).

    With `auto_merge` off, exact duplicate customers are reported instead of merged;
    `progress` is called with each entity's name as its turn comes.
    """
    with transaction.atomic():
        run = _run_create(
            entities=entities_parse(entities),
            trigger=trigger,
            actor=actor,
            actor_label=actor_label,
        )
    return cleaning_run_execute(run_id=run.pk, auto_merge=auto_merge, progress=progress)
