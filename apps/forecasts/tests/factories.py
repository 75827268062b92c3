"""Factories of the forecasts app."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.forecasts.models import Forecast, ForecastRun, ForecastSeries


class ForecastSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForecastSeries
        django_get_or_create = ("key",)

    key = "shop.all.revenue.W"
    label = "Shop revenue, weekly"
    level = "shop"
    measure = "revenue"
    frequency = "W"


class ForecastRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForecastRun

    key = factory.Sequence(lambda n: f"manual:test{n}")
    trigger = "manual"
    as_of = factory.LazyFunction(timezone.now)
    status = "succeeded"


class ForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forecast

    series = factory.SubFactory(ForecastSeriesFactory)
    run = factory.SubFactory(ForecastRunFactory)
    status = "ok"
    model = "ets"
    description = "ETS(A,N,N)"
    transform = "none"
    horizon = 2
    history = [["2026-01-05", 10.0], ["2026-01-12", 12.0]]
    points = [
        {"date": "2026-01-19", "yhat": 11.0, "lo": 5.0, "hi": 17.0, "lo_80": 7.0, "hi_80": 15.0},
        {"date": "2026-01-26", "yhat": 11.0, "lo": 4.0, "hi": 18.0, "lo_80": 6.0, "hi_80": 16.0},
    ]
    mase = 0.8
    coverage_95 = 0.95


def backtest_row(model: str = "ets", **fields: object) -> dict:
    """One candidate's backtest as a stored forecast holds it."""
    row = {
        "model": model,
        "description": "ETS(A,N,N)",
        "mase": 0.8,
        "smape": 9.1,
        "coverage_80": 0.8,
        "coverage_95": 1.0,
        "origins": 3,
        "seconds": 0.1,
        "error": "",
        "chosen": True,
        "members": [],
    }
    return {**row, **fields}
