"""`manage.py predict evaluate|train|score`: churn and purchase propensity.

predict evaluate --train TR.csv --test TE.csv --target COL [--id-col ID] [--seed N]
                 [--scores-out F.csv] [--json]
    Train on one feature table, evaluate on another; no database rows are read or written.
predict train --kind churn|propensity [--horizon-days N] [--active-days N] [--wait]
              [--timeout S] [--no-score] [--json]
    A training run of the ML platform on the database (time-based backtest); with --wait it
    follows the run and then scores every current customer with the new champion.
predict score --kind churn|propensity|all [--json]
    Score current customers with the champion of each kind (CustomerScores).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.ml import selectors as ml_selectors
from apps.segments.services import predict

POLL_SECONDS = 0.5
FINISHED = ("succeeded", "failed", "not_enough_data", "lost")


class Command(BaseCommand):
    help = (
        "Churn and purchase propensity: evaluate on your own feature tables (evaluate), "
        "train on the database as an ML run (train), score customers (score)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        evaluate = actions.add_parser(
            "evaluate", help="Train on one CSV feature table and evaluate on another."
        )
        evaluate.add_argument("--train", required=True, help="Training table (CSV, header row).")
        evaluate.add_argument("--test", required=True, help="Test table with the same columns.")
        evaluate.add_argument(
            "--target", required=True, help="Two-valued column to predict (yes/no, 1/0 ...)."
        )
        evaluate.add_argument("--id-col", default=None, help="Row id column, never a feature.")
        evaluate.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        evaluate.add_argument(
            "--scores-out", default=None, help="Write id, probability, actual, top reasons here."
        )
        evaluate.add_argument("--json", action="store_true", help="One JSON document on stdout.")

        train = actions.add_parser("train", help="Train on the database as an ML run.")
        train.add_argument("--kind", required=True, choices=sorted(predict.PREDICTION_KINDS))
        train.add_argument(
            "--horizon-days",
            type=int,
            default=None,
            help="Label window after the cut (default: churn 90, propensity 30).",
        )
        train.add_argument(
            "--active-days",
            type=int,
            default=None,
            help="Churn only: who counts as active before the cut (default 365).",
        )
        train.add_argument("--wait", action="store_true", help="Follow the run to its end.")
        train.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="With --wait: give up waiting after this many seconds (the run continues).",
        )
        train.add_argument(
            "--no-score", action="store_true", help="With --wait: do not score customers after."
        )
        train.add_argument("--json", action="store_true", help="One JSON document on stdout.")

        score = actions.add_parser("score", help="Score current customers with the champion.")
        score.add_argument(
            "--kind", required=True, choices=[*sorted(predict.PREDICTION_KINDS), "all"]
        )
        score.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self._print(options["action"], document)

    def _progress(self, percent: float, message: str) -> None:
        self.stderr.write(f"[{percent:3.0f}%] {message}")

    def _evaluate(self, options: dict[str, Any]) -> dict[str, Any]:
        document, scored = predict.prediction_table_evaluate(
            train_path=Path(options["train"]),
            test_path=Path(options["test"]),
            target=options["target"],
            id_column=options["id_col"],
            seed=options["seed"],
            progress=self._progress,
        )
        if options["scores_out"]:
            scored.to_csv(options["scores_out"], index=False)
            self.stderr.write(f"Scores of {len(scored)} rows written to {options['scores_out']}")
        return document

    def _train(self, options: dict[str, Any]) -> dict[str, Any]:
        run = predict.prediction_training_start(
            kind=options["kind"],
            horizon_days=options["horizon_days"],
            active_days=options["active_days"],
            trigger="cli",
        )
        self.stderr.write(f"Run {run.pk} ({run.kind}) started on queue {run.queue}")
        if not options["wait"]:
            return _run_document(ml_selectors.training_run_get(run_id=run.pk))
        run = self._wait(run.pk, timeout=options["timeout"])
        document = _run_document(run)
        if run.status != "succeeded":
            reason = run.error.splitlines()[0] if run.error else run.status
            if options["json"]:
                self.stdout.write(json.dumps(document, indent=2, default=str))
            raise CommandError(f"Run {run.pk} ended {run.status}: {reason}")
        if not options["no_score"]:
            summary = predict.prediction_scores_refresh(
                kind=options["kind"], progress=self._progress
            )
            document["scoring"] = vars(summary)
        return document

    def _wait(self, run_id: int, *, timeout: float | None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        last = None
        while True:
            run = ml_selectors.training_run_get(run_id=run_id)
            line = f"[{run.progress:3d}%] {run.status}: {run.progress_message}"
            if line != last:
                self.stderr.write(line)
                last = line
            if run.status in FINISHED:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise CommandError(
                    f"Run {run.pk} still {run.status} after {timeout:g} s; it continues in the "
                    "background (score later with: manage.py predict score)"
                )
            time.sleep(POLL_SECONDS)

    def _score(self, options: dict[str, Any]) -> dict[str, Any]:
        kinds = list(predict.PREDICTION_KINDS) if options["kind"] == "all" else [options["kind"]]
        summaries = [
            vars(predict.prediction_scores_refresh(kind=kind, progress=self._progress))
            for kind in kinds
        ]
        return {"scoring": summaries}

    def _print(self, action: str, document: dict[str, Any]) -> None:
        write = self.stdout.write
        if action == "evaluate":
            write(f"model     {document['model']}")
            write(f"auc       {document['auc']:.4f}")
            write(f"log_loss  {document['log_loss']:.4f}")
            write(f"brier     {document['brier']:.4f}")
            write(
                f"rows      train {document['n_train']}, test {document['n_test']} "
                f"({document['positives']} positive '{document['target']['positive_label']}')"
            )
            write("top features: " + ", ".join(f["name"] for f in document["features"][:5]))
            return
        if action == "train":
            write(f"Run {document['id']} {document['status']}")
            for name in ("auc", "log_loss", "brier", "n_train", "n_test"):
                if name in document["metrics"]:
                    write(f"  {name}: {document['metrics'][name]}")
        scoring = document.get("scoring", [])
        for summary in scoring if isinstance(scoring, list) else [scoring]:
            write(
                f"{summary['kind']}: {summary['scored']} customers scored with model "
                f"v{summary['version']} ({summary['cleared']} cleared) in {summary['seconds']} s"
            )


def _run_document(run: Any) -> dict[str, Any]:
    version = getattr(run, "model_version", None)
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "params": run.params,
        "metrics": run.metrics,
        "error": run.error,
        "model_version": version.version if version else None,
    }
