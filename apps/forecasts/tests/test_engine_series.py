"""Series building: frequency inference, gaps, repeats, anchors and bad values."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from apps.forecasts.engine.metrics import coverage, mase, naive_scale, smape
from apps.forecasts.engine.series import SeriesError, dates_ahead, frequency_infer, series_build
from apps.forecasts.tests.conftest import daily_dates, monthly_dates


def test_frequency_is_inferred_from_the_spacing_of_dates():
    assert frequency_infer(daily_dates(10)) == "D"
    assert frequency_infer([date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20)]) == "W"
    assert frequency_infer(monthly_dates(5)) == "M"
    assert frequency_infer([date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1)]) == "Q"
    assert frequency_infer([date(2020, 1, 1), date(2021, 1, 1), date(2022, 1, 1)]) == "Y"


def test_frequency_of_irregular_dates_is_refused_with_the_spacing():
    with pytest.raises(SeriesError, match="15 days apart"):
        frequency_infer([date(2025, 1, 1), date(2025, 1, 16), date(2025, 1, 31)])


def test_unsorted_dates_are_sorted_and_a_gap_is_interpolated_or_zero_filled():
    dates = [date(2025, 1, 3), date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 5)]
    series = series_build(dates, [3.0, 1.0, 2.0, 5.0])
    assert series.frequency == "D"
    assert series.dates == (
        date(2025, 1, 1),
        date(2025, 1, 2),
        date(2025, 1, 3),
        date(2025, 1, 4),
        date(2025, 1, 5),
    )
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert series.filled == 1
    zero = series_build(dates, [3.0, 1.0, 2.0, 5.0], fill="zero")
    assert zero.values.tolist() == [1.0, 2.0, 3.0, 0.0, 5.0]


def test_two_dates_in_one_period_name_both_rows():
    with pytest.raises(
        SeriesError, match=r"row 4: 2025-02-15 falls in the same monthly period as row 3"
    ):
        series_build(
            [date(2025, 1, 1), date(2025, 2, 1), date(2025, 2, 15)], [1.0, 2.0, 3.0], frequency="M"
        )


def test_an_empty_or_infinite_value_names_its_row():
    with pytest.raises(SeriesError, match="row 3: value is empty"):
        series_build(daily_dates(3), [1.0, float("nan"), 2.0])
    with pytest.raises(SeriesError, match="row 4: value inf is not a finite number"):
        series_build(daily_dates(3), [1.0, 2.0, float("inf")])
    with pytest.raises(SeriesError, match="at least 2 rows"):
        series_build(daily_dates(1), [1.0])


def test_dates_ahead_keep_month_ends_and_month_starts():
    assert dates_ahead(date(2025, 1, 31), "M", 3) == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert dates_ahead(date(2025, 1, 1), "M", 2) == [date(2025, 2, 1), date(2025, 3, 1)]
    assert dates_ahead(date(2025, 12, 31), "Q", 1) == [date(2026, 3, 31)]
    assert dates_ahead(date(2025, 1, 6), "W", 2) == [date(2025, 1, 13), date(2025, 1, 20)]


def test_mase_is_scaled_by_the_in_sample_seasonal_naive_error():
    insample = np.array([1.0, 2, 3, 4, 1, 2, 3, 4, 2, 3, 4, 5])  # |y[t] - y[t-4]|: 0 x4, 1 x4
    assert naive_scale(insample, 4) == pytest.approx(0.5)
    assert mase(np.array([5.0, 6.0]), np.array([4.0, 6.0]), insample, 4) == pytest.approx(1.0)
    assert naive_scale(insample[:4], 4) == pytest.approx(1.0)  # one season only: lag 1
    assert naive_scale(np.ones(10), 4) == 1.0  # constant history: plain MAE


def test_smape_and_coverage():
    assert smape(np.array([100.0, 0.0]), np.array([50.0, 0.0])) == pytest.approx(
        100 * (2 * 50 / 150) / 2
    )
    assert coverage(
        np.array([1.0, 5.0, 9.0]), np.array([0.0, 0, 0]), np.array([2.0, 6, 8])
    ) == pytest.approx(2 / 3)
