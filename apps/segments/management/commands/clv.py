"""`manage.py clv fit|store`: customer lifetime value (BG/NBD + Gamma-Gamma).

clv fit --transactions F.csv --customer-col C --date-col D --amount-col A
        --calibration-end YYYY-MM-DD [--time-unit D|W] [--holdout-end YYYY-MM-DD]
        [--delimiter ,|;|tab|whitespace] [--json]
    Fit both models on a file, no database: same-day transactions of a customer are one
    purchase; prints `bgnbd.{r,alpha,a,b,log_likelihood}`, `gamma_gamma.{p,q,v,log_likelihood}`,
    `customers`, the independence check and, with transactions after the calibration end,
    predicted vs actual repeat purchases in the holdout by frequency.
clv fit [--time-unit D|W] [--holdout-days N] [--monthly-discount-rate R] [--timeout S] [--json]
    Without --transactions: a `segments.clv` run of the ML platform on the orders in the
    database; waits for it and stores every customer's predictions (CLV, P(alive), expected
    purchases) with the new model version.
clv store [--json]
    Store the champion's predictions again (after new orders, or after a worker fitted it).

Progress goes to stderr, one JSON document to stdout with --json; bad arguments, files,
columns or dates exit non-zero with a one-line reason naming the column or row.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.ml import selectors as ml_selectors
from apps.segments.services import clv

POLL_SECONDS = 0.5
FINISHED = ("succeeded", "failed", "not_enough_data", "lost")
CLI_TRIGGER = "cli"
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "whitespace": "whitespace", "|": "|"}
FILE_ONLY = ("customer_col", "date_col", "amount_col", "calibration_end", "holdout_end")


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = "Customer lifetime value: fit BG/NBD + Gamma-Gamma on a file or the database."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        fit = actions.add_parser(
            "fit", help="Fit on a transactions file (--transactions) or on the database's orders."
        )
        fit.add_argument("--transactions", help="CSV file of transactions (one row each).")
        fit.add_argument("--customer-col", help="Column of the customer id.")
        fit.add_argument("--date-col", help="Column of the date (YYYY-MM-DD, ISO or YYYYMMDD).")
        fit.add_argument("--amount-col", help="Column of the amount (a number).")
        fit.add_argument(
            "--calibration-end", help="Last day (inclusive) of the calibration period."
        )
        fit.add_argument(
            "--holdout-end",
            help="Last day of the holdout period (default: the last transaction's day).",
        )
        fit.add_argument(
            "--time-unit",
            default=None,
            help="D (days) or W (weeks = days / 7); default W for files, D for the database.",
        )
        fit.add_argument(
            "--delimiter",
            default=",",
            help="Field separator of the file: , ; | tab or whitespace (e.g. the CDNOW file).",
        )
        fit.add_argument(
            "--holdout-days",
            default=None,
            help="Database: days at the end kept for the diagnostics (default 90; 0: none).",
        )
        fit.add_argument(
            "--monthly-discount-rate",
            default=None,
            help="Database: discount rate per month of the discounted CLVs (default 0.01).",
        )
        fit.add_argument(
            "--timeout",
            default="3600",
            help="Database: give up waiting after this many seconds (the run continues).",
        )
        store = actions.add_parser("store", help="Store the champion's predictions again.")
        for sub in (fit, store):
            sub.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        time_unit = options.get("time_unit")
        if time_unit is not None and time_unit.upper() not in ("D", "W"):
            raise CommandError(f"--time-unit must be D (days) or W (weeks), got {time_unit!r}")
        if options.get("delimiter") is not None and options["delimiter"] not in DELIMITERS:
            raise CommandError(
                f"--delimiter must be one of {', '.join(DELIMITERS)}, got {options['delimiter']!r}"
            )
        try:
            if options["action"] == "store":
                document = self._store()
            elif options["transactions"]:
                document = self._fit_file(options)
            else:
                document = self._fit_database(options)
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self._print(document)

    def _progress(self, message: str) -> None:
        self.stderr.write(message)

    def _fit_file(self, options: dict[str, Any]) -> dict[str, Any]:
        for name in ("customer_col", "date_col", "amount_col", "calibration_end"):
            if not options[name]:
                raise CommandError(f"--{name.replace('_', '-')} is required with --transactions")
        calibration_end = _date(options["calibration_end"], "--calibration-end")
        holdout_end = (
            _date(options["holdout_end"], "--holdout-end") if options["holdout_end"] else None
        )
        return clv.clv_file_fit(
            path=Path(options["transactions"]),
            customer_column=options["customer_col"],
            date_column=options["date_col"],
            amount_column=options["amount_col"],
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            time_unit=(options["time_unit"] or "W").upper(),
            delimiter=DELIMITERS[options["delimiter"]],
            progress=self._progress,
        )

    def _fit_database(self, options: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in FILE_ONLY if options[name]]
        if given:
            raise CommandError(
                f"--{given[0].replace('_', '-')} needs --transactions (fitting on the database "
                "uses every revenue order)"
            )
        params: dict[str, Any] = {}
        if options["time_unit"]:
            params["time_unit"] = options["time_unit"].upper()
        if options["holdout_days"] is not None:
            params["holdout_days"] = options["holdout_days"]
        if options["monthly_discount_rate"] is not None:
            params["monthly_discount_rate"] = options["monthly_discount_rate"]
        try:
            timeout = float(options["timeout"])
        except ValueError:
            raise CommandError(f"--timeout must be a number, got {options['timeout']!r}") from None
        run = clv.clv_fit_start(params=params, trigger=CLI_TRIGGER)
        run = self._wait(run, timeout)
        stored = clv.clv_scores_store(model_version_id=run.model_version.pk)
        metrics = run.metrics
        return {
            "run_id": run.pk,
            "model_version": run.model_version.version,
            "model_version_id": run.model_version.pk,
            "bgnbd": {
                "r": metrics["bgnbd_r"],
                "alpha": metrics["bgnbd_alpha"],
                "a": metrics["bgnbd_a"],
                "b": metrics["bgnbd_b"],
                "log_likelihood": metrics["bgnbd_log_likelihood"],
            },
            "gamma_gamma": {
                "p": metrics["gamma_gamma_p"],
                "q": metrics["gamma_gamma_q"],
                "v": metrics["gamma_gamma_v"],
                "log_likelihood": metrics["gamma_gamma_log_likelihood"],
            },
            "customers": metrics["customers"],
            "metrics": metrics,
            "stored": {
                "customers": stored.stored,
                "cleared": stored.cleared,
                "as_of": stored.as_of,
                "seconds": stored.seconds,
            },
        }

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
                raise CommandError(
                    f"Run {run.pk} still {run.status} after {timeout:g} s; it continues in the "
                    "background (manage.py clv store stores its predictions afterwards)"
                )
            time.sleep(POLL_SECONDS)
        if run.status != "succeeded":
            reason = run.error.splitlines()[0] if run.error else run.status
            raise CommandError(f"Run {run.pk} ended {run.status}: {reason}")
        return run

    def _store(self) -> dict[str, Any]:
        summary = clv.clv_scores_store()
        return {
            "model_version": summary.version,
            "model_version_id": summary.model_version_id,
            "stored": summary.stored,
            "cleared": summary.cleared,
            "as_of": summary.as_of,
            "seconds": summary.seconds,
        }

    def _print(self, document: dict[str, Any]) -> None:
        if "bgnbd" not in document:
            self.stdout.write(
                f"v{document['model_version']}: {document['stored']:,} customers stored, "
                f"{document['cleared']:,} cleared (as of {document['as_of']})"
            )
            return
        bgnbd, gamma_gamma = document["bgnbd"], document["gamma_gamma"]
        self.stdout.write(
            f"BG/NBD      r={bgnbd['r']:.4f} alpha={bgnbd['alpha']:.4f} a={bgnbd['a']:.4f} "
            f"b={bgnbd['b']:.4f}  LL={bgnbd['log_likelihood']:.2f}"
        )
        self.stdout.write(
            f"Gamma-Gamma p={gamma_gamma['p']:.4f} q={gamma_gamma['q']:.4f} "
            f"v={gamma_gamma['v']:.4f}  LL={gamma_gamma['log_likelihood']:.2f}"
        )
        self.stdout.write(f"Customers   {document['customers']:,}")
        diagnostics = document.get("diagnostics") or document.get("metrics", {}).get(
            "holdout_buckets"
        )
        buckets = diagnostics.get("buckets") if isinstance(diagnostics, dict) else diagnostics
        if buckets:
            self.stdout.write("Holdout repeat purchases per customer, by calibration frequency:")
            for bucket in buckets:
                self.stdout.write(
                    f"  {bucket['frequency']:>3}  {bucket['customers']:>8,} customers  "
                    f"actual {bucket['actual']:.3f}  predicted {bucket['predicted']:.3f}"
                )
