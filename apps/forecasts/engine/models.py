"""Forecasting models with one signature: history in, point forecast and intervals out.

Every model takes the (possibly transformed) history `y`, the horizon, the season length and,
when it can use them, regressors for the history and the future; it returns a `Prediction`
with the mean and the 80% and 95% bounds. Models that cannot use regressors ignore them and
say so (`TAKES_REGRESSORS`).

- naive: seasonal naive (plain naive without a season), Hyndman & Athanasopoulos's intervals.
- drift: the last value plus the average change.
- arima / ar / ma / arma / sarima: statsmodels SARIMAX. Orders are searched by AICc within
  bounds with pmdarima's stepwise search, run on the differenced series for speed
  (simple differencing, concentrated scale), then the chosen order is refitted on the levels so
  the forecast and its intervals come straight from SARIMAX. `order=` skips the search.
- ets: statsmodels ETSModel, error/trend/seasonal variants (additive, multiplicative, damped)
  chosen by AICc, skipping the unstable ones (additive error with multiplicative season).
- theta: statsmodels ThetaModel (the M3 winner, seasonally adjusted when a season is found).
- lstm: see `lstm.py`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

LEVELS = (80, 95)
NAIVE = "naive"
DRIFT = "drift"
ARIMA = "arima"
AR = "ar"
MA = "ma"
ARMA = "arma"
SARIMA = "sarima"
ETS = "ets"
THETA = "theta"
LSTM = "lstm"
ENSEMBLE = "ensemble"
TAKES_REGRESSORS = frozenset({ARIMA, AR, MA, ARMA, SARIMA})


class ModelError(ValueError):
    """A model cannot be fitted to this series (too short, wrong values ...)."""


class NotEnoughHistory(ModelError):
    """The series is too short for this model or this request: a user-visible outcome
    ("not enough data"), not a failure."""


@dataclass
class Prediction:
    """Point forecast and interval bounds per level (80, 95) for `len(mean)` periods."""

    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    description: str
    params: dict[str, float] = field(default_factory=dict)
    uses_regressors: bool = False
    # What a later fit may reuse instead of searching again (ARIMA orders and trend).
    spec: dict[str, Any] = field(default_factory=dict)

    def mapped(self, function: Callable[[np.ndarray], np.ndarray]) -> Prediction:
        """The same prediction through a monotone function (a transform's inverse)."""
        return Prediction(
            function(self.mean),
            {level: function(values) for level, values in self.lower.items()},
            {level: function(values) for level, values in self.upper.items()},
            self.description,
            self.params,
            self.uses_regressors,
            self.spec,
        )


@dataclass(frozen=True)
class ModelOptions:
    """What a caller may fix instead of letting the model search."""

    order: tuple[int, int, int] | None = None
    seasonal_order: tuple[int, int, int, int] | None = None
    trend: str | None = None  # SARIMAX trend with a fixed order: n (none) or c
    max_order: int = 3
    device: str = "cpu"
    seed: int = 0


def normal_bounds(mean: np.ndarray, sd: np.ndarray) -> tuple[dict, dict]:
    lower, upper = {}, {}
    for level in LEVELS:
        z = float(norm.ppf(0.5 + level / 200))
        lower[level] = mean - z * sd
        upper[level] = mean + z * sd
    return lower, upper


# State-space models with a season longer than this (52 weeks) carry one state per period
# and fit slowly and badly (Hyndman & Athanasopoulos, FPP3 12.1): ETS and SARIMA treat such
# series as non-seasonal; seasonal naive and Theta still use the season.
MAX_STATE_SEASON = 24


def _effective_season(y: np.ndarray, season: int, state_space: bool = False) -> int:
    """The season if the history holds at least two of them, else 1 (no seasonality)."""
    if state_space and season > MAX_STATE_SEASON:
        return 1
    return season if season > 1 and len(y) >= 2 * season else 1


def naive(y: np.ndarray, horizon: int, season: int, **_: Any) -> Prediction:
    m = season if season > 1 and len(y) > season else 1  # one season is enough to repeat
    steps = np.arange(horizon)
    mean = y[-m:][steps % m]
    residuals = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(residuals**2))) if len(residuals) else 0.0
    sd = sigma * np.sqrt(steps // m + 1)
    lower, upper = normal_bounds(mean, sd)
    return Prediction(mean, lower, upper, "Seasonal naive" if m > 1 else "Naive")


def drift(y: np.ndarray, horizon: int, season: int, **_: Any) -> Prediction:
    if len(y) < 3:
        raise NotEnoughHistory("drift needs at least 3 periods")
    periods = len(y) - 1
    slope = (y[-1] - y[0]) / periods
    steps = np.arange(1, horizon + 1)
    mean = y[-1] + slope * steps
    residuals = np.diff(y) - slope
    sigma = float(np.sqrt(np.sum(residuals**2) / max(1, len(residuals) - 1)))
    sd = sigma * np.sqrt(steps * (1 + steps / periods))
    lower, upper = normal_bounds(mean, sd)
    return Prediction(mean, lower, upper, "Drift", {"slope": float(slope)})


# --- ARIMA family ---------------------------------------------------------------------------

# Bounds of the order search per model name: (max_p, max_q, max_d, seasonal)
_ARIMA_BOUNDS = {
    AR: (None, 0, 0, False),
    MA: (0, None, 0, False),
    ARMA: (None, None, 0, False),
    ARIMA: (None, None, 2, False),
    SARIMA: (None, None, 2, True),
}


def _trend_for(
    order: tuple[int, int, int], seasonal_order: tuple[int, ...], intercept: bool
) -> str:
    """SARIMAX puts the trend term in the differenced equation: a constant there is a mean
    for a stationary model and a drift after one difference; after two it would be a
    quadratic trend, which we never extrapolate (R's forecast::Arima does the same)."""
    if not intercept or order[1] + seasonal_order[1] > 1:
        return "n"
    return "c"


def _sarimax_fit(
    y: np.ndarray,
    horizon: int,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    trend: str,
    exog: np.ndarray | None,
    exog_future: np.ndarray | None,
) -> Prediction:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(
            y,
            exog=exog,
            order=order,
            seasonal_order=seasonal_order,
            trend=trend,
            concentrate_scale=True,
        )
        result = model.fit(disp=False, maxiter=200)
        forecast = result.get_forecast(horizon, exog=exog_future)
    mean = np.asarray(forecast.predicted_mean, dtype=float)
    lower, upper = {}, {}
    for level in LEVELS:
        bounds = np.asarray(forecast.conf_int(alpha=1 - level / 100), dtype=float)
        lower[level], upper[level] = bounds[:, 0], bounds[:, 1]
    params = {
        str(name): float(value)
        for name, value in zip(result.param_names, result.params, strict=True)
    }
    params["sigma2"] = float(result.scale)
    params["aicc"] = float(result.aicc)
    p, d, q = order
    description = f"ARIMA({p},{d},{q})"
    if seasonal_order[3] > 1:
        big_p, big_d, big_q, m = seasonal_order
        description = f"SARIMA({p},{d},{q})({big_p},{big_d},{big_q})[{m}]"
    if trend == "c":
        description += " with drift" if d + seasonal_order[1] else " with mean"
    spec = {"order": order, "seasonal_order": seasonal_order, "trend": trend}
    return Prediction(mean, lower, upper, description, params, exog is not None, spec)


def arima_search(
    y: np.ndarray,
    season: int,
    name: str,
    exog: np.ndarray | None,
    max_order: int,
) -> tuple[tuple[int, int, int], tuple[int, int, int, int], bool]:
    """Orders by AICc within bounds (pmdarima's stepwise search, differencing by tests)."""
    import pmdarima

    max_p, max_q, max_d, seasonal = _ARIMA_BOUNDS[name]
    m = _effective_season(y, season, state_space=True) if seasonal else 1
    seasonal = seasonal and m > 1 and len(y) >= 2 * m + 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = pmdarima.auto_arima(
            y,
            X=exog,
            start_p=0 if max_p == 0 else 1,
            start_q=0 if max_q == 0 else 1,
            max_p=max_order if max_p is None else max_p,
            max_q=max_order if max_q is None else max_q,
            max_d=max_d,
            d=0 if max_d == 0 else None,
            seasonal=seasonal,
            m=m if seasonal else 1,
            max_P=1,
            max_Q=1,
            max_D=1,
            information_criterion="aicc",
            stepwise=True,
            error_action="ignore",
            suppress_warnings=True,
            sarimax_kwargs={"simple_differencing": True, "concentrate_scale": True},
        )
    order = tuple(int(value) for value in found.order)
    seasonal_order = tuple(int(value) for value in found.seasonal_order)
    if not seasonal:
        seasonal_order = (0, 0, 0, 0)
    return order, seasonal_order, bool(found.with_intercept)  # type: ignore[return-value]


def arima_family(name: str) -> Callable[..., Prediction]:
    def forecast(
        y: np.ndarray,
        horizon: int,
        season: int,
        *,
        exog: np.ndarray | None = None,
        exog_future: np.ndarray | None = None,
        options: ModelOptions | None = None,
        **_: Any,
    ) -> Prediction:
        options = options or ModelOptions()
        if len(y) < 8:
            raise NotEnoughHistory(f"{name} needs at least 8 periods")
        if options.order is not None:
            order = options.order
            seasonal_order = options.seasonal_order or (0, 0, 0, 0)
            trend = options.trend or ("n" if order[1] + seasonal_order[1] else "c")
        else:
            order, seasonal_order, intercept = arima_search(
                y, season, name, exog, options.max_order
            )
            trend = _trend_for(order, seasonal_order, intercept)
        return _sarimax_fit(y, horizon, order, seasonal_order, trend, exog, exog_future)

    forecast.__name__ = name
    return forecast


# --- exponential smoothing and theta ---------------------------------------------------------


def _ets_variants(y: np.ndarray, m: int) -> list[tuple[str, str | None, bool, str | None]]:
    positive = bool(np.all(y > 0))
    errors = ["add", "mul"] if positive else ["add"]
    seasons: list[str | None] = [None]
    if m > 1:
        seasons += ["add", "mul"] if positive else ["add"]
    variants = []
    for error in errors:
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            for seasonal in seasons:
                if error == "add" and seasonal == "mul":
                    continue  # numerically unstable (Hyndman et al. 2008)
                variants.append((error, trend, damped, seasonal))
    return variants


def ets(y: np.ndarray, horizon: int, season: int, **kwargs: Any) -> Prediction:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    options: ModelOptions = kwargs.get("options") or ModelOptions()
    if len(y) < 6:
        raise NotEnoughHistory("ets needs at least 6 periods")
    m = _effective_season(y, season, state_space=True)
    series = pd.Series(y)  # statsmodels' ETS prediction needs an index
    best: tuple[float, Any, tuple] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for error, trend, damped, seasonal in _ets_variants(y, m):
            try:
                result = ETSModel(
                    series,
                    error=error,
                    trend=trend,
                    damped_trend=damped,
                    seasonal=seasonal,
                    seasonal_periods=m if seasonal else None,
                ).fit(disp=False, maxiter=200)
            except (ValueError, np.linalg.LinAlgError):
                continue
            score = float(result.aicc)
            if np.isfinite(score) and (best is None or score < best[0]):
                best = (score, result, (error, trend, damped, seasonal))
        if best is None:
            raise ModelError("no exponential smoothing variant could be fitted")
        _best_score, result, (error, trend, damped, seasonal) = best
        # Multiplicative variants get their intervals by simulation: seeded, so the same
        # history always gives the same bounds.
        prediction = result.get_prediction(
            start=len(y), end=len(y) + horizon - 1, rng=np.random.default_rng(options.seed)
        )
        mean = np.asarray(prediction.predicted_mean, dtype=float)
        lower, upper = {}, {}
        for level in LEVELS:
            bounds = np.asarray(prediction.pred_int(alpha=1 - level / 100), dtype=float)
            lower[level], upper[level] = bounds[:, 0], bounds[:, 1]
    letter = {None: "N", "add": "A", "mul": "M"}
    description = f"ETS({letter[error]},{letter[trend]}{'d' if damped else ''},{letter[seasonal]})"
    params = {str(k): float(v) for k, v in zip(result.param_names, result.params, strict=True)}
    params["aicc"] = float(result.aicc)
    return Prediction(mean, lower, upper, description, params)


def theta(y: np.ndarray, horizon: int, season: int, **_: Any) -> Prediction:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    if len(y) < 6:
        raise NotEnoughHistory("theta needs at least 6 periods")
    m = _effective_season(y, season)
    positive = bool(np.all(y > 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ThetaModel(
            pd.Series(y),
            period=m,
            deseasonalize=m > 1,
            method="auto" if positive else "additive",
        ).fit()
        mean = np.asarray(result.forecast(horizon), dtype=float)
        lower, upper = {}, {}
        for level in LEVELS:
            bounds = np.asarray(result.prediction_intervals(horizon, alpha=1 - level / 100))
            lower[level], upper[level] = bounds[:, 0], bounds[:, 1]
    params = {key: float(value) for key, value in result.params.items()}
    return Prediction(mean, lower, upper, "Theta", params)


def lstm(y: np.ndarray, horizon: int, season: int, **kwargs: Any) -> Prediction:
    from apps.forecasts.engine.lstm import lstm_forecast

    options: ModelOptions = kwargs.get("options") or ModelOptions()
    return lstm_forecast(y, horizon, season, device=options.device, seed=options.seed)


MODELS: dict[str, Callable[..., Prediction]] = {
    NAIVE: naive,
    DRIFT: drift,
    AR: arima_family(AR),
    MA: arima_family(MA),
    ARMA: arima_family(ARMA),
    ARIMA: arima_family(ARIMA),
    SARIMA: arima_family(SARIMA),
    ETS: ets,
    THETA: theta,
    LSTM: lstm,
}
