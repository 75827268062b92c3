"""`manage.py recommend evaluate|train`: recommender evaluation on files, training on the database.

recommend evaluate --train TR.csv --test TE.csv [--k 10] [--items ITEMS.csv] [--users USERS.csv]
                   [--time-budget S] [--seed N] [--algorithms a,b,...]
                   [--split auto|per_user|global|random] [--json]
    Every algorithm is tuned on a temporal validation slice of TR only, refitted on all of TR
    and measured on TE: for each test customer the top k items not in their TR interactions,
    every TE interaction relevant; customers absent from TR get cold-start lists and count.
    CSV columns user_id,item_id,rating,timestamp (rating optional; timestamp epoch seconds or
    ISO date). No database rows are read or written.
recommend train
    Train on the database as an ML run and activate the champion (wired by the platform side).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.recommendations.engine.files import InteractionFileError
from apps.recommendations.engine.split import SPLIT_MODES
from apps.recommendations.engine.train import (
    ALGORITHM_NAMES,
    DEFAULT_TIME_BUDGET_S,
    NotEnoughInteractions,
    evaluate_files,
)
from apps.recommendations.services import recommender_train


class Command(BaseCommand):
    help = (
        "Recommendations: evaluate every algorithm on your own interaction files (evaluate), "
        "train on the database (train)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        evaluate = actions.add_parser(
            "evaluate", help="Tune and train on one interaction CSV, measure on another."
        )
        evaluate.add_argument("--train", required=True, help="Training interactions (CSV).")
        evaluate.add_argument("--test", required=True, help="Test interactions (CSV).")
        evaluate.add_argument("--k", type=int, default=10, help="List length (default 10).")
        evaluate.add_argument(
            "--items",
            default=None,
            help="Optional catalogue CSV (item_id, category, brand, price, title, description, "
            "tags) for the content and category algorithms.",
        )
        evaluate.add_argument(
            "--users",
            default=None,
            help="Optional customer CSV (user_id plus categorical columns such as segment) for "
            "popularity by segment and LightFM user features.",
        )
        evaluate.add_argument(
            "--time-budget",
            type=float,
            default=DEFAULT_TIME_BUDGET_S,
            help=f"Seconds of hyperparameter search in all (default {DEFAULT_TIME_BUDGET_S:g}).",
        )
        evaluate.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        evaluate.add_argument(
            "--algorithms",
            default=None,
            help=f"Comma-separated subset of: {', '.join(ALGORITHM_NAMES)} (default all).",
        )
        evaluate.add_argument(
            "--split",
            default="auto",
            choices=["auto", *SPLIT_MODES],
            help="Validation protocol; auto follows the test file's (from timestamps only).",
        )
        evaluate.add_argument("--json", action="store_true", help="One JSON document on stdout.")

        train = actions.add_parser("train", help="Train on the database and activate the champion.")
        train.add_argument(
            "--time-budget",
            type=float,
            default=None,
            help="Seconds of hyperparameter search (default: the kind's, 120).",
        )
        train.add_argument(
            "--timeout",
            type=float,
            default=3600.0,
            help="Stop waiting after this many seconds (default 3600; the run goes on on its "
            "worker, e.g. when no worker consumes the ml queues yet).",
        )
        train.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = getattr(self, f"_{options['action']}")(options)
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        elif options["action"] == "train":
            self.stdout.write(document["message"])
            if document.get("report", {}).get("algorithms"):
                self._print({"k": document["report"].get("k", 10), **document["report"]})
        else:
            self._print(document)

    def _progress(self, percent: float, message: str) -> None:
        self.stderr.write(f"[{percent:3.0f}%] {message}")

    def _evaluate(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["k"] < 1:
            raise CommandError(f"--k must be at least 1, not {options['k']}")
        if options["time_budget"] <= 0:
            raise CommandError(f"--time-budget must be positive, not {options['time_budget']:g}")
        algorithms = None
        if options["algorithms"]:
            algorithms = tuple(name.strip() for name in options["algorithms"].split(",") if name)
            unknown = sorted(set(algorithms) - set(ALGORITHM_NAMES))
            if unknown or not algorithms:
                raise CommandError(
                    f"--algorithms: unknown {', '.join(unknown) or '(empty)'}; "
                    f"choose from {', '.join(ALGORITHM_NAMES)}"
                )
        try:
            return evaluate_files(
                train_path=Path(options["train"]),
                test_path=Path(options["test"]),
                items_path=Path(options["items"]) if options["items"] else None,
                users_path=Path(options["users"]) if options["users"] else None,
                k=options["k"],
                time_budget_s=options["time_budget"],
                seed=options["seed"],
                algorithms=algorithms,
                split_mode=options["split"],
                progress=self._progress,
            )
        except (InteractionFileError, NotEnoughInteractions) as error:
            raise CommandError(str(error)) from None

    # ------------------------------------------------------------------ train
    def _train(self, options: dict[str, Any]) -> dict[str, Any]:
        """An ML run on the database (worker or in-process), waited for; a succeeded run's
        version becomes champion and its candidates are precomputed."""
        params = {}
        if options["time_budget"] is not None:
            params["time_budget_s"] = options["time_budget"]
        try:
            summary = recommender_train(
                wait=True, params=params, timeout=options["timeout"], progress=self._progress
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        if summary["status"] != "succeeded":
            raise CommandError(summary["message"])
        return summary

    def _print(self, document: dict[str, Any]) -> None:
        k = document["k"]
        write = self.stdout.write
        columns = (f"ndcg@{k}", f"precision@{k}", f"recall@{k}", f"map@{k}", "coverage")
        write(f"{'algorithm':22s}" + "".join(f"{c:>14s}" for c in columns) + f"{'train s':>10s}")
        for name, entry in document["algorithms"].items():
            marker = " *" if name == document["best"] else ""
            write(
                f"{name + marker:22s}"
                + "".join(f"{entry.get(c, float('nan')):14.4f}" for c in columns)
                + f"{entry['train_seconds']:10.1f}"
            )
        write(f"best (on validation): {document['best']}")
        if "reference" in document:
            reference = document["reference"]
            write(f"reference: {reference['algorithm']} ndcg@{k} {reference[f'ndcg@{k}']:.4f}")
