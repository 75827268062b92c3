"""Models against known results: the airline model, planted trend and season, regressors,
intervals, transforms, decomposition and reconciliation."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from apps.forecasts.engine import models
from apps.forecasts.engine.diagnostics import diagnose
from apps.forecasts.engine.forecaster import (
    ForecastError,
    ForecastRequest,
    backtest_origins,
    forecast,
)
from apps.forecasts.engine.models import ModelOptions
from apps.forecasts.engine.reconcile import reconcile
from apps.forecasts.engine.regressors import calendar_regressor, days_regressor
from apps.forecasts.engine.series import series_build
from apps.forecasts.engine.transforms import Transform, transform_choose
from apps.forecasts.tests.conftest import daily_dates, monthly_dates, planted

AIRLINE = ModelOptions(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12))


def test_airline_model_reproduces_box_jenkins_parameters(airline):
    # Box, Jenkins & Reinsel: theta = 0.40, Theta = 0.56 on log passengers, sigma2 0.00135.
    result = forecast(
        airline, ForecastRequest(horizon=12, model="sarima", transform="log", options=AIRLINE)
    )
    assert result.description == "SARIMA(0,1,1)(0,1,1)[12]"
    assert result.transform == "log"
    assert result.params["ma.L1"] == pytest.approx(-0.4018, abs=0.002)
    assert result.params["ma.S.L12"] == pytest.approx(-0.5569, abs=0.002)
    assert result.params["sigma2"] == pytest.approx(0.001348, rel=0.02)
    assert result.mean[0] == pytest.approx(450.4, abs=1.0)  # January 1961
    assert result.dates[0].isoformat() == "1961-01-01"
    assert all(result.lower[95] < result.lower[80]) and all(result.lower[80] < result.mean)
    assert all(result.mean < result.upper[80]) and all(result.upper[80] < result.upper[95])


def test_seasonal_naive_repeats_the_last_season_with_widening_intervals():
    y = np.array([1.0, 2, 3, 1, 2, 3, 1, 2, 4])
    prediction = models.naive(y, 6, 3)
    assert prediction.mean.tolist() == [1.0, 2, 4, 1, 2, 4]
    width = prediction.upper[95] - prediction.lower[95]
    assert width[3] == pytest.approx(width[0] * np.sqrt(2))


def test_drift_extends_the_average_change():
    prediction = models.drift(np.array([10.0, 12, 14, 16]), 2, 1)
    assert prediction.mean.tolist() == pytest.approx([18.0, 20.0])
    assert prediction.params["slope"] == pytest.approx(2.0)


def test_planted_trend_and_season_are_recovered_and_forecast(planted_series):
    diagnostics = diagnose(planted_series.values, 12)
    slope = np.polyfit(np.arange(96), diagnostics.trend, 1)[0]
    assert slope == pytest.approx(0.5, abs=0.05)
    amplitude = (max(diagnostics.seasonal) - min(diagnostics.seasonal)) / 2
    assert amplitude == pytest.approx(10, rel=0.1)
    assert diagnostics.seasonal_strength > 0.9 and diagnostics.trend_strength > 0.9
    assert diagnostics.differences >= 1 and diagnostics.transform == "none"

    result = forecast(
        planted_series, ForecastRequest(horizon=12, candidates=("naive", "ets", "theta"))
    )
    truth = 100 + 0.5 * np.arange(96, 108) + 10 * np.sin(2 * np.pi * np.arange(96, 108) / 12)
    assert np.mean(np.abs(result.mean - truth)) < 2.0
    chosen = next(score for score in result.backtest if score.chosen)
    naive = next(score for score in result.backtest if score.model == "naive")
    assert chosen.mase < naive.mase


def test_ets_picks_a_seasonal_variant_and_arma_search_finds_an_ar1():
    ets = models.ets(planted(72, noise=0.5), 6, 12)
    assert ets.description.endswith(",A)") or ets.description.endswith(",M)")
    rng = np.random.default_rng(1)
    ar = np.zeros(1000)
    for t in range(1, 1000):
        ar[t] = 0.7 * ar[t - 1] + rng.normal()
    prediction = models.MODELS["arma"](ar, 5, 1)
    assert re.fullmatch(r"ARIMA\(\d,0,0\)( with mean)?", prediction.description)
    assert prediction.params["ar.L1"] == pytest.approx(0.7, abs=0.1)
    assert "ARIMA(0,0," in models.MODELS["ma"](ar, 5, 1).description


def test_promotion_regressor_effect_is_recovered_by_arima():
    days = daily_dates(200)
    rng = np.random.default_rng(3)
    promo = np.zeros(200)
    promo[rng.choice(200, 25, replace=False)] = 1
    values = 50 + rng.normal(0, 2, 200) + 30 * promo
    series = replace(series_build(days, list(values)), exog=promo[:, None])
    future = np.array([[1.0], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0]])
    result = forecast(
        series, ForecastRequest(horizon=7, model="arima", transform="none", exog_future=future)
    )
    assert result.uses_regressors
    assert result.params["x1"] == pytest.approx(30, abs=2)
    assert result.mean[0] - result.mean[1] == pytest.approx(30, abs=3)


def test_regressors_need_future_values_for_the_whole_horizon():
    series = replace(series_build(daily_dates(30), list(range(30))), exog=np.ones((30, 1)))
    with pytest.raises(ForecastError, match="future values"):
        forecast(series, ForecastRequest(horizon=7, exog_future=np.ones((3, 1))))


def test_calendar_and_campaign_regressors_count_days_per_period():
    months = monthly_dates(2, "2025-12-01")
    assert calendar_regressor(months, "M", "US").tolist() == [1.0, 2.0]  # Christmas; New Year, MLK
    days = daily_dates(3, "2025-12-24")
    assert calendar_regressor(days, "D", "US").tolist() == [0.0, 1.0, 0.0]
    assert days_regressor(months, "M", days).tolist() == [3.0, 0.0]
    with pytest.raises(ValueError, match="no holiday calendar"):
        calendar_regressor(days, "D", "XX")


def test_log_transform_is_chosen_when_variance_grows_with_level(airline, planted_series):
    assert transform_choose(airline.values, 12).name == "log"
    assert transform_choose(planted_series.values, 12).name == "none"
    assert transform_choose(np.r_[0.0, airline.values], 12).name == "none"  # a zero: never
    with pytest.raises(ValueError, match="positive"):
        transform_choose(np.r_[0.0, airline.values], 12, "log")
    box = Transform(0.5)
    assert box.inverse(box.forward(np.array([4.0, 9.0]))) == pytest.approx([4.0, 9.0])


def test_backtest_origins_step_back_by_the_horizon_and_keep_enough_history():
    assert backtest_origins(144, 12, 12, 3) == [108, 120, 132]
    assert backtest_origins(40, 12, 6, 3) == [22, 28, 34]  # at least a season (12) before
    assert backtest_origins(20, 12, 6, 3) == [12, 13, 14]  # short: origins a period apart
    assert backtest_origins(17, 12, 6, 3) == []
    assert backtest_origins(104, 52, 12, 3) == [68, 80, 92]  # a year of weeks: no season
    assert backtest_origins(144, 12, 12, 0) == []


def test_too_short_a_history_forecasts_without_a_backtest_and_says_so():
    series = series_build(monthly_dates(8), [5.0, 6, 7, 6, 5, 6, 7, 6])
    result = forecast(series, ForecastRequest(horizon=3))
    assert result.backtest == []
    assert result.model == "naive"
    assert "too short to backtest" in result.notes[0]


def test_ensemble_averages_the_best_candidates_within_reach_of_the_best():
    noisy = series_build(monthly_dates(96), list(planted(noise=3.0)))
    candidates = ("naive", "drift", "ets", "theta")

    request = ForecastRequest(horizon=6, model="ensemble", candidates=candidates, transform="none")
    result = forecast(noisy, request)

    scores = {score.model: score for score in result.backtest}
    assert result.model == "ensemble" and sorted(result.members) == ["ets", "theta"]
    assert scores["naive"].mase > 1.5 * scores["ets"].mase  # too far behind to join
    assert scores["ensemble"].chosen and scores["ensemble"].members == result.members
    assert result.mean == pytest.approx(
        (models.ets(noisy.values, 6, 12).mean + models.theta(noisy.values, 6, 12).mean) / 2
    )
    clean = series_build(monthly_dates(96), list(planted(noise=1.0)))  # ETS alone leads
    with pytest.raises(ForecastError, match="at least two candidates"):
        forecast(clean, ForecastRequest(horizon=6, model="ensemble", candidates=candidates))


def test_interval_coverage_of_gaussian_noise_is_close_to_nominal():
    rng = np.random.default_rng(7)
    coverage = []
    for seed in range(40):
        values = 20 + np.random.default_rng(seed).normal(0, 1, 60)
        prediction = models.naive(values, 1, 1)
        actual = 20 + rng.normal(0, 1)
        coverage.append(prediction.lower[95][0] <= actual <= prediction.upper[95][0])
    # The naive one-step interval uses the spread of changes (sd sqrt(2)): it over-covers
    # white noise; it must not under-cover.
    assert np.mean(coverage) >= 0.9


def test_reconciled_categories_add_up_to_the_total():
    base = {"shop": np.array([100.0, 110]), "a": np.array([60.0, 50]), "b": np.array([30.0, 40])}
    coherent = reconcile(base, "shop", ["a", "b"])
    assert coherent["a"] + coherent["b"] == pytest.approx(coherent["shop"])
    # WLS_s shares the gap of 10 in proportion to W = diag(2, 1, 1): half of it moves the
    # total (which covers two bottom series), a quarter moves each part.
    assert coherent["shop"][0] == pytest.approx(95.0)
    assert coherent["a"][0] == pytest.approx(62.5)
    assert coherent["b"][0] == pytest.approx(32.5)


@pytest.mark.slow
def test_lstm_learns_a_seasonal_pattern():
    values = planted(120, slope=0.2, noise=0.3)
    prediction = models.lstm(values[:108], 12, 12)
    truth = values[108:]
    naive_error = np.mean(np.abs(models.naive(values[:108], 12, 12).mean - truth))
    assert prediction.description.startswith("LSTM")
    assert np.mean(np.abs(prediction.mean - truth)) < 2 * naive_error + 1
    assert np.all(prediction.lower[95] < prediction.mean)
