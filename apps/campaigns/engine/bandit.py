"""Creative and channel optimisation: a Beta-Bernoulli multi-armed bandit (Thompson sampling).

Every arm (a creative, an ad, a channel) has shown `impressions` and collected clicks,
conversions and optionally cost and revenue. The chosen event (a click or a conversion) is a
Bernoulli trial per impression with an unknown rate; with a Beta(a, b) prior the posterior is
Beta(a + events, b + impressions - events). The prior is uniform, Beta(1, 1), or in `allocate`
by default "pooled": Beta(1, (1 - r) / r) with r the pooled rate of all arms, i.e. one
pseudo-event at the rate the arms show together. For rare events (conversions at 0.2%) the
uniform prior's pseudo-event is worth hundreds of impressions at a 50% rate and would crown
a new arm with no conversions at all. Rewards:

* `click_rate`, `conversion_rate`: events per impression (traffic allocation);
* `clicks_per_cost`, `conversions_per_cost`: the rate divided by the arm's cost per
  impression, i.e. events per currency unit (budget allocation);
* `revenue_per_cost`: conversions per currency unit times the arm's revenue per conversion
  (return on ad spend); the revenue per conversion is a plug-in estimate, shrunk towards the
  pooled value of all arms by `REVENUE_PRIOR_CONVERSIONS` pseudo-conversions.

Cost per impression and revenue per conversion are treated as known (they are averages over
many impressions); only the rate is uncertain, so every reward is the Beta posterior times a
fixed scale and its quantiles are exact.

`allocate` gives each active arm the probability that it is the best (estimated from seeded
Monte Carlo draws of the posteriors: Thompson sampling in its "probability matching" form),
lifts every active arm to an exploration floor, and splits a daily budget into cents that sum
exactly to the budget. `simulate` replays the policy day by day against known true rates and
compares its regret with an equal split. Pure numpy/scipy: no Django.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

REWARDS: tuple[str, ...] = (
    "click_rate",
    "conversion_rate",
    "clicks_per_cost",
    "conversions_per_cost",
    "revenue_per_cost",
)
PER_COST_REWARDS = frozenset({"clicks_per_cost", "conversions_per_cost", "revenue_per_cost"})
CONVERSION_REWARDS = frozenset({"conversion_rate", "conversions_per_cost", "revenue_per_cost"})
DEFAULT_DRAWS = 10_000
DEFAULT_FLOOR = 0.01
DEFAULT_PRIOR = (1.0, 1.0)  # uniform Beta prior on the rate
PRIORS: tuple[str, ...] = ("pooled", "uniform")
WIN_PROBABILITY = 0.95
# The leader wins when its expected loss is at most this fraction of its own posterior mean
# (relative, so one threshold serves click rates, conversion rates and returns on spend alike).
LOSS_THRESHOLD = 0.01
CREDIBLE_MASS = 0.95
REVENUE_PRIOR_CONVERSIONS = 5.0
CSV_COLUMNS = ("arm", "impressions", "clicks", "conversions", "cost", "revenue")
FIRST_DATA_LINE = 2  # line numbers count the header as line 1

Progress = Callable[[float, str], None]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ArmFileError(ValueError):
    """An arms file the CLI cannot use; the message names the file and the line or column."""


@dataclass(frozen=True)
class Arm:
    """What one creative or channel has done so far (totals over the period being optimised).

    Totals rather than daily rows because the posterior only needs the sums; `paused` arms keep
    their summaries but get no traffic or budget.
    """

    name: str
    impressions: int
    clicks: int
    conversions: int = 0
    cost: float | None = None
    revenue: float | None = None
    paused: bool = False


@dataclass(frozen=True)
class ArmResult:
    """One arm's posterior summary and its allocation.

    `mean`, `ci_low`, `ci_high` and `expected_loss` are in the reward's unit (events per
    impression, or per currency unit). `prob_best` and `expected_loss` are None for paused
    arms, which do not compete. `amount_cents` is None when no budget was given.
    """

    name: str
    paused: bool
    impressions: int
    events: int
    alpha: float
    beta: float
    mean: float
    ci_low: float
    ci_high: float
    prob_best: float | None
    expected_loss: float | None
    share: float
    amount_cents: int | None

    @property
    def amount(self) -> Decimal | None:
        """The arm's budget in currency units, exact to the cent."""
        return None if self.amount_cents is None else Decimal(self.amount_cents) / 100

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (amount as a number rounded to the cent, plus the exact cents)."""
        return {
            "arm": self.name,
            "paused": self.paused,
            "impressions": self.impressions,
            "events": self.events,
            "alpha": self.alpha,
            "beta": self.beta,
            "mean": self.mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "prob_best": self.prob_best,
            "expected_loss": self.expected_loss,
            "share": self.share,
            "amount": None if self.amount_cents is None else round(self.amount_cents / 100, 2),
            "amount_cents": self.amount_cents,
        }


@dataclass(frozen=True)
class Allocation:
    """Traffic or budget shares per arm, with the stopping rule's verdict.

    `leader` is the active arm most likely to be best; `winner` is the leader once
    P(best) >= `win_probability` and its expected loss <= `loss_threshold` x its mean, else None
    (also None with fewer than two active arms: there is no contest).
    """

    reward: str
    arms: tuple[ArmResult, ...]
    leader: str
    winner: str | None
    budget_cents: int | None
    floor: float
    draws: int
    prior: tuple[float, float]
    win_probability: float
    loss_threshold: float

    def arm(self, name: str) -> ArmResult:
        """The result of the arm called `name`."""
        for result in self.arms:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "reward": self.reward,
            "leader": self.leader,
            "winner": self.winner,
            "budget": None if self.budget_cents is None else round(self.budget_cents / 100, 2),
            "budget_cents": self.budget_cents,
            "floor": self.floor,
            "draws": self.draws,
            "prior": list(self.prior),
            "win_probability": self.win_probability,
            "loss_threshold": self.loss_threshold,
            "arms": [result.to_dict() for result in self.arms],
        }


@dataclass(frozen=True)
class SimulationDay:
    """One simulated day: the shares used, what was shown and observed, and the regret so far.

    Regret is expected events lost against sending everything to the best arm:
    sum over arms of spend x (best value - arm value), spend in impressions (traffic) or
    currency (budget). Expected rather than realised, so it does not depend on click noise.
    """

    day: int
    shares: tuple[float, ...]
    impressions: tuple[int, ...]
    events: tuple[int, ...]
    best_arm_share: float
    regret: float
    cumulative_regret: float
    baseline_cumulative_regret: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "day": self.day,
            "shares": list(self.shares),
            "impressions": list(self.impressions),
            "events": list(self.events),
            "best_arm_share": self.best_arm_share,
            "regret": self.regret,
            "cumulative_regret": self.cumulative_regret,
            "baseline_cumulative_regret": self.baseline_cumulative_regret,
        }


@dataclass(frozen=True)
class Simulation:
    """A bandit run against known true rates, day by day, with an equal-split baseline.

    `final` is the allocation the bandit would use the day after the last one (with its
    stopping-rule verdict). `expected_events` are the bandit's expected events,
    `baseline_expected_events` the equal split's, `optimal_expected_events` all on the best arm.
    """

    true_rates: tuple[float, ...]
    arm_names: tuple[str, ...]
    best_arm: int
    mode: str  # "traffic" or "budget"
    seed: int
    days: tuple[SimulationDay, ...]
    cumulative_regret: float
    baseline_regret: float
    expected_events: float
    baseline_expected_events: float
    optimal_expected_events: float
    realised_events: int
    final: Allocation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "true_rates": list(self.true_rates),
            "arms": list(self.arm_names),
            "best_arm": self.arm_names[self.best_arm],
            "mode": self.mode,
            "seed": self.seed,
            "cumulative_regret": self.cumulative_regret,
            "baseline_regret": self.baseline_regret,
            "regret_reduction": _reduction(self.cumulative_regret, self.baseline_regret),
            "expected_events": self.expected_events,
            "baseline_expected_events": self.baseline_expected_events,
            "optimal_expected_events": self.optimal_expected_events,
            "realised_events": self.realised_events,
            "days": [day.to_dict() for day in self.days],
            "final": self.final.to_dict(),
        }


# ---------------------------------------------------------------------------- posterior maths
def thompson_probabilities(
    alpha: FloatArray,
    beta: FloatArray,
    scale: FloatArray,
    *,
    draws: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """P(arm is best) and expected loss E[max_j X_j - X_k] for X_k = scale_k x Beta(a_k, b_k).

    Estimated from `draws` joint posterior draws; the expected loss is in the reward's unit.
    """
    samples = rng.beta(alpha, beta, size=(draws, alpha.size)) * scale
    best = np.argmax(samples, axis=1)
    prob_best = np.bincount(best, minlength=alpha.size) / draws
    expected_loss = (samples.max(axis=1, keepdims=True) - samples).mean(axis=0)
    return prob_best.astype(np.float64), expected_loss.astype(np.float64)


def floor_shares(probabilities: FloatArray, floor: float) -> FloatArray:
    """Shares proportional to `probabilities`, each at least `floor`, summing to 1.

    Water-filling: arms below the floor are lifted to it and the others scaled down in
    proportion until none falls below (so an arm already above the floor keeps its ranking and
    only pays its part of the lift).
    """
    count = probabilities.size
    if not 0 <= floor <= 1 / count + 1e-12:
        raise ValueError(
            f"floor must be between 0 and 1/{count} for {count} active arms, not {floor:g}"
        )
    floored = np.zeros(count, dtype=bool)
    while True:
        free = ~floored
        remaining = 1.0 - floor * int(floored.sum())
        shares = np.where(floored, floor, 0.0)
        mass = float(probabilities[free].sum())
        if free.any():
            shares[free] = (
                probabilities[free] / mass * remaining if mass > 0 else remaining / free.sum()
            )
        newly = free & (shares < floor)
        if not newly.any():
            return shares / shares.sum()
        floored |= newly


def split_units(total: int, shares: FloatArray) -> IntArray:
    """`total` whole units (cents, impressions) split by `shares`: each rounded down, the
    remainder to the arm with the largest share, so the parts sum exactly to `total`."""
    units = np.floor(shares * total + 1e-9).astype(np.int64)
    units[int(np.argmax(shares))] += total - int(units.sum())
    return units


# ---------------------------------------------------------------------------- allocation
def allocate(
    arms: Sequence[Arm],
    daily_budget: Decimal | float | int | str | None = None,
    *,
    reward: str = "click_rate",
    floor: float = DEFAULT_FLOOR,
    draws: int = DEFAULT_DRAWS,
    seed: int | np.random.Generator = 0,
    prior: str | tuple[float, float] = "pooled",
    win_probability: float = WIN_PROBABILITY,
    loss_threshold: float = LOSS_THRESHOLD,
) -> Allocation:
    """Traffic shares and (with `daily_budget`) currency amounts per arm by Thompson sampling.

    Share = P(arm is best) among the active arms, lifted to `floor` for exploration; paused
    arms get 0. The budget is split in cents, rounded down, the remainder to the top arm, so the
    amounts sum exactly to the budget. Deterministic for an integer `seed`.
    """
    _check_arms(arms, reward)
    if draws < 1:
        raise ValueError(f"draws must be at least 1, not {draws}")
    if not 0.5 <= win_probability <= 1:
        raise ValueError(f"win_probability must be between 0.5 and 1, not {win_probability:g}")
    if loss_threshold < 0:
        raise ValueError(f"loss_threshold must not be negative, not {loss_threshold:g}")
    budget_cents = None if daily_budget is None else _cents(daily_budget)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    events = np.array([_events(arm, reward) for arm in arms], dtype=np.float64)
    impressions = np.array([arm.impressions for arm in arms], dtype=np.float64)
    prior_alpha, prior_beta = _prior(prior, events, impressions)
    alpha = prior_alpha + events
    beta = prior_beta + impressions - events
    scale = _scales(arms, reward)
    active = np.array([not arm.paused for arm in arms])

    prob_best = np.zeros(len(arms))
    expected_loss = np.zeros(len(arms))
    prob_best[active], expected_loss[active] = thompson_probabilities(
        alpha[active], beta[active], scale[active], draws=draws, rng=rng
    )
    shares = np.zeros(len(arms))
    shares[active] = floor_shares(prob_best[active], floor)
    amounts = None if budget_cents is None else split_units(budget_cents, shares)

    tail = (1 - CREDIBLE_MASS) / 2
    low, high = stats.beta.ppf([[tail], [1 - tail]], alpha, beta) * scale
    mean = alpha / (alpha + beta) * scale
    results = tuple(
        ArmResult(
            name=arm.name,
            paused=arm.paused,
            impressions=arm.impressions,
            events=int(events[index]),
            alpha=float(alpha[index]),
            beta=float(beta[index]),
            mean=float(mean[index]),
            ci_low=float(low[index]),
            ci_high=float(high[index]),
            prob_best=float(prob_best[index]) if active[index] else None,
            expected_loss=float(expected_loss[index]) if active[index] else None,
            share=float(shares[index]),
            amount_cents=None if amounts is None else int(amounts[index]),
        )
        for index, arm in enumerate(arms)
    )
    leader_index = int(np.argmax(np.where(active, prob_best, -1.0)))
    leader = results[leader_index]
    won = (
        int(active.sum()) >= 2
        and prob_best[leader_index] >= win_probability
        and expected_loss[leader_index] <= loss_threshold * mean[leader_index]
    )
    return Allocation(
        reward=reward,
        arms=results,
        leader=leader.name,
        winner=leader.name if won else None,
        budget_cents=budget_cents,
        floor=floor,
        draws=draws,
        prior=(prior_alpha, prior_beta),
        win_probability=win_probability,
        loss_threshold=loss_threshold,
    )


def _check_arms(arms: Sequence[Arm], reward: str) -> None:
    if reward not in REWARDS:
        raise ValueError(f"unknown reward {reward!r}; choose from {', '.join(REWARDS)}")
    if not arms:
        raise ValueError("no arms to allocate between")
    names = [arm.name for arm in arms]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"arm names must be unique; repeated: {', '.join(duplicates)}")
    if all(arm.paused for arm in arms):
        raise ValueError("every arm is paused: nothing to allocate to")
    for arm in arms:
        counts = {"impressions": arm.impressions, "clicks": arm.clicks}
        counts["conversions"] = arm.conversions
        for field_name, value in counts.items():
            if value < 0:
                raise ValueError(f"arm {arm.name}: {field_name} must not be negative ({value})")
        for field_name in ("clicks", "conversions"):
            if counts[field_name] > arm.impressions:
                raise ValueError(
                    f"arm {arm.name}: {field_name} ({counts[field_name]}) exceed impressions "
                    f"({arm.impressions})"
                )
        for field_name, money in (("cost", arm.cost), ("revenue", arm.revenue)):
            if money is not None and not (math.isfinite(money) and money >= 0):
                raise ValueError(f"arm {arm.name}: {field_name} must be a number >= 0 ({money})")
        if reward in PER_COST_REWARDS and arm.cost is None:
            raise ValueError(f"arm {arm.name}: reward {reward} needs its cost")
        if reward == "revenue_per_cost" and arm.revenue is None and arm.conversions > 0:
            # No conversions, no revenue to know: the pooled value per conversion stands in.
            raise ValueError(f"arm {arm.name}: reward {reward} needs its revenue")


def _prior(
    prior: str | tuple[float, float], events: FloatArray, impressions: FloatArray
) -> tuple[float, float]:
    """The Beta prior's (a, b): as given, uniform, or one pseudo-event at the pooled rate."""
    if isinstance(prior, str):
        if prior not in PRIORS:
            raise ValueError(f"unknown prior {prior!r}; choose from {', '.join(PRIORS)}")
        total_events, total_impressions = float(events.sum()), float(impressions.sum())
        if prior == "uniform" or not 0 < total_events < total_impressions:
            # Nothing pooled to lean on yet (no events, or nothing but events): uniform.
            return DEFAULT_PRIOR
        rate = total_events / total_impressions
        return 1.0, (1.0 - rate) / rate
    alpha, beta = float(prior[0]), float(prior[1])
    if not (alpha > 0 and beta > 0 and math.isfinite(alpha + beta)):
        raise ValueError(f"prior parameters must be positive, not {prior}")
    return alpha, beta


def _events(arm: Arm, reward: str) -> int:
    return arm.conversions if reward in CONVERSION_REWARDS else arm.clicks


def _scales(arms: Sequence[Arm], reward: str) -> FloatArray:
    """The fixed factor turning a per-impression rate into the reward's unit."""
    if reward not in PER_COST_REWARDS:
        return np.ones(len(arms))
    spent = [arm for arm in arms if arm.impressions > 0 and (arm.cost or 0) > 0]
    if not spent:
        raise ValueError(
            f"reward {reward} needs at least one arm with impressions and a positive cost"
        )
    pooled_cpi = sum(arm.cost or 0.0 for arm in spent) / sum(arm.impressions for arm in spent)
    scale = np.empty(len(arms))
    for index, arm in enumerate(arms):
        if arm.impressions > 0 and arm.cost == 0:
            raise ValueError(
                f"arm {arm.name}: cost is 0 for {arm.impressions} impressions; reward {reward} "
                "needs what the impressions cost"
            )
        # An arm that has not been shown yet is assumed to cost what the others do on average.
        cpi = (arm.cost or 0.0) / arm.impressions if arm.impressions > 0 else pooled_cpi
        scale[index] = 1.0 / cpi
    if reward == "revenue_per_cost":
        conversions = sum(arm.conversions for arm in arms)
        pooled_value = sum(arm.revenue or 0.0 for arm in arms) / conversions if conversions else 0
        if pooled_value <= 0:
            raise ValueError(f"reward {reward} needs conversions with revenue in some arm")
        for index, arm in enumerate(arms):
            # Shrunk towards the pooled revenue per conversion: one large order must not crown
            # an arm with two conversions.
            value = ((arm.revenue or 0.0) + REVENUE_PRIOR_CONVERSIONS * pooled_value) / (
                arm.conversions + REVENUE_PRIOR_CONVERSIONS
            )
            scale[index] *= value
    return scale


def _cents(budget: Decimal | float | int | str) -> int:
    try:
        amount = Decimal(str(budget))
    except InvalidOperation:
        raise ValueError(f"budget {budget!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"budget must be a positive amount, not {budget}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"budget {budget} has fractions of a cent")
    return int(cents)


# ---------------------------------------------------------------------------- simulation
def simulate(
    true_rates: Sequence[float],
    *,
    days: int = 30,
    daily_traffic: int | None = 1000,
    daily_budget: Decimal | float | int | str | None = None,
    cost_per_impression: float | Sequence[float] | None = None,
    seed: int = 0,
    floor: float = DEFAULT_FLOOR,
    draws: int = DEFAULT_DRAWS,
    prior: tuple[float, float] = DEFAULT_PRIOR,
    progress: Progress | None = None,
) -> Simulation:
    """Run the bandit for `days` against known per-impression `true_rates`.

    Traffic mode (`daily_traffic` impressions a day) optimises the rate; budget mode
    (`daily_budget` with `cost_per_impression`, one value or one per arm) optimises events per
    currency unit and buys floor(amount / cost per impression) impressions per arm. Each day the
    shares come from the data so far, events are drawn as Binomial(impressions, rate), and the
    expected regret is compared with an equal split. Deterministic for a given `seed`.
    """
    rates = np.asarray(true_rates, dtype=np.float64)
    if rates.ndim != 1 or rates.size < 2:
        raise ValueError("simulate needs at least two true rates")
    if not np.all((rates >= 0) & (rates <= 1)):
        raise ValueError(f"true rates must be between 0 and 1, not {list(true_rates)}")
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if prior[0] <= 0 or prior[1] <= 0:
        raise ValueError(f"prior parameters must be positive, not {prior}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, not {draws}")
    count = rates.size
    if daily_budget is not None:
        cents_a_day = _cents(daily_budget)
        budget_cents: int | None = cents_a_day
        if cost_per_impression is None:
            raise ValueError("a daily budget needs the cost per impression")
        cpi = np.asarray(cost_per_impression, dtype=np.float64)
        if cpi.ndim == 0:
            cpi = np.full(count, float(cpi))
        if cpi.shape != (count,) or not np.all(cpi > 0):
            raise ValueError(
                f"cost per impression must be positive, one value or {count} (one per arm)"
            )
        value = rates / cpi  # events per currency unit
        total_spend = cents_a_day / 100
        mode, reward = "budget", "clicks_per_cost"
    else:
        budget_cents = None
        if daily_traffic is None or daily_traffic < 1:
            raise ValueError(f"daily traffic must be at least 1, not {daily_traffic}")
        cpi = np.ones(count)
        value = rates
        total_spend = float(daily_traffic)
        mode, reward = "traffic", "click_rate"

    rng = np.random.default_rng(seed)
    names = tuple(f"arm_{index + 1}" for index in range(count))
    best_arm = int(np.argmax(value))
    gap = value[best_arm] - value
    baseline_daily_regret = total_spend * float(gap.mean())
    shown = np.zeros(count, dtype=np.int64)
    clicked = np.zeros(count, dtype=np.int64)
    spent_cents = np.zeros(count, dtype=np.int64)
    history: list[SimulationDay] = []
    cumulative = 0.0
    expected_events = 0.0
    for day in range(1, days + 1):
        probabilities, _ = thompson_probabilities(
            prior[0] + clicked.astype(np.float64),
            prior[1] + (shown - clicked).astype(np.float64),
            1.0 / cpi,
            draws=draws,
            rng=rng,
        )
        shares = floor_shares(probabilities, floor)
        if budget_cents is not None:
            cents = split_units(budget_cents, shares)
            spend = cents / 100
            impressions = np.floor(spend / cpi + 1e-9).astype(np.int64)
            spent_cents += cents
        else:
            impressions = split_units(int(daily_traffic or 0), shares)
            spend = impressions.astype(np.float64)
        events = rng.binomial(impressions, rates).astype(np.int64)
        shown += impressions
        clicked += events
        regret = float(spend @ gap)
        cumulative += regret
        expected_events += float(spend @ value)
        history.append(
            SimulationDay(
                day=day,
                shares=tuple(float(share) for share in shares),
                impressions=tuple(int(number) for number in impressions),
                events=tuple(int(number) for number in events),
                best_arm_share=float(shares[best_arm]),
                regret=regret,
                cumulative_regret=cumulative,
                baseline_cumulative_regret=baseline_daily_regret * day,
            )
        )
        if progress is not None:
            progress(100 * day / days, f"day {day}/{days}: best arm share {shares[best_arm]:.3f}")

    arms = [
        Arm(
            name=names[index],
            impressions=int(shown[index]),
            clicks=int(clicked[index]),
            cost=float(spent_cents[index]) / 100 if budget_cents is not None else None,
        )
        for index in range(count)
    ]
    final = allocate(
        arms,
        None if budget_cents is None else Decimal(budget_cents) / 100,
        reward=reward,
        floor=floor,
        draws=draws,
        seed=rng,
        prior=prior,
    )
    return Simulation(
        true_rates=tuple(float(rate) for rate in rates),
        arm_names=names,
        best_arm=best_arm,
        mode=mode,
        seed=seed,
        days=tuple(history),
        cumulative_regret=cumulative,
        baseline_regret=baseline_daily_regret * days,
        expected_events=expected_events,
        baseline_expected_events=total_spend * float(value.mean()) * days,
        optimal_expected_events=total_spend * float(value[best_arm]) * days,
        realised_events=int(clicked.sum()),
        final=final,
    )


def _reduction(regret: float, baseline: float) -> float | None:
    """The share of the baseline's regret the bandit avoided (None when the baseline is 0)."""
    return None if baseline <= 0 else 1.0 - regret / baseline


# ---------------------------------------------------------------------------- files
def read_arms_csv(path: Path) -> list[Arm]:
    """Arms from a CSV with columns arm,impressions,clicks[,conversions,cost,revenue].

    Header names are matched without regard to case or surrounding spaces; empty optional
    cells mean 0 conversions, unknown cost, unknown revenue. Errors name the line and column.
    """
    if not path.is_file():
        raise ArmFileError(f"{path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ArmFileError(f"{path}: not a readable CSV file ({error})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ArmFileError(f"{path}: empty file (expected a header {','.join(CSV_COLUMNS)})")
    header = [cell.strip().lower() for cell in rows[0]]
    for column in CSV_COLUMNS[:3]:
        if column not in header:
            raise ArmFileError(
                f"{path}: missing column {column} (columns found: {', '.join(header) or 'none'};"
                f" expected {','.join(CSV_COLUMNS)})"
            )
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if unknown:
        raise ArmFileError(
            f"{path}: unknown column {unknown[0]} (expected {','.join(CSV_COLUMNS)})"
        )
    if len(rows) == 1:
        raise ArmFileError(f"{path}: no arm rows after the header")
    arms: list[Arm] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows[1:]):
        line = offset + FIRST_DATA_LINE
        if len(row) != len(header):
            raise ArmFileError(f"{path}: line {line}: {len(row)} cells for {len(header)} columns")
        cells = {column: cell.strip() for column, cell in zip(header, row, strict=True)}
        name = cells["arm"]
        if not name:
            raise ArmFileError(f"{path}: line {line}, column arm: empty arm name")
        if name in seen:
            raise ArmFileError(
                f"{path}: line {line}, column arm: arm {name} already on line {seen[name]}"
            )
        seen[name] = line
        impressions = _whole(path, line, "impressions", cells["impressions"])
        clicks = _whole(path, line, "clicks", cells["clicks"])
        conversions = _whole(path, line, "conversions", cells.get("conversions") or "0")
        for column, number in (("clicks", clicks), ("conversions", conversions)):
            if number > impressions:
                raise ArmFileError(
                    f"{path}: line {line}, column {column}: {number} exceeds impressions "
                    f"({impressions})"
                )
        arms.append(
            Arm(
                name=name,
                impressions=impressions,
                clicks=clicks,
                conversions=conversions,
                cost=_money(path, line, "cost", cells.get("cost", "")),
                revenue=_money(path, line, "revenue", cells.get("revenue", "")),
            )
        )
    return arms


def _whole(path: Path, line: int, column: str, text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ArmFileError(
            f"{path}: line {line}, column {column}: {text!r} is not a whole number"
        ) from None
    if number < 0:
        raise ArmFileError(f"{path}: line {line}, column {column}: {number} is negative")
    return number


def _money(path: Path, line: int, column: str, text: str) -> float | None:
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ArmFileError(
            f"{path}: line {line}, column {column}: {text!r} is not a number"
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ArmFileError(f"{path}: line {line}, column {column}: {text} is not an amount >= 0")
    return number
