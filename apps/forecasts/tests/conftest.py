"""Series the forecasting tests share: the airline passengers and planted patterns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.engine.series import Series, series_build


def monthly_dates(count: int, start: str = "2015-01-01") -> list[date]:
    return [stamp.date() for stamp in pd.date_range(start, periods=count, freq="MS")]


def daily_dates(count: int, start: str = "2025-01-01") -> list[date]:
    return [stamp.date() for stamp in pd.date_range(start, periods=count, freq="D")]


@pytest.fixture(scope="session")
def airline() -> Series:
    from pmdarima.datasets import load_airpassengers

    values = load_airpassengers().astype(float)
    return series_build(monthly_dates(len(values), "1949-01-01"), list(values), name="airline")


def planted(
    count: int = 96,
    *,
    slope: float = 0.5,
    amplitude: float = 10.0,
    noise: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """100 + slope*t + amplitude*sin(2 pi t / 12) + N(0, noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(count)
    return 100 + slope * t + amplitude * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, count)


@pytest.fixture
def planted_series() -> Series:
    values = planted()
    return series_build(monthly_dates(len(values)), list(values), name="planted")
