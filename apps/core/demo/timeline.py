"""Time in the demo shop: local calendars, the promotion calendar and hourly rate curves.

Pure: no Django. Every timestamp inside the engine is a float number of hours since the start
of the simulated window (UTC midnight). A customer's purchase rate is `lambda * curve(t)`, where
the curve is piecewise constant per hour and normalised to mean 1 over the window, so `lambda`
keeps its meaning of "average purchases per day" whatever the seasonality, weekday, hour-of-day
and promotion multipliers do. Curves are evaluated in the customer's local time (country offset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Promotion:
    """One sales event: a rate multiplier per language, a discount and a coupon prefix."""

    slug: str
    name: str
    discount: float
    coupon: str
    multiplier: Mapping[str, float]


@dataclass(frozen=True)
class Zone:
    """What the calendar needs to know about a country: its UTC offset and language."""

    utc_offset_hours: int
    language: str


class ShopCalendar:
    """Local days, months and promotions of the window, per country."""

    def __init__(
        self, *, start: date, n_days: int, calendar: Mapping[str, Any], zones: Sequence[Zone]
    ) -> None:
        self.start = start
        self.n_days = n_days
        self.hours = n_days * HOURS_PER_DAY
        self.zones = tuple(zones)
        self.promotions = tuple(
            Promotion(
                slug=str(raw["slug"]),
                name=str(raw["name"]),
                discount=float(raw["discount"]),
                coupon=str(raw["coupon"]),
                multiplier={k: float(v) for k, v in raw["multiplier"].items()},
            )
            for raw in calendar["promotions"]
        )
        # Local day d (relative to start) lives at index d + 1; offsets stay within one day.
        dates = [start + timedelta(days=d) for d in range(-1, n_days + 1)]
        self._dates = dates
        self._month = np.array([d.month - 1 for d in dates], dtype=np.int64)
        self._year = np.array([d.year for d in dates], dtype=np.int64)
        self._weekday = np.array([d.weekday() for d in dates], dtype=np.int64)
        self._monthly = np.asarray(calendar["monthly"], dtype=float)
        self._weekday_weights = np.asarray(calendar["weekday"], dtype=float)
        self._hourly = np.asarray(calendar["hourly"], dtype=float)
        languages = sorted({zone.language for zone in self.zones})
        self._promo_by_language = {
            language: self._promotion_days(calendar["promotions"], language, dates)
            for language in languages
        }
        self._promo_table = np.stack([self._promo_by_language[lang] for lang in languages])
        self._zone_language = np.array([languages.index(z.language) for z in self.zones])
        self._zone_offset = np.array([z.utc_offset_hours for z in self.zones], dtype=float)

    def _promotion_days(
        self, raw_promotions: Sequence[Mapping[str, Any]], language: str, dates: list[date]
    ) -> np.ndarray:
        """Index of the strongest promotion running on each local day (-1 for none)."""
        index = {day: i for i, day in enumerate(dates)}
        active = np.full(len(dates), -1, dtype=np.int64)
        strength = np.ones(len(dates))
        years = range(dates[0].year - 1, dates[-1].year + 2)
        for number, raw in enumerate(raw_promotions):
            multiplier = float(raw["multiplier"].get(language, 1.0))
            if multiplier <= 1.0:
                continue
            for first in _promotion_starts(raw, years):
                for offset in range(int(raw["days"])):
                    i = index.get(first + timedelta(days=offset))
                    if i is not None and multiplier > strength[i]:
                        active[i] = number
                        strength[i] = multiplier
        return active

    def promotion_windows(self) -> list[dict[str, Any]]:
        """Every promotion run inside the window, per language, in local dates (inclusive)."""
        windows = []
        for language, active in self._promo_by_language.items():
            run_start = 0
            for i in range(1, len(active) + 1):
                if i < len(active) and active[i] == active[run_start]:
                    continue
                number = int(active[run_start])
                if number >= 0:
                    promo = self.promotions[number]
                    windows.append(
                        {
                            "slug": promo.slug,
                            "name": promo.name,
                            "language": language,
                            "first_day": self._dates[run_start].isoformat(),
                            "last_day": self._dates[i - 1].isoformat(),
                            "rate_multiplier": promo.multiplier.get(language, 1.0),
                            "discount": promo.discount,
                        }
                    )
                run_start = i
        return sorted(windows, key=lambda w: (w["first_day"], w["language"]))

    def _local_day_index(self, zone: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        offsets = self._zone_offset[np.asarray(zone, dtype=np.int64)]
        day = np.floor((np.asarray(t_hours) + offsets) / HOURS_PER_DAY).astype(np.int64)
        return np.clip(day + 1, 0, len(self._dates) - 1)

    def promotion_at(self, zone: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        """Promotion index in force at each (zone, time) in local time, -1 for none."""
        days = self._local_day_index(zone, t_hours)
        return self._promo_table[self._zone_language[np.asarray(zone, dtype=np.int64)], days]

    def local_month(self, zone: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        """Local calendar month, 1-12."""
        return self._month[self._local_day_index(zone, t_hours)] + 1

    def local_year(self, zone: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        return self._year[self._local_day_index(zone, t_hours)]

    def _local_hours(self, zone_index: int) -> tuple[np.ndarray, np.ndarray]:
        """For every UTC hour of the window: the local day index and the local hour of day."""
        local = np.arange(self.hours) + self.zones[zone_index].utc_offset_hours
        day = np.floor_divide(local, HOURS_PER_DAY) + 1
        return day, np.mod(local, HOURS_PER_DAY)

    def base_curve(self, zone_index: int) -> np.ndarray:
        """Seasonality x weekday x hour-of-day multiplier for each UTC hour, local time."""
        day, hour = self._local_hours(zone_index)
        return (
            self._monthly[self._month[day]]
            * self._weekday_weights[self._weekday[day]]
            * self._hourly[hour]
        )

    def promotion_curve(self, zone_index: int) -> np.ndarray:
        """Promotion rate multiplier for each UTC hour (1 outside promotions)."""
        day, _ = self._local_hours(zone_index)
        language = self.zones[zone_index].language
        active = self._promo_by_language[language][day]
        multipliers = np.array(
            [promo.multiplier.get(language, 1.0) for promo in self.promotions] + [1.0]
        )
        return multipliers[active]  # index -1 picks the trailing 1.0


def _promotion_starts(raw: Mapping[str, Any], years: range) -> list[date]:
    if "dates" in raw:
        return [date.fromisoformat(value) for value in raw["dates"]]
    if raw.get("rule") == "black_friday":
        return [black_friday(year) for year in years]
    if "rule" in raw:
        raise ValueError(f"unknown promotion rule {raw['rule']!r}")
    return [date(year, int(raw["month"]), int(raw["day"])) for year in years]


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = 1 + (3 - first.weekday()) % 7
    return date(year, 11, first_thursday + 21 + 1)


class RateCurves:
    """Several hourly rate curves (one per customer group), each normalised to mean 1.

    `cumulative(g, t)` is the integral of curve g from 0 to t in days (so the whole window
    integrates to `n_days`), `inverse(g, u)` its inverse. A Poisson process with rate
    `lambda * curve` is a unit-rate process in the "operational time" `lambda * cumulative`,
    which lets the engine draw arrivals for thousands of customers at once.
    """

    def __init__(self, curves: np.ndarray) -> None:
        curves = np.asarray(curves, dtype=float)
        groups, hours = curves.shape
        curves = curves / curves.mean(axis=1, keepdims=True)
        self.groups = groups
        self.hours = hours
        self.days = hours / HOURS_PER_DAY
        self._span = self.days + 1.0
        per_hour = np.concatenate([curves, np.ones((groups, 1))], axis=1) / HOURS_PER_DAY
        cumulative = np.zeros((groups, hours + 1))
        cumulative[:, 1:] = np.cumsum(curves / HOURS_PER_DAY, axis=1)
        self.totals = cumulative[:, -1].copy()
        self._rate = per_hour.ravel()
        # Groups are stacked into one increasing array so one searchsorted serves all of them.
        self._cumulative = (cumulative + np.arange(groups)[:, None] * self._span).ravel()

    def cumulative(self, group: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        t = np.clip(np.asarray(t_hours, dtype=float), 0.0, float(self.hours))
        whole = np.minimum(np.floor(t).astype(np.int64), self.hours - 1)
        position = np.asarray(group, dtype=np.int64) * (self.hours + 1) + whole
        return (
            self._cumulative[position]
            - np.asarray(group) * self._span
            + (t - whole) * self._rate[position]
        )

    def inverse(self, group: np.ndarray, u_days: np.ndarray) -> np.ndarray:
        group = np.asarray(group, dtype=np.int64)
        target = np.asarray(u_days, dtype=float) + group * self._span
        base = group * (self.hours + 1)
        position = np.searchsorted(self._cumulative, target, side="right") - 1
        position = np.clip(position, base, base + self.hours - 1)
        fraction = (target - self._cumulative[position]) / self._rate[position]
        return (position - base) + np.clip(fraction, 0.0, 1.0)

    def sample(
        self, rng: np.random.Generator, group: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> np.ndarray:
        """Draw one time per row in [lo, hi) hours with density proportional to the curve."""
        group = np.asarray(group, dtype=np.int64)
        low = self.cumulative(group, lo)
        high = self.cumulative(group, hi)
        u = low + rng.random(group.shape) * (high - low)
        return np.clip(self.inverse(group, u), lo, np.maximum(lo, np.nextafter(hi, lo)))
