"""What if we run a campaign on these days: the daily shop forecast with and without them.

Campaign days are a regressor of the daily shop series. Both forecasts use the same model,
one that takes regressors (the chosen one if it does, else a seasonal ARIMA), so the gap is
the campaign effect the history supports, not a change of model. The estimated effect per
campaign day and its uncertainty come from the regression coefficient.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.forecasts.engine.forecaster import ForecastError, ForecastRequest, forecast
from apps.forecasts.engine.models import SARIMA, TAKES_REGRESSORS, ModelError, ModelOptions
from apps.forecasts.engine.series import dates_ahead
from apps.forecasts.models import ForecastSeries
from apps.forecasts.selectors import forecast_latest
from apps.forecasts.services.runs import FIT_PERIODS
from apps.forecasts.services.series import HORIZONS, series_load, series_with_regressors

MAX_DAYS = 60


def campaign_whatif(
    *, row: ForecastSeries, days: Sequence[date], now: datetime | None = None
) -> dict[str, Any]:
    """Baseline and campaign scenario of a series that has the campaign regressor."""
    if not row.uses_campaigns or row.frequency != "D":
        raise ValidationFailed(
            f"{row.key}: the what-if works on daily series with the campaign regressor "
            "(shop.all.revenue.D, shop.all.units.D)",
            field="series",
        )
    if not days:
        raise ValidationFailed("days: pick at least one campaign day", field="days")
    if len(days) > MAX_DAYS:
        raise ValidationFailed(f"days: at most {MAX_DAYS} campaign days", field="days")
    series = series_load([row], now=now)[row.pk]
    series = series.tail(FIT_PERIODS.get(row.frequency, len(series)))
    horizon = HORIZONS[row.frequency]
    if len(series) < 30:
        raise ValidationFailed(f"{row.key}: not enough history for a what-if", field="series")
    ahead = dates_ahead(series.dates[-1], series.frequency, horizon)
    outside = sorted(day for day in days if not ahead[0] <= day <= ahead[-1])
    if outside:
        raise ValidationFailed(
            f"days: {outside[0].isoformat()} is outside the forecast "
            f"({ahead[0].isoformat()} to {ahead[-1].isoformat()})",
            field="days",
        )
    latest = forecast_latest(series=row)
    model = latest.model if latest is not None and latest.model in TAKES_REGRESSORS else SARIMA
    results: dict[str, Any] = {}
    history_days = 0
    options = ModelOptions()
    for name, extra in (("baseline", ()), ("scenario", tuple(days))):
        loaded, future = series_with_regressors(row, series, horizon, now=now, extra_days=extra)
        history_days = int(loaded.exog[:, 0].sum()) if loaded.exog is not None else 0
        request = ForecastRequest(
            horizon=horizon,
            model=model,
            origins=0,
            transform="none",  # so the coefficient is an amount per campaign day
            exog_future=future,
            options=options,
        )
        try:
            results[name] = forecast(loaded, request)
        except (ForecastError, ModelError) as error:
            raise ValidationFailed(
                f"what-if could not be fitted: {error}", field="series"
            ) from None
        spec = results[name].spec
        if spec:  # the scenario keeps the baseline's orders: only the regressor changes
            options = ModelOptions(
                order=spec["order"], seasonal_order=spec["seasonal_order"], trend=spec["trend"]
            )
    base, scenario = results["baseline"], results["scenario"]
    # The campaign column is x1 when history has campaign days (a constant one is dropped).
    effect = scenario.params.get("x1") if history_days else None
    return {
        "series": row.key,
        "model": scenario.description,
        "campaign_days": [day.isoformat() for day in sorted(days)],
        "effect_per_campaign_day": effect,
        "uses_regressors": scenario.uses_regressors,
        "history_campaign_days": history_days,
        "dates": [day.isoformat() for day in scenario.dates],
        "baseline": [float(v) for v in base.mean],
        "scenario": [float(v) for v in scenario.mean],
        "scenario_lo": [float(v) for v in scenario.lower[95]],
        "scenario_hi": [float(v) for v in scenario.upper[95]],
        "uplift": float(sum(scenario.mean) - sum(base.mean)),
        "computed_at": timezone.now().isoformat(),
    }
