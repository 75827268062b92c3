"""Negative-share spikes: pooled expected share, a spread that is the larger of the binomial
sd at the day's volume and the day-to-day sd of past shares, and no verdict without a baseline."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from apps.insights.engine.alerts import DailyCount, Spike, negative_spikes, share_series

START = date(2024, 3, 1)


def _days(*counts: tuple[int, int], start: date = START) -> list[DailyCount]:
    return [
        DailyCount(start + timedelta(days=index), total, negative)
        for index, (total, negative) in enumerate(counts)
    ]


# ---------------------------------------------------------------------------- no spike
def test_no_baseline_yet_means_no_verdict():
    # given six ordinary days (the default needs seven) and then a terrible one
    days = _days(*[(100, 10)] * 6, (100, 90))

    # when
    spikes = negative_spikes(days)

    # then
    assert spikes == []


def test_flat_series_has_no_spike():
    # given forty days with exactly 10% negative texts
    days = _days(*[(100, 10)] * 40)

    # when
    spikes = negative_spikes(days)

    # then
    assert spikes == []


def test_empty_input_has_no_spike_and_no_series():
    assert negative_spikes([]) == []
    assert share_series([]) == []


def test_day_below_min_total_is_not_judged():
    # given a steady history and then a day with 5 texts, all negative
    days = _days(*[(100, 10)] * 28, (5, 5))

    # when
    spikes = negative_spikes(days)

    # then
    assert spikes == []


# ---------------------------------------------------------------------------- spikes
def test_clear_spike_by_hand():
    # given 35 days at 100 texts / 10 negative, then 40 negative out of 100
    days = _days(*[(100, 10)] * 35, (100, 40))

    # when
    spikes = negative_spikes(days)

    # then expected share pooled over the 28 previous days; the past shares do not vary, so
    # the spread is the binomial sd with p smoothed to (280 + 0.5) / (2800 + 1)
    smoothed = 280.5 / 2801
    sd = math.sqrt(smoothed * (1 - smoothed) / 100)
    assert spikes == [
        Spike(
            day=START + timedelta(days=35),
            total=100,
            negative=40,
            share=0.4,
            expected=pytest.approx(0.1),
            upper=pytest.approx(0.1 + 3 * sd),
            z_score=pytest.approx(0.3 / sd),
        )
    ]


def test_spike_day_is_not_part_of_its_own_baseline_and_later_days_see_it():
    # given a spike and, the next day, a return to normal
    days = _days(*[(100, 10)] * 28, (100, 40), (100, 10))

    # when
    spikes = negative_spikes(days)

    # then only the spike day; it was judged against 10% exactly
    assert [spike.day for spike in spikes] == [START + timedelta(days=28)]
    assert spikes[0].expected == pytest.approx(0.1)


def test_small_day_needs_a_bigger_jump_than_a_big_day():
    # given a perfectly steady history at 10%, then a day at 25% negative:
    # with 12 texts (3 negative) and with 1000 texts (250 negative)
    history = [(1000, 100)] * 28
    small = _days(*history, (12, 3))
    big = _days(*history, (1000, 250))

    # when
    small_spikes = negative_spikes(small)
    big_spikes = negative_spikes(big)

    # then three negatives out of 12 is chance (binomial sd 0.087 at n=12), 250 of 1000 is not
    assert small_spikes == []
    assert [spike.negative for spike in big_spikes] == [250]


def test_volatile_history_raises_the_bar():
    # given daily shares that swing between 5% and 25% at 1000 texts a day
    history = [(1000, 50), (1000, 250)] * 14
    days = _days(*history, (1000, 300))

    # when
    spikes = negative_spikes(days)

    # then 30% is within three day-to-day sds (about 0.10) of the 15% average, although it is
    # 12 binomial sds above it
    assert spikes == []
    binomial_sd = math.sqrt(0.15 * 0.85 / 1000)
    assert (0.30 - 0.15) / binomial_sd > 12


def test_missing_days_are_days_without_texts():
    # given every other day has no texts at all (missing), then a bad day
    days = [DailyCount(START + timedelta(days=offset), 50, 5) for offset in range(0, 28, 2)] + [
        DailyCount(START + timedelta(days=28), 50, 30)
    ]

    # when
    spikes = negative_spikes(days)

    # then 14 baseline days with data are enough, and the spike is found
    assert [(spike.day, spike.share) for spike in spikes] == [
        (START + timedelta(days=28), pytest.approx(0.6))
    ]
    assert spikes[0].expected == pytest.approx(0.1)


def test_baseline_without_negatives_still_gives_a_finite_z():
    # given a spotless product, then one day with 6 negatives out of 20
    days = _days(*[(20, 0)] * 28, (20, 6))

    # when
    spikes = negative_spikes(days)

    # then the smoothed p (0.5 / 561) keeps the spread above zero
    smoothed = 0.5 / 561
    sd = math.sqrt(smoothed * (1 - smoothed) / 20)
    assert len(spikes) == 1
    assert spikes[0].expected == 0.0
    assert spikes[0].z_score == pytest.approx(0.3 / sd)


def test_duplicate_days_are_summed():
    # given the bad day reported in two rows (e.g. two sources)
    days = _days(*[(100, 10)] * 28) + [
        DailyCount(START + timedelta(days=28), 60, 25),
        DailyCount(START + timedelta(days=28), 40, 15),
    ]

    # when
    spikes = negative_spikes(days)

    # then
    assert [(spike.total, spike.negative) for spike in spikes] == [(100, 40)]


def test_parameters_are_respected():
    # given a 10-day history and a bad day
    days = _days(*[(100, 10)] * 10, (100, 40))

    # when the baseline is shortened and the bar raised
    short = negative_spikes(days, baseline_days=5, min_baseline_days=5)
    strict = negative_spikes(days, z=20.0)

    # then
    assert len(short) == 1
    assert short[0].expected == pytest.approx(0.1)
    assert strict == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline_days": 0}, "baseline_days"),
        ({"min_total": 0}, "min_total"),
        ({"min_baseline_days": 30}, "min_baseline_days"),
        ({"z": 0.0}, "z must"),
    ],
)
def test_invalid_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        negative_spikes([], **kwargs)


def test_impossible_counts_raise():
    with pytest.raises(ValueError, match="3 negatives out of 2 texts"):
        negative_spikes([DailyCount(START, 2, 3)])


# ---------------------------------------------------------------------------- series
def test_share_series_fills_missing_days():
    # given data on the 1st and the 4th only
    days = [DailyCount(START + timedelta(days=3), 8, 2), DailyCount(START, 4, 1)]

    # when
    series = share_series(days)

    # then
    assert series == [
        (START, 4, 1, 0.25),
        (START + timedelta(days=1), 0, 0, None),
        (START + timedelta(days=2), 0, 0, None),
        (START + timedelta(days=3), 8, 2, 0.25),
    ]


def test_share_series_with_explicit_range():
    # given one day of data inside a wider chart range
    days = [DailyCount(START + timedelta(days=1), 10, 0)]

    # when
    series = share_series(days, start=START, end=START + timedelta(days=2))

    # then
    assert series == [
        (START, 0, 0, None),
        (START + timedelta(days=1), 10, 0, 0.0),
        (START + timedelta(days=2), 0, 0, None),
    ]
