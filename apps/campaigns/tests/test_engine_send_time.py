"""Send-time optimisation: best hours with circular smoothing and empirical-Bayes shrinkage, and
the next send time with quiet hours and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats

from apps.campaigns.engine.send_time import (
    allowed_send_hour,
    best_send_hours,
    circular_kernel,
    next_send_time,
    recency_weights,
    smooth_hours,
)

BERLIN = "Europe/Berlin"
BERLIN_ZONE = ZoneInfo(BERLIN)


def _events(*per_customer: list[int]) -> tuple[np.ndarray, np.ndarray]:
    customers = np.concatenate(
        [np.full(len(hours), index, dtype=np.int64) for index, hours in enumerate(per_customer)]
    )
    hours = np.concatenate([np.asarray(hours, dtype=np.int64) for hours in per_customer])
    return customers, hours


# ---------------------------------------------------------------------------- best hours
def test_best_hours_by_hand_without_smoothing():
    # given customer 0 at 9, 9, 9, 14 and customer 1 at 20, 20, 21; population 3/7 at 9,
    # 1/7 at 14, 2/7 at 20, 1/7 at 21; a prior worth one observation
    customers, hours = _events([9, 9, 9, 14], [20, 20, 21])

    # when
    result = best_send_hours(customers, hours, n_customers=2, prior_strength=1.0, bandwidth=0)

    # then
    assert result.best_hour.tolist() == [9, 20]
    assert result.population[[9, 14, 20, 21]] == pytest.approx([3 / 7, 1 / 7, 2 / 7, 1 / 7])
    assert result.population_best_hour == 9
    # posterior mean share at the best hour: (count + prior x population) / (n + prior)
    assert result.share == pytest.approx([(3 + 3 / 7) / 5, (2 + 2 / 7) / 4], rel=1e-12)
    assert result.evidence == pytest.approx([4 / 5, 3 / 4], rel=1e-12)
    assert result.events.tolist() == [4.0, 3.0]
    assert result.fallback.tolist() == [False, False]
    # confidence: best (9) against the best hour 2+ hours away (14), normal approximation
    best, rival, total = (3 + 3 / 7) / 5, (1 + 1 / 7) / 5, 5.0
    variance = (best * (1 - best) + rival * (1 - rival) + 2 * best * rival) / (total + 1)
    assert result.confidence[0] == pytest.approx(
        stats.norm.cdf((best - rival) / np.sqrt(variance)), rel=1e-12
    )


def test_circular_smoothing_makes_23_and_1_peak_at_midnight():
    # given customer 0 at 23:00 and 01:00; others at noon; a negligible prior
    customers, hours = _events([23, 1], [12] * 10)

    # when
    smoothed = best_send_hours(customers, hours, n_customers=2, prior_strength=0.01)
    raw = best_send_hours(customers, hours, n_customers=2, prior_strength=0.01, bandwidth=0)

    # then
    assert smoothed.best_hour[0] == 0
    assert raw.best_hour[0] in {1, 23}  # without smoothing midnight has no events at all
    assert smoothed.best_hour[1] == 12


def test_smooth_hours_wraps_around_midnight_and_keeps_the_total():
    # given
    one_hot = np.zeros(24)
    one_hot[23] = 6.0

    # when
    smoothed = smooth_hours(one_hot, 1.0)

    # then
    kernel = circular_kernel(1.0)
    assert kernel.size == 7
    assert smoothed.sum() == pytest.approx(6.0, rel=1e-12)
    assert smoothed[0] == pytest.approx(smoothed[22], rel=1e-12)
    assert smoothed[2] == pytest.approx(6 * kernel[0], rel=1e-12)  # three hours on: 23 -> 2
    assert smoothed[3] == 0.0
    assert circular_kernel(0).tolist() == [1.0]


def test_the_prior_pulls_sparse_customers_to_the_population_hour():
    # given 100 customers who open at 19:00, one with a single open at 08:00 and one with 30
    population = [[19]] * 100
    customers, hours = _events(*population, [8], [8] * 30)

    # when
    result = best_send_hours(customers, hours, n_customers=102, prior_strength=5.0)

    # then
    assert result.population_best_hour == 19
    assert result.best_hour[100] == 19  # one open is not worth five at the population's hour
    assert result.fallback[100] == np.False_
    assert result.evidence[100] == pytest.approx(1 / 6, rel=1e-12)
    assert result.best_hour[101] == 8
    assert result.evidence[101] == pytest.approx(30 / 35, rel=1e-12)
    assert result.confidence[101] > 0.99
    # a weaker prior lets the single open speak
    weak = best_send_hours(customers, hours, n_customers=102, prior_strength=0.5)
    assert weak.best_hour[100] == 8


def test_customers_without_history_get_the_population_hour_as_fallback():
    # given customer 1 with no events (and customer 3 beyond the last event)
    customers, hours = _events([10, 10], [], [10, 11])

    # when
    result = best_send_hours(customers, hours, n_customers=4)

    # then
    assert result.fallback.tolist() == [False, True, False, True]
    assert result.best_hour[1] == result.population_best_hour == 10
    assert result.evidence[1] == 0.0
    assert result.events[3] == 0.0
    assert result.customer(1).fallback is True
    assert result.summary()["fallback_customers"] == 2
    assert result.summary()["best_hour_counts"][10] == 4


def test_sends_by_hour_corrects_for_when_mails_went_out():
    # given every mail sent at 10:00; customer 0 opens 3 times at 10 and twice at 18
    customers, hours = _events([10, 10, 10, 18, 18])
    sends = np.zeros(24)
    sends[10] = 1000

    # when
    plain = best_send_hours(customers, hours, n_customers=1)
    corrected = best_send_hours(customers, hours, n_customers=1, sends_by_hour=sends)

    # then: opens right after the send say less than opens at an hour nothing was sent
    assert plain.best_hour[0] == 10
    assert corrected.best_hour[0] == 18


def test_weights_count_events_and_recency_weights_halve_per_half_life():
    # given two old opens at 9 and one recent open at 15
    customers, hours = _events([9, 9, 15])
    weights = recency_weights([360, 360, 0], half_life_days=90)

    # when
    result = best_send_hours(customers, hours, n_customers=1, weight=weights, bandwidth=0)

    # then
    assert recency_weights([0, 90, 180], half_life_days=90) == pytest.approx([1, 0.5, 0.25])
    assert result.events[0] == pytest.approx(1 + 2 / 16, rel=1e-12)
    assert result.best_hour[0] == 15


def test_results_are_read_only_arrays_of_one_value_per_customer():
    # given
    rng = np.random.default_rng(0)
    customers = rng.integers(0, 500, 5000)
    hours = rng.integers(0, 24, 5000)

    # when
    result = best_send_hours(customers, hours, n_customers=600)

    # then
    for array in (result.best_hour, result.share, result.confidence, result.fallback):
        assert array.shape == (600,)
        assert not array.flags.writeable
    assert result.population.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.all((result.confidence >= 0) & (result.confidence <= 1))
    assert result.fallback[500:].all()


@pytest.mark.parametrize(
    ("customers", "hours", "options", "message"),
    [
        ([0, 0], [9, 24], {}, r"event 1: hour 24 outside 0..23"),
        ([0, 3], [9, 9], {}, r"event 1: customer index 3 outside 0..1"),
        ([0], [9.5], {}, r"whole hours"),
        ([0], [9], {"weight": [-1.0]}, r"event 0: weight -1.0"),
        ([0], [9], {"prior_strength": 0.0}, r"prior_strength must be positive"),
        ([0], [9], {"weight": [0.0]}, r"no engagement events with positive weight"),
        ([0], [9], {"sends_by_hour": [1.0] * 23}, r"24 counts"),
    ],
)
def test_bad_events_are_refused_with_the_position(customers, hours, options, message):
    with pytest.raises(ValueError, match=message):
        best_send_hours(np.array(customers), np.array(hours), n_customers=2, **options)


# ---------------------------------------------------------------------------- quiet hours
@pytest.mark.parametrize(
    ("best", "quiet", "allowed"),
    [
        (23, (21, 8), 20),  # 3 hours back to 20:00 beats 9 forward to 08:00
        (21, (21, 8), 20),
        (6, (21, 8), 8),
        (2, (21, 8), 8),  # 6 hours either way: the morning wins the tie
        (8, (21, 8), 8),  # the end hour itself is allowed
        (20, (21, 8), 20),
        (3, (1, 5), 5),  # a quiet block not crossing midnight
        (2, (1, 5), 0),
        (14, None, 14),
    ],
)
def test_allowed_send_hour_moves_out_of_quiet_hours_to_the_nearest_side(best, quiet, allowed):
    assert allowed_send_hour(best, quiet) == allowed


def test_next_send_time_is_the_next_best_hour_at_or_after_not_before():
    # given 12:00 CEST on 1 June
    not_before = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)

    # when
    tomorrow = next_send_time(9, not_before=not_before, zone=BERLIN)
    today = next_send_time(15, not_before=not_before, zone=BERLIN)
    exactly = next_send_time(12, not_before=not_before, zone=BERLIN)

    # then
    assert tomorrow == datetime(2024, 6, 2, 7, 0, tzinfo=UTC)
    assert tomorrow.tzinfo is UTC
    assert tomorrow.astimezone(BERLIN_ZONE).hour == 9
    assert today == datetime(2024, 6, 1, 13, 0, tzinfo=UTC)
    assert exactly == not_before


def test_quiet_hours_across_midnight():
    # given 22:00 local (quiet) and a customer whose best hour is 23:00
    not_before = datetime(2024, 6, 1, 20, 0, tzinfo=UTC)

    # when
    late = next_send_time(23, not_before=not_before, zone=BERLIN, quiet_hours=(21, 8))
    night = next_send_time(2, not_before=not_before, zone=BERLIN, quiet_hours=(21, 8))

    # then: 20:00 the next evening; 08:00 the next morning
    assert late == datetime(2024, 6, 2, 18, 0, tzinfo=UTC)
    assert night == datetime(2024, 6, 2, 6, 0, tzinfo=UTC)


def test_spring_forward_in_berlin_keeps_the_local_hour():
    # given midnight UTC on 31 March 2024 (01:00 CET); clocks jump 02:00 CET -> 03:00 CEST
    not_before = datetime(2024, 3, 31, 0, 0, tzinfo=UTC)

    # when
    morning = next_send_time(9, not_before=not_before, zone=BERLIN)
    skipped = next_send_time(2, not_before=not_before, zone=BERLIN)
    evening_in_quiet = next_send_time(
        23, not_before=datetime(2024, 3, 30, 20, 0, tzinfo=UTC), zone=BERLIN, quiet_hours=(21, 8)
    )

    # then: 09:00 CEST is 07:00 UTC (the day before, 09:00 CET was 08:00 UTC)
    assert morning == datetime(2024, 3, 31, 7, 0, tzinfo=UTC)
    assert next_send_time(9, not_before=not_before - timedelta(days=1), zone=BERLIN) == (
        datetime(2024, 3, 30, 8, 0, tzinfo=UTC)
    )
    # 02:00 does not exist that day: the send goes at the jump, 03:00 CEST = 01:00 UTC
    assert skipped == datetime(2024, 3, 31, 1, 0, tzinfo=UTC)
    assert skipped.astimezone(BERLIN_ZONE).hour == 3
    # 21:00 CET on the 30th is quiet: the next 20:00 is on the 31st, in summer time
    assert evening_in_quiet == datetime(2024, 3, 31, 18, 0, tzinfo=UTC)


def test_fall_back_in_berlin_takes_the_first_occurrence_at_or_after_not_before():
    # given 02:00 happens twice on 27 October 2024: 00:00 UTC (CEST) and 01:00 UTC (CET)
    before_both = datetime(2024, 10, 26, 23, 30, tzinfo=UTC)
    between = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)

    # when
    first = next_send_time(2, not_before=before_both, zone=BERLIN)
    second = next_send_time(2, not_before=between, zone=BERLIN)
    morning = next_send_time(9, not_before=between, zone=BERLIN)

    # then
    assert first == datetime(2024, 10, 27, 0, 0, tzinfo=UTC)
    assert second == datetime(2024, 10, 27, 1, 0, tzinfo=UTC)
    local = second.astimezone(BERLIN_ZONE)
    assert (local.hour, local.fold, local.utcoffset()) == (2, 1, timedelta(hours=1))
    assert morning == datetime(2024, 10, 27, 8, 0, tzinfo=UTC)  # 09:00 CET


@pytest.mark.parametrize(
    ("zone", "expected_utc_hour"),
    [
        (timedelta(hours=-5), 14),
        ("+05:30", 3),
        ("UTC-3", 12),
        ("UTC", 9),
        ("America/New_York", 13),  # EDT in June
    ],
)
def test_next_send_time_accepts_offsets_and_zone_names(zone, expected_utc_hour):
    # when
    result = next_send_time(9, not_before=datetime(2024, 6, 1, 0, 0, tzinfo=UTC), zone=zone)

    # then
    assert result.hour == expected_utc_hour
    assert result.date().isoformat() == "2024-06-01"


def test_next_send_time_refuses_naive_times_and_unknown_zones():
    with pytest.raises(ValueError, match=r"aware datetime"):
        next_send_time(9, not_before=datetime(2024, 6, 1), zone=BERLIN)
    with pytest.raises(ValueError, match=r"unknown time zone 'Mars/Olympus'"):
        next_send_time(9, not_before=datetime(2024, 6, 1, tzinfo=UTC), zone="Mars/Olympus")
    with pytest.raises(ValueError, match=r"quiet hours \(8, 8\) are empty"):
        allowed_send_hour(9, (8, 8))
    with pytest.raises(ValueError, match=r"best_hour must be a whole hour 0..23"):
        allowed_send_hour(24, None)
