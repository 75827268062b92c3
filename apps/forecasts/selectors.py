"""Reads of the forecasts app: series with their latest forecast, runs, stock alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When

from apps.core.errors import NotFound
from apps.forecasts.choices import SeriesLevel, StockAlertStatus
from apps.forecasts.models import Forecast, ForecastRun, ForecastSeries, StockAlert

LEVEL_ORDER = (SeriesLevel.SHOP, SeriesLevel.CUSTOMERS, SeriesLevel.CATEGORY, SeriesLevel.PRODUCT)


@dataclass(frozen=True)
class SeriesSummary:
    """A series with its latest forecast (None before the first refresh)."""

    series: ForecastSeries
    forecast: Forecast | None

    @property
    def next_point(self) -> dict[str, Any] | None:
        if self.forecast is None or not self.forecast.points:
            return None
        return self.forecast.points[0]


def series_list(
    *, level: str = "", search: str = "", active: bool | None = True
) -> QuerySet[ForecastSeries]:
    rows = ForecastSeries.objects.all()
    if active is not None:
        rows = rows.filter(active=active)
    if level:
        rows = rows.filter(level=level)
    if search:
        rows = rows.filter(Q(key__icontains=search) | Q(label__icontains=search))
    latest = Forecast.objects.filter(series=OuterRef("pk")).order_by("-created_at", "-id")
    # The shop first, then customers, categories and products.
    rank = Case(
        *[When(level=level, then=Value(i)) for i, level in enumerate(LEVEL_ORDER)],
        default=Value(len(LEVEL_ORDER)),
    )
    return rows.annotate(
        latest_forecast_id=Subquery(latest.values("pk")[:1]), level_rank=rank
    ).order_by("level_rank", "measure", "frequency", "label")


def series_summaries(rows: QuerySet[ForecastSeries] | list[ForecastSeries]) -> list[SeriesSummary]:
    """Each series with its latest forecast (rows from `series_list`)."""
    rows = list(rows)
    ids = [getattr(row, "latest_forecast_id", None) for row in rows]
    forecasts = Forecast.objects.in_bulk([i for i in ids if i])
    return [
        SeriesSummary(row, forecasts.get(i) if i else None)
        for row, i in zip(rows, ids, strict=True)
    ]


def series_get(*, key: str) -> ForecastSeries:
    row = ForecastSeries.objects.filter(key=key).select_related("product", "category").first()
    if row is None:
        raise NotFound(f"No forecast series {key!r}")
    return row


def forecast_latest(*, series: ForecastSeries) -> Forecast | None:
    return (
        Forecast.objects.filter(series=series)
        .select_related("model_version", "run")
        .order_by("-created_at", "-id")
        .first()
    )


def level_counts() -> dict[str, int]:
    counts = {level: 0 for level in SeriesLevel.values}
    rows = ForecastSeries.objects.filter(active=True).values("level").annotate(count=Count("id"))
    counts.update({row["level"]: row["count"] for row in rows})
    return counts


def run_list(*, limit: int = 20) -> list[ForecastRun]:
    return list(ForecastRun.objects.select_related("model_version")[:limit])


def run_get(*, run_id: int) -> ForecastRun:
    run = ForecastRun.objects.filter(pk=run_id).select_related("model_version").first()
    if run is None:
        raise NotFound(f"Forecast run {run_id} does not exist")
    return run


def run_latest() -> ForecastRun | None:
    return ForecastRun.objects.select_related("model_version").first()


def stock_alert_list(*, status: str = StockAlertStatus.OPEN) -> QuerySet[StockAlert]:
    rows = StockAlert.objects.select_related("product", "forecast__series")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("stockout_date", "-demand")
