"""What a series is made of before it is forecast: STL decomposition, trend and seasonal
strength, stationarity tests (ADF and KPSS), autocorrelations, the suggested differencing and
the variance-stabilising transform.

Strengths follow Hyndman & Athanasopoulos (FPP3 4.3): 1 - var(remainder) / var(component +
remainder), 0 (none) to 1 (all). ADF's null is a unit root (p < 0.05: stationary); KPSS's null
is stationarity (p < 0.05: not stationary); the two together say whether to difference.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.forecasts.engine.transforms import guerrero_lambda, transform_choose


@dataclass
class Diagnostics:
    """Decomposition and tests of one series (lists are JSON-ready)."""

    trend: list[float]
    seasonal: list[float]
    remainder: list[float]
    trend_strength: float
    seasonal_strength: float
    season: int
    adf_p_value: float | None
    kpss_p_value: float | None
    differences: int
    seasonal_differences: int
    acf: list[float]
    pacf: list[float]
    acf_bound: float
    transform: str
    guerrero_lambda: float | None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _strength(component: np.ndarray, remainder: np.ndarray) -> float:
    total = np.var(component + remainder)
    if total <= 0:
        return 0.0
    return float(max(0.0, 1 - np.var(remainder) / total))


def diagnose(values: np.ndarray, season: int, lags: int | None = None) -> Diagnostics:
    """Decompose and test `values` (at least 8 periods)."""
    from pmdarima.arima import ndiffs, nsdiffs
    from statsmodels.tsa.seasonal import STL
    from statsmodels.tsa.stattools import acf, adfuller, kpss, pacf

    values = np.asarray(values, dtype=float)
    if len(values) < 8:
        raise ValueError("diagnostics need at least 8 periods")
    notes: list[str] = []
    m = season if season > 1 and len(values) >= 2 * season else 1
    if season > 1 and m == 1:
        notes.append(f"fewer than two seasons of {season}: no seasonal decomposition")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if m > 1:
            result = STL(values, period=m, robust=True).fit()
            trend, seasonal, remainder = result.trend, result.seasonal, result.resid
        else:
            from statsmodels.nonparametric.smoothers_lowess import lowess

            positions = np.arange(len(values), dtype=float)
            trend = lowess(values, positions, frac=0.5, return_sorted=False)
            seasonal = np.zeros_like(values)
            remainder = values - trend
        constant = bool(np.ptp(values) == 0)
        adf_p = None if constant else float(adfuller(values, autolag="AIC")[1])
        kpss_p = None if constant else float(kpss(values, regression="c", nlags="auto")[1])
        differences = 0 if constant else int(ndiffs(values, test="kpss", max_d=2))
        seasonal_differences = (
            int(nsdiffs(values, m=m, test="ocsb", max_D=1)) if m > 1 and not constant else 0
        )
        lags = lags or min(len(values) // 2 - 1, max(2 * m, 24))
        acf_values = [] if constant else [float(v) for v in acf(values, nlags=lags)]
        pacf_values = (
            []
            if constant
            else [float(v) for v in pacf(values, nlags=min(lags, len(values) // 2 - 1))]
        )
    positive = bool(np.all(values > 0))
    lam = guerrero_lambda(values, season) if positive and m > 1 else None
    transform = transform_choose(values, season)
    return Diagnostics(
        trend=[float(v) for v in trend],
        seasonal=[float(v) for v in seasonal],
        remainder=[float(v) for v in remainder],
        trend_strength=round(_strength(trend, remainder), 4),
        seasonal_strength=round(_strength(seasonal, remainder), 4) if m > 1 else 0.0,
        season=m,
        adf_p_value=adf_p,
        kpss_p_value=kpss_p,
        differences=differences,
        seasonal_differences=seasonal_differences,
        acf=acf_values,
        pacf=pacf_values,
        acf_bound=float(1.96 / np.sqrt(len(values))),
        transform=transform.name,
        guerrero_lambda=None if lam is None else round(lam, 3),
        notes=notes,
    )
