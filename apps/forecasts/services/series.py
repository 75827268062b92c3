"""The series the shop forecasts, and their values read from orders.

`series_sync` keeps one `ForecastSeries` row per series worth forecasting: revenue and units
of the whole shop per day, week and month (the daily ones with campaign days and holidays as
regressors), weekly revenue and units per category (which add up to the shop's weekly series
and are reconciled with it), weekly units per product that sold enough to forecast, and new
customers per week. `series_load` reads their values for a batch of series with one query per
kind of grouping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.campaigns import selectors as campaign_selectors
from apps.catalog import selectors as catalog_selectors
from apps.events import selectors as event_selectors
from apps.forecasts.choices import Frequency, Measure, SeriesLevel
from apps.forecasts.engine import regressors
from apps.forecasts.engine.series import Series, daily_to_periods, dates_ahead
from apps.forecasts.models import ForecastSeries

HORIZONS: dict[str, int] = {"D": 28, "W": 12, "M": 6}
SHOP_FREQUENCIES = (Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY)
NO_CATEGORY = "none"
REGRESSOR_NAMES = ("campaign days", "public holidays")


@dataclass(frozen=True)
class Window:
    """Whole days [first, last] of history, ending yesterday (today is still running)."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def history_window(now: datetime | None = None) -> Window:
    today = timezone.localtime(now or timezone.now()).date()
    return Window(
        today - timedelta(days=settings.FORECASTS_HISTORY_DAYS), today - timedelta(days=1)
    )


def series_key(level: str, item: str, measure: str, frequency: str) -> str:
    return f"{level}.{item}.{measure}.{frequency}"


def _wanted(window: Window) -> dict[str, dict[str, Any]]:
    wanted: dict[str, dict[str, Any]] = {}
    product_units = event_selectors.units_per_product(since=window.since, until=window.until)
    if not product_units:
        return wanted  # nothing sold in the window: nothing to forecast
    for measure in (Measure.REVENUE, Measure.UNITS):
        for frequency in SHOP_FREQUENCIES:
            wanted[series_key(SeriesLevel.SHOP, "all", measure, frequency)] = {
                "label": f"Shop {measure.label.lower()}, {frequency.label.lower()}",
                "level": SeriesLevel.SHOP,
                "measure": measure,
                "frequency": frequency,
                # Campaign days (per day, or counted per week and month) and holidays.
                "uses_campaigns": True,
            }
    wanted[series_key(SeriesLevel.CUSTOMERS, "all", Measure.NEW_CUSTOMERS, Frequency.WEEKLY)] = {
        "label": "New customers, weekly",
        "level": SeriesLevel.CUSTOMERS,
        "measure": Measure.NEW_CUSTOMERS,
        "frequency": Frequency.WEEKLY,
    }
    categories: set[int | None] = set()
    facts = catalog_selectors.product_stock_facts(product_ids=product_units)
    product_measures = _choices_setting(
        "FORECASTS_PRODUCT_MEASURES", (Measure.UNITS, Measure.REVENUE)
    )
    product_frequencies = _choices_setting("FORECASTS_PRODUCT_FREQUENCIES", SHOP_FREQUENCIES)
    for product_id, units in product_units.items():
        sku, title, category_id, _ = facts[product_id]
        categories.add(category_id)
        if units < settings.FORECASTS_PRODUCT_MIN_UNITS:
            continue
        for product_measure in product_measures:
            for product_frequency in product_frequencies:
                key = series_key(SeriesLevel.PRODUCT, sku, product_measure, product_frequency)
                wanted[key] = {
                    "label": f"{title} ({sku}), {_what(product_measure, product_frequency)}",
                    "level": SeriesLevel.PRODUCT,
                    "measure": product_measure,
                    "frequency": product_frequency,
                    "product_id": product_id,
                }
    names = catalog_selectors.category_names(category_ids=[c for c in categories if c])
    for category_id in categories:
        item = str(category_id) if category_id else NO_CATEGORY
        name = names.get(category_id, "No category") if category_id else "No category"
        for measure in (Measure.REVENUE, Measure.UNITS):
            for category_frequency in _choices_setting(
                "FORECASTS_CATEGORY_FREQUENCIES", SHOP_FREQUENCIES
            ):
                wanted[series_key(SeriesLevel.CATEGORY, item, measure, category_frequency)] = {
                    "label": f"{name}: {_what(measure, category_frequency)}",
                    "level": SeriesLevel.CATEGORY,
                    "measure": measure,
                    "frequency": category_frequency,
                    "category_id": category_id,
                }
    return wanted


def _what(measure: str, frequency: str) -> str:
    return f"{Frequency(frequency).label.lower()} {Measure(measure).label.lower()}"


def _choices_setting(name: str, allowed: Sequence[str]) -> list[str]:
    """A comma-separated setting of frequencies or measures, checked against `allowed`."""
    values = [part.strip() for part in str(getattr(settings, name)).split(",") if part.strip()]
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"{name}: {', '.join(unknown)} not among {', '.join(allowed)}")
    return values


@transaction.atomic
def series_sync(*, now: datetime | None = None) -> dict[str, int]:
    """Create, update and (de)activate series to match what the shop sells now.

    Why: products launch and fade, categories are added; the nightly refresh forecasts what
    is active. Deactivated series keep their forecasts (history stays readable).
    """
    wanted = _wanted(history_window(now))
    existing = {row.key: row for row in ForecastSeries.objects.select_for_update()}
    created = updated = deactivated = 0
    for key, fields in wanted.items():
        row = existing.get(key)
        if row is None:
            ForecastSeries.objects.create(key=key, **fields)
            created += 1
            continue
        changes = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if changes or not row.active:
            for name, value in changes.items():
                setattr(row, name, value)
            row.active = True
            row.save()
            updated += 1
    stale = [row.pk for key, row in existing.items() if key not in wanted and row.active]
    if stale:
        deactivated = ForecastSeries.objects.filter(pk__in=stale).update(active=False)
    return {
        "series": len(wanted),
        "created": created,
        "updated": updated,
        "deactivated": deactivated,
    }


def _daily(rows: dict[date, float], window: Window) -> np.ndarray:
    return np.array(
        [float(rows.get(window.first + timedelta(days=k), 0.0)) for k in range(window.days)]
    )


def _trim_leading_zeros(dates: list[date], values: np.ndarray) -> tuple[list[date], np.ndarray]:
    """Start at the first period with sales: a product does not sell before its launch."""
    nonzero = np.flatnonzero(values)
    if not len(nonzero):
        return dates[-1:], values[-1:]
    start = int(nonzero[0])
    return dates[start:], values[start:]


def campaign_days(window: Window, ahead_until: date) -> set[date]:
    """Campaign days from orders (past) and from campaigns sent or scheduled (past and ahead)."""
    days = event_selectors.campaign_order_days(since=window.since, until=window.until)
    days |= campaign_selectors.campaign_send_days(
        since=window.since,
        until=timezone.make_aware(datetime.combine(ahead_until + timedelta(days=1), time.min)),
    )
    return days


def regressors_for(
    series: Series, horizon: int, window: Window, extra_days: Sequence[date] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(history, future) columns: campaign days and public holidays per period."""
    ahead = dates_ahead(series.dates[-1], series.frequency, horizon)
    days = campaign_days(window, ahead[-1]) | set(extra_days)
    history = [regressors.days_regressor(series.dates, series.frequency, days)]
    future = [regressors.days_regressor(ahead, series.frequency, days)]
    country = settings.FORECASTS_HOLIDAY_COUNTRY
    if country:
        history.append(regressors.calendar_regressor(series.dates, series.frequency, country))
        future.append(regressors.calendar_regressor(ahead, series.frequency, country))
    return np.column_stack(history), np.column_stack(future)


def _grouping(row: ForecastSeries) -> tuple[str, int | None]:
    """How `sales_per_day` groups a sales series's lines, and which group is this one's."""
    if row.level == SeriesLevel.CATEGORY:
        return "category", row.category_id
    if row.level == SeriesLevel.PRODUCT:
        return "product", row.product_id
    return "", None


def series_load(
    rows: Sequence[ForecastSeries], *, now: datetime | None = None
) -> dict[int, Series]:
    """Values of each series over the history window (complete periods, from first sale)."""
    window = history_window(now)
    loaded: dict[int, Series] = {}
    # One query per grouping, for the groups of these rows only (a chunk of 50 products
    # reads its products' lines, not the whole catalogue's).
    wanted_ids: dict[str, set[int | None]] = defaultdict(set)
    for row in rows:
        if row.level != SeriesLevel.CUSTOMERS:
            by, group = _grouping(row)
            wanted_ids[by].add(group)
    sales: dict[str, dict[tuple[int | None, str], dict[date, float]]] = {}
    for by, ids in wanted_ids.items():
        table: dict[tuple[int | None, str], dict[date, float]] = defaultdict(dict)
        for day, group, revenue, units in event_selectors.sales_per_day(
            since=window.since, until=window.until, by=by, ids=ids if by else None
        ):
            table[(group, Measure.REVENUE)][day] = float(revenue)
            table[(group, Measure.UNITS)][day] = float(units)
        sales[by] = table
    new_customers: dict[date, int] | None = None
    for row in rows:
        if row.level == SeriesLevel.CUSTOMERS:
            if new_customers is None:
                new_customers = event_selectors.new_customers_per_day(
                    since=window.since, until=window.until
                )
            values = {day: float(count) for day, count in new_customers.items()}
        else:
            by, group = _grouping(row)
            values = sales[by].get((group, row.measure), {})
        dates, totals = daily_to_periods(window.first, _daily(values, window), row.frequency)
        if row.level == SeriesLevel.PRODUCT:
            dates, totals = _trim_leading_zeros(dates, totals)
        loaded[row.pk] = Series(tuple(dates), totals, row.frequency, name=row.key)
    return loaded


def series_with_regressors(
    row: ForecastSeries,
    series: Series,
    horizon: int,
    *,
    now: datetime | None = None,
    extra_days: Sequence[date] = (),
) -> tuple[Series, np.ndarray | None]:
    """The series with its regressors attached when it uses them, and their future values."""
    if not row.uses_campaigns or len(series) < 2:
        return series, None
    history, future = regressors_for(series, horizon, history_window(now), extra_days)
    return replace(series, exog=history), future
