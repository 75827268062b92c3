"""`manage.py train --kind K [--params JSON] [--wait] [--json]`: start (and follow) a training run."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.errors import DomainError
from apps.ml import selectors, services
from apps.ml.choices import FINISHED_STATUSES, RunStatus, TriggerSource
from apps.ml.models import TrainingRun

POLL_SECONDS = 0.5


def _run_document(run: TrainingRun) -> dict[str, Any]:
    version = getattr(run, "model_version", None)
    champion = selectors.champion_get(run.kind)
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "progress_message": run.progress_message,
        "params": run.params,
        "metrics": run.metrics,
        "error": run.error,
        "queue": run.queue,
        "device": run.device,
        "worker": run.worker,
        "timings": run.timings,
        "model_version": (
            {
                "id": version.pk,
                "version": version.version,
                "content_hash": version.content_hash,
                "artifact_path": str(selectors.artifact_path(version)),
                "is_champion": champion is not None and champion.pk == version.pk,
            }
            if version
            else None
        ),
    }


class Command(BaseCommand):
    help = (
        "Start a training run of a registered kind (--kind) or of every routine kind (--all). "
        "With --wait, follow it with a progress bar on stderr and exit non-zero unless it "
        "succeeds (with --all: unless none failed; 'not enough data' is reported, not fatal)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--kind", help="Registered kind, e.g. catalog.product_popularity.")
        which.add_argument(
            "--all",
            action="store_true",
            help="Every registered kind meant for routine training, with default parameters.",
        )
        which.add_argument(
            "--list-kinds", action="store_true", help="List registered kinds and exit."
        )
        parser.add_argument(
            "--params",
            default=None,
            help="Kind parameters as a JSON object, e.g. '{\"half_life_days\": 14}'.",
        )
        parser.add_argument("--wait", action="store_true", help="Wait for the run(s) to end.")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="With --wait: give up waiting after this many seconds (the run continues).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON document on stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list_kinds"]:
            self._list_kinds(as_json=options["json"])
            return
        if options["all"]:
            if options["params"] is not None:
                raise CommandError(
                    "--params cannot be combined with --all (each kind uses its defaults)"
                )
            kinds = [spec.kind for spec in selectors.kind_list() if spec.train_all]
            params: dict[str, Any] = {}
        elif options["kind"]:
            kinds = [options["kind"]]
            params = self._params(options["params"])
        else:
            raise CommandError("Give --kind K or --all (see --list-kinds)")
        runs = [self._start(kind, params) for kind in kinds]
        if options["wait"]:
            runs = [self._wait(run, timeout=options["timeout"]) for run in runs]
        runs = [selectors.training_run_get(run_id=run.pk) for run in runs]
        if options["json"]:
            documents = [_run_document(run) for run in runs]
            document = {"runs": documents} if options["all"] else documents[0]
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            for run in runs:
                self._summary(run)
        if options["wait"]:
            self._exit_status(runs, all_kinds=options["all"])

    @staticmethod
    def _params(raw: str | None) -> dict[str, Any]:
        if raw is None:
            return {}
        try:
            params = json.loads(raw)
        except json.JSONDecodeError as error:
            raise CommandError(f"--params is not valid JSON: {error}") from None
        if not isinstance(params, dict):
            raise CommandError("--params must be a JSON object, e.g. '{\"seconds\": 5}'")
        return params

    def _start(self, kind: str, params: dict[str, Any]) -> TrainingRun:
        try:
            run = services.training_run_start(kind=kind, params=params, trigger=TriggerSource.CLI)
        except DomainError as error:
            raise CommandError(error.message) from None
        run.refresh_from_db()
        if run.status == RunStatus.QUEUED:
            self.stderr.write(f"Run {run.pk} ({run.kind}) queued on {run.queue}")
        else:  # no broker configured (no REDIS_URL): Celery ran it right here
            self.stderr.write(f"Run {run.pk} ({run.kind}) ran in this process (Celery eager mode)")
        return run

    def _exit_status(self, runs: list[TrainingRun], *, all_kinds: bool) -> None:
        def reason(run: TrainingRun) -> str:
            return run.error.splitlines()[0] if run.error else run.status

        if not all_kinds:
            run = runs[0]
            if run.status != RunStatus.SUCCEEDED:
                raise CommandError(f"Run {run.pk} ended {run.status}: {reason(run)}")
            return
        for run in runs:
            if run.status == RunStatus.NOT_ENOUGH_DATA:
                self.stderr.write(f"{run.kind}: not enough data yet: {reason(run)}")
        failed = [
            run
            for run in runs
            if run.status not in (RunStatus.SUCCEEDED, RunStatus.NOT_ENOUGH_DATA)
        ]
        if failed:
            summary = "; ".join(
                f"run {run.pk} ({run.kind}) {run.status}: {reason(run)}" for run in failed
            )
            raise CommandError(f"{len(failed)} of {len(runs)} runs did not succeed: {summary}")

    def _list_kinds(self, *, as_json: bool) -> None:
        kinds = selectors.kind_list()
        if as_json:
            document = [
                {
                    "kind": spec.kind,
                    "description": spec.description,
                    "gpu_capable": spec.gpu_capable,
                    "train_all": spec.train_all,
                    "default_params": dict(spec.default_params),
                }
                for spec in kinds
            ]
            self.stdout.write(json.dumps(document, indent=2))
            return
        for spec in kinds:
            self.stdout.write(f"{spec.kind}\t{spec.description}")

    def _wait(self, run: TrainingRun, *, timeout: float | None) -> TrainingRun:
        """Poll the row, drawing a bar on stderr, until the run ends (or the timeout passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = tqdm(
            total=100,
            file=getattr(self.stderr, "_out", sys.stderr),  # the raw stream: tqdm redraws with \r
            desc=f"run {run.pk}",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}",
            dynamic_ncols=True,
        )
        try:
            while True:
                run.refresh_from_db()
                bar.n = run.progress
                bar.set_postfix_str(f"{run.status}: {run.progress_message}"[:60], refresh=False)
                bar.refresh()
                if run.status in (*FINISHED_STATUSES, RunStatus.LOST):
                    return run
                if deadline is not None and time.monotonic() > deadline:
                    raise CommandError(
                        f"Run {run.pk} still {run.status} after {timeout:g} s; it continues in the "
                        f"background (manage.py train is not needed to finish it)"
                    )
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            raise CommandError(
                f"Stopped waiting; run {run.pk} continues in the background"
            ) from None
        finally:
            bar.close()

    def _summary(self, run: TrainingRun) -> None:
        version = getattr(run, "model_version", None)
        if run.status == RunStatus.SUCCEEDED and version:
            self.stdout.write(f"Run {run.pk} succeeded: {version} is the champion")
            for name, value in sorted(run.metrics.items()):
                self.stdout.write(f"  {name}: {value}")
        elif run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            self.stdout.write(f"Run {run.pk} is {run.status}; follow it with --wait or at /models/")
        else:
            reason = run.error.splitlines()[0] if run.error else ""
            self.stdout.write(f"Run {run.pk} ended {run.status}: {reason}".rstrip(": "))
