"""Series from orders, refresh runs, reconciliation, stock alerts and the campaign what-if,
against the real database."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from apps.catalog.tests.factories import ProductFactory
from apps.core.errors import ValidationFailed
from apps.forecasts.choices import ForecastStatus, RunStatus, RunTrigger, StockAlertStatus
from apps.forecasts.models import Forecast, ForecastRun, ForecastSeries, StockAlert
from apps.forecasts.services.runs import FORECASTER_KIND, forecast_chunk_run
from apps.forecasts.services.series import series_load, series_sync
from apps.forecasts.services.whatif import campaign_whatif
from apps.forecasts.tests.conftest import NOW, TODAY, place_orders

pytestmark = pytest.mark.django_db


def test_series_sync_defines_shop_category_product_and_customer_series(shop):
    counts = series_sync(now=NOW)

    keys = set(ForecastSeries.objects.values_list("key", flat=True))
    assert {"shop.all.revenue.D", "shop.all.units.W", "shop.all.revenue.M"} <= keys
    assert f"category.{shop['shoes'].pk}.revenue.W" in keys
    assert f"category.{shop['hats'].pk}.units.W" in keys
    assert {"product.BOOT.units.W", "product.CAP.units.W"} <= keys
    assert "product.RARE.units.W" not in keys  # 6 units: below the 50 needed
    assert "customers.all.new_customers.W" in keys
    assert counts["created"] == len(keys)
    assert ForecastSeries.objects.get(key="shop.all.units.D").uses_campaigns


def test_series_sync_deactivates_a_product_that_no_longer_qualifies(shop, settings):
    series_sync(now=NOW)
    settings.FORECASTS_PRODUCT_MIN_UNITS = 1000  # BOOT sold 1,300 in the window, CAP 849

    counts = series_sync(now=NOW)

    assert not ForecastSeries.objects.get(key="product.CAP.units.W").active
    assert ForecastSeries.objects.get(key="product.BOOT.units.W").active
    assert counts["deactivated"] == 1


def test_weekly_values_are_complete_weeks_of_line_totals(shop):
    series_sync(now=NOW)
    row = ForecastSeries.objects.get(key="product.BOOT.units.W")

    series = series_load([row], now=NOW)[row.pk]

    assert series.frequency == "W"
    assert all(day.weekday() == 0 for day in series.dates)  # weeks start on Monday
    assert series.dates[-1] == date(2026, 5, 25)  # the week of 1 June is still running
    # From the first week with a sale (it began mid-week): 7 days x 3 + one day x 4 extra.
    assert series.values[0] < 25 and set(series.values[1:].tolist()) == {25.0}
    shop_row = ForecastSeries.objects.get(key="shop.all.revenue.W")
    shop_series = series_load([shop_row], now=NOW)[shop_row.pk]
    assert shop_series.values[-1] == pytest.approx(10 * (25 + 7 * 2 + 3))  # CAP: k = 3, 6, 9 extra


def test_a_refresh_forecasts_every_series_with_the_forecaster_version(shop, refresh):
    run = refresh()

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.series_done == run.series_total == ForecastSeries.objects.filter(active=True).count()
    assert run.model_version.kind == FORECASTER_KIND
    forecast = Forecast.objects.get(run=run, series__key="shop.all.revenue.M")
    assert forecast.status == ForecastStatus.OK
    assert forecast.model_version_id == run.model_version_id
    assert len(forecast.points) == 6
    assert forecast.backtest == [] and "too short to backtest" in forecast.notes[0]  # 12 months
    weekly = Forecast.objects.get(run=run, series__key="shop.all.revenue.W")
    assert len(weekly.points) == 12 and {s["model"] for s in weekly.backtest} >= {"naive", "ets"}
    assert {"trend", "seasonal", "acf"} <= set(weekly.diagnostics)
    product = Forecast.objects.get(run=run, series__key="product.BOOT.units.W")
    assert product.points[0]["yhat"] == pytest.approx(25, abs=2)
    assert {score["model"] for score in product.backtest} >= {"naive", "ets"}


def test_category_forecasts_add_up_to_the_shop_forecast_each_week_and_month(shop, refresh):
    run = refresh()

    for frequency in ("W", "M"):
        total = Forecast.objects.get(run=run, series__key=f"shop.all.units.{frequency}")
        parts = Forecast.objects.filter(
            run=run, series__level="category", series__measure="units", series__frequency=frequency
        )
        assert parts.count() == 2 and total.reconciled and all(p.reconciled for p in parts)
        summed = np.sum([[p["yhat"] for p in part.points] for part in parts], axis=0)
        assert summed == pytest.approx([p["yhat"] for p in total.points])
        assert len(total.base_points) == len(total.points)


def test_the_nightly_run_happens_once_a_day(shop, refresh):
    first = refresh(RunTrigger.NIGHTLY)

    second = refresh(RunTrigger.NIGHTLY, NOW + timedelta(hours=1))

    assert second.pk == first.pk
    assert ForecastRun.objects.count() == 1


def test_a_redelivered_chunk_forecasts_nothing_twice(shop, refresh):
    run = refresh()
    stored = Forecast.objects.filter(run=run).count()

    counts = forecast_chunk_run(
        run_id=run.pk, series_ids=list(ForecastSeries.objects.values_list("pk", flat=True))
    )

    assert counts == {"skipped": ForecastSeries.objects.count()}
    assert Forecast.objects.filter(run=run).count() == stored


def test_stock_alert_opens_when_demand_passes_stock_and_resolves_after_restock(shop, refresh):
    refresh()

    alert = StockAlert.objects.get(status=StockAlertStatus.OPEN)
    assert alert.product.sku == "BOOT"  # 5 in stock, ~25 a week
    assert alert.demand == pytest.approx(100, abs=10)  # 4 weeks of lead time
    assert alert.stockout_date is not None
    assert not StockAlert.objects.filter(product=shop["cap"]).exists()

    shop["boot"].stock = 1000
    shop["boot"].save()
    refresh(now=NOW + timedelta(minutes=1))

    alert.refresh_from_db()
    assert alert.status == StockAlertStatus.RESOLVED and alert.resolved_at is not None


def test_a_series_with_little_history_is_recorded_as_not_enough_data(settings, refresh):
    settings.FORECASTS_PRODUCT_MIN_UNITS = 1
    settings.FORECASTS_HOLIDAY_COUNTRY = ""
    product = ProductFactory(sku="NEW")
    place_orders(product, 20, lambda k: 2)

    run = refresh()

    forecast = Forecast.objects.get(run=run, series__key="product.NEW.units.W")
    assert forecast.status == ForecastStatus.NOT_ENOUGH_DATA
    assert "at least 8" in forecast.error
    assert ForecastRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED


def test_an_empty_shop_refresh_says_there_is_nothing_to_forecast(refresh):
    run = refresh()

    assert run.status == RunStatus.SUCCEEDED
    assert "No series" in run.message


def test_campaign_whatif_recovers_the_planted_campaign_effect(settings):
    settings.FORECASTS_HISTORY_DAYS = 200
    settings.FORECASTS_HOLIDAY_COUNTRY = ""
    rng = np.random.default_rng(5)
    promo = {
        TODAY - timedelta(days=int(k)) for k in rng.choice(np.arange(1, 200), 20, replace=False)
    }
    noise = {k: int(rng.integers(0, 3)) for k in range(1, 201)}
    product = ProductFactory(sku="PROMO")
    place_orders(
        product,
        200,
        lambda k: 10 + noise[k] + (15 if TODAY - timedelta(days=k) in promo else 0),
        campaign_days=promo,
    )
    series_sync(now=NOW)
    row = ForecastSeries.objects.get(key="shop.all.units.D")

    result = campaign_whatif(
        row=row, days=[TODAY + timedelta(days=2), TODAY + timedelta(days=3)], now=NOW
    )

    fitted = {day for day in promo if day >= TODAY - timedelta(days=182)}  # 26 weeks of days
    assert result["history_campaign_days"] == len(fitted)
    assert result["effect_per_campaign_day"] == pytest.approx(15, abs=2)
    assert result["uplift"] == pytest.approx(30, abs=5)
    with pytest.raises(ValidationFailed, match="outside the forecast"):
        campaign_whatif(row=row, days=[TODAY + timedelta(days=90)], now=NOW)
    weekly = ForecastSeries.objects.get(key="shop.all.units.W")
    with pytest.raises(ValidationFailed, match="the what-if works on daily series"):
        campaign_whatif(row=weekly, days=[TODAY], now=NOW)


def test_settings_choose_the_frequencies_and_measures_below_the_shop(shop, settings):
    settings.FORECASTS_CATEGORY_FREQUENCIES = "D,M"
    settings.FORECASTS_PRODUCT_MEASURES = "units,revenue"
    settings.FORECASTS_PRODUCT_FREQUENCIES = "W,M"

    series_sync(now=NOW)

    keys = set(ForecastSeries.objects.filter(active=True).values_list("key", flat=True))
    assert {"product.BOOT.revenue.M", "product.BOOT.units.W", "product.CAP.revenue.W"} <= keys
    assert f"category.{shop['shoes'].pk}.units.D" in keys
    assert f"category.{shop['shoes'].pk}.units.W" not in keys
    settings.FORECASTS_PRODUCT_FREQUENCIES = "W,Y"
    with pytest.raises(ValueError, match="FORECASTS_PRODUCT_FREQUENCIES: Y not among D, W, M"):
        series_sync(now=NOW)


def test_a_chunk_reads_only_its_own_groups_including_products_without_a_category(shop):
    loose = ProductFactory(sku="LOOSE", category=None)
    place_orders(loose, 70, lambda k: 2)
    series_sync(now=NOW)
    rows = list(
        ForecastSeries.objects.filter(
            key__in=["category.none.units.W", f"category.{shop['hats'].pk}.units.W"]
        )
    )

    loaded = {row.key: series_load(rows, now=NOW)[row.pk] for row in rows}

    assert set(loaded["category.none.units.W"].values[-3:].tolist()) == {14.0}  # 2 a day
    hats = loaded[f"category.{shop['hats'].pk}.units.W"]
    assert hats.values[-1] == 17.0  # CAP's week (k = 3, 6, 9 extra); no boots, no loose
