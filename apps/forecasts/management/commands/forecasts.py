"""`manage.py forecasts refresh|list|show`: forecasts of the shop's own series (database).

forecasts refresh [--wait] [--json]
    Start a refresh of every series (chunks go to the ml_cpu workers; in-process without a
    broker) and, with --wait, report when it is done.
forecasts list [--level shop|category|product|customers] [--json]
    Series with the model chosen, backtest MASE and the next period's forecast.
forecasts show SERIES [--json]
    The latest forecast of a series: points with 80/95% intervals and the backtest.
(`manage.py forecast --series F.csv ...` forecasts a CSV file instead.)
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from apps.core.errors import DomainError
from apps.forecasts import selectors
from apps.forecasts.api.serializers import (
    ForecastDetailSerializer,
    ForecastRunSerializer,
    SeriesSummarySerializer,
)
from apps.forecasts.choices import RunStatus, RunTrigger, SeriesLevel
from apps.forecasts.services.runs import forecast_run_start

ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class Command(BaseCommand):
    help = "Refresh, list and show the forecasts of the shop's series."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        refresh = actions.add_parser("refresh", help="Re-forecast every series.")
        refresh.add_argument("--wait", action="store_true", help="Wait until the run ends.")
        refresh.add_argument("--timeout", type=int, default=3600, help="Seconds --wait waits.")
        refresh.add_argument("--json", action="store_true")
        listing = actions.add_parser("list", help="Series and their latest forecast.")
        listing.add_argument("--level", choices=SeriesLevel.values, default="")
        listing.add_argument("--json", action="store_true")
        show = actions.add_parser("show", help="The latest forecast of one series.")
        show.add_argument("series", help="Series key, e.g. shop.all.revenue.W")
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(document, cls=DjangoJSONEncoder))

    def _refresh(self, options: dict[str, Any]) -> dict[str, Any]:
        run = forecast_run_start(trigger=RunTrigger.MANUAL)
        self.stderr.write(f"Run {run.pk}: {run.message}")
        if options["wait"]:
            deadline = time.monotonic() + options["timeout"]
            last = ""
            while True:
                run = selectors.run_get(run_id=run.pk)
                line = f"[{run.progress:3d}%] {run.status}: {run.message}"
                if line != last:
                    self.stderr.write(line)
                    last = line
                if run.status not in ACTIVE:
                    break
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"Run {run.pk} still {run.status} after {options['timeout']} s"
                    )
                time.sleep(1)
        run.refresh_from_db()
        document = dict(ForecastRunSerializer(run).data)
        if not options["json"]:
            self.stdout.write(f"run {run.pk} {run.status}: {run.message}")
            for name, value in run.counts.items():
                self.stdout.write(f"  {name}: {value}")
        if options["wait"] and run.status == RunStatus.FAILED:
            raise CommandError(f"Run {run.pk} failed: {run.error}")
        return document

    def _list(self, options: dict[str, Any]) -> dict[str, Any]:
        summaries = selectors.series_summaries(selectors.series_list(level=options["level"]))
        rows = [SeriesSummarySerializer.from_summary(s) for s in summaries]
        if not options["json"]:
            for row in rows:
                nxt = row["next"]
                forecast = f"{nxt['yhat']:.1f} [{nxt['lo']:.1f}, {nxt['hi']:.1f}]" if nxt else "-"
                mase = f"{row['mase']:.2f}" if row["mase"] is not None else "-"
                self.stdout.write(
                    f"{row['series']:<48} {row['model'] or row['status'] or '-':<10} MASE {mase:<6} next {forecast}"
                )
        return {"series": rows}

    def _show(self, options: dict[str, Any]) -> dict[str, Any]:
        row = selectors.series_get(key=options["series"])
        latest = selectors.forecast_latest(series=row)
        if latest is None:
            raise CommandError(f"{row.key} has no forecast yet: run `forecasts refresh`")
        document = ForecastDetailSerializer.from_forecast(row, latest)
        if not options["json"]:
            write = self.stdout.write
            write(f"{row.label} ({row.key}): {latest.status} {latest.description}")
            for point in latest.points:
                write(
                    f"  {point['date']}  {point['yhat']:>12.1f}  [{point['lo']:.1f}, {point['hi']:.1f}]"
                )
            for score in latest.backtest:
                mark = "*" if score["chosen"] else " "
                write(
                    f" {mark}{score['model']:<9} MASE {score['mase']}  sMAPE {score['smape']}  cov95 {score['coverage_95']}  {score['error']}"
                )
        return document
