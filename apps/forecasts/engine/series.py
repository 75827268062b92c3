"""Time series as the engines take them: regular dates, float values, a frequency and a season.

A file or a database query gives dates that may be unsorted, repeated or have gaps. `series_build`
checks them (naming the row of a bad value), infers the frequency from the spacing and fills
missing periods, so every model downstream sees one value per period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

# Periods per season by frequency: weekly seasonality of days, yearly of weeks/months/quarters.
SEASONS = {"D": 7, "W": 52, "M": 12, "Q": 4, "Y": 1}
FREQUENCY_NAMES = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "yearly"}
# Median spacing in days -> frequency.
_SPACINGS = (("D", 1, 1), ("W", 7, 7), ("M", 28, 31), ("Q", 89, 92), ("Y", 365, 366))
FILL_ZERO = "zero"
FILL_INTERPOLATE = "interpolate"


class SeriesError(ValueError):
    """Input that cannot be a time series; the message names the row or the problem."""


@dataclass(frozen=True)
class Series:
    """A regular series: `dates[i]` is the period of `values[i]`; no gaps, no repeats."""

    dates: tuple[date, ...]
    values: np.ndarray
    frequency: str
    filled: int = 0  # periods that were missing from the input and filled
    name: str = ""
    exog: np.ndarray | None = field(default=None, repr=False)  # regressors per period

    @property
    def season(self) -> int:
        return SEASONS[self.frequency]

    def __len__(self) -> int:
        return len(self.values)

    def tail(self, length: int) -> Series:
        """The last `length` periods (a fit on recent history only)."""
        if length >= len(self.values):
            return self
        exog = None if self.exog is None else self.exog[-length:]
        return Series(
            self.dates[-length:], self.values[-length:], self.frequency, 0, self.name, exog
        )

    def head(self, length: int) -> Series:
        """The first `length` periods (a backtest's training window)."""
        exog = None if self.exog is None else self.exog[:length]
        return Series(self.dates[:length], self.values[:length], self.frequency, 0, self.name, exog)


def frequency_infer(dates: Sequence[date]) -> str:
    """D, W, M, Q or Y from the median spacing of sorted, distinct dates."""
    if len(dates) < 2:
        raise SeriesError("a series needs at least 2 dates to infer its frequency")
    days = np.diff(np.array([np.datetime64(d, "D") for d in dates])).astype(int)
    spacing = float(np.median(days))
    for code, low, high in _SPACINGS:
        if low <= spacing <= high:
            return code
    raise SeriesError(
        f"dates are {spacing:g} days apart; expected daily, weekly, monthly, quarterly or yearly"
    )


def _step(frequency: str) -> pd.DateOffset:
    return {
        "D": pd.DateOffset(days=1),
        "W": pd.DateOffset(weeks=1),
        "M": pd.DateOffset(months=1),
        "Q": pd.DateOffset(months=3),
        "Y": pd.DateOffset(years=1),
    }[frequency]


def _month_end(day: date) -> bool:
    return (pd.Timestamp(day) + pd.Timedelta(days=1)).day == 1


def dates_ahead(last: date, frequency: str, periods: int) -> list[date]:
    """The `periods` dates after `last`, keeping its anchor (month ends stay month ends)."""
    stamp = pd.Timestamp(last)
    result = []
    for k in range(1, periods + 1):
        if frequency in ("M", "Q", "Y") and _month_end(last):
            months = {"M": 1, "Q": 3, "Y": 12}[frequency] * k
            nxt = stamp + pd.offsets.MonthEnd(months)
        else:
            nxt = stamp + _step(frequency) * k
        result.append(nxt.date())
    return result


def _period_key(day: date, frequency: str) -> int:
    """An integer per period: consecutive periods differ by one."""
    if frequency == "D":
        return day.toordinal()
    if frequency == "W":
        return day.toordinal() // 7
    if frequency == "M":
        return day.year * 12 + day.month - 1
    if frequency == "Q":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def series_build(
    dates: Sequence[date],
    values: Sequence[float],
    *,
    frequency: str | None = None,
    fill: str = FILL_INTERPOLATE,
    name: str = "",
    first_row: int = 2,
) -> Series:
    """A regular series from (date, value) pairs in any order.

    Rows are numbered from `first_row` (2 = the first data row of a CSV with a header) in
    error messages. Repeated periods are an error (sum them before if they are parts of one
    total); missing periods are filled with zero (counts and sales) or by interpolation.
    """
    if len(dates) != len(values):
        raise SeriesError("dates and values differ in length")
    pairs: list[tuple[date, float, int]] = []
    for index, (day, value) in enumerate(zip(dates, values, strict=True)):
        row = index + first_row
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise SeriesError(f"row {row}: value is empty")
        number = float(value)
        if not math.isfinite(number):
            raise SeriesError(f"row {row}: value {value!r} is not a finite number")
        pairs.append((day, number, row))
    pairs.sort(key=lambda pair: (pair[0], pair[2]))
    if len(pairs) < 2:
        raise SeriesError(f"a series needs at least 2 rows, got {len(pairs)}")
    for before, after in zip(pairs, pairs[1:], strict=False):
        if before[0] == after[0]:
            raise SeriesError(
                f"row {after[2]}: {after[0].isoformat()} is also the date of row {before[2]}"
            )
    frequency = frequency or frequency_infer([pair[0] for pair in pairs])
    if frequency not in SEASONS:
        raise SeriesError(f"frequency must be one of {', '.join(SEASONS)}")
    keys: dict[int, tuple[date, float, int]] = {}
    for day, number, row in pairs:
        key = _period_key(day, frequency)
        if key in keys:
            raise SeriesError(
                f"row {row}: {day.isoformat()} falls in the same {FREQUENCY_NAMES[frequency]} "
                f"period as row {keys[key][2]}"
            )
        keys[key] = (day, number, row)
    first, last = min(keys), max(keys)
    length = last - first + 1
    values_out = np.full(length, np.nan)
    for key, (_, number, _) in keys.items():
        values_out[key - first] = number
    missing = int(np.isnan(values_out).sum())
    if missing:
        if fill == FILL_ZERO:
            values_out = np.nan_to_num(values_out, nan=0.0)
        else:
            known = ~np.isnan(values_out)
            positions = np.arange(length)
            values_out = np.interp(positions, positions[known], values_out[known])
    start = pairs[0][0]
    dates_out = (start, *dates_ahead(start, frequency, length - 1))
    return Series(dates_out, values_out, frequency, missing, name)


def period_start(day: date, frequency: str) -> date:
    """The first day of the period holding `day` (weeks start on Monday)."""
    if frequency == "W":
        return day - timedelta(days=day.weekday())
    if frequency == "M":
        return day.replace(day=1)
    if frequency == "Q":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if frequency == "Y":
        return day.replace(month=1, day=1)
    return day


def daily_to_periods(
    first: date, daily: Sequence[float] | np.ndarray, frequency: str
) -> tuple[list[date], np.ndarray]:
    """Sum a zero-filled daily array starting at `first` into complete periods only.

    A period cut by either end of the data (a week still running) would look like a slump;
    it is left out.
    """
    values = np.asarray(daily, dtype=float)
    if frequency == "D":
        return [first + timedelta(days=k) for k in range(len(values))], values
    last = first + timedelta(days=len(values) - 1)
    totals: dict[date, float] = {}
    for offset, value in enumerate(values):
        start = period_start(first + timedelta(days=offset), frequency)
        totals[start] = totals.get(start, 0.0) + float(value)
    starts = sorted(totals)
    complete = [
        start
        for start in starts
        if start >= first and dates_ahead(start, frequency, 1)[0] - timedelta(days=1) <= last
    ]
    return complete, np.array([totals[start] for start in complete])
