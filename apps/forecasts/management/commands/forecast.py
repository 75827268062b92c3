"""`manage.py forecast --series F.csv --date-col date --value-col value --horizon H [--json]`

Forecast one series from a CSV file: the frequency is inferred from the dates, the model is
chosen by rolling-origin backtest (or fixed with --model, and its orders with --order /
--seasonal-order), and the output gives `model`, `forecast[i].{date,yhat,lo,hi}` (95%
interval; `lo_80`/`hi_80` too) and `backtest` with MASE, sMAPE and interval coverage per
candidate. No database is used.

Examples:
    forecast --series sales.csv --date-col month --value-col units --horizon 12 --json
    forecast --series air.csv --date-col date --value-col value --horizon 12 \\
        --model sarima --order 0,1,1 --seasonal-order 0,1,1,12 --transform log --json
    forecast --series daily.csv ... --regressor-cols promo --holidays US
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.forecasts.engine.forecaster import (
    CANDIDATES_FAST,
    CANDIDATES_FULL,
    MODEL_CHOICES,
    ForecastRequest,
)
from apps.forecasts.engine.models import MODELS, ModelOptions
from apps.forecasts.engine.series import SEASONS
from apps.forecasts.engine.transforms import CHOICES as TRANSFORMS
from apps.forecasts.services.files import file_forecast
from apps.ml.contracts import device_pick


def _integers(text: str, count: int, option: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise CommandError(
            f"{option} takes {count} comma-separated integers, got {text!r}"
        ) from None
    if len(numbers) != count or min(numbers) < 0:
        raise CommandError(f"{option} takes {count} comma-separated integers >= 0, got {text!r}")
    return numbers


class Command(BaseCommand):
    help = "Forecast a series from a CSV file, choosing the model by backtest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--series", required=True, help="CSV file with a header row.")
        parser.add_argument("--date-col", default="date", help="Column with the dates.")
        parser.add_argument("--value-col", default="value", help="Column with the values.")
        parser.add_argument("--horizon", type=int, required=True, help="Periods to forecast.")
        parser.add_argument("--model", choices=MODEL_CHOICES, default="auto")
        parser.add_argument(
            "--candidates",
            default="",
            help=f"Models auto compares, comma-separated (default {','.join(CANDIDATES_FULL)}; "
            f"'fast' = {','.join(CANDIDATES_FAST)}; add lstm to include it).",
        )
        parser.add_argument("--order", default="", help="ARIMA order p,d,q (skips the search).")
        parser.add_argument("--seasonal-order", default="", help="Seasonal order P,D,Q,m.")
        parser.add_argument("--transform", choices=TRANSFORMS, default="auto")
        parser.add_argument("--origins", type=int, default=3, help="Backtest origins.")
        parser.add_argument("--frequency", choices=list(SEASONS), help="Override inference.")
        parser.add_argument(
            "--fill",
            choices=["interpolate", "zero"],
            default="interpolate",
            help="How missing periods are filled.",
        )
        parser.add_argument(
            "--regressor-cols",
            default="",
            help="Columns of regressors (e.g. promo); rows after the last value give their future.",
        )
        parser.add_argument("--holidays", default="", help="Country code for a holiday regressor.")
        parser.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        request = self._request(options)
        try:
            document = file_forecast(
                path=Path(options["series"]),
                date_column=options["date_col"],
                value_column=options["value_col"],
                request=request,
                regressor_columns=tuple(c for c in options["regressor_cols"].split(",") if c),
                holidays_country=options["holidays"],
                frequency=options["frequency"],
                fill=options["fill"],
            )
        except DomainError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(document))
            return
        self._print(document)

    def _request(self, options: dict[str, Any]) -> ForecastRequest:
        candidates: tuple[str, ...] = CANDIDATES_FULL
        if options["candidates"] == "fast":
            candidates = CANDIDATES_FAST
        elif options["candidates"]:
            candidates = tuple(name.strip() for name in options["candidates"].split(","))
            unknown = [name for name in candidates if name not in MODELS]
            if unknown:
                raise CommandError(f"--candidates: unknown model(s) {', '.join(unknown)}")
        order = _integers(options["order"], 3, "--order") if options["order"] else None
        seasonal = (
            _integers(options["seasonal_order"], 4, "--seasonal-order")
            if options["seasonal_order"]
            else None
        )
        if (order or seasonal) and options["model"] not in ("arima", "sarima", "ar", "ma", "arma"):
            raise CommandError("--order and --seasonal-order need --model arima or sarima")
        if seasonal and not order:
            raise CommandError("--seasonal-order needs --order too")
        if options["horizon"] < 1:
            raise CommandError("--horizon must be at least 1")
        return ForecastRequest(
            horizon=options["horizon"],
            model=options["model"],
            candidates=candidates,
            origins=options["origins"],
            transform=options["transform"],
            options=ModelOptions(
                order=order,  # type: ignore[arg-type]
                seasonal_order=seasonal,  # type: ignore[arg-type]
                device=device_pick(),
            ),
        )

    def _print(self, document: dict[str, Any]) -> None:
        write = self.stdout.write
        series = document["series"]
        write(
            f"{series['file']}: {document['history']} {document['frequency']} periods "
            f"{series['start']} .. {series['end']}, transform {document['transform']}"
        )
        write(f"model: {document['model']} ({document['description']})")
        for note in document["notes"]:
            write(f"note: {note}")
        write("")
        write(f"{'date':<12}{'yhat':>14}{'lo (95%)':>14}{'hi (95%)':>14}")
        for point in document["forecast"]:
            write(
                f"{point['date']:<12}{point['yhat']:>14.2f}{point['lo']:>14.2f}{point['hi']:>14.2f}"
            )
        write("")
        write(f"{'backtest':<10}{'MASE':>8}{'sMAPE':>8}{'cov80':>7}{'cov95':>7}{'secs':>8}  model")
        for row in document["backtest"]:
            if row["error"]:
                write(f"{row['model']:<10}  failed: {row['error']}")
                continue
            mark = "*" if row["chosen"] else " "
            write(
                f"{row['model']:<9}{mark}{row['mase']:>8.3f}{row['smape']:>8.2f}"
                f"{row['coverage_80']:>7.2f}{row['coverage_95']:>7.2f}{row['seconds']:>8.2f}"
                f"  {row['description']}"
            )
