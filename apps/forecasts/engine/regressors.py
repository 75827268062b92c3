"""Calendar and promotion regressors: one column per effect, one row per period.

Daily series get 0/1 per day; weekly, monthly and quarterly series get the number of such
days in the period (a month with three campaign days scores 3). Holidays come from the
`holidays` package (offline, no downloads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import numpy as np

from apps.forecasts.engine.series import dates_ahead


def period_days(start: date, frequency: str) -> list[date]:
    """Every day of the period that starts on `start`."""
    end = dates_ahead(start, frequency, 1)[0]
    if frequency == "D":
        return [start]
    return [start + timedelta(days=k) for k in range((end - start).days)]


def days_regressor(dates: Sequence[date], frequency: str, days: Iterable[date]) -> np.ndarray:
    """How many of `days` fall in each period."""
    marked = set(days)
    return np.array(
        [sum(day in marked for day in period_days(start, frequency)) for start in dates],
        dtype=float,
    )


def holiday_days(country: str, years: Iterable[int]) -> set[date]:
    """Public holidays of a country (ISO code) in the given years."""
    import holidays

    try:
        calendar = holidays.country_holidays(country.upper(), years=sorted(set(years)))
    except NotImplementedError:
        raise ValueError(f"no holiday calendar for country {country!r}") from None
    return set(calendar)


def calendar_regressor(dates: Sequence[date], frequency: str, country: str) -> np.ndarray:
    """Number of public holidays per period."""
    years = {day.year for day in dates} | {day.year + 1 for day in dates}
    return days_regressor(dates, frequency, holiday_days(country, years))
