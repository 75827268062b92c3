"""`manage.py rfm compute|clusters|apply`: RFM and lifecycle, customer clusters.

rfm compute [--timeout S] [--json]
    A `segments.rfm` run of the ML platform: RFM scores, cells and lifecycle stages of every
    customer. Waits for it; prints the counts (cells, stages, grid, boundaries).
rfm clusters [--k-min N] [--k-max N] [--algorithm auto|kmeans|gmm] [--seed N]
             [--timeout S] [--json]
    A `segments.clusters` run (a.k.a. "clusters fit"): waits for it, writes the clusters
    into customers' scores, prints the chosen model, the k selection and the profiles.
rfm apply [--json]
    Write the current champion's clusters into customers' scores (after a worker fitted it).

Without a broker (REDIS_URL unset) runs execute in this process. Progress goes to stderr,
one JSON document to stdout with --json; a run that does not succeed exits non-zero with
its reason on one line.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.ml import selectors as ml_selectors
from apps.segments.engine.clustering import ALGORITHMS
from apps.segments.engine.lifecycle import STAGES
from apps.segments.engine.rfm import RFM_CELLS
from apps.segments.services import clustering, rfm

POLL_SECONDS = 0.5
FINISHED = ("succeeded", "failed", "not_enough_data", "lost")
CLI_TRIGGER = "cli"


class Command(BaseCommand):
    help = "RFM scores and lifecycle stages (compute), customer clusters (clusters, apply)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        compute = actions.add_parser("compute", help="Compute RFM and lifecycle (an ML run).")
        clusters = actions.add_parser(
            "clusters", help="Fit customer clusters (an ML run) and write them to customers."
        )
        clusters.add_argument("--k-min", type=int, default=None, help="Smallest k (default 3).")
        clusters.add_argument("--k-max", type=int, default=None, help="Largest k (default 8).")
        clusters.add_argument(
            "--algorithm", choices=ALGORITHMS, default=None, help="auto (default), kmeans, gmm."
        )
        clusters.add_argument("--seed", type=int, default=None, help="Random seed (default 0).")
        for sub in (compute, clusters):
            sub.add_argument(
                "--timeout",
                type=float,
                default=3600,
                help="Give up waiting after this many seconds (the run continues).",
            )
        apply = actions.add_parser("apply", help="Write the champion's clusters to customers.")
        for sub in (compute, clusters, apply):
            sub.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "compute":
                document = self._compute(options)
            elif options["action"] == "clusters":
                document = self._clusters(options)
            else:
                document = self._apply()
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self._print(options["action"], document)

    def _wait(self, run: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        last_message = ""
        while True:
            run = ml_selectors.training_run_get(run_id=run.pk)
            message = f"run {run.pk} {run.status} {run.progress}% {run.progress_message}"
            if message != last_message:
                self.stderr.write(message)
                last_message = message
            if run.status in FINISHED:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} still {run.status} after {timeout:g} s")
            time.sleep(POLL_SECONDS)
        if run.status != "succeeded":
            reason = run.error.splitlines()[0] if run.error else run.status
            raise CommandError(f"Run {run.pk} ended {run.status}: {reason}")
        return run

    def _compute(self, options: dict[str, Any]) -> dict[str, Any]:
        run = rfm.rfm_run_start(trigger=CLI_TRIGGER)
        run = self._wait(run, options["timeout"])
        return {"run_id": run.pk, **run.metrics}

    def _clusters(self, options: dict[str, Any]) -> dict[str, Any]:
        params = {
            name: options[name]
            for name in ("k_min", "k_max", "algorithm", "seed")
            if options[name] is not None
        }
        run = clustering.clusters_run_start(params=params, trigger=CLI_TRIGGER)
        run = self._wait(run, options["timeout"])
        if clustering.cluster_scores_stale():  # it ran on a worker: apply here
            clustering.cluster_scores_apply()
        version = run.model_version
        return {
            "run_id": run.pk,
            "model_version": version.version,
            "model_version_id": version.pk,
            **run.metrics,
        }

    def _apply(self) -> dict[str, Any]:
        summary = clustering.cluster_scores_apply()
        return {
            "model_version": summary.version,
            "model_version_id": summary.model_version_id,
            "assigned": summary.assigned,
            "cleared": summary.cleared,
            "seconds": summary.seconds,
        }

    def _print(self, action: str, document: dict[str, Any]) -> None:
        if action == "compute":
            self.stdout.write(
                f"{document['customers']:,} customers, {document['buyers']:,} buyers "
                f"({document['seconds']:.2f} s)"
            )
            for cell in RFM_CELLS:  # the metrics come back from jsonb in another order
                self.stdout.write(f"  {cell:<22}{document['cells'].get(cell, 0):>10,}")
            self.stdout.write("Lifecycle:")
            for stage in STAGES:
                self.stdout.write(f"  {stage:<22}{document['stages'].get(stage, 0):>10,}")
        elif action == "clusters":
            self.stdout.write(
                f"v{document['model_version']}: {document['algorithm']} k={document['k']} "
                f"silhouette={document['silhouette']:.3f}, {document['customers']:,} customers"
            )
            for profile in document["profiles"]:
                self.stdout.write(
                    f"  {profile['cluster']}: {profile['name']} ({profile['size']:,})"
                )
        else:
            self.stdout.write(
                f"v{document['model_version']}: {document['assigned']:,} customers assigned, "
                f"{document['cleared']:,} cleared"
            )
