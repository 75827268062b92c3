"""Model choice by rolling-origin backtest, then the forecast of the chosen model.

For each candidate the series is cut at several origins (the last `origins` windows of the
asked horizon, stepping back by the horizon while history allows), the model is fitted on what
came before each origin only - transform and orders included - and its forecast is scored
against what came after: MASE (scaled by the in-sample seasonal naive error of that training
window), sMAPE, and how often the actuals fell inside the 80% and 95% intervals. The ensemble
averages the best few candidates' forecasts and bounds at the same origins, so it is scored
the same way without refitting. The lowest mean MASE wins; the winner is refitted on the
whole history for the forecast.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from apps.forecasts.engine import metrics
from apps.forecasts.engine.models import (
    ARIMA,
    DRIFT,
    ENSEMBLE,
    ETS,
    LEVELS,
    LSTM,
    MAX_STATE_SEASON,
    MODELS,
    NAIVE,
    SARIMA,
    TAKES_REGRESSORS,
    THETA,
    ModelError,
    ModelOptions,
    NotEnoughHistory,
    Prediction,
)
from apps.forecasts.engine.series import Series, dates_ahead
from apps.forecasts.engine.transforms import AUTO, Transform, transform_choose

AUTO_MODEL = "auto"
# Shop-level series: every statistical model; the LSTM is added where it is asked for
# (it costs seconds per fit and rarely wins on short series, cf. the M4 competition).
CANDIDATES_FULL = (NAIVE, DRIFT, ARIMA, SARIMA, ETS, THETA)
# Catalogue scale: cheap models only (no ARIMA order search per product: it is most of the
# cost, see docs/benchmarks.md).
CANDIDATES_FAST = (NAIVE, DRIFT, ETS, THETA)
MODEL_CHOICES = (AUTO_MODEL, *MODELS, ENSEMBLE)
# Ensemble members may be at most this much worse (backtest MASE) than the best candidate.
ENSEMBLE_SLACK = 1.5
_FAILURES = (ModelError, ValueError, ArithmeticError, np.linalg.LinAlgError)


class ForecastError(ValueError):
    """The request cannot be met for this series; the message says why."""


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast and how models are chosen."""

    horizon: int
    model: str = AUTO_MODEL
    candidates: tuple[str, ...] = CANDIDATES_FULL
    origins: int = 3
    transform: str = AUTO
    ensemble_size: int = 3
    options: ModelOptions = field(default_factory=ModelOptions)
    exog_future: np.ndarray | None = field(default=None, repr=False)

    def validate(self, series: Series) -> None:
        if not 1 <= self.horizon <= 1000:
            raise ForecastError("horizon must be 1-1000 periods")
        if self.model not in MODEL_CHOICES:
            raise ForecastError(f"model must be one of {', '.join(MODEL_CHOICES)}")
        unknown = [name for name in self.candidates if name not in MODELS]
        if unknown:
            raise ForecastError(f"unknown candidate model(s): {', '.join(unknown)}")
        if not 0 <= self.origins <= 20:
            raise ForecastError("origins must be 0-20 (0: no backtest)")
        if series.exog is not None:
            if self.exog_future is None or len(self.exog_future) != self.horizon:
                raise ForecastError("regressors need future values for every forecast period")


@dataclass
class CandidateScore:
    """One candidate's backtest: mean errors over the origins it could be fitted at."""

    model: str
    description: str = ""
    mase: float | None = None
    smape: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    origins: int = 0
    seconds: float = 0.0
    error: str = ""
    chosen: bool = False
    members: list[str] = field(default_factory=list)


@dataclass
class ForecastResult:
    """The forecast of the chosen model with its 80% and 95% bounds, and the backtest."""

    model: str
    description: str
    frequency: str
    season: int
    transform: str
    dates: list[date]
    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    backtest: list[CandidateScore]
    params: dict[str, float] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    history: int = 0
    filled: int = 0
    uses_regressors: bool = False
    notes: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)  # the chosen model's orders, if any

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and the API: `forecast[i].{date,yhat,lo,hi}` (95%)."""
        return {
            "model": self.model,
            "description": self.description,
            "frequency": self.frequency,
            "season": self.season,
            "transform": self.transform,
            "history": self.history,
            "filled": self.filled,
            "uses_regressors": self.uses_regressors,
            "members": self.members,
            "params": self.params,
            "forecast": [
                {
                    "date": day.isoformat(),
                    "yhat": float(self.mean[i]),
                    "lo": float(self.lower[95][i]),
                    "hi": float(self.upper[95][i]),
                    "lo_80": float(self.lower[80][i]),
                    "hi_80": float(self.upper[80][i]),
                }
                for i, day in enumerate(self.dates)
            ],
            "backtest": [asdict(score) for score in self.backtest],
            "notes": self.notes,
        }


def minimum_history(season: int, horizon: int) -> int:
    """The shortest training window a backtest origin may leave: ten periods, the horizon,
    and one season for seasons a state-space model can hold (a year of months, not of weeks).
    """
    return max(10, horizon, season if season <= MAX_STATE_SEASON else 0)


def backtest_origins(length: int, season: int, horizon: int, origins: int) -> list[int]:
    """Cut points, latest last: windows of `horizon` stepping back by the horizon (or less
    when history is short), never leaving less than `minimum_history` before a cut."""
    shortest = minimum_history(season, horizon)
    if origins < 1:
        return []
    room = length - horizon - shortest
    if room < 0:
        return []
    step = horizon if origins <= 1 else max(1, min(horizon, room // (origins - 1)))
    cuts = [length - horizon - j * step for j in range(origins)]
    return sorted(cut for cut in cuts if cut >= shortest)


def _fit(
    name: str,
    values: np.ndarray,
    horizon: int,
    season: int,
    transform: Transform,
    options: ModelOptions,
    exog: np.ndarray | None,
    exog_future: np.ndarray | None,
) -> tuple[Prediction, Transform]:
    if transform.lam is not None and np.any(values <= 0):
        transform = Transform()  # an earlier window with a zero: no transform there
    model = MODELS[name]
    if exog is not None and exog_future is not None:
        # A regressor that never varies in the window (no campaign before this origin) is
        # collinear with the constant: leave it out of this fit.
        varying = np.ptp(exog, axis=0) > 0
        exog, exog_future = exog[:, varying], exog_future[:, varying]
        if not varying.any():
            exog = exog_future = None
    takes = name in TAKES_REGRESSORS and exog is not None
    prediction = model(
        transform.forward(values),
        horizon,
        season,
        exog=exog if takes else None,
        exog_future=exog_future if takes else None,
        options=options,
    )
    if not np.all(np.isfinite(prediction.mean)):
        raise ModelError(f"{name} gave a non-finite forecast")
    return prediction.mapped(transform.inverse), transform


def _score(
    model: str,
    predictions: Sequence[Prediction],
    cuts: Sequence[int],
    values: np.ndarray,
    horizon: int,
    season: int,
) -> CandidateScore:
    mases, smapes, inside_80, inside_95 = [], [], [], []
    for prediction, cut in zip(predictions, cuts, strict=True):
        actual = values[cut : cut + horizon]
        mases.append(metrics.mase(actual, prediction.mean, values[:cut], season))
        smapes.append(metrics.smape(actual, prediction.mean))
        inside_80.append(metrics.coverage(actual, prediction.lower[80], prediction.upper[80]))
        inside_95.append(metrics.coverage(actual, prediction.lower[95], prediction.upper[95]))
    return CandidateScore(
        model=model,
        description=predictions[-1].description,
        mase=round(float(np.mean(mases)), 4),
        smape=round(float(np.mean(smapes)), 3),
        coverage_80=round(float(np.mean(inside_80)), 3),
        coverage_95=round(float(np.mean(inside_95)), 3),
        origins=len(cuts),
    )


def ensemble_combine(predictions: Sequence[Prediction]) -> Prediction:
    """The mean of the members' forecasts and of their bounds (quantile averaging)."""
    return Prediction(
        np.mean([p.mean for p in predictions], axis=0),
        {level: np.mean([p.lower[level] for p in predictions], axis=0) for level in LEVELS},
        {level: np.mean([p.upper[level] for p in predictions], axis=0) for level in LEVELS},
        "Ensemble of " + ", ".join(p.description for p in predictions),
        uses_regressors=any(p.uses_regressors for p in predictions),
    )


def _rank_key(score: CandidateScore) -> tuple[float, float]:
    return (score.mase if score.mase is not None else np.inf, score.smape or 0.0)


def forecast(series: Series, request: ForecastRequest) -> ForecastResult:
    """Backtest the candidates, choose, refit on all history and forecast `horizon` periods.

    BLAS runs single-threaded here: the matrices of one series are small, and the processes
    of a worker pool each spinning every core slow one another down many times over.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _forecast(series, request)


def _forecast(series: Series, request: ForecastRequest) -> ForecastResult:
    request.validate(series)
    values = series.values.astype(float)
    season = series.season
    horizon = request.horizon
    exog = series.exog
    if request.model == AUTO_MODEL or request.model == ENSEMBLE:
        candidates = list(dict.fromkeys(request.candidates))
    else:
        candidates = list(dict.fromkeys([request.model, NAIVE]))
    if request.model == LSTM and LSTM not in candidates:
        candidates.append(LSTM)
    cuts = backtest_origins(len(values), season, horizon, request.origins)
    notes: list[str] = []
    if not cuts and request.origins:
        notes.append(
            f"history of {len(values)} periods is too short to backtest a {horizon}-period "
            f"forecast (needs {minimum_history(season, horizon) + horizon})"
        )
    # One transform for the backtest and the final fit, so the model that is scored is the
    # model that is published: chosen on the longest backtest window (the history before
    # the last origin), which the final fit's history contains.
    try:
        transform = transform_choose(
            values[: cuts[-1]] if cuts else values, season, request.transform
        )
    except ValueError as error:
        raise ForecastError(str(error)) from None
    scores: list[CandidateScore] = []
    origin_predictions: dict[str, list[Prediction]] = {}
    for name in candidates:
        if not cuts:
            break
        started = time.perf_counter()
        predictions: list[Prediction] = []
        options = request.options
        try:
            for cut in cuts:
                prediction, _ = _fit(
                    name,
                    values[:cut],
                    horizon,
                    season,
                    transform,
                    options,
                    None if exog is None else exog[:cut],
                    None if exog is None else exog[cut : cut + horizon],
                )
                predictions.append(prediction)
                if prediction.spec and options.order is None:
                    # Orders searched at the earliest origin serve the later ones (only
                    # the parameters are refitted): the search is most of an ARIMA's cost,
                    # and the earliest window knows nothing the later ones do not.
                    options = replace(
                        options,
                        order=prediction.spec["order"],
                        seasonal_order=prediction.spec["seasonal_order"],
                        trend=prediction.spec["trend"],
                    )
        except _FAILURES as error:
            scores.append(CandidateScore(model=name, error=str(error) or type(error).__name__))
            continue
        score = _score(name, predictions, cuts, values, horizon, season)
        score.seconds = round(time.perf_counter() - started, 3)
        scores.append(score)
        origin_predictions[name] = predictions

    ranked = sorted((s for s in scores if s.mase is not None), key=_rank_key)
    # The best few, but none far behind the best: a poor third member drags the mean.
    best = ranked[0].mase if ranked else None
    members = [
        score.model
        for score in ranked[: request.ensemble_size]
        if best is not None and score.mase is not None and score.mase <= ENSEMBLE_SLACK * best
    ]
    if len(members) >= 2 and request.model in (AUTO_MODEL, ENSEMBLE):
        combined = [
            ensemble_combine([origin_predictions[name][i] for name in members])
            for i in range(len(cuts))
        ]
        ensemble_score = _score(ENSEMBLE, combined, cuts, values, horizon, season)
        ensemble_score.description = "Mean of " + ", ".join(members)
        ensemble_score.members = members
        scores.append(ensemble_score)
        ranked = sorted((s for s in scores if s.mase is not None), key=_rank_key)

    chosen = _choose(request, ranked, notes, len(values))
    for score in scores:
        score.chosen = score.model == chosen

    final_members = members if chosen == ENSEMBLE else [chosen]
    if chosen == ENSEMBLE and not cuts:
        if notes:  # the history is too short for any origin
            raise NotEnoughHistory(f"the ensemble is chosen by backtest: {notes[0]}")
        raise ForecastError("the ensemble is chosen by backtest: ask for at least one origin")
    if chosen == ENSEMBLE and len(final_members) < 2:
        raise ForecastError(
            "the ensemble needs at least two candidates that fit this series within "
            f"{ENSEMBLE_SLACK:g}x the best backtest error"
        )
    fitted: list[Prediction] = []
    transforms: list[Transform] = []
    for name in final_members:
        try:
            prediction, used = _fit(
                name,
                values,
                horizon,
                season,
                transform,
                request.options,
                exog,
                request.exog_future,
            )
        except NotEnoughHistory as error:
            raise NotEnoughHistory(f"{name} could not be fitted: {error}") from None
        except _FAILURES as error:
            raise ForecastError(f"{name} could not be fitted: {error}") from None
        fitted.append(prediction)
        transforms.append(used)
    final = fitted[0] if len(fitted) == 1 else ensemble_combine(fitted)
    return ForecastResult(
        model=chosen,
        description=final.description,
        frequency=series.frequency,
        season=season,
        transform=", ".join(dict.fromkeys(t.name for t in transforms)),
        dates=dates_ahead(series.dates[-1], series.frequency, horizon),
        mean=final.mean,
        lower=final.lower,
        upper=final.upper,
        backtest=scores,
        params=fitted[0].params if len(fitted) == 1 else {},
        members=final_members if chosen == ENSEMBLE else [],
        history=len(values),
        filled=series.filled,
        uses_regressors=final.uses_regressors,
        notes=notes,
        spec=final.spec,
    )


def _choose(
    request: ForecastRequest, ranked: list[CandidateScore], notes: list[str], length: int
) -> str:
    if request.model == ENSEMBLE:
        return ENSEMBLE
    if request.model != AUTO_MODEL:
        return request.model
    if ranked:
        return ranked[0].model
    fallback = ETS if length >= 10 else NAIVE
    notes.append(f"no backtest to choose by: using {fallback}")
    return fallback


__all__ = [
    "AUTO_MODEL",
    "CANDIDATES_FAST",
    "CANDIDATES_FULL",
    "MODEL_CHOICES",
    "CandidateScore",
    "ForecastError",
    "ForecastRequest",
    "ForecastResult",
    "SARIMA",
    "THETA",
    "backtest_origins",
    "ensemble_combine",
    "forecast",
]
