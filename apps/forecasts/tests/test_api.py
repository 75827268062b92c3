"""The forecasts API: series, the latest forecast (the CLI's keys), what-if, runs, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.forecasts.models import ForecastRun, StockAlert
from apps.forecasts.tests.factories import ForecastFactory, ForecastSeriesFactory, backtest_row

pytestmark = pytest.mark.django_db


def _client(*scopes: str) -> Client:
    created = api_key_create(name="partner", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")


@pytest.fixture
def api() -> Client:
    return _client("forecasts:read", "forecasts:write")


def test_the_latest_forecast_of_a_series_has_the_contract_keys(api):
    forecast = ForecastFactory(backtest=[backtest_row()])

    response = api.get("/api/v1/forecasts/shop.all.revenue.W")

    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "ets" and body["series"]["series"] == forecast.series.key
    assert body["forecast"][0] == {
        "date": "2026-01-19",
        "yhat": 11.0,
        "lo": 5.0,
        "hi": 17.0,
        "lo_80": 7.0,
        "hi_80": 15.0,
    }
    assert body["backtest"][0]["chosen"] and body["backtest"][0]["mase"] == 0.8
    assert body["history"] == [["2026-01-05", 10.0], ["2026-01-12", 12.0]]


def test_an_unknown_series_and_one_not_forecast_yet_are_404_with_the_error_shape(api):
    ForecastSeriesFactory(key="shop.all.units.W", label="Units")

    unknown = api.get("/api/v1/forecasts/shop.all.nothing.W")
    pending = api.get("/api/v1/forecasts/shop.all.units.W")

    assert unknown.status_code == 404 and set(unknown.json()) == {"detail", "code"}
    assert "shop.all.nothing.W" in unknown.json()["detail"]
    assert pending.status_code == 404 and "no forecast yet" in pending.json()["detail"]


def test_series_list_filters_by_level_and_gives_the_next_period(api):
    ForecastFactory()
    ForecastSeriesFactory(
        key="product.SKU-1.units.W", label="Sock", level="product", measure="units"
    )

    everything = api.get("/api/v1/forecasts").json()
    products = api.get("/api/v1/forecasts?level=product").json()

    assert [row["series"] for row in everything["results"]] == [
        "shop.all.revenue.W",
        "product.SKU-1.units.W",
    ]
    assert everything["results"][0]["next"]["yhat"] == 11.0
    assert [row["series"] for row in products["results"]] == ["product.SKU-1.units.W"]
    assert products["results"][0]["status"] is None


def test_whatif_refuses_bad_days_naming_the_field(api, live_shop):
    from apps.forecasts.services.series import series_sync

    series_sync()
    outside = api.post(
        "/api/v1/forecasts/shop.all.units.D/whatif",
        {"days": [(timezone.localdate() + timedelta(days=400)).isoformat()]},
        content_type="application/json",
    )
    not_a_date = api.post(
        "/api/v1/forecasts/shop.all.units.D/whatif",
        {"days": ["soon"]},
        content_type="application/json",
    )
    weekly = api.post(
        "/api/v1/forecasts/shop.all.units.W/whatif",
        {"days": [timezone.localdate().isoformat()]},
        content_type="application/json",
    )

    assert outside.status_code == 400 and "outside the forecast" in outside.json()["detail"]
    assert not_a_date.status_code == 400 and "days" in str(not_a_date.json()["detail"])
    assert weekly.status_code == 400 and "daily series" in weekly.json()["detail"]


def test_starting_a_refresh_needs_write_and_returns_the_run(
    live_shop, django_capture_on_commit_callbacks
):
    reader = _client("forecasts:read")
    writer = _client("forecasts:write", "forecasts:read")

    refused = reader.post("/api/v1/forecasts/runs")
    assert refused.status_code == 403 and not ForecastRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = writer.post("/api/v1/forecasts/runs")

    assert started.status_code == 202
    run = writer.get(f"/api/v1/forecasts/runs/{started.json()['id']}").json()
    assert run["status"] == "succeeded" and run["series_done"] == run["series_total"] > 0
    alerts = writer.get("/api/v1/forecasts/stock-alerts").json()
    assert [row["sku"] for row in alerts["results"]] == ["BOOT"]
    assert StockAlert.objects.count() == 1
