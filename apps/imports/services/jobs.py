"""Import jobs: create (store and check the file), start, run chunk by chunk, resume, discard.

A job moves draft -> queued -> running -> succeeded | failed. `import_job_run` is the only
code that reads a file into the database. Each chunk of rows is written in one transaction
together with the job's counters and the chunk's failed rows, so whatever happens (a crash,
a lost worker, a time limit) the job row says exactly how far the file got: a re-run skips
those rows and goes on, and the natural keys of every kind make a whole re-import harmless.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.core.choices import Queue
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.imports.choices import (
    ACTIVE_STATUSES,
    ImportKind,
    ImportStatus,
    ImportTrigger,
)
from apps.imports.engine.mapping import MappingProblem, RowMapper, mapping_resolve, suggest_mapping
from apps.imports.engine.readers import (
    FileLayout,
    FileProblem,
    count_records,
    detect_format,
    open_records,
    read_layout,
)
from apps.imports.models import ImportJob, ImportRowError
from apps.imports.selectors import error_file_lines, import_job_stalled, job_layout
from apps.imports.services.writers import WRITERS, ChunkOutcome
from apps.quality.services import cleaning_schedule

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
# What each kind's import may have changed, for the cleaning pipeline.
CLEANING_ENTITIES = {
    ImportKind.CUSTOMERS: ("customers",),
    ImportKind.PRODUCTS: ("products",),
    ImportKind.ORDERS: ("orders",),
    ImportKind.EVENTS: ("events",),
    ImportKind.REVIEWS: ("reviews",),
    ImportKind.SOCIAL: ("social",),
}
ProgressCallback = Callable[[ImportJob], None]


class _TakenOver(Exception):
    """Another attempt of the same job claimed it (a re-delivered task): this one stops."""


def _user_or_none(user: Any) -> Any:
    """Django users only: API keys act through an `ApiKeyUser`, which is not a row."""
    return user if getattr(user, "pk", None) else None


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationFailed(
            f"kind: {kind!r} is not one of {', '.join(ImportKind.values)}", field="kind"
        )


def _digest(stream: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while block := stream.read(1 << 20):
        digest.update(block)
        size += len(block)
    stream.seek(0)
    return digest.hexdigest(), size


def _inspect(
    stream: IO[bytes], *, filename: str, format: str, encoding: str, delimiter: str
) -> FileLayout:
    """Format, delimiter and columns of the uploaded file; a bad file is a 400 naming it."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head.strip():
        raise ValidationFailed("file: the file is empty", field="file")
    chosen = format or detect_format(filename, head)
    try:
        layout = read_layout(
            stream, format=chosen, encoding=encoding or "utf-8", delimiter=delimiter or None
        )
    except FileProblem as problem:
        raise ValidationFailed(f"file: {problem}", field="file") from None
    finally:
        stream.seek(0)
    return layout


def _resolved_mapping(
    kind: str, columns: list[str], mapping: Mapping[str, Any] | None
) -> dict[str, str]:
    try:
        return mapping_resolve(kind, columns, mapping)
    except MappingProblem as problem:
        raise ValidationFailed(problem.message, field=problem.field) from None


def _storage_name(filename: str) -> str:
    safe = get_valid_filename(os.path.basename(filename)) or "upload"
    return f"imports/{uuid.uuid4().hex}/{safe[-150:]}"


def _enqueue(*, job_id: int, task_id: str) -> None:
    """Send the job's task; if the broker cannot take it, the job fails saying so."""
    from apps.imports.tasks import run_import_task  # tasks import this module

    try:
        run_import_task.apply_async(args=[job_id], queue=Queue.INGEST, task_id=task_id)
    except (KombuOperationalError, RedisError) as error:
        logger.error("Import job %s could not be enqueued: %s", job_id, error)
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            error_message=f"Could not enqueue the import: the task broker is unreachable "
            f"({error}). Nothing was imported; resume it once Redis is back.",
        )


def _queue(job: ImportJob, *, in_background: bool) -> None:
    """Mark a job queued; once saved, `_send_on_commit` sends its task (unless run here)."""
    job.status = ImportStatus.QUEUED
    job.task_id = str(uuid.uuid4()) if in_background else ""


def _send_on_commit(job: ImportJob) -> None:
    if job.task_id:
        transaction.on_commit(functools.partial(_enqueue, job_id=job.pk, task_id=job.task_id))


@transaction.atomic
def import_job_create(
    *,
    kind: str,
    file: IO[bytes],
    filename: str,
    trigger: str,
    mapping: Mapping[str, Any] | None = None,
    format: str = "",
    encoding: str = "utf-8",
    delimiter: str = "",
    created_by: Any = None,
    created_by_label: str = "",
    start: bool = True,
    in_background: bool = True,
) -> ImportJob:
    """Store an uploaded file as an import job and (with `start`) queue it.

    The file is checked before anything is stored: its format, encoding and header are
    readable and, when starting, every required field has a column (the mapping given is
    applied over the suggested one). Without `start` the job waits as a draft for the
    column-mapping page. With `in_background=False` the caller runs it (the command line).
    """
    _check_kind(kind)
    if trigger not in ImportTrigger.values:
        raise ValidationFailed(f"trigger: {trigger!r} is not a known trigger", field="trigger")
    if format and format not in ("csv", "json", "jsonl"):
        raise ValidationFailed(f"format: {format!r} is not one of csv, json, jsonl", field="format")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ValidationFailed("mapping: must be an object {column: field}", field="mapping")
    layout = _inspect(
        file, filename=filename, format=format, encoding=encoding, delimiter=delimiter
    )
    columns = list(layout.columns)
    # A draft gets the suggestion; the mapping page shows it and starts the job.
    resolved = (
        _resolved_mapping(kind, columns, mapping) if start else suggest_mapping(kind, columns)
    )
    sha256, size = _digest(file)
    stored_name = default_storage.save(_storage_name(filename), File(file, name=filename))
    user = _user_or_none(created_by)
    job = ImportJob(
        kind=kind,
        status=ImportStatus.DRAFT,
        original_filename=os.path.basename(filename)[:255] or "upload",
        file_size=size,
        sha256=sha256,
        format=layout.format,
        encoding=layout.encoding,
        delimiter=layout.delimiter if layout.format == "csv" else "",
        columns=columns,
        mapping=resolved,
        trigger=trigger,
        created_by=user,
        created_by_label=(created_by_label or ("" if user else str(created_by or "")))[:128],
    )
    job.file.name = stored_name
    if start:
        _queue(job, in_background=in_background)
    job.save()
    _send_on_commit(job)
    return job


@transaction.atomic
def import_job_start(
    *, job_id: int, mapping: Mapping[str, Any] | None = None, in_background: bool = True
) -> ImportJob:
    """Start a draft job with the chosen column mapping (applied over the suggestion).

    Refuses (400, naming the field) a mapping that leaves a required field without a
    column, and (409) a job that has already started.
    """
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"import {job_id} does not exist", code="import_not_found")
    if job.status != ImportStatus.DRAFT:
        raise Conflict(f"import {job_id} has already started ({job.status})", code="import_started")
    job.mapping = _resolved_mapping(job.kind, list(job.columns), mapping)
    _queue(job, in_background=in_background)
    job.save(update_fields=["mapping", "status", "task_id", "updated_at"])
    _send_on_commit(job)
    return job


@transaction.atomic
def import_job_resume(*, job_id: int) -> ImportJob:
    """Queue a failed (or stalled) job again: it goes on after the last committed row.

    A running job counts as stalled when its progress has not moved for
    `selectors.STALLED_AFTER_SECONDS` (its worker died and no broker re-delivered the task, e.g. a
    killed command line). Rows already stored are not read again; as every kind has a
    natural key, even a job whose progress was lost would store nothing twice.
    """
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"import {job_id} does not exist", code="import_not_found")
    if job.status != ImportStatus.FAILED and not import_job_stalled(job=job):
        raise Conflict(
            f"import {job_id} is {job.status}; only a failed or stalled import can be resumed",
            code="import_not_failed",
        )
    if not job.file or not default_storage.exists(job.file.name or ""):
        raise ValidationFailed(
            f"file: the file of import {job_id} is no longer stored; upload it again",
            field="file",
        )
    job.error_message = ""
    job.finished_at = None
    _queue(job, in_background=True)
    job.save(update_fields=["status", "task_id", "error_message", "finished_at", "updated_at"])
    _send_on_commit(job)
    return job


def _delete_with_files(job: ImportJob) -> None:
    names = [name for name in (job.file.name, job.error_file.name) if name]
    job.delete()
    for name in names:
        transaction.on_commit(functools.partial(default_storage.delete, name))


@transaction.atomic
def import_job_discard(*, job_id: int) -> None:
    """Delete a draft (never started) job and its stored file."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"import {job_id} does not exist", code="import_not_found")
    if job.status != ImportStatus.DRAFT:
        raise Conflict(
            f"import {job_id} has started; imports that ran are kept as history",
            code="import_started",
        )
    _delete_with_files(job)


@transaction.atomic
def import_job_delete(*, job_id: int) -> None:
    """Delete a job that is not queued or running, with its uploaded file and error file.

    Uploads hold personal data: deleting the job is how an admin removes them. The rows the
    import stored stay; they belong to their apps now.
    """
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"import {job_id} does not exist", code="import_not_found")
    if job.status in ACTIVE_STATUSES:
        raise Conflict(
            f"import {job_id} is {job.status}; delete it once it has ended",
            code="import_active",
        )
    _delete_with_files(job)


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_STATUSES:
            return job
        job.status = ImportStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.error_message = ""
        job.save(update_fields=["status", "attempts", "started_at", "error_message", "updated_at"])
        return job


def _open(job: ImportJob) -> IO[bytes]:
    try:
        return default_storage.open(job.file.name or "", "rb")
    except FileNotFoundError:
        raise FileProblem("the uploaded file is no longer stored; upload it again") from None


def _records(job: ImportJob) -> tuple[IO[bytes], Iterator[Any]]:
    layout = job_layout(job)
    stream = _open(job)
    _, records = open_records(
        stream, format=layout.format, encoding=layout.encoding, delimiter=layout.delimiter
    )
    return stream, records


def _count(job: ImportJob) -> int:
    stream = _open(job)
    try:
        return count_records(stream, layout=job_layout(job))
    finally:
        stream.close()


def _commit_chunk(
    job: ImportJob, attempt: int, write: Callable[[], ChunkOutcome]
) -> tuple[ImportJob, ChunkOutcome]:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.attempts != attempt or locked.status != ImportStatus.RUNNING:
            raise _TakenOver
        outcome = write()
        ImportRowError.objects.bulk_create(
            [
                ImportRowError(
                    job=locked,
                    row_number=failure.row_number,
                    column=failure.column[:255],
                    field=failure.field[:64],
                    reason=failure.reason,
                    values=failure.values,
                )
                for failure in outcome.failures
            ],
            batch_size=1000,
        )
        locked.rows_processed += outcome.records
        locked.rows_created += outcome.created
        locked.rows_updated += outcome.updated
        locked.rows_skipped += outcome.skipped
        locked.rows_failed += len(outcome.failures)
        if outcome.details:
            details = dict(locked.details)
            for name, count in outcome.details.items():
                if count:
                    details[name] = details.get(name, 0) + count
            locked.details = details
        locked.save(
            update_fields=[
                "rows_processed",
                "rows_created",
                "rows_updated",
                "rows_skipped",
                "rows_failed",
                "details",
                "updated_at",
            ]
        )
    return locked, outcome


def _write_error_file(job: ImportJob) -> str:
    """The failed rows as CSV in default storage; returns its name ('' when none failed)."""
    if not ImportRowError.objects.filter(job=job).exists():
        return ""
    name = f"imports/errors/import-{job.pk}-errors.csv"
    with tempfile.TemporaryFile() as buffer:
        for line in error_file_lines(job):
            buffer.write(line.encode("utf-8"))
        buffer.seek(0)
        if default_storage.exists(name):
            default_storage.delete(name)
        return default_storage.save(name, File(buffer, name=os.path.basename(name)))


def _schedule_cleaning(kind: str, details: dict[str, Any]) -> None:
    """Ask the cleaning pipeline (apps.quality) to clean what the import changed."""
    entities = list(CLEANING_ENTITIES[ImportKind(kind)])
    if details.get("customers_created") and "customers" not in entities:
        entities.append("customers")
    cleaning_schedule(entities=entities, trigger="import")


def _finish(job: ImportJob, attempt: int, *, status: str, message: str = "") -> ImportJob:
    error_name = _write_error_file(job)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.attempts != attempt:
            return locked
        locked.status = status
        locked.finished_at = timezone.now()
        locked.error_message = message
        locked.error_file.name = error_name
        locked.save(
            update_fields=["status", "finished_at", "error_message", "error_file", "updated_at"]
        )
        if status == ImportStatus.SUCCEEDED and (locked.rows_created or locked.rows_updated):
            # robust: the import is committed; a failure to schedule is logged, not raised.
            transaction.on_commit(
                functools.partial(_schedule_cleaning, locked.kind, dict(locked.details)),
                robust=True,
            )
    return locked


def import_job_run(*, job_id: int, progress: ProgressCallback | None = None) -> ImportJob | None:
    """Run (or resume) an import job: count its rows, then write them chunk by chunk.

    Idempotent: a finished or draft job is returned as it is; a job another attempt took over
    is left to it. Bad rows go to the error file and never stop the others; a file that cannot
    be read on (a JSON array broken midway) fails the job, keeping the rows before.
    """
    job = _claim(job_id)
    if job is None or job.status != ImportStatus.RUNNING:
        return job
    attempt = job.attempts
    stream: IO[bytes] | None = None
    try:
        if job.rows_total is None:
            job.rows_total = _count(job)
            ImportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
        if progress:
            progress(job)
        writer = WRITERS[job.kind](
            kind=job.kind,
            mapper=RowMapper(job.kind, dict(job.mapping)),
            started_at=job.started_at or timezone.now(),
        )
        stream, records = _records(job)
        records = itertools.islice(records, job.rows_processed, None)  # resume
        for chunk in writer.chunks(records):
            job, _ = _commit_chunk(job, attempt, functools.partial(writer.write, chunk))
            if progress:
                progress(job)
        return _finish(job, attempt, status=ImportStatus.SUCCEEDED)
    except _TakenOver:
        logger.info("Import job %s was taken over by a newer attempt", job_id)
        return ImportJob.objects.get(pk=job_id)
    except KeyboardInterrupt:  # Ctrl-C on the command line: say so, keep what was stored
        _finish(
            job,
            attempt,
            status=ImportStatus.FAILED,
            message=f"Interrupted after {job.rows_processed} rows; the rows before are stored. "
            "Resume the import to go on from there.",
        )
        raise
    except FileProblem as problem:
        kept = (
            f"; the {job.rows_processed} rows before it were processed"
            if job.rows_processed
            else ""
        )
        return _finish(job, attempt, status=ImportStatus.FAILED, message=f"{problem}{kept}")
    except Exception as error:  # a crash: record it readably; the job can be resumed
        logger.exception("Import job %s stopped", job_id)
        return _finish(
            job,
            attempt,
            status=ImportStatus.FAILED,
            message=f"Stopped by an unexpected error after {job.rows_processed} rows: "
            f"{type(error).__name__}: {error}. The rows before it are stored; resume the import "
            "to go on from there.",
        )
    finally:
        if stream is not None:
            stream.close()
