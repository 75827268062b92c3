"""Lifecycle engine (pure): purchase gaps and stages, exactly at the window edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.segments.engine.lifecycle import (
    DEFAULT_CYCLE_DAYS,
    lifecycle_stages,
    purchase_history,
    shop_cycle_days,
)

NAN = math.nan


def _stages(rows, shop_cycle=20.0):
    """rows: (purchase days, days since last, median gap, last gap) -> stages."""
    result = lifecycle_stages(
        purchase_days=np.array([row[0] for row in rows]),
        days_since_last=np.array([row[1] for row in rows], dtype=float),
        median_gap_days=np.array([row[2] for row in rows], dtype=float),
        last_gap_days=np.array([row[3] for row in rows], dtype=float),
        shop_cycle=shop_cycle,
    )
    return result.stages.tolist(), result


def test_stages_at_the_edges_of_each_window():
    # given a shop cycle of 20 days (used by customers with fewer than 3 purchase days)
    rows = [
        (0, NAN, NAN, NAN),  # never bought
        (1, 30.0, NAN, NAN),  # one purchase, exactly 1.5 cycles ago: still new
        (1, 30.5, NAN, NAN),  # just past 1.5 cycles
        (1, 60.0, NAN, NAN),  # exactly 3 cycles: at risk, not lapsed yet
        (1, 60.5, NAN, NAN),  # just past 3 cycles
        (2, 25.0, 5.0, 5.0),  # two purchase days: the shop cycle (20), not their own (5)
        (3, 15.0, 10.0, 10.0),  # own cycle 10: exactly 1.5 cycles, still active
        (3, 15.5, 10.0, 10.0),  # own cycle 10: at risk
        (4, 5.0, 10.0, 12.0),  # 4 purchase days within the cycle: loyal
        (5, 2.0, 10.0, 31.0),  # came back after more than 3 cycles: returning
        (5, 2.0, 10.0, 30.0),  # a last gap of exactly 3 cycles is not a return
        (3, 10.5, 2.0, 2.0),  # own cycle 2 days is clamped to 7: 1.5 cycles = 10.5
        (3, 11.0, 2.0, 2.0),
        (3, 400.0, 300.0, 300.0),  # own cycle 300 days: still active after 400 days
    ]

    stages, result = _stages(rows)

    assert stages == [
        "prospect",
        "new",
        "at_risk",
        "at_risk",
        "lapsed",
        "active",
        "active",
        "at_risk",
        "loyal",
        "returning",
        "loyal",
        "active",
        "at_risk",
        "active",
    ]
    assert result.own_cycle.tolist() == [
        False, False, False, False, False, False, True, True, True, True, True, True, True, True,
    ]  # fmt: skip
    assert result.cycle_days[5] == 20.0
    assert result.cycle_days[11] == 7.0
    assert math.isnan(result.cycle_days[0])


def test_returning_needs_to_be_back_within_the_cycle():
    # given a customer who came back after a long gap but has been idle again for long
    stages, _ = _stages([(3, 35.0, 10.0, 40.0)])

    assert stages == ["lapsed"]


def test_purchase_history_gaps_medians_and_last_gap():
    # given purchase days of three customers, unsorted, with a duplicate day
    customers = np.array([5, 3, 3, 3, 5, 5, 5, 9, 3])
    days = np.array([110, 100, 111, 131, 110, 120, 150, 7, 105])

    history = purchase_history(customers, days)

    assert history.customer_ids.tolist() == [3, 5, 9]
    assert history.purchase_days.tolist() == [4, 3, 1]
    # customer 3: days 100, 105, 111, 131 -> gaps 5, 6, 20: median 6, last 20
    # customer 5: days 110, 120, 150 -> gaps 10, 30: median 20, last 30
    assert history.median_gap_days[:2].tolist() == [6.0, 20.0]
    assert history.last_gap_days[:2].tolist() == [20.0, 30.0]
    assert math.isnan(history.median_gap_days[2]) and math.isnan(history.last_gap_days[2])
    assert sorted(history.gaps_days.tolist()) == [5.0, 6.0, 10.0, 20.0, 30.0]


def test_shop_cycle_is_the_median_gap_or_the_default():
    assert shop_cycle_days(np.array([5.0, 6.0, 10.0, 20.0, 30.0])) == 10.0
    assert shop_cycle_days(np.array([])) == DEFAULT_CYCLE_DAYS


def test_empty_history_and_bad_input():
    history = purchase_history(np.array([], dtype=int), np.array([], dtype=int))
    assert history.customer_ids.size == 0 and history.gaps_days.size == 0
    with pytest.raises(ValueError, match="same length"):
        lifecycle_stages(
            purchase_days=np.array([1]),
            days_since_last=np.array([1.0, 2.0]),
            median_gap_days=np.array([NAN]),
            last_gap_days=np.array([NAN]),
            shop_cycle=10,
        )
    with pytest.raises(ValueError, match="positive"):
        _stages([(1, 1.0, NAN, NAN)], shop_cycle=0)
