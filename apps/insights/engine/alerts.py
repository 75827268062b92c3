"""Negative-share spikes: days when clearly more of the texts about a brand or product were
negative than usual, so a marketer hears about a bad batch or a shipping mess the same day.

The rule, for each day with at least `min_total` texts:

* expected share p: negatives / texts pooled over the previous `baseline_days` days (the day
  itself excluded, so a spike cannot raise its own bar); every text counts, quiet days too;
* spread sd = the larger of
  (a) the binomial sampling sd at the day's own total, sqrt(p (1 - p) / n): with 12 texts a
      share of 25% against an expected 10% is two negative reviews too many, chance alone,
      while with 1,200 texts it is not; this term is what scales the bar to the day's volume;
  (b) the day-to-day sd of past daily shares (baseline days with at least `min_total` texts):
      real shares wander more than coin flips do (weekends, a campaign bringing other buyers,
      a product mix that changes), and on a high-volume day (a) becomes tiny, so (a) alone
      would alert on every ordinary wobble; (b) says "more than it usually moves";
  taking the larger keeps false alarms rare in both regimes;
* upper bound = p + z * sd; the day is a spike when its share is above it, and
  z_score = (share - p) / sd says by how much.

A day is only judged when the window holds at least `min_baseline_days` days with `min_total`
texts or more ("no baseline yet" otherwise: a new shop gets no alerts in its first week).
Days missing from the input had no texts. For (a), p is smoothed to (k + 0.5) / (n + 1) so a
baseline with no negatives at all still has a spread, and one complaint on an ordinary day is
not an infinite z. Spike days stay in later baselines: a lasting problem alerts on its first
days and then slowly becomes the new normal (a known limit: the alert list records when it
started, not how long it lasted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DailyCount:
    """How many texts arrived on a day, and how many of them were negative."""

    day: date
    total: int
    negative: int


@dataclass(frozen=True)
class Spike:
    """A day whose negative share was above the usual range (see the module docstring)."""

    day: date
    total: int
    negative: int
    share: float
    expected: float
    upper: float
    z_score: float


def daily_totals(days: Iterable[DailyCount]) -> dict[date, tuple[int, int]]:
    """(total, negative) per day, duplicate days summed; raises ValueError for impossible
    counts (negative numbers, more negatives than texts)."""
    out: dict[date, tuple[int, int]] = {}
    for item in days:
        if item.total < 0 or item.negative < 0:
            raise ValueError(f"{item.day}: counts must not be negative")
        if item.negative > item.total:
            raise ValueError(f"{item.day}: {item.negative} negatives out of {item.total} texts")
        total, negative = out.get(item.day, (0, 0))
        out[item.day] = (total + item.total, negative + item.negative)
    return dict(sorted(out.items()))


def share_series(
    days: Iterable[DailyCount], *, start: date | None = None, end: date | None = None
) -> list[tuple[date, int, int, float | None]]:
    """(day, total, negative, share) for every day from `start` (default: the first day with
    data) to `end` (default: the last), missing days filled with zero texts and share None."""
    counts = daily_totals(days)
    if not counts and (start is None or end is None):
        return []
    first = start if start is not None else min(counts)
    last = end if end is not None else max(counts)
    out: list[tuple[date, int, int, float | None]] = []
    day = first
    while day <= last:
        total, negative = counts.get(day, (0, 0))
        out.append((day, total, negative, negative / total if total else None))
        day += timedelta(days=1)
    return out


def negative_spikes(
    days: Sequence[DailyCount],
    *,
    baseline_days: int = 28,
    min_total: int = 10,
    min_baseline_days: int = 7,
    z: float = 3.0,
) -> list[Spike]:
    """The days whose negative share is a spike (rule in the module docstring), oldest first."""
    if baseline_days < 1:
        raise ValueError("baseline_days must be at least 1")
    if min_total < 1:
        raise ValueError("min_total must be at least 1")
    if not 1 <= min_baseline_days <= baseline_days:
        raise ValueError("min_baseline_days must be between 1 and baseline_days")
    if z <= 0:
        raise ValueError("z must be positive")
    counts = daily_totals(days)
    spikes: list[Spike] = []
    for day, (total, negative) in counts.items():
        if total < min_total:
            continue
        window = [
            counts[past]
            for offset in range(baseline_days, 0, -1)
            if (past := day - timedelta(days=offset)) in counts
        ]
        shares = [
            past_negative / past_total
            for past_total, past_negative in window
            if past_total >= min_total
        ]
        if len(shares) < min_baseline_days:
            continue
        pooled_total = sum(past_total for past_total, _ in window)
        pooled_negative = sum(past_negative for _, past_negative in window)
        expected = pooled_negative / pooled_total
        smoothed = (pooled_negative + 0.5) / (pooled_total + 1.0)
        sampling_sd = math.sqrt(smoothed * (1.0 - smoothed) / total)
        spread = max(sampling_sd, _sd(shares))
        share = negative / total
        upper = expected + z * spread
        if share > upper:
            spikes.append(
                Spike(day, total, negative, share, expected, upper, (share - expected) / spread)
            )
    return spikes


def _sd(values: Sequence[float]) -> float:
    """Sample standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))
