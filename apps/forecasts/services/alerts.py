"""Stock alerts: forecast demand over the lead time exceeds what is in stock."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.catalog import selectors as catalog_selectors
from apps.forecasts.choices import ForecastStatus, Measure, SeriesLevel, StockAlertStatus
from apps.forecasts.models import Forecast, ForecastRun, StockAlert


def stock_check(
    points: list[dict[str, Any]], stock: int, lead: int
) -> tuple[float, float, date | None]:
    """(demand, upper 80% demand, first period whose cumulative demand passes the stock)."""
    ahead = points[:lead]
    demand = float(sum(max(0.0, p["yhat"]) for p in ahead))
    high = float(sum(max(0.0, p["hi_80"]) for p in ahead))
    cumulative = np.cumsum([max(0.0, p["yhat"]) for p in ahead])
    passed = np.flatnonzero(cumulative > stock)
    stockout = date.fromisoformat(ahead[int(passed[0])]["date"]) if len(passed) else None
    return demand, high, stockout


@transaction.atomic
def stock_alerts_refresh(*, run: ForecastRun) -> dict[str, int]:
    """Open (or update) an alert for each product whose weekly units forecast of this run
    passes its stock within the lead time; resolve the open alerts of the others.

    Why: a campaign that sells out is money left on the table; buyers need the warning
    while there is time to reorder (FORECASTS_STOCK_LEAD_WEEKS).
    """
    lead = max(1, int(settings.FORECASTS_STOCK_LEAD_WEEKS))
    forecasts = list(
        Forecast.objects.filter(
            run=run,
            status=ForecastStatus.OK,
            series__level=SeriesLevel.PRODUCT,
            series__measure=Measure.UNITS,
        ).select_related("series")
    )
    facts = catalog_selectors.product_stock_facts(
        product_ids=[f.series.product_id for f in forecasts if f.series.product_id]
    )
    open_alerts = {
        a.product_id: a
        for a in StockAlert.objects.select_for_update().filter(status=StockAlertStatus.OPEN)
    }
    counts = {"opened": 0, "updated": 0, "resolved": 0}
    short: set[int] = set()
    for row in forecasts:
        product_id = row.series.product_id
        if product_id not in facts:
            continue
        stock = facts[product_id][3]
        demand, high, stockout = stock_check(row.points, stock, lead)
        if demand <= stock:
            continue
        short.add(product_id)
        fields = {
            "forecast": row,
            "stock": stock,
            "demand": round(demand, 2),
            "demand_high": round(high, 2),
            "lead_periods": lead,
            "stockout_date": stockout,
        }
        alert = open_alerts.get(product_id)
        if alert is None:
            StockAlert.objects.create(product_id=product_id, **fields)
            counts["opened"] += 1
        else:
            for name, value in fields.items():
                setattr(alert, name, value)
            alert.save()
            counts["updated"] += 1
    forecast_products = {f.series.product_id for f in forecasts}
    for product_id, alert in open_alerts.items():
        if product_id in forecast_products and product_id not in short:
            alert.status = StockAlertStatus.RESOLVED
            alert.resolved_at = timezone.now()
            alert.save(update_fields=["status", "resolved_at", "updated_at"])
            counts["resolved"] += 1
    return counts
