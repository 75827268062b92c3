"""`manage.py sentiment predict|evaluate|train`: sentiment of English and Chinese texts.

sentiment predict --input F.csv [--text-col text] [--json]
    Label (positive / neutral / negative) and score (-1 to 1) of each row, in input order,
    with the champion model (the shipped head until you train your own).
sentiment evaluate --input F.csv [--text-col text] [--label-col label] [--json]
    Accuracy, macro F1 and the confusion matrix of the champion on labelled texts, overall
    and per detected language.
sentiment train --input F.csv [--input G.csv ...] [--text-col text] [--label-col label]
                [--mode adapter|full] [--epochs N] [--layers N] [--holdout 0.2] [--seed N]
                [--output PATH | --wait] [--json]
    With --output: train here (no database), evaluate on the held-out share of each file and
    write the model file; this is how the shipped head is built (docs/insights.md). Without:
    store the labelled file and queue an ML training run (GPU workers take --mode full).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.insights.engine.sentiment import ADAPTER, FULL, SentimentConfig
from apps.insights.services import sentiment as service
from apps.ml import selectors as ml_selectors
from apps.ml.contracts import device_pick

FINISHED = ("succeeded", "failed", "not_enough_data", "lost")


class Command(BaseCommand):
    help = "Sentiment of texts: predict a CSV, evaluate on labelled texts, train a model."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        predict = actions.add_parser("predict", help="Label and score each row of a CSV.")
        predict.add_argument("--input", required=True, help="CSV file with a header row.")
        predict.add_argument("--text-col", default="text", help="Column with the text.")
        predict.add_argument("--json", action="store_true", help="One JSON document on stdout.")

        evaluate = actions.add_parser(
            "evaluate", help="Accuracy of the champion on labelled texts."
        )
        evaluate.add_argument("--input", required=True, help="CSV with text and label columns.")
        evaluate.add_argument("--text-col", default="text")
        evaluate.add_argument("--label-col", default="label")
        evaluate.add_argument("--json", action="store_true")

        train = actions.add_parser("train", help="Train on labelled texts.")
        train.add_argument(
            "--input", required=True, action="append", help="Labelled CSV (repeat for several)."
        )
        train.add_argument("--text-col", default="text")
        train.add_argument("--label-col", default="label")
        train.add_argument("--mode", choices=[ADAPTER, FULL], default=ADAPTER)
        train.add_argument("--epochs", type=int, default=2)
        train.add_argument("--layers", type=int, default=6, help="Encoder layers kept (1-12).")
        train.add_argument("--learning-rate", type=float, default=5e-4)
        train.add_argument("--holdout", type=float, default=0.2, help="Share held out to evaluate.")
        train.add_argument("--seed", type=int, default=0)
        train.add_argument("--output", default=None, help="Train here and write the model file.")
        train.add_argument("--wait", action="store_true", help="Follow the ML run to its end.")
        train.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(error.message) from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, default=str))
        else:
            self._print(options["action"], document)

    def _progress(self, percent: float, message: str) -> None:
        sys.stderr.write(f"\r[{percent:3.0f}%] {message[:70]:<70}")
        sys.stderr.flush()
        if percent >= 100:
            sys.stderr.write("\n")

    def _predict(self, options: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        document = service.file_predict(
            path=Path(options["input"]), text_column=options["text_col"]
        )
        seconds = time.perf_counter() - started
        document["seconds"] = round(seconds, 2)
        self.stderr.write(
            f"{len(document['predictions']):,} texts in {seconds:.1f} s with {document['model_version']}"
        )
        return document

    def _evaluate(self, options: dict[str, Any]) -> dict[str, Any]:
        return service.file_evaluate(
            path=Path(options["input"]),
            text_column=options["text_col"],
            label_column=options["label_col"],
        )

    def _train(self, options: dict[str, Any]) -> dict[str, Any]:
        config = SentimentConfig(
            layers=options["layers"],
            mode=options["mode"],
            epochs=options["epochs"],
            learning_rate=options["learning_rate"],
            seed=options["seed"],
        )
        config.validate()
        paths = [Path(path) for path in options["input"]]
        if options["output"]:
            device = device_pick()
            self.stderr.write(
                f"Training on {device} ({config.mode}, {config.layers} layers, {config.epochs} epochs)"
            )
            return service.model_train_local(
                paths=paths,
                output=Path(options["output"]),
                text_column=options["text_col"],
                label_column=options["label_col"],
                holdout=options["holdout"],
                config=config,
                device=device,
                progress=self._progress,
            )
        if len(paths) != 1:
            raise CommandError("An ML training run takes one --input file (combine them first)")
        stored = service.labelled_dataset_store(
            path=paths[0], text_column=options["text_col"], label_column=options["label_col"]
        )
        self.stderr.write(
            f"Stored {stored['rows']:,} labelled texts as {stored['dataset']} {stored['labels']}"
        )
        run = service.sentiment_training_start(
            dataset=stored["dataset"],
            params={
                "mode": config.mode,
                "epochs": config.epochs,
                "layers": config.layers,
                "learning_rate": config.learning_rate,
                "holdout": options["holdout"],
                "seed": config.seed,
            },
        )
        self.stderr.write(f"Run {run.pk} queued on {run.queue}")
        if options["wait"]:
            run = self._wait(run.pk)
        document = {
            "run": run.pk,
            "status": run.status,
            "metrics": run.metrics,
            "error": run.error,
            "dataset": stored,
        }
        if options["wait"] and run.status != "succeeded":
            raise CommandError(
                f"Run {run.pk} ended {run.status}: {(run.error or '').splitlines()[:1]}"
            )
        return document

    def _wait(self, run_id: int) -> Any:
        last = None
        while True:
            run = ml_selectors.training_run_get(run_id=run_id)
            line = f"[{run.progress:3d}%] {run.status}: {run.progress_message}"
            if line != last:
                self.stderr.write(line)
                last = line
            if run.status in FINISHED:
                return run
            time.sleep(1)

    def _print(self, action: str, document: dict[str, Any]) -> None:
        write = self.stdout.write
        if action == "predict":
            for index, item in enumerate(document["predictions"]):
                write(f"{index}\t{item['label']}\t{item['score']:+.3f}")
            return
        if action == "evaluate":
            write(f"model     {document['model_version']}")
            write(
                f"accuracy  {document['accuracy']:.4f}  (macro F1 {document['macro_f1']:.4f}, {document['texts']} texts)"
            )
            for code, part in document.get("languages", {}).items():
                write(f"  {code}: accuracy {part['accuracy']:.4f} on {part['texts']} texts")
            return
        metrics = document.get("metrics", {})
        holdout = metrics.get("holdout")
        if holdout:
            write(f"held-out accuracy {holdout['accuracy']:.4f} on {holdout['texts']} texts")
            for code, part in holdout.get("languages", {}).items():
                write(f"  {code}: {part['accuracy']:.4f} on {part['texts']} texts")
        write(
            json.dumps(
                {key: value for key, value in document.items() if key != "metrics"}, default=str
            )
        )
