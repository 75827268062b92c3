"""Send-time optimisation: each customer's best hour of the day, and the next moment to send.

From engagement events (opens, clicks) with the hour they happened in the customer's local time:

1. counts per customer and hour (optionally weighted, e.g. by recency, see `recency_weights`;
   optionally divided by how many sends went out near that hour, see `sends_by_hour`);
2. circular smoothing: each count is spread over neighbouring hours with a Gaussian kernel of
   `bandwidth` hours on the 24-hour circle, so 23:00 and 00:00 are neighbours and a customer
   who opened at 23 and at 1 peaks at 0;
3. empirical-Bayes shrinkage: the posterior of a customer's hour distribution is
   Dirichlet(prior_strength x population + smoothed counts), the population distribution
   being the pooled smoothed counts of everybody. `prior_strength` is the number of
   observations the prior is worth, so a customer with 2 events leans on the population and
   one with 200 speaks for themselves;
4. best hour = the posterior mode of the mean shares (argmax), with
   * `share`: the posterior mean share of engagement at that hour,
   * `evidence`: n / (n + prior_strength), how much of the estimate is the customer's own data,
   * `confidence`: P(share at the best hour > share at the best rival hour), the rival being
     the best hour at least 2 hours away (an adjacent hour is the same send slot give or take),
     by a normal approximation to the Dirichlet difference;
   customers with no events get the population's best hour and `fallback=True`.

`next_send_time` turns a local best hour into an aware datetime: the earliest at or after a
"not before" instant, moved out of quiet hours and correct across daylight-saving changes.
Pure numpy/scipy plus the standard library's zoneinfo: no Django.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from scipy import special

HOURS = 24
DEFAULT_PRIOR_STRENGTH = 5.0
DEFAULT_BANDWIDTH = 1.0  # hours: the standard deviation of the circular Gaussian kernel
RIVAL_MIN_DISTANCE = 2  # hours between the best hour and the rival it must beat
MAX_EXPOSURE_WEIGHT = 4.0  # an event at an hour with few sends counts at most this many times
OFFSET_PATTERN = re.compile(r"^(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$")

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CustomerSendTime:
    """One customer's best local hour and how sure the estimate is."""

    customer: int
    best_hour: int
    share: float
    evidence: float
    confidence: float
    events: float
    fallback: bool


@dataclass(frozen=True)
class SendTimes:
    """Best local send hour for every customer index 0..n-1 (read-only arrays of length n).

    `population` is the smoothed pooled hour distribution (24 shares summing to 1) that acts
    as the prior; `population_best_hour` its argmax, given to every fallback customer.
    """

    best_hour: npt.NDArray[np.int64]
    share: FloatArray
    evidence: FloatArray
    confidence: FloatArray
    events: FloatArray
    fallback: npt.NDArray[np.bool_]
    population: FloatArray
    population_best_hour: int
    prior_strength: float
    bandwidth: float

    def customer(self, index: int) -> CustomerSendTime:
        """The result of one customer index."""
        return CustomerSendTime(
            customer=index,
            best_hour=int(self.best_hour[index]),
            share=float(self.share[index]),
            evidence=float(self.evidence[index]),
            confidence=float(self.confidence[index]),
            events=float(self.events[index]),
            fallback=bool(self.fallback[index]),
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready overview: population distribution, best-hour histogram, fallbacks."""
        return {
            "customers": int(self.best_hour.size),
            "fallback_customers": int(self.fallback.sum()),
            "population_best_hour": self.population_best_hour,
            "population": [float(value) for value in self.population],
            "best_hour_counts": np.bincount(self.best_hour, minlength=HOURS).tolist(),
            "median_confidence": float(np.median(self.confidence))
            if self.confidence.size
            else None,
            "prior_strength": self.prior_strength,
            "bandwidth": self.bandwidth,
        }


def recency_weights(age_days: npt.ArrayLike, half_life_days: float = 90.0) -> FloatArray:
    """Event weights that halve every `half_life_days`: habits change, recent opens say more."""
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, not {half_life_days:g}")
    ages = np.asarray(age_days, dtype=np.float64)
    if np.any(ages < 0) or not np.all(np.isfinite(ages)):
        raise ValueError("event ages must be finite and not negative")
    return np.power(0.5, ages / half_life_days)


def circular_kernel(bandwidth: float) -> FloatArray:
    """Weights for hour offsets -r..r (r = min(11, ceil(3 x bandwidth))), summing to 1.

    A Gaussian of standard deviation `bandwidth` hours, truncated at 3 standard deviations;
    bandwidth 0 is no smoothing ([1.0]).
    """
    if bandwidth < 0 or not math.isfinite(bandwidth):
        raise ValueError(f"bandwidth must be a number >= 0, not {bandwidth:g}")
    if bandwidth == 0:
        return np.ones(1)
    reach = min(HOURS // 2 - 1, math.ceil(3 * bandwidth))
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    return weights / weights.sum()


def smooth_hours(counts: FloatArray, bandwidth: float) -> FloatArray:
    """`counts` (..., 24) convolved around the clock with `circular_kernel(bandwidth)`.

    The total per row is unchanged; hour 23 and hour 0 are neighbours.
    """
    kernel = circular_kernel(bandwidth)
    reach = kernel.size // 2
    smoothed = np.zeros_like(counts, dtype=np.float64)
    for offset, weight in zip(range(-reach, reach + 1), kernel, strict=True):
        smoothed += weight * np.roll(counts, offset, axis=-1)
    return smoothed


def best_send_hours(
    customer_index: npt.ArrayLike,
    hour: npt.ArrayLike,
    *,
    n_customers: int,
    weight: npt.ArrayLike | None = None,
    sends_by_hour: npt.ArrayLike | None = None,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    bandwidth: float = DEFAULT_BANDWIDTH,
) -> SendTimes:
    """Every customer's best local hour from engagement events (one array entry per event).

    `customer_index` in 0..n_customers-1, `hour` the local hour 0..23 of the open or click,
    `weight` an optional non-negative weight per event (recency, event type). `sends_by_hour`
    (24 counts of sends per local hour, all customers together) corrects for exposure: an open
    at an hour when few mails went out says more than one right after the usual send, so each
    event is divided by the smoothed relative send volume at its hour (at most
    `MAX_EXPOSURE_WEIGHT` times). Vectorised: memory is n_customers x 24 floats.
    """
    customers = np.asarray(customer_index)
    hours = np.asarray(hour)
    if customers.ndim != 1 or hours.shape != customers.shape:
        raise ValueError("customer_index and hour must be 1-d arrays of the same length")
    if n_customers < 0:
        raise ValueError(f"n_customers must not be negative, not {n_customers}")
    if not (prior_strength > 0 and math.isfinite(prior_strength)):
        raise ValueError(f"prior_strength must be positive, not {prior_strength:g}")
    if customers.size and not np.issubdtype(customers.dtype, np.integer):
        raise ValueError("customer_index must hold whole numbers")
    if hours.size and not np.issubdtype(hours.dtype, np.integer):
        raise ValueError("hour must hold whole hours 0..23")
    bad = np.flatnonzero((customers < 0) | (customers >= n_customers))
    if bad.size:
        raise ValueError(
            f"event {bad[0]}: customer index {customers[bad[0]]} outside 0..{n_customers - 1}"
        )
    bad = np.flatnonzero((hours < 0) | (hours >= HOURS))
    if bad.size:
        raise ValueError(f"event {bad[0]}: hour {hours[bad[0]]} outside 0..23")
    weights = np.ones(customers.size) if weight is None else np.asarray(weight, np.float64)
    if weights.shape != customers.shape:
        raise ValueError("weight must have one value per event")
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ValueError(f"event {bad[0]}: weight {weights[bad[0]]} is not a number >= 0")
    if sends_by_hour is not None:
        weights = weights * _exposure_weights(sends_by_hour, bandwidth)[hours]

    flat = customers.astype(np.int64) * HOURS + hours.astype(np.int64)
    counts = np.asarray(
        np.bincount(flat, weights=weights, minlength=n_customers * HOURS), dtype=np.float64
    ).reshape(n_customers, HOURS)
    smoothed = smooth_hours(counts, bandwidth)
    pooled = smoothed.sum(axis=0)
    if pooled.sum() <= 0:
        raise ValueError("no engagement events with positive weight: no hour can be estimated")
    population = pooled / pooled.sum()
    population_best_hour = int(np.argmax(population))

    totals = counts.sum(axis=1)
    posterior = prior_strength * population + smoothed  # Dirichlet parameters
    concentration = prior_strength + totals
    best = np.argmax(posterior, axis=1)
    rows = np.arange(n_customers)
    mean_best = posterior[rows, best] / concentration
    distance = np.abs(np.arange(HOURS)[None, :] - best[:, None])
    distance = np.minimum(distance, HOURS - distance)
    rival = np.where(distance >= RIVAL_MIN_DISTANCE, posterior, -np.inf).max(axis=1)
    mean_rival = rival / concentration
    # Var(X_i - X_j) for a Dirichlet: (m_i(1-m_i) + m_j(1-m_j) + 2 m_i m_j) / (a0 + 1).
    variance = (
        mean_best * (1 - mean_best) + mean_rival * (1 - mean_rival) + 2 * mean_best * mean_rival
    ) / (concentration + 1)
    difference = mean_best - mean_rival
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            variance > 0, difference / np.sqrt(variance), np.where(difference > 0, np.inf, 0)
        )
    fallback = totals <= 0
    return SendTimes(
        best_hour=_read_only(np.where(fallback, population_best_hour, best).astype(np.int64)),
        share=_read_only(mean_best),
        evidence=_read_only(totals / concentration),
        confidence=_read_only(special.ndtr(z)),
        events=_read_only(totals),
        fallback=_read_only(fallback),
        population=_read_only(population),
        population_best_hour=population_best_hour,
        prior_strength=float(prior_strength),
        bandwidth=float(bandwidth),
    )


def _exposure_weights(sends_by_hour: npt.ArrayLike, bandwidth: float) -> FloatArray:
    sends = np.asarray(sends_by_hour, dtype=np.float64)
    if sends.shape != (HOURS,) or not np.all(np.isfinite(sends)) or np.any(sends < 0):
        raise ValueError("sends_by_hour must be 24 counts >= 0 (local hours 0..23)")
    if sends.sum() <= 0:
        raise ValueError("sends_by_hour has no sends")
    # Smoothed because opens lag their send; relative to the average hour.
    exposure = smooth_hours(sends, max(bandwidth, 1.0))
    exposure = exposure / exposure.mean()
    return 1.0 / np.maximum(exposure, 1.0 / MAX_EXPOSURE_WEIGHT)


def _read_only(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------------------- scheduling
def is_quiet(hour: int, quiet_hours: tuple[int, int] | None) -> bool:
    """Whether local `hour` (0..23) falls in quiet hours (start, end): start <= h < end, the
    interval wrapping midnight when start > end (e.g. (21, 8) is 21:00-08:00)."""
    if quiet_hours is None:
        return False
    start, end = quiet_hours
    if start <= end:
        return start <= hour < end
    return hour >= start or hour < end


def allowed_send_hour(best_hour: int, quiet_hours: tuple[int, int] | None) -> int:
    """`best_hour`, or when it is quiet the nearest allowed hour around the clock: the end of
    the quiet hours or the last hour before they start, the end on a tie (mornings over late
    evenings)."""
    _check_hour("best_hour", best_hour)
    if quiet_hours is not None:
        start, end = quiet_hours
        _check_hour("quiet start", start)
        _check_hour("quiet end", end)
        if start == end:
            raise ValueError(f"quiet hours ({start}, {end}) are empty; pass None for none")
    if not is_quiet(best_hour, quiet_hours):
        return best_hour
    assert quiet_hours is not None  # is_quiet is False without quiet hours
    start, end = quiet_hours
    after = (end - best_hour) % HOURS
    before_hour = (start - 1) % HOURS
    before = (best_hour - before_hour) % HOURS
    return end if after <= before else before_hour


def next_send_time(
    best_hour: int,
    *,
    not_before: datetime,
    zone: str | tzinfo | timedelta,
    quiet_hours: tuple[int, int] | None = None,
) -> datetime:
    """The earliest instant at or after `not_before` when the customer's clock shows the send
    hour (`best_hour`, or the nearest allowed hour when it is quiet) on the hour.

    `zone` is an IANA name ("Europe/Berlin"), a tzinfo, a fixed UTC offset as a timedelta or
    a string ("+05:30", "UTC-3"). The result is an aware datetime in UTC, what a scheduler
    stores (and safe to compare: an ambiguous local time compares unequal to every datetime in
    another zone, PEP 495); `.astimezone(zone)` shows the local hour. Daylight saving: when the
    hour does not exist that day (spring forward), the send is at the moment the clocks jump,
    which is the same hour's end of the gap (02:00 -> 03:00 CEST in Berlin); when it exists
    twice (fall back), the first occurrence at or after `not_before`.
    """
    if not_before.tzinfo is None or not_before.utcoffset() is None:
        raise ValueError("not_before must be an aware datetime (with a time zone)")
    clock = _zone(zone)
    hour = allowed_send_hour(best_hour, quiet_hours)
    first_day = not_before.astimezone(clock).date()
    for day_offset in range(3):
        for instant in _instants(first_day + timedelta(days=day_offset), hour, clock):
            if instant >= not_before and not is_quiet(instant.astimezone(clock).hour, quiet_hours):
                return instant
    raise ValueError(f"no allowed send time within 3 days of {not_before.isoformat()}")


def _instants(day: date, hour: int, clock: tzinfo) -> list[datetime]:
    """The instants (in UTC, ascending) at which the local clock shows `hour`:00 on `day`: two
    on fall-back days, the end of the gap when the hour is skipped.

    In UTC because aware datetimes sharing a tzinfo compare by wall time, ignoring fold.
    """
    instants: set[datetime] = set()
    for fold in (0, 1):
        wall = datetime(day.year, day.month, day.day, hour, tzinfo=clock, fold=fold)
        instant = wall.astimezone(UTC)
        exists = instant.astimezone(clock).replace(tzinfo=None) == wall.replace(tzinfo=None)
        if exists or fold == 0:
            # fold=0 of a skipped hour reads it with the offset before the change: the jump.
            instants.add(instant)
    return sorted(instants)


def _zone(zone: str | tzinfo | timedelta) -> tzinfo:
    if isinstance(zone, tzinfo):
        return zone
    if isinstance(zone, timedelta):
        return timezone(zone)
    match = OFFSET_PATTERN.match(zone.strip())
    if match:
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset >= timedelta(hours=24):
            raise ValueError(f"UTC offset {zone!r} is not below 24 hours")
        return timezone(-offset if sign == "-" else offset)
    if zone.strip().upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None


def _check_hour(label: str, hour: int) -> None:
    if not (isinstance(hour, int | np.integer) and 0 <= hour < HOURS):
        raise ValueError(f"{label} must be a whole hour 0..23, not {hour!r}")
