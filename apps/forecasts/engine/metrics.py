"""Forecast accuracy: MASE, sMAPE and the empirical coverage of prediction intervals."""

from __future__ import annotations

import numpy as np


def naive_scale(insample: np.ndarray, season: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast (MASE's denominator).

    Falls back to the non-seasonal naive when the sample does not hold more than a season,
    and to 1.0 for a constant series (so MASE is then the mean absolute error itself).
    """
    lag = season if season > 1 and len(insample) > season else 1
    if len(insample) <= lag:
        return 1.0
    scale = float(np.mean(np.abs(insample[lag:] - insample[:-lag])))
    return scale if scale > 1e-12 else 1.0


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season: int) -> float:
    """Mean absolute scaled error: below 1 beats the in-sample seasonal naive forecast."""
    return float(np.mean(np.abs(actual - forecast)) / naive_scale(insample, season))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric mean absolute percentage error in percent, 0-200 (0/0 counts as 0)."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2 * np.abs(actual - forecast),
        denominator,
        out=np.zeros_like(denominator, dtype=float),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of actual values inside [low, high]."""
    return float(np.mean((actual >= low) & (actual <= high)))
