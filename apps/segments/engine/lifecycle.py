"""Lifecycle stage by purchase cycle: prospect, new, active, returning, loyal, at risk, lapsed.

A customer's clock is their own expected gap between purchases, `cycle`:

* with at least `OWN_CYCLE_MIN_PURCHASES` (3) purchase days, the median of their own gaps;
* otherwise the shop-wide median gap (the median of every gap between consecutive purchase
  days of every repeat buyer), or `DEFAULT_CYCLE_DAYS` (90) when nobody bought twice;
* clamped to [`MIN_CYCLE_DAYS`, `MAX_CYCLE_DAYS`] (7-365 days), so three orders in one week
  do not make a customer "lapsed" a month later.

Purchases are counted in purchase days (several orders on one day are one purchase) so a
split basket does not shrink the cycle to zero. With `idle` = days since the last purchase:

    no purchase                                   -> prospect
    idle > LAPSED_AFTER_CYCLES (3) * cycle        -> lapsed
    idle > AT_RISK_AFTER_CYCLES (1.5) * cycle     -> at_risk
    otherwise (still within the cycle):
      one purchase day                            -> new
      last gap > LAPSED_AFTER_CYCLES * cycle      -> returning (came back after lapsing)
      purchase days >= LOYAL_MIN_PURCHASES (4)    -> loyal
      else                                        -> active

Boundaries belong to the earlier stage: idle of exactly 1.5 cycles is still in the cycle,
exactly 3 cycles is at risk, and a last gap of exactly 3 cycles is not a return.
Pure numpy: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OWN_CYCLE_MIN_PURCHASES = 3
DEFAULT_CYCLE_DAYS = 90.0
MIN_CYCLE_DAYS = 7.0
MAX_CYCLE_DAYS = 365.0
AT_RISK_AFTER_CYCLES = 1.5
LAPSED_AFTER_CYCLES = 3.0
LOYAL_MIN_PURCHASES = 4

# LifecycleStage values (plain strings: engines import no Django).
PROSPECT = "prospect"
NEW = "new"
ACTIVE = "active"
RETURNING = "returning"
LOYAL = "loyal"
AT_RISK = "at_risk"
LAPSED = "lapsed"
STAGES = (PROSPECT, NEW, ACTIVE, RETURNING, LOYAL, AT_RISK, LAPSED)


@dataclass(frozen=True)
class LifecycleResult:
    """Stages and the cycle each was judged by, parallel to the input arrays."""

    stages: np.ndarray  # object array of stage names
    cycle_days: np.ndarray  # float64, NaN for prospects
    own_cycle: np.ndarray  # bool: the customer's own median gap was used
    shop_cycle_days: float  # the shop-wide fallback (before clamping)


@dataclass(frozen=True)
class PurchaseHistory:
    """Per customer (sorted by id): purchase days, median and last gap; and every gap."""

    customer_ids: np.ndarray  # int64, unique, ascending
    purchase_days: np.ndarray  # int64, >= 1
    median_gap_days: np.ndarray  # float64, NaN with a single purchase day
    last_gap_days: np.ndarray  # float64, NaN with a single purchase day
    gaps_days: np.ndarray  # float64, every gap of every customer (for the shop cycle)


def purchase_history(customer_ids: np.ndarray, day_numbers: np.ndarray) -> PurchaseHistory:
    """Gaps between consecutive purchase days from `(customer id, day number)` pairs.

    `day_numbers` are whole days (e.g. `date.toordinal()`); each pair should appear once
    (several orders on one day are one purchase day); duplicates are dropped here anyway.
    Vectorised: one sort, no per-customer Python loop.
    """
    customers = np.asarray(customer_ids, dtype=np.int64)
    days = np.asarray(day_numbers, dtype=np.int64)
    if customers.shape != days.shape or customers.ndim != 1:
        raise ValueError("customer_ids and day_numbers must be 1-D arrays of equal length")
    if customers.size == 0:
        empty_int, empty_float = np.empty(0, np.int64), np.empty(0, np.float64)
        return PurchaseHistory(empty_int, empty_int, empty_float, empty_float, empty_float)
    order = np.lexsort((days, customers))
    customers, days = customers[order], days[order]
    keep = np.ones(customers.size, dtype=bool)
    keep[1:] = (customers[1:] != customers[:-1]) | (days[1:] != days[:-1])
    customers, days = customers[keep], days[keep]
    unique, counts = np.unique(customers, return_counts=True)
    same = customers[1:] == customers[:-1]
    gaps = (days[1:] - days[:-1]).astype(np.float64)[same]
    gap_owners = customers[1:][same]
    median = np.full(unique.size, np.nan)
    last = np.full(unique.size, np.nan)
    if gaps.size:
        # Gaps are already in day order per customer: the last one of each group is the
        # latest gap. Sorting them by size inside each group gives the medians.
        owner_index = np.searchsorted(unique, gap_owners)
        gap_counts = np.bincount(owner_index, minlength=unique.size)
        gap_starts = np.concatenate(([0], np.cumsum(gap_counts)[:-1]))
        has_gaps = gap_counts > 0
        last[has_gaps] = gaps[gap_starts[has_gaps] + gap_counts[has_gaps] - 1]
        by_size = gaps[np.lexsort((gaps, owner_index))]
        low = gap_starts + (gap_counts - 1) // 2
        high = gap_starts + gap_counts // 2
        median[has_gaps] = (by_size[low[has_gaps]] + by_size[high[has_gaps]]) / 2.0
    return PurchaseHistory(
        customer_ids=unique,
        purchase_days=counts.astype(np.int64),
        median_gap_days=median,
        last_gap_days=last,
        gaps_days=gaps,
    )


def shop_cycle_days(gaps_days: np.ndarray) -> float:
    """Median of all gaps between consecutive purchase days, or the default when there are none."""
    gaps = np.asarray(gaps_days, dtype=np.float64)
    gaps = gaps[np.isfinite(gaps)]
    return float(np.median(gaps)) if gaps.size else DEFAULT_CYCLE_DAYS


def lifecycle_stages(
    *,
    purchase_days: np.ndarray,
    days_since_last: np.ndarray,
    median_gap_days: np.ndarray,
    last_gap_days: np.ndarray,
    shop_cycle: float,
) -> LifecycleResult:
    """The stage of each customer.

    Parallel 1-D arrays, one entry per customer: `purchase_days` (0 for prospects),
    `days_since_last` purchase (NaN for prospects), `median_gap_days` of their own gaps and
    `last_gap_days` between their last two purchase days (NaN with fewer than two).
    `shop_cycle` is `shop_cycle_days(...)` of the whole shop.
    """
    purchases = np.asarray(purchase_days, dtype=np.int64)
    idle = np.asarray(days_since_last, dtype=np.float64)
    median_gap = np.asarray(median_gap_days, dtype=np.float64)
    last_gap = np.asarray(last_gap_days, dtype=np.float64)
    if not (purchases.shape == idle.shape == median_gap.shape == last_gap.shape):
        raise ValueError("all arrays must have the same length")
    if not np.isfinite(shop_cycle) or shop_cycle <= 0:
        raise ValueError(f"shop_cycle must be a positive number of days, got {shop_cycle}")

    own = (purchases >= OWN_CYCLE_MIN_PURCHASES) & np.isfinite(median_gap)
    cycle = np.where(own, median_gap, shop_cycle)
    cycle = np.clip(cycle, MIN_CYCLE_DAYS, MAX_CYCLE_DAYS)
    bought = purchases > 0
    cycle = np.where(bought, cycle, np.nan)

    came_back = np.isfinite(last_gap) & (last_gap > LAPSED_AFTER_CYCLES * cycle)
    conditions = [
        ~bought,
        idle > LAPSED_AFTER_CYCLES * cycle,
        idle > AT_RISK_AFTER_CYCLES * cycle,
        purchases == 1,
        came_back,
        purchases >= LOYAL_MIN_PURCHASES,
    ]
    choices = [PROSPECT, LAPSED, AT_RISK, NEW, RETURNING, LOYAL]
    # np.select takes the first condition that holds; NaN comparisons are False, so a buyer
    # always has a finite idle and cycle here.
    stages = np.select(conditions, np.array(choices, dtype=object), default=ACTIVE)
    return LifecycleResult(
        stages=stages.astype(object),
        cycle_days=cycle,
        own_cycle=own & bought,
        shop_cycle_days=float(shop_cycle),
    )
