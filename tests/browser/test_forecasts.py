"""Forecasts in a real browser: a marketer refreshes the forecasts of a small shop, reads the
overview and a series (chart with bands, backtest, diagnostics) and asks what a campaign
would add."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.forecasts.models import Forecast
from apps.forecasts.tests.conftest import shop_create
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def setup(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.FORECASTS_SHOP_CANDIDATES = "naive,drift,ets,theta,arima"
    settings.FORECASTS_PRODUCT_CANDIDATES = "naive,ets"


@pytest.fixture
def live_shop(settings) -> dict:
    return shop_create(settings, timezone.localdate())


def test_a_marketer_refreshes_and_reads_forecasts(web, live_shop):
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # no forecasts yet: the overview says so and offers a refresh
    assert web.goto("/forecasts/") == 200
    expect(web.page.locator("[data-testid=empty-state]").first).to_be_visible()
    web.page.click("[data-testid=refresh-now]")
    web.page.wait_for_load_state("networkidle")
    assert Forecast.objects.filter(status="ok").count() >= 10

    # the overview: counts, the headline chart, stock alerts, series by level
    web.goto("/forecasts/")
    expect(web.page.locator("[data-testid=run-status]")).to_have_text("Succeeded")
    expect(web.page.locator("[data-testid=headline-chart]")).to_be_visible()
    expect(web.page.locator("[data-testid=stock-alert-row]")).to_have_count(1)
    expect(web.page.locator("[data-testid=stock-alerts]")).to_contain_text("BOOT")
    assert web.page.locator("[data-testid=series-row]").count() >= 10
    web.screenshot("forecasts-overview")

    # a daily series: chart, backtest with the chosen model, diagnostics
    web.page.click("text=Shop units sold, daily")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=forecast-chart]")).to_be_visible()
    expect(web.page.locator("[data-testid=backtest-row]")).to_have_count(6)  # 5 + ensemble
    expect(web.page.locator("[data-testid=diagnostics]")).to_contain_text("KPSS")
    assert web.page.locator("[data-testid=forecast-table] tbody tr").count() == 28

    # what if: three campaign days next week (htmx; nothing stored)
    start = timezone.localdate() + timedelta(days=7)
    web.page.fill("[data-testid=whatif-form] input[name=start]", start.isoformat())
    web.page.click("[data-testid=whatif-form] button")
    expect(web.page.locator("[data-testid=whatif-summary]")).to_be_visible(timeout=30_000)
    expect(web.page.locator("[data-testid=whatif-chart]")).to_be_visible()
    web.screenshot("forecasts-series")
    assert web.console_errors == []
