"""The Thompson-sampling bandit: allocation, posterior summaries, stopping rule, simulation, the
arms file and `manage.py bandit` (no database)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from scipy import integrate, stats

from apps.campaigns.engine.bandit import (
    Arm,
    ArmFileError,
    allocate,
    floor_shares,
    read_arms_csv,
    simulate,
    split_units,
)

FOUR_ARMS = [
    Arm("hero_video", impressions=4200, clicks=126, conversions=9, cost=84.0),
    Arm("carousel", impressions=3900, clicks=98, conversions=4, cost=70.2),
    Arm("static_a", impressions=1500, clicks=30, conversions=1, cost=27.0),
    Arm("static_b", impressions=300, clicks=11, conversions=0, cost=5.1),
]


# ---------------------------------------------------------------------------- allocation
def test_shares_sum_to_one_and_amounts_sum_exactly_to_the_budget():
    # given an awkward budget and seven arms, so cents do not divide evenly
    arms = [Arm(f"arm_{index}", impressions=1000, clicks=20 + index) for index in range(7)]

    # when
    allocation = allocate(arms, Decimal("99.99"), floor=0.02, seed=3)

    # then
    assert sum(arm.share for arm in allocation.arms) == pytest.approx(1.0, abs=1e-12)
    assert sum(arm.amount_cents or 0 for arm in allocation.arms) == 9999
    assert sum(arm.amount or Decimal(0) for arm in allocation.arms) == Decimal("99.99")
    assert allocation.budget_cents == 9999
    top = max(allocation.arms, key=lambda arm: arm.share)
    for arm in allocation.arms:
        # rounded down to the cent; only the top arm holds the remainder
        if arm is not top:
            assert arm.amount_cents == int(arm.share * 9999 + 1e-9)


def test_a_float_budget_is_split_in_cents_too():
    # when
    allocation = allocate(FOUR_ARMS, 100, seed=1)

    # then
    assert sum(arm.amount_cents or 0 for arm in allocation.arms) == 10000
    assert allocation.to_dict()["budget"] == 100.0


def test_exploration_floor_is_honoured_and_paused_arms_get_nothing():
    # given one overwhelming arm, two hopeless ones and a paused one
    arms = [
        Arm("winner", impressions=20000, clicks=1000),
        Arm("loser_1", impressions=20000, clicks=400),
        Arm("loser_2", impressions=20000, clicks=300),
        Arm("paused", impressions=10, clicks=9, paused=True),
    ]

    # when
    allocation = allocate(arms, 50, floor=0.05, seed=0)

    # then
    assert allocation.arm("loser_1").share == pytest.approx(0.05, abs=1e-12)
    assert allocation.arm("loser_2").share == pytest.approx(0.05, abs=1e-12)
    assert allocation.arm("winner").share == pytest.approx(0.90, abs=1e-12)
    assert allocation.arm("loser_1").amount_cents == 250
    paused = allocation.arm("paused")
    assert (paused.share, paused.amount_cents, paused.prob_best, paused.expected_loss) == (
        0.0,
        0,
        None,
        None,
    )
    assert paused.mean > allocation.arm("winner").mean  # summarised, just not competing


def test_floor_shares_water_fills_without_reordering():
    # when
    lifted = floor_shares(np.array([0.6, 0.36, 0.04]), 0.05)
    all_floored = floor_shares(np.array([0.98, 0.01, 0.01]), 0.05)
    no_floor = floor_shares(np.array([0.5, 0.3, 0.2]), 0.0)

    # then: only the arm under the floor is lifted; the others pay in proportion
    assert lifted == pytest.approx([0.6 / 0.96 * 0.95, 0.36 / 0.96 * 0.95, 0.05], abs=1e-12)
    assert all_floored == pytest.approx([0.90, 0.05, 0.05], abs=1e-12)
    assert no_floor == pytest.approx([0.5, 0.3, 0.2], abs=1e-12)
    with pytest.raises(ValueError, match=r"floor must be between 0 and 1/3"):
        floor_shares(np.array([0.5, 0.3, 0.2]), 0.4)


def test_split_units_gives_the_remainder_to_the_top_arm():
    # when
    parts = split_units(10001, np.array([0.2, 0.5, 0.3]))
    thirds = split_units(100, np.full(3, 1 / 3))

    # then
    assert parts.tolist() == [2000, 5001, 3000]
    assert thirds.tolist() == [34, 33, 33]


def test_a_clearly_better_arm_gets_most_of_the_traffic_and_wins():
    # given 1%, 1% and 3% click rates on 10,000 impressions each
    arms = [
        Arm("a", impressions=10000, clicks=100),
        Arm("b", impressions=10000, clicks=105),
        Arm("c", impressions=10000, clicks=300),
    ]

    # when
    allocation = allocate(arms, floor=0.01, seed=0)

    # then
    assert allocation.arm("c").share == pytest.approx(0.98, abs=1e-12)
    assert allocation.arm("c").prob_best == 1.0
    assert allocation.leader == "c"
    assert allocation.winner == "c"
    assert allocation.budget_cents is None
    assert allocation.arm("c").amount_cents is None


def test_identical_arms_get_about_equal_shares_and_no_winner():
    # given
    arms = [Arm(f"twin_{index}", impressions=5000, clicks=150) for index in range(4)]

    # when
    allocation = allocate(arms, 100, seed=11)

    # then: 10,000 draws give each share a standard error of about 0.004
    for arm in allocation.arms:
        assert arm.share == pytest.approx(0.25, abs=0.02)
        assert arm.mean == allocation.arms[0].mean
    assert allocation.winner is None


def test_prob_best_and_expected_loss_match_numerical_integration_for_two_beta_arms():
    # given A ~ Beta(31, 971) and B ~ Beta(46, 956) (uniform prior, 30 and 45 clicks of 1000)
    arms = [Arm("a", impressions=1000, clicks=30), Arm("b", impressions=1000, clicks=45)]
    a, b = stats.beta(31, 971), stats.beta(46, 956)
    # P(B > A) = integral of f_B(x) F_A(x); E[(B - A)+] = integral of f_B(x) (x F_A(x) -
    # E[A; A < x]) with E[A; A < x] = mean_A F_{Beta(32, 971)}(x)
    reference_best, _ = integrate.quad(lambda x: b.pdf(x) * a.cdf(x), 0, 1, points=[0.03, 0.045])
    a_shifted = stats.beta(32, 971)
    reference_loss_a, _ = integrate.quad(
        lambda x: b.pdf(x) * (x * a.cdf(x) - a.mean() * a_shifted.cdf(x)),
        0,
        1,
        points=[0.03, 0.045],
    )

    # when
    allocation = allocate(arms, prior="uniform", floor=0.0, draws=400_000, seed=5)

    # then: 400,000 draws give P(best) a standard error of about 0.0003
    assert reference_best == pytest.approx(0.96062, abs=1e-5)
    assert allocation.arm("b").prob_best == pytest.approx(reference_best, abs=0.002)
    assert allocation.arm("a").prob_best == pytest.approx(1 - reference_best, abs=0.002)
    assert allocation.arm("a").expected_loss == pytest.approx(reference_loss_a, rel=0.01)
    assert allocation.arm("b").share == pytest.approx(allocation.arm("b").prob_best, abs=1e-12)


def test_posterior_summaries_are_exact_beta_quantiles():
    # when
    allocation = allocate(FOUR_ARMS, prior="uniform", seed=0)

    # then
    hero = allocation.arm("hero_video")
    assert (hero.alpha, hero.beta, hero.events) == (127.0, 4075.0, 126)
    assert hero.mean == pytest.approx(127 / 4202, rel=1e-12)
    assert hero.ci_low == pytest.approx(stats.beta.ppf(0.025, 127, 4075), rel=1e-12)
    assert hero.ci_high == pytest.approx(stats.beta.ppf(0.975, 127, 4075), rel=1e-12)


def test_the_pooled_prior_is_one_pseudo_event_at_the_pooled_rate():
    # given 50 clicks in 2000 impressions: a pooled rate of 2.5%
    arms = [Arm("a", impressions=1000, clicks=20), Arm("b", impressions=1000, clicks=30)]

    # when
    pooled = allocate(arms, seed=0)
    no_events = allocate([Arm("a", 100, 0), Arm("b", 100, 0)], seed=0)

    # then
    assert pooled.prior == (1.0, pytest.approx(39.0, rel=1e-12))
    assert pooled.arm("a").alpha == 21.0
    assert pooled.arm("a").beta == pytest.approx(1019.0, rel=1e-12)
    assert no_events.prior == (1.0, 1.0)


def test_a_new_arm_without_conversions_does_not_take_the_budget_under_the_pooled_prior():
    # when
    pooled = allocate(FOUR_ARMS, 100, reward="conversions_per_cost", seed=0)
    uniform = allocate(FOUR_ARMS, 100, reward="conversions_per_cost", prior="uniform", seed=0)

    # then: with the uniform prior static_b (0 of 300) looks like the best buy
    assert uniform.leader == "static_b"
    assert pooled.leader == "hero_video"


def test_per_cost_rewards_divide_the_rate_by_the_cost_per_impression():
    # given the same click rate, b at half the price per impression
    arms = [
        Arm("a", impressions=10000, clicks=200, cost=100.0),
        Arm("b", impressions=10000, clicks=200, cost=50.0),
        Arm("new", impressions=0, clicks=0, cost=0.0),
    ]

    # when
    allocation = allocate(arms, 10, reward="clicks_per_cost", prior="uniform", seed=0)

    # then
    a, b, new = allocation.arm("a"), allocation.arm("b"), allocation.arm("new")
    assert a.mean == pytest.approx(201 / 10002 / 0.01, rel=1e-12)
    assert b.mean == pytest.approx(201 / 10002 / 0.005, rel=1e-12)
    assert b.ci_low == pytest.approx(2 * a.ci_low, rel=1e-12)
    # the arm not shown yet is priced at the pooled cost per impression, 150 / 20000
    assert new.mean == pytest.approx(0.5 / 0.0075, rel=1e-12)
    assert allocation.leader in {"b", "new"}
    assert allocation.arm("a").share < allocation.arm("b").share


def test_revenue_per_cost_shrinks_revenue_per_conversion_towards_the_pool():
    # given pooled revenue per conversion (1000 + 200) / (10 + 10) = 60
    arms = [
        Arm("a", impressions=5000, clicks=100, conversions=10, cost=50.0, revenue=1000.0),
        Arm("b", impressions=5000, clicks=100, conversions=10, cost=50.0, revenue=200.0),
    ]

    # when
    allocation = allocate(arms, reward="revenue_per_cost", prior="uniform", seed=0)

    # then: a's value per conversion (1000 + 5 x 60) / 15, per impression cost 0.01
    value_a = (1000 + 5 * 60) / 15
    assert allocation.arm("a").mean == pytest.approx(11 / 5002 * value_a / 0.01, rel=1e-12)
    assert allocation.leader == "a"


def test_the_stopping_rule_needs_both_the_probability_and_a_small_expected_loss():
    # given b ahead of a (130 against 100 clicks), and a closer contest (120 against 100)
    arms = [Arm("a", impressions=5000, clicks=100), Arm("b", impressions=5000, clicks=130)]
    close = [Arm("a", impressions=5000, clicks=100), Arm("b", impressions=5000, clicks=120)]

    # when
    default = allocate(arms, seed=0)
    strict_loss = allocate(arms, seed=0, loss_threshold=1e-4)
    not_sure = allocate(close, seed=0)

    # then: P(best) 0.977 and a loss of about 0.11% of b's mean (threshold 1%)
    b = default.arm("b")
    assert b.prob_best is not None and b.expected_loss is not None
    assert b.prob_best >= 0.95
    assert b.expected_loss <= 0.01 * b.mean
    assert default.winner == "b"
    assert strict_loss.winner is None  # 0.01% of the mean is too strict for this loss
    assert strict_loss.leader == "b"
    # the close contest: small loss (0.5% of the mean) but P(best) about 0.91
    close_b = not_sure.arm("b")
    assert close_b.prob_best is not None and close_b.expected_loss is not None
    assert close_b.prob_best < 0.95
    assert close_b.expected_loss <= 0.01 * close_b.mean
    assert not_sure.winner is None
    assert not_sure.leader == "b"


def test_one_active_arm_is_no_contest():
    # when
    allocation = allocate([Arm("a", 100, 5), Arm("b", 100, 1, paused=True)], 20, floor=0.05, seed=0)

    # then
    assert allocation.arm("a").share == 1.0
    assert allocation.arm("a").amount_cents == 2000
    assert allocation.leader == "a"
    assert allocation.winner is None


def test_allocation_is_deterministic_for_a_seed():
    # when
    first = allocate(FOUR_ARMS, 100, seed=42).to_dict()
    again = allocate(FOUR_ARMS, 100, seed=42).to_dict()
    other = allocate(FOUR_ARMS, 100, seed=43).to_dict()

    # then
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("arms", "options", "message"),
    [
        ([Arm("a", 10, 11)], {}, r"arm a: clicks \(11\) exceed impressions \(10\)"),
        ([Arm("a", 10, 1), Arm("a", 10, 2)], {}, r"repeated: a"),
        ([Arm("a", 10, 1, paused=True)], {}, r"every arm is paused"),
        ([Arm("a", 10, 1), Arm("b", 10, 1)], {"floor": 0.6}, r"between 0 and 1/2"),
        ([Arm("a", 10, 1)], {"reward": "clicks_per_cost"}, r"arm a: reward clicks_per_cost needs"),
        ([Arm("a", 10, 1)], {"reward": "ctr"}, r"unknown reward 'ctr'"),
        ([Arm("a", 10, 1)], {"daily_budget": "10.005"}, r"fractions of a cent"),
        ([Arm("a", 10, 1)], {"daily_budget": -5}, r"budget must be a positive amount"),
        ([Arm("a", 10, 1)], {"prior": (0, 1)}, r"prior parameters must be positive"),
        ([Arm("a", 10, 1, cost=0.0)], {"reward": "clicks_per_cost"}, r"positive cost"),
    ],
)
def test_bad_arms_and_options_are_refused_with_the_reason(arms, options, message):
    with pytest.raises(ValueError, match=message):
        allocate(arms, **options)


# ---------------------------------------------------------------------------- simulation
def test_simulation_beats_an_equal_split_and_converges_on_the_best_arm():
    # when
    simulation = simulate([0.02, 0.03, 0.05], days=30, daily_traffic=1000, seed=7)

    # then
    shares = [day.best_arm_share for day in simulation.days]
    assert simulation.best_arm == 2
    assert len(simulation.days) == 30
    assert all(sum(day.impressions) == 1000 for day in simulation.days)
    assert shares[0] < 0.4  # day 1: nothing known, about a third each
    assert min(shares[-10:]) >= 0.95
    assert simulation.baseline_regret == pytest.approx(30 * 1000 * (0.05 - 0.10 / 3), rel=1e-12)
    assert simulation.cumulative_regret < 0.25 * simulation.baseline_regret
    assert simulation.expected_events > simulation.baseline_expected_events
    assert simulation.final.winner == "arm_3"
    regrets = [day.cumulative_regret for day in simulation.days]
    assert regrets == sorted(regrets)


def test_on_a_close_contest_the_best_arms_share_rises_over_the_days():
    # when: 3.0%, 3.4% and 4.0% on 500 impressions a day
    simulation = simulate([0.030, 0.034, 0.040], days=60, daily_traffic=500, seed=1)

    # then
    shares = np.array([day.best_arm_share for day in simulation.days])
    weekly = shares[: 8 * 7].reshape(8, 7).mean(axis=1)
    assert shares[0] < 0.4
    assert weekly[0] < 0.7
    assert weekly[-1] > 0.95
    assert weekly[-1] > weekly[0] + 0.3
    assert simulation.cumulative_regret < simulation.baseline_regret


def test_simulation_is_deterministic_given_the_seed():
    # when
    first = simulate([0.02, 0.03, 0.05], days=8, daily_traffic=300, seed=3).to_dict()
    again = simulate([0.02, 0.03, 0.05], days=8, daily_traffic=300, seed=3).to_dict()
    other = simulate([0.02, 0.03, 0.05], days=8, daily_traffic=300, seed=4).to_dict()

    # then
    assert first == again
    assert first != other


def test_budget_simulation_optimises_events_per_currency_unit():
    # given clicks per currency unit 2.0, 1.5 and 1.0: the cheapest arm is the best buy
    simulation = simulate(
        [0.02, 0.03, 0.05],
        days=30,
        daily_traffic=None,
        daily_budget=50,
        cost_per_impression=[0.01, 0.02, 0.05],
        seed=7,
    )

    # then
    assert simulation.mode == "budget"
    assert simulation.best_arm == 0
    assert simulation.baseline_regret == pytest.approx(30 * 50 * (2.0 - 1.5), rel=1e-12)
    assert simulation.cumulative_regret < 0.25 * simulation.baseline_regret
    assert simulation.days[-1].impressions[0] == int(50 * simulation.days[-1].shares[0] / 0.01)
    assert simulation.final.reward == "clicks_per_cost"
    assert sum(arm.amount_cents or 0 for arm in simulation.final.arms) == 5000


@pytest.mark.parametrize(
    ("rates", "options", "message"),
    [
        ([0.1], {}, r"at least two true rates"),
        ([0.1, 1.2], {}, r"between 0 and 1"),
        ([0.1, 0.2], {"days": 0}, r"days must be at least 1"),
        ([0.1, 0.2], {"daily_traffic": None, "daily_budget": 5}, r"needs the cost per impression"),
        (
            [0.1, 0.2],
            {"daily_budget": 5, "cost_per_impression": [0.1, 0.2, 0.3]},
            r"one value or 2",
        ),
    ],
)
def test_bad_simulations_are_refused(rates, options, message):
    with pytest.raises(ValueError, match=message):
        simulate(rates, **options)


# ---------------------------------------------------------------------------- arms file
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_read_arms_csv_reads_optional_columns(tmp_path):
    # given
    path = _write(
        tmp_path / "arms.csv",
        " Arm , Impressions,clicks,conversions,cost,revenue\n"
        "hero,4200,126,9,84.00,450\n"
        "static,300,11,,,\n",
    )

    # when
    arms = read_arms_csv(path)

    # then
    assert arms == [
        Arm("hero", 4200, 126, 9, 84.0, 450.0),
        Arm("static", 300, 11, 0, None, None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty file"),
        ("arm,impressions\na,1\n", r"missing column clicks \(columns found: arm, impressions"),
        ("arm,impressions,clicks,colour\na,1,0,red\n", r"unknown column colour"),
        ("arm,impressions,clicks\n", r"no arm rows"),
        ("arm,impressions,clicks\na,10,1\nb,10,x\n", r"line 3, column clicks: 'x' is not"),
        ("arm,impressions,clicks\na,-10,1\n", r"line 2, column impressions: -10 is negative"),
        ("arm,impressions,clicks\na,10,11\n", r"line 2, column clicks: 11 exceeds impressions"),
        ("arm,impressions,clicks\na,10,1\na,10,2\n", r"line 3, column arm: arm a already on"),
        ("arm,impressions,clicks\n,10,1\n", r"line 2, column arm: empty arm name"),
        ("arm,impressions,clicks,cost\na,10,1,cheap\n", r"line 2, column cost: 'cheap'"),
        ("arm,impressions,clicks\na,10\n", r"line 2: 2 cells for 3 columns"),
    ],
)
def test_bad_arms_files_name_the_line_and_column(tmp_path, text, message):
    path = _write(tmp_path / "arms.csv", text)
    with pytest.raises(ArmFileError, match=message):
        read_arms_csv(path)


# ---------------------------------------------------------------------------- the command
def _bandit(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("bandit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


SIMULATION_KEYS = {
    "true_rates",
    "arms",
    "best_arm",
    "mode",
    "seed",
    "cumulative_regret",
    "baseline_regret",
    "regret_reduction",
    "expected_events",
    "baseline_expected_events",
    "optimal_expected_events",
    "realised_events",
    "days",
    "final",
}
ALLOCATION_KEYS = {
    "reward",
    "leader",
    "winner",
    "budget",
    "budget_cents",
    "floor",
    "draws",
    "prior",
    "win_probability",
    "loss_threshold",
    "arms",
}
ARM_KEYS = {
    "arm",
    "paused",
    "impressions",
    "events",
    "alpha",
    "beta",
    "mean",
    "ci_low",
    "ci_high",
    "prob_best",
    "expected_loss",
    "share",
    "amount",
    "amount_cents",
}


def test_command_simulate_prints_one_json_document_with_progress_on_stderr():
    # when
    out, err = _bandit(
        "simulate", "--rates", "0.02,0.03,0.05", "--days", "12", "--seed", "7", "--json"
    )

    # then
    document = json.loads(out)
    assert set(document) == SIMULATION_KEYS
    assert set(document["final"]) == ALLOCATION_KEYS
    assert set(document["final"]["arms"][0]) == ARM_KEYS
    assert len(document["days"]) == 12
    assert document["best_arm"] == "arm_3"
    assert document["cumulative_regret"] < document["baseline_regret"]
    assert "[100%] day 12/12" in err


def test_command_simulate_text_shows_days_allocation_and_regret():
    # when
    out, _ = _bandit("simulate", "--rates", "0.02,0.03,0.05", "--days", "5", "--seed", "7")

    # then
    lines = out.splitlines()
    assert lines[0] == "true rates: arm_1 0.02, arm_2 0.03, arm_3 0.05 (best arm_3), mode traffic"
    assert lines[1].split() == ["day", "best", "share", "regret", "equal", "split"]
    assert [line.split()[0] for line in lines[2:7]] == ["1", "2", "3", "4", "5"]
    assert lines[-1].startswith("cumulative regret ")
    assert "vs equal split 83.3" in lines[-1]


def test_command_allocate_splits_the_budget(tmp_path):
    # given
    path = _write(
        tmp_path / "arms.csv",
        "arm,impressions,clicks,conversions,cost\n"
        "hero_video,4200,126,9,84.00\ncarousel,3900,98,4,70.20\nstatic_a,1500,30,1,27.00\n",
    )

    # when
    out, err = _bandit(
        "allocate", "--input", str(path), "--budget", "100", "--pause", "static_a", "--json"
    )

    # then
    document = json.loads(out)
    assert set(document) == ALLOCATION_KEYS
    assert [arm["arm"] for arm in document["arms"]] == ["hero_video", "carousel", "static_a"]
    assert sum(arm["amount_cents"] for arm in document["arms"]) == 10000
    assert document["arms"][2]["paused"] is True
    assert document["arms"][2]["amount_cents"] == 0
    assert err.startswith("3 arms from ")


def test_command_allocate_text_lists_every_arm(tmp_path):
    # given
    path = _write(tmp_path / "arms.csv", "arm,impressions,clicks\na,1000,10\nb,1000,40\n")

    # when
    out, _ = _bandit("allocate", "--input", str(path), "--budget", "10")

    # then
    lines = out.splitlines()
    assert lines[0] == "allocation (reward click_rate):"
    assert [line.split()[0] for line in lines[2:4]] == ["a", "b"]
    assert lines[-1] == "winner: b (stop the test, keep the floor or pause the rest)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "--rates", "0.02,abc"), r"--rates: value 2 \('abc'\) is not a number"),
        (("simulate", "--rates", "0.02"), r"at least two true rates"),
        (("simulate", "--rates", "0.02,0.03", "--daily-budget", "10"), r"needs --cost-per"),
        (("allocate", "--input", "/nonexistent/arms.csv"), r"arms.csv: file not found"),
    ],
)
def test_command_bad_arguments_raise_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        _bandit(*args)


def test_command_allocate_names_the_bad_row_and_unknown_paused_arms(tmp_path):
    # given
    bad = _write(tmp_path / "bad.csv", "arm,impressions,clicks\na,10,1\nb,ten,1\n")
    good = _write(tmp_path / "good.csv", "arm,impressions,clicks\na,10,1\nb,10,1\n")

    # when / then
    with pytest.raises(CommandError, match=r"line 3, column impressions: 'ten' is not"):
        _bandit("allocate", "--input", str(bad), "--json")
    with pytest.raises(CommandError, match=r"--pause: no arm called c"):
        _bandit("allocate", "--input", str(good), "--pause", "c")
    with pytest.raises(CommandError, match=r"fractions of a cent"):
        _bandit("allocate", "--input", str(good), "--budget", "1.001")


def test_command_line_exits_non_zero_with_one_line_and_no_stdout(tmp_path):
    # given
    bad = _write(tmp_path / "bad.csv", "arm,impressions,clicks\na,10,11\n")

    # when
    failed = subprocess.run(
        [sys.executable, "manage.py", "bandit", "allocate", "--input", str(bad), "--json"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    # then
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert failed.stderr.strip().splitlines()[-1] == (
        f"CommandError: {bad}: line 2, column clicks: 11 exceeds impressions (10)"
    )
