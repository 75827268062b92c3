"""`manage.py import_data --kind K --file F [--mapping c=f,...] [--format F] [--json]`.

Runs the import in this process through the same job service as the web UI and the API
(a job row, chunked commits, an error file), with a progress bar on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.errors import DomainError
from apps.imports import services
from apps.imports.choices import ImportKind, ImportStatus, ImportTrigger
from apps.imports.models import ImportJob


def _mapping(raw: str | None) -> dict[str, str] | None:
    """'Email Address=email,Notes=-' -> {'Email Address': 'email', 'Notes': '-'}."""
    if not raw:
        return None
    mapping: dict[str, str] = {}
    for pair in raw.split(","):
        if not pair.strip():
            continue
        column, separator, target = pair.rpartition("=")
        if not separator or not column.strip():
            raise CommandError(
                f"--mapping: {pair.strip()!r} is not column=field (use - to leave a column out)"
            )
        mapping[column.strip()] = target.strip()
    return mapping


def _error_file_path(job: ImportJob) -> str | None:
    if not job.error_file:
        return None
    try:
        return default_storage.path(job.error_file.name or "")
    except NotImplementedError:  # remote storage: its name there
        return job.error_file.name


def _document(job: ImportJob, seconds: float) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "file": job.original_filename,
        "format": job.format,
        "mapping": job.ordered_mapping,
        "rows_total": job.rows_total,
        "rows_processed": job.rows_processed,
        "created": job.rows_created,
        "updated": job.rows_updated,
        "skipped": job.rows_skipped,
        "failed": job.rows_failed,
        "details": job.details,
        "error_file": _error_file_path(job),
        "error_message": job.error_message,
        "seconds": round(seconds, 3),
        "rows_per_second": round(job.rows_processed / seconds, 1) if seconds > 0 else None,
    }


class Command(BaseCommand):
    help = (
        "Import a CSV, JSON array or JSON Lines file of customers, products, orders (one row per "
        "line), events, reviews or social posts. Bad rows go to an error file and never stop "
        "the others; re-importing a file stores nothing twice. See docs/imports.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", help=f"What a row is: {', '.join(ImportKind.values)}.")
        parser.add_argument("--file", help="Path of the CSV / JSON / JSON Lines file.")
        parser.add_argument(
            "--format",
            default="",
            help="csv, json or jsonl (default: from the file name and its first bytes).",
        )
        parser.add_argument(
            "--mapping",
            default=None,
            help="Columns to fields over the suggestion, e.g. 'Order #=order_id,Notes=-' "
            "('-' leaves a column out, '+' keeps it as attribute/property).",
        )
        parser.add_argument(
            "--encoding", default="utf-8", help="utf-8 (default), cp1252 or latin-1 (CSV only)."
        )
        parser.add_argument(
            "--delimiter", default="", help="CSV delimiter (default: detected among , ; tab |)."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON document on stdout."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        path = options["file"]
        if not kind:
            raise CommandError(f"--kind is required: one of {', '.join(ImportKind.values)}")
        if kind not in ImportKind.values:
            raise CommandError(f"--kind: {kind!r} is not one of {', '.join(ImportKind.values)}")
        if not path:
            raise CommandError("--file is required: the path of the file to import")
        if not os.path.isfile(path):
            raise CommandError(f"--file: {path} does not exist or is not a file")
        delimiter = "\t" if options["delimiter"] in ("tab", "\\t") else options["delimiter"]
        mapping = _mapping(options["mapping"])
        started = time.monotonic()
        try:
            with open(path, "rb") as stream:
                job = services.import_job_create(
                    kind=kind,
                    file=stream,
                    filename=os.path.basename(path),
                    trigger=ImportTrigger.CLI,
                    mapping=mapping,
                    format=options["format"],
                    encoding=options["encoding"],
                    delimiter=delimiter,
                    created_by_label="command line",
                    in_background=False,
                )
        except PermissionError:
            raise CommandError(f"--file: {path} is not readable") from None
        except DomainError as error:
            raise CommandError(f"{path}: {error.message}") from None
        self.stderr.write(f"Import {job.pk}: {kind} from {path} ({job.format})")
        finished = self._run(job, show_progress=not options["no_progress"])
        seconds = time.monotonic() - started
        if options["json"]:
            self.stdout.write(json.dumps(_document(finished, seconds), indent=2, default=str))
        else:
            self._summary(finished, seconds)
        if finished.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"Import {finished.pk} failed: {finished.error_message}")

    def _run(self, job: ImportJob, *, show_progress: bool) -> ImportJob:
        bar: tqdm | None = None

        def progress(current: ImportJob) -> None:
            nonlocal bar
            if not show_progress:
                return
            if bar is None:
                bar = tqdm(
                    total=current.rows_total,
                    unit="rows",
                    unit_scale=True,
                    desc=f"import {current.pk}",
                    file=getattr(self.stderr, "_out", sys.stderr),
                    dynamic_ncols=True,
                )
            bar.n = current.rows_processed
            bar.set_postfix(failed=current.rows_failed, refresh=False)
            bar.refresh()

        try:
            result = services.import_job_run(job_id=job.pk, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        assert result is not None
        return result

    def _summary(self, job: ImportJob, seconds: float) -> None:
        rate = f" ({job.rows_processed / seconds:,.0f} rows/s)" if seconds > 0 else ""
        self.stdout.write(
            f"Import {job.pk} {job.status}: {job.rows_processed:,} rows in {seconds:.1f} s{rate}"
        )
        self.stdout.write(
            f"  created {job.rows_created:,}, updated {job.rows_updated:,}, "
            f"already imported {job.rows_skipped:,}, failed {job.rows_failed:,}"
        )
        for name, count in sorted(job.details.items()):
            self.stdout.write(f"  {name.replace('_', ' ')}: {count:,}")
        if job.error_file:
            self.stdout.write(f"  error file: {_error_file_path(job)}")
        if job.error_message:
            self.stdout.write(f"  {job.error_message}")
