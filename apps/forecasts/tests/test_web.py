"""The forecasts pages render for readers; only writers start refreshes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from apps.forecasts.models import ForecastRun
from apps.forecasts.tests.factories import ForecastFactory, ForecastSeriesFactory, backtest_row

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    user = User.objects.create_user(username=role, password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def test_the_overview_lists_series_with_their_model_and_next_period():
    ForecastFactory(description="ETS(A,N,N)")
    ForecastSeriesFactory(key="product.SOCK.units.W", label="Sock, weekly units", level="product")

    response = _client("analyst").get("/forecasts/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Shop revenue, weekly" in body and "Sock, weekly units" in body
    assert body.index("Shop revenue, weekly") < body.index("Sock, weekly units")  # shop first
    assert 'data-testid="headline-chart"' in body
    assert 'data-testid="refresh-now"' not in body  # analysts read only
    chart = response.context["headline"]["chart"]
    assert chart["history"]["values"] == [10.0, 12.0] and len(chart["forecast"]) == 2


def test_an_empty_overview_says_what_to_do():
    body = _client("analyst").get("/forecasts/").content.decode()

    assert "No forecasts yet" in body and "No series yet" in body


def test_a_series_page_shows_the_backtest_the_forecast_and_diagnostics():
    ForecastFactory(
        series=ForecastSeriesFactory(
            key="shop.all.units.D", label="Units, daily", frequency="D", uses_campaigns=True
        ),
        backtest=[
            backtest_row(),
            backtest_row(
                "arima",
                description="",
                mase=None,
                smape=None,
                coverage_80=None,
                coverage_95=None,
                origins=0,
                seconds=0.0,
                error="no arima order could be fitted",
                chosen=False,
            ),
        ],
        diagnostics={
            "trend": [10.0, 12.0],
            "seasonal": [0.0, 0.0],
            "remainder": [0.0, 0.0],
            "acf": [1.0, 0.2],
            "acf_bound": 0.5,
            "trend_strength": 0.9,
            "seasonal_strength": 0.1,
            "season": 7,
            "adf_p_value": 0.2,
            "kpss_p_value": 0.01,
            "differences": 1,
            "seasonal_differences": 0,
            "transform": "none",
            "guerrero_lambda": None,
            "notes": [],
        },
    )

    response = _client("analyst").get("/forecasts/s/shop.all.units.D/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="backtest-row"' in body and "no arima order could be fitted" in body
    assert 'data-testid="diagnostics"' in body and 'data-testid="whatif-form"' in body
    assert json.loads(json.dumps(response.context["components"]))["acf"] == [1.0, 0.2]


def test_an_unknown_series_page_is_404():
    assert _client("analyst").get("/forecasts/s/nope/").status_code == 404


def test_the_whatif_panel_explains_a_refused_request(live_shop):
    from apps.forecasts.services.series import series_sync

    series_sync()
    day = timezone.localdate() + timedelta(days=90)

    response = _client("analyst").post(
        "/forecasts/s/shop.all.units.D/whatif/", {"start": day.isoformat(), "days": 2}
    )

    assert response.status_code == 200
    assert "outside the forecast" in response.content.decode()


def test_only_writers_start_a_refresh(django_capture_on_commit_callbacks):
    refused = _client("analyst").post("/forecasts/runs/")
    with django_capture_on_commit_callbacks(execute=True):
        started = _client("marketer").post("/forecasts/runs/")

    assert refused.status_code == 403
    assert started.status_code == 302 and ForecastRun.objects.count() == 1
    card = _client("admin").get("/forecasts/runs/latest/").content.decode()
    assert 'data-testid="run-card"' in card and "No series to forecast" in card
