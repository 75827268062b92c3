"""Experiment statistics on per-variant summary statistics: the A/B/n test engine.

Frequentist (Welch t / z) and Bayesian (Gaussian posterior on the effect) comparisons of every
treatment with the control, relative or absolute differences, always-valid sequential intervals,
CUPED variance reduction, a sample ratio mismatch check and a sample size calculator.

The model follows GrowthBook's stats engine (gbstats, MIT licence) so that results can be
cross-checked against its published test cases:

* every arm is reduced to a per-unit mean and variance (mean metrics from n, sum and sum of
  squares; proportions from n and conversions, variance p(1 - p); ratio metrics by the delta
  method on numerator and denominator sums);
* the relative lift is ``treatment / control - 1`` with the delta-method variance of a ratio of
  independent means, the absolute difference ``treatment - control``;
* confidence intervals are symmetric around the point estimate.

Pure Python + numpy/scipy: no Django, so it runs from a notebook as well as from the
``experiment`` management command. Inputs and outputs are frozen dataclasses; impossible inputs
raise :class:`StatisticsInputError`, comparisons that are undefined on valid data (no variance in
either arm, a zero control mean for a relative lift) raise :class:`DegenerateComparisonError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from scipy import optimize, stats

DifferenceType = Literal["relative", "absolute"]
EngineName = Literal["frequentist", "bayesian"]
MetricType = Literal["mean", "proportion", "ratio"]
ReferenceDistribution = Literal["auto", "t", "normal"]

DIFFERENCE_TYPES: tuple[DifferenceType, ...] = ("relative", "absolute")
ENGINES: tuple[EngineName, ...] = ("frequentist", "bayesian")
METRIC_TYPES: tuple[MetricType, ...] = ("mean", "proportion", "ratio")

DEFAULT_ALPHA = 0.05
#: GrowthBook's default for the sequential tuning parameter N (the total sample size around
#: which the confidence sequence is tightest).
DEFAULT_SEQUENTIAL_TUNING = 5000.0
#: A sample ratio mismatch is flagged below this chi-square p-value (GrowthBook, Optimizely and
#: Kohavi et al. all use 0.001: the check runs on every experiment, so it must rarely cry wolf).
SRM_P_VALUE_THRESHOLD = 0.001

#: Columns of the per-variant CSV rows, by metric type (the first row is the control).
METRIC_COLUMNS: dict[MetricType, tuple[str, ...]] = {
    "mean": ("n", "sum", "sum_squares"),
    "proportion": ("n", "conversions"),
    "ratio": (
        "n",
        "numerator_sum",
        "numerator_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "numerator_denominator_sum_products",
    ),
}
#: Optional pre-period covariate columns that switch CUPED on (mean and proportion metrics).
COVARIATE_COLUMNS: tuple[str, ...] = ("sum_x", "sum_x_squares", "sum_xy")

# Relative tolerance below which a negative variance is float rounding, not bad data.
_ROUNDING_TOLERANCE = 1e-9


class StatisticsInputError(ValueError):
    """Summary statistics or settings that cannot describe real data (a negative variance,
    conversions above n, fewer than two variants ...). The message names the field."""


class DegenerateComparisonError(StatisticsInputError):
    """Valid data on which a comparison is undefined: no variance in either arm, or a zero
    control mean for a relative lift. An explicit outcome, not a crash."""


# --------------------------------------------------------------------------- validation helpers
def _check_finite(name: str, value: float) -> None:
    try:
        finite = math.isfinite(float(value))
    except (TypeError, ValueError):
        finite = False
    if isinstance(value, bool) or not finite:
        raise StatisticsInputError(f"{name} must be a finite number, got {value!r}")


def _check_count(name: str, value: float) -> None:
    _check_finite(name, value)
    if float(value) != int(value):
        raise StatisticsInputError(f"{name} must be a whole number, got {value!r}")


def _check_n(n: int) -> None:
    _check_count("n", n)
    if n <= 1:
        raise StatisticsInputError(
            f"n must be greater than 1 (a variance needs two units), got {n}"
        )


def _sample_variance(field_name: str, n: int, total: float, total_squares: float) -> float:
    """(Σx² - (Σx)²/n) / (n - 1), refusing sums of squares that give a negative variance."""
    centred = total_squares - total * total / n
    if centred < 0:
        scale = max(abs(total_squares), total * total / n, 1.0)
        if -centred > _ROUNDING_TOLERANCE * scale:
            raise StatisticsInputError(
                f"{field_name} {total_squares:g} is below sum²/n {total * total / n:g}: "
                "the variance would be negative"
            )
        centred = 0.0
    return centred / (n - 1)


def _check_alpha(alpha: float) -> None:
    _check_finite("alpha", alpha)
    if not 0 < alpha < 1:
        raise StatisticsInputError(f"alpha must be between 0 and 1, got {alpha}")


# --------------------------------------------------------------------------- summary statistics
@dataclass(frozen=True)
class MeanSummary:
    """A mean metric of one variant: n units, the sum and the sum of squares of their values."""

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_n(self.n)
        _check_finite("sum", self.sum)
        _check_finite("sum_squares", self.sum_squares)
        _sample_variance("sum_squares", self.n, self.sum, self.sum_squares)

    @property
    def mean(self) -> float:
        """Sample mean per unit."""
        return self.sum / self.n

    @property
    def variance(self) -> float:
        """Unbiased sample variance per unit (n - 1 denominator)."""
        return _sample_variance("sum_squares", self.n, self.sum, self.sum_squares)


@dataclass(frozen=True)
class ProportionSummary:
    """A conversion metric of one variant: n units of which ``conversions`` converted."""

    n: int
    conversions: int

    def __post_init__(self) -> None:
        _check_n(self.n)
        _check_count("conversions", self.conversions)
        if not 0 <= self.conversions <= self.n:
            raise StatisticsInputError(
                f"conversions must be between 0 and n ({self.n}), got {self.conversions}"
            )

    @property
    def sum(self) -> float:
        """Sum of the 0/1 outcomes."""
        return float(self.conversions)

    @property
    def sum_squares(self) -> float:
        """Sum of squared 0/1 outcomes (equal to the sum)."""
        return float(self.conversions)

    @property
    def mean(self) -> float:
        """Conversion rate."""
        return self.conversions / self.n

    @property
    def variance(self) -> float:
        """Bernoulli variance p(1 - p), as GrowthBook's ProportionStatistic."""
        return self.mean * (1 - self.mean)


@dataclass(frozen=True)
class RatioSummary:
    """A ratio metric (e.g. revenue per session) over n randomisation units: per-unit sums and
    sums of squares of numerator and denominator, and the sum of their per-unit products."""

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    numerator_denominator_sum_products: float

    def __post_init__(self) -> None:
        _check_n(self.n)
        for name in (
            "numerator_sum",
            "numerator_sum_squares",
            "denominator_sum",
            "denominator_sum_squares",
            "numerator_denominator_sum_products",
        ):
            _check_finite(name, getattr(self, name))
        if self.denominator_sum == 0:
            raise StatisticsInputError("denominator_sum is 0: the ratio is undefined")
        numerator_variance = self.numerator_variance
        denominator_variance = self.denominator_variance
        bound = math.sqrt(numerator_variance * denominator_variance)
        if abs(self.covariance) > bound * (1 + 1e-7) + _ROUNDING_TOLERANCE:
            raise StatisticsInputError(
                "numerator_denominator_sum_products gives a covariance larger than the "
                "numerator and denominator variances allow (|correlation| > 1)"
            )

    @property
    def numerator_mean(self) -> float:
        """Mean numerator per unit."""
        return self.numerator_sum / self.n

    @property
    def denominator_mean(self) -> float:
        """Mean denominator per unit."""
        return self.denominator_sum / self.n

    @property
    def numerator_variance(self) -> float:
        """Sample variance of the per-unit numerator."""
        return _sample_variance(
            "numerator_sum_squares", self.n, self.numerator_sum, self.numerator_sum_squares
        )

    @property
    def denominator_variance(self) -> float:
        """Sample variance of the per-unit denominator."""
        return _sample_variance(
            "denominator_sum_squares", self.n, self.denominator_sum, self.denominator_sum_squares
        )

    @property
    def covariance(self) -> float:
        """Sample covariance of per-unit numerator and denominator."""
        return (
            self.numerator_denominator_sum_products
            - self.numerator_sum * self.denominator_sum / self.n
        ) / (self.n - 1)

    @property
    def mean(self) -> float:
        """The ratio of sums, Σnumerator / Σdenominator."""
        return self.numerator_sum / self.denominator_sum

    @property
    def variance(self) -> float:
        """Per-unit delta-method variance of the ratio (divide by n for its squared SE):
        σ²_M/μ_D² - 2 μ_M σ_MD/μ_D³ + μ_M² σ²_D/μ_D⁴."""
        mean_m, mean_d = self.numerator_mean, self.denominator_mean
        value = (
            self.numerator_variance / mean_d**2
            - 2 * mean_m * self.covariance / mean_d**3
            + mean_m**2 * self.denominator_variance / mean_d**4
        )
        return max(value, 0.0)


MetricSummary = MeanSummary | ProportionSummary | RatioSummary


@dataclass(frozen=True)
class CovariateSummary:
    """Pre-period covariate x of the same n units as the metric y, for CUPED: Σx, Σx², Σxy."""

    sum_x: float
    sum_x_squares: float
    sum_xy: float

    def __post_init__(self) -> None:
        _check_finite("sum_x", self.sum_x)
        _check_finite("sum_x_squares", self.sum_x_squares)
        _check_finite("sum_xy", self.sum_xy)


def metric_type_of(metric: MetricSummary) -> MetricType:
    """The metric type name of a summary."""
    if isinstance(metric, ProportionSummary):
        return "proportion"
    if isinstance(metric, RatioSummary):
        return "ratio"
    return "mean"


@dataclass(frozen=True)
class VariantData:
    """One arm of an experiment: its name, metric summary and optional CUPED covariate."""

    name: str
    metric: MetricSummary
    covariate: CovariateSummary | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise StatisticsInputError("variant name must not be empty")
        if self.covariate is None:
            return
        if isinstance(self.metric, RatioSummary):
            raise StatisticsInputError(
                "CUPED covariates are supported for mean and proportion metrics"
            )
        # Cauchy-Schwarz: Cov² ≤ Var(x)·Var(y), else the adjusted variance could go negative.
        bound = self.covariate_variance * _metric_sample_variance(self.metric)
        if self.covariate_covariance**2 > bound * (1 + 1e-7) + _ROUNDING_TOLERANCE:
            raise StatisticsInputError(
                "sum_xy gives a covariance larger than the metric and covariate variances "
                "allow (|correlation| > 1)"
            )

    @property
    def covariate_variance(self) -> float:
        """Sample variance of the covariate (0 without one)."""
        if self.covariate is None:
            return 0.0
        return _sample_variance(
            "sum_x_squares", self.metric.n, self.covariate.sum_x, self.covariate.sum_x_squares
        )

    @property
    def covariate_covariance(self) -> float:
        """Sample covariance of metric and covariate (0 without one)."""
        if self.covariate is None:
            return 0.0
        n = self.metric.n
        sum_y, _ = _outcome_sums(self.metric)
        return (self.covariate.sum_xy - sum_y * self.covariate.sum_x / n) / (n - 1)


def _outcome_sums(metric: MetricSummary) -> tuple[float, float]:
    """Σy and Σy² of a per-unit outcome (CUPED's y); ratio metrics have none."""
    if isinstance(metric, RatioSummary):
        raise StatisticsInputError("CUPED covariates are supported for mean and proportion metrics")
    return metric.sum, metric.sum_squares


def _metric_sample_variance(metric: MetricSummary) -> float:
    if isinstance(metric, ProportionSummary):
        return metric.variance * metric.n / (metric.n - 1)
    return metric.variance


# --------------------------------------------------------------------------- CUPED
@dataclass(frozen=True)
class ArmMoments:
    """Per-unit moments of one arm as the tests use them; with CUPED, ``mean`` and ``variance``
    are those of the adjusted metric y - θx and the unadjusted ones are kept for the
    relative lift's denominator."""

    n: int
    mean: float
    variance: float
    unadjusted_mean: float
    unadjusted_variance: float
    covariate_variance: float = 0.0
    covariance: float = 0.0
    theta: float = 0.0

    @property
    def variance_reduction(self) -> float:
        """Share of the per-unit variance removed by CUPED (0 without it)."""
        if self.unadjusted_variance <= 0:
            return 0.0
        return 1 - self.variance / self.unadjusted_variance


def arm_moments(variant: VariantData, theta: float = 0.0) -> ArmMoments:
    """Moments of one arm, CUPED-adjusted with ``theta`` when the variant has a covariate."""
    metric = variant.metric
    if variant.covariate is None or theta == 0.0:
        return ArmMoments(
            n=metric.n,
            mean=metric.mean,
            variance=metric.variance,
            unadjusted_mean=metric.mean,
            unadjusted_variance=metric.variance,
        )
    covariate_mean = variant.covariate.sum_x / metric.n
    covariate_variance = variant.covariate_variance
    covariance = variant.covariate_covariance
    adjusted_variance = metric.variance + theta**2 * covariate_variance - 2 * theta * covariance
    return ArmMoments(
        n=metric.n,
        mean=metric.mean - theta * covariate_mean,
        variance=max(adjusted_variance, 0.0),
        unadjusted_mean=metric.mean,
        unadjusted_variance=metric.variance,
        covariate_variance=covariate_variance,
        covariance=covariance,
        theta=theta,
    )


def cuped_theta(control: VariantData, treatment: VariantData) -> float:
    """The pooled CUPED coefficient θ = Cov(y, x) / Var(x) over both arms together (GrowthBook's
    ``compute_theta``); 0 when either arm has no covariate or x (or y) does not vary."""
    if control.covariate is None or treatment.covariate is None:
        return 0.0
    n = control.metric.n + treatment.metric.n
    control_sum, control_sum_squares = _outcome_sums(control.metric)
    treatment_sum, treatment_sum_squares = _outcome_sums(treatment.metric)
    sum_y = control_sum + treatment_sum
    sum_y_squares = control_sum_squares + treatment_sum_squares
    sum_x = control.covariate.sum_x + treatment.covariate.sum_x
    sum_x_squares = control.covariate.sum_x_squares + treatment.covariate.sum_x_squares
    sum_xy = control.covariate.sum_xy + treatment.covariate.sum_xy
    if isinstance(control.metric, ProportionSummary):
        joint_rate = sum_y / n
        variance_y = joint_rate * (1 - joint_rate)
    else:
        variance_y = _sample_variance("sum_squares", n, sum_y, sum_y_squares)
    variance_x = _sample_variance("sum_x_squares", n, sum_x, sum_x_squares)
    if variance_x == 0 or variance_y == 0:
        return 0.0
    return (sum_xy - sum_y * sum_x / n) / (n - 1) / variance_x


@dataclass(frozen=True)
class CupedAdjustment:
    """CUPED applied to one control/treatment pair: θ and both arms' adjusted moments."""

    theta: float
    control: ArmMoments
    treatment: ArmMoments


def cuped_adjust(control: VariantData, treatment: VariantData) -> CupedAdjustment:
    """Adjust both arms with the pooled θ (Deng et al. 2013, "CUPED"): per arm the mean of
    y - θx, with Var(y - θx) = Var(y) + θ² Var(x) - 2θ Cov(y, x). When θ equals the arm's own
    slope Cov/Var(x) this is Var(y)(1 - ρ²); the shared pooled θ keeps the difference unbiased
    (x is balanced by randomisation) at a tiny cost when the arms' slopes differ."""
    theta = cuped_theta(control, treatment)
    return CupedAdjustment(
        theta=theta,
        control=arm_moments(control, theta),
        treatment=arm_moments(treatment, theta),
    )


# --------------------------------------------------------------------------- effect moments
@dataclass(frozen=True)
class EffectEstimate:
    """A difference between two arms with its delta-method standard error."""

    difference_type: DifferenceType
    point_estimate: float
    standard_error: float
    degrees_of_freedom: float
    control: ArmMoments
    treatment: ArmMoments

    @property
    def total_n(self) -> int:
        """Units in both arms (the sequential test's sample size)."""
        return self.control.n + self.treatment.n


def welch_degrees_of_freedom(control: ArmMoments, treatment: ArmMoments) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference of two means."""
    a = control.variance / control.n
    b = treatment.variance / treatment.n
    denominator = a**2 / (control.n - 1) + b**2 / (treatment.n - 1)
    if denominator == 0:
        return math.inf
    return (a + b) ** 2 / denominator


def effect_estimate(
    control: ArmMoments, treatment: ArmMoments, difference_type: DifferenceType = "relative"
) -> EffectEstimate:
    """Point estimate and standard error of treatment vs control.

    Absolute: Δ = μ_T - μ_C, Var = σ²_T/n_T + σ²_C/n_C.
    Relative: Δ = (μ_T - μ_C)/μ̃_C where μ̃_C is the unadjusted control mean, and by the delta
    method Var = σ²_T/(n_T μ̃_C²) + [σ̃²_C μ̃_T²/μ̃_C² - 2θ c_C μ̃_T/μ̃_C + θ² σ²_x,C]/(n_C μ̃_C²),
    which without CUPED (θ = 0) is the variance of the ratio of independent means,
    σ²_T/(n_T μ_C²) + σ²_C μ_T²/(n_C μ_C⁴) - GrowthBook's ``frequentist_variance``.
    """
    if difference_type not in DIFFERENCE_TYPES:
        raise StatisticsInputError(
            f"difference_type must be relative or absolute, got {difference_type!r}"
        )
    if difference_type == "absolute":
        point_estimate = treatment.mean - control.mean
        variance = treatment.variance / treatment.n + control.variance / control.n
    else:
        baseline = control.unadjusted_mean
        if baseline == 0:
            raise DegenerateComparisonError(
                "the control mean is 0, so a relative lift is undefined; "
                "analyse the absolute difference instead"
            )
        point_estimate = (treatment.mean - control.mean) / baseline
        treatment_term = treatment.variance / (treatment.n * baseline**2)
        ratio = treatment.unadjusted_mean / baseline
        theta = control.theta
        control_term = (
            control.unadjusted_variance * ratio**2
            - 2 * theta * control.covariance * ratio
            + theta**2 * control.covariate_variance
        ) / (control.n * baseline**2)
        variance = treatment_term + control_term
    if not variance > 0:
        raise DegenerateComparisonError(
            "neither arm varies, so the difference has no standard error"
        )
    return EffectEstimate(
        difference_type=difference_type,
        point_estimate=point_estimate,
        standard_error=math.sqrt(variance),
        degrees_of_freedom=welch_degrees_of_freedom(control, treatment),
        control=control,
        treatment=treatment,
    )


# --------------------------------------------------------------------------- classic tests
@dataclass(frozen=True)
class TestStatistic:
    """A test statistic with its two-sided p-value (and degrees of freedom for t)."""

    statistic: float
    p_value: float
    degrees_of_freedom: float | None = None


def welch_t_test(control: MeanSummary, treatment: MeanSummary) -> TestStatistic:
    """Welch's unequal-variance t-test of treatment - control, two-sided."""
    estimate = effect_estimate(
        arm_moments(VariantData("control", control)),
        arm_moments(VariantData("treatment", treatment)),
        "absolute",
    )
    t_value = estimate.point_estimate / estimate.standard_error
    degrees = estimate.degrees_of_freedom
    return TestStatistic(t_value, float(2 * stats.t.sf(abs(t_value), degrees)), degrees)


def two_proportion_z_test(
    control: ProportionSummary, treatment: ProportionSummary, *, pooled: bool = True
) -> TestStatistic:
    """The textbook two-proportion z-test of p_T - p_C, two-sided: the pooled rate under H0 by
    default, or the unpooled (Wald) standard error that the analysis's intervals use."""
    difference = treatment.mean - control.mean
    if pooled:
        rate = (control.conversions + treatment.conversions) / (control.n + treatment.n)
        variance = rate * (1 - rate) * (1 / control.n + 1 / treatment.n)
    else:
        variance = control.variance / control.n + treatment.variance / treatment.n
    if not variance > 0:
        raise DegenerateComparisonError("neither arm varies, so the z statistic is undefined")
    z_value = difference / math.sqrt(variance)
    return TestStatistic(z_value, float(2 * stats.norm.sf(abs(z_value))))


# --------------------------------------------------------------------------- sequential
def sequential_rho(alpha: float, tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> float:
    """Mixing parameter ρ of the normal-mixture confidence sequence tuned to be tightest at
    ``tuning`` units (Waudby-Smith et al. 2023, eq. 161, as gbstats):
    ρ = sqrt((-2 ln α + ln(1 - 2 ln α)) / N)."""
    _check_alpha(alpha)
    if not tuning > 0:
        raise StatisticsInputError(f"sequential tuning must be positive, got {tuning}")
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning)


def sequential_halfwidth(
    standard_error: float,
    total_n: int,
    alpha: float = DEFAULT_ALPHA,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> float:
    """Half-width of the two-sided asymptotic confidence sequence (Howard et al. 2021;
    Waudby-Smith et al. 2023, eq. 9): with per-unit variance s² = SE²·n,
    s · sqrt(2(nρ² + 1) ln(sqrt(nρ² + 1)/α) / (nρ)²)."""
    rho = sequential_rho(alpha, tuning)
    per_unit_variance = standard_error**2 * total_n
    spread = total_n * rho**2 + 1
    return math.sqrt(
        per_unit_variance * 2 * spread * math.log(math.sqrt(spread) / alpha) / (total_n * rho) ** 2
    )


def sequential_p_value(
    point_estimate: float,
    standard_error: float,
    total_n: int,
    alpha: float = DEFAULT_ALPHA,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> float:
    """Always-valid p-value min(1, 1/E) from the mixture e-value
    E = exp(ρ² n Δ²/(2 SE² (nρ² + 1))) / sqrt(nρ² + 1) (Waudby-Smith et al. 2023, eq. 155);
    it is below α exactly when the confidence sequence excludes 0."""
    rho = sequential_rho(alpha, tuning)
    spread = total_n * rho**2 + 1
    exponent = rho**2 * total_n * point_estimate**2 / (2 * standard_error**2 * spread)
    log_e_value = exponent - 0.5 * math.log(spread)
    return 1.0 if log_e_value <= 0 else math.exp(-log_e_value)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class GaussianPrior:
    """Normal prior on the effect, in relative-lift units (rescaled by the control mean for
    absolute differences). Improper (flat) unless ``proper``; GrowthBook's defaults."""

    mean: float = 0.0
    variance: float = 0.3**2
    proper: bool = False

    def __post_init__(self) -> None:
        _check_finite("prior mean", self.mean)
        _check_finite("prior variance", self.variance)
        if self.proper and not self.variance > 0:
            raise StatisticsInputError(f"prior variance must be positive, got {self.variance}")


@dataclass(frozen=True)
class ComparisonResult:
    """One treatment compared with the control.

    ``lift`` is the relative lift (treatment/control - 1) or the absolute difference, per
    ``difference_type``; ``ci_low``/``ci_high`` the (1 - α) confidence or credible interval;
    ``chance_to_win`` P(effect > 0) under a normal posterior; ``expected_loss`` the expected
    shortfall from shipping the treatment, E[max(-Δ, 0)], and ``expected_loss_control`` that from
    keeping the control, E[max(Δ, 0)] (Bayesian engine only).
    """

    variant: str
    engine: EngineName
    difference_type: DifferenceType
    lift: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_win: float
    expected_loss: float | None
    expected_loss_control: float | None
    degrees_of_freedom: float | None
    sequential: bool
    control_mean: float
    treatment_mean: float
    control_n: int
    treatment_n: int
    cuped_theta: float | None = None
    variance_reduction: float | None = None


def _uses_t(distribution: ReferenceDistribution, metric: MetricSummary) -> bool:
    """Whether the fixed-horizon test uses Student's t (else the normal)."""
    if distribution == "t":
        return True
    if distribution == "normal":
        return False
    return not isinstance(metric, ProportionSummary)


def _cuped_fields(estimate: EffectEstimate) -> tuple[float | None, float | None]:
    if estimate.control.theta == 0.0:
        return None, None
    unadjusted = (
        estimate.treatment.unadjusted_variance / estimate.treatment.n
        + estimate.control.unadjusted_variance / estimate.control.n
    )
    adjusted = estimate.treatment.variance / estimate.treatment.n + (
        estimate.control.variance / estimate.control.n
    )
    reduction = 1 - adjusted / unadjusted if unadjusted > 0 else 0.0
    return estimate.control.theta, reduction


def frequentist_result(
    name: str,
    estimate: EffectEstimate,
    *,
    alpha: float = DEFAULT_ALPHA,
    sequential: bool = False,
    sequential_tuning: float = DEFAULT_SEQUENTIAL_TUNING,
    use_t: bool = True,
) -> ComparisonResult:
    """Two-sided frequentist test of one effect estimate.

    Fixed horizon: Welch t with Welch-Satterthwaite df (``use_t``) or z; the interval is
    Δ ± q·SE. Sequential: the always-valid confidence sequence and p-value, on the normal scale.
    ``chance_to_win`` is Φ(Δ/SE), the flat-prior posterior probability that the effect is
    positive (gbstats reports none for its frequentist engine; this is 1 - the one-sided z
    p-value, so it reads the same as the Bayesian engine's).
    """
    _check_alpha(alpha)
    point, error = estimate.point_estimate, estimate.standard_error
    degrees: float | None = estimate.degrees_of_freedom if use_t and not sequential else None
    if sequential:
        halfwidth = sequential_halfwidth(error, estimate.total_n, alpha, sequential_tuning)
        p_value = sequential_p_value(point, error, estimate.total_n, alpha, sequential_tuning)
    elif degrees is not None and math.isfinite(degrees):
        halfwidth = float(stats.t.ppf(1 - alpha / 2, degrees)) * error
        p_value = float(2 * stats.t.sf(abs(point / error), degrees))
    else:
        degrees = None
        halfwidth = float(stats.norm.ppf(1 - alpha / 2)) * error
        p_value = float(2 * stats.norm.sf(abs(point / error)))
    theta, reduction = _cuped_fields(estimate)
    return ComparisonResult(
        variant=name,
        engine="frequentist",
        difference_type=estimate.difference_type,
        lift=point,
        standard_error=error,
        ci_low=point - halfwidth,
        ci_high=point + halfwidth,
        p_value=p_value,
        chance_to_win=float(stats.norm.cdf(point / error)),
        expected_loss=None,
        expected_loss_control=None,
        degrees_of_freedom=degrees,
        sequential=sequential,
        control_mean=estimate.control.unadjusted_mean,
        treatment_mean=estimate.treatment.unadjusted_mean,
        control_n=estimate.control.n,
        treatment_n=estimate.treatment.n,
        cuped_theta=theta,
        variance_reduction=reduction,
    )


def _gaussian_positive_part(mean: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ N(mean, sd²)."""
    z = mean / sd
    return float(sd * stats.norm.pdf(z) + mean * stats.norm.cdf(z))


def bayesian_result(
    name: str,
    estimate: EffectEstimate,
    *,
    alpha: float = DEFAULT_ALPHA,
    prior: GaussianPrior | None = None,
) -> ComparisonResult:
    """GrowthBook's Gaussian effect model: likelihood Δ̂ ~ N(Δ, SE²), prior N(m₀, v₀) (flat
    unless proper). Posterior precision 1/SE² + 1/v₀, mean (Δ̂/SE² + m₀/v₀)/precision;
    chance to win Φ(μ/σ); expected losses E[max(∓Δ, 0)] = σφ(μ/σ) ∓ μΦ(∓μ/σ); the credible
    interval μ ± z_{1-α/2}σ. ``p_value`` is the posterior two-sided tail probability
    2·min(P(Δ>0), P(Δ<0)), which equals the z-test p-value under the flat prior.
    """
    _check_alpha(alpha)
    prior = prior or GaussianPrior()
    data_precision = 1 / estimate.standard_error**2
    posterior_precision = data_precision
    weighted = estimate.point_estimate * data_precision
    if prior.proper:
        scale = 1.0
        if estimate.difference_type == "absolute":
            scale = abs(estimate.control.unadjusted_mean) or 1.0
        prior_variance = prior.variance * scale**2
        posterior_precision += 1 / prior_variance
        weighted += prior.mean * scale / prior_variance
    mean = weighted / posterior_precision
    sd = math.sqrt(1 / posterior_precision)
    chance_to_win = float(stats.norm.cdf(mean / sd))
    quantile = float(stats.norm.ppf(1 - alpha / 2))
    theta, reduction = _cuped_fields(estimate)
    return ComparisonResult(
        variant=name,
        engine="bayesian",
        difference_type=estimate.difference_type,
        lift=mean,
        standard_error=sd,
        ci_low=mean - quantile * sd,
        ci_high=mean + quantile * sd,
        p_value=float(2 * stats.norm.sf(abs(mean / sd))),
        chance_to_win=chance_to_win,
        expected_loss=_gaussian_positive_part(-mean, sd),
        expected_loss_control=_gaussian_positive_part(mean, sd),
        degrees_of_freedom=None,
        sequential=False,
        control_mean=estimate.control.unadjusted_mean,
        treatment_mean=estimate.treatment.unadjusted_mean,
        control_n=estimate.control.n,
        treatment_n=estimate.treatment.n,
        cuped_theta=theta,
        variance_reduction=reduction,
    )


# --------------------------------------------------------------------------- sample ratio mismatch
@dataclass(frozen=True)
class SampleRatioMismatchResult:
    """Chi-square goodness of fit of the observed units per variant to the planned split."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    weights: tuple[float, ...]
    chi_square: float
    degrees_of_freedom: int
    p_value: float
    threshold: float
    mismatch: bool


def sample_ratio_mismatch(
    observed: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    threshold: float = SRM_P_VALUE_THRESHOLD,
) -> SampleRatioMismatchResult:
    """Test whether the units per variant fit the planned weights (default: equal split).
    χ² = Σ(o - e)²/e on k - 1 degrees of freedom; ``mismatch`` when p < ``threshold``."""
    counts = [int(value) for value in observed]
    if len(counts) < 2:
        raise StatisticsInputError("the sample ratio check needs at least 2 variants")
    if any(value < 0 for value in counts) or sum(counts) == 0:
        raise StatisticsInputError("observed counts must be non-negative and not all 0")
    if weights is None:
        weights = [1.0] * len(counts)
    if len(weights) != len(counts):
        raise StatisticsInputError(f"weights has {len(weights)} values for {len(counts)} variants")
    for weight in weights:
        _check_finite("weight", weight)
    if any(weight <= 0 for weight in weights):
        raise StatisticsInputError("weights must all be positive")
    total_weight = float(sum(weights))
    shares = tuple(weight / total_weight for weight in weights)
    total = sum(counts)
    expected = tuple(share * total for share in shares)
    chi_square = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))
    degrees = len(counts) - 1
    p_value = float(stats.chi2.sf(chi_square, degrees))
    return SampleRatioMismatchResult(
        observed=tuple(counts),
        expected=expected,
        weights=shares,
        chi_square=chi_square,
        degrees_of_freedom=degrees,
        p_value=p_value,
        threshold=threshold,
        mismatch=p_value < threshold,
    )


# --------------------------------------------------------------------------- the analysis
@dataclass(frozen=True)
class AnalysisConfig:
    """How to analyse an experiment. ``reference_distribution`` "auto" is Welch's t for mean and
    ratio metrics and z for proportions (GrowthBook uses t for all; "t" reproduces that)."""

    engine: EngineName = "frequentist"
    difference_type: DifferenceType = "relative"
    alpha: float = DEFAULT_ALPHA
    sequential: bool = False
    sequential_tuning: float = DEFAULT_SEQUENTIAL_TUNING
    prior: GaussianPrior = field(default_factory=GaussianPrior)
    srm_weights: tuple[float, ...] | None = None
    srm_threshold: float = SRM_P_VALUE_THRESHOLD
    reference_distribution: ReferenceDistribution = "auto"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise StatisticsInputError(
                f"engine must be frequentist or bayesian, got {self.engine!r}"
            )
        if self.difference_type not in DIFFERENCE_TYPES:
            raise StatisticsInputError(
                f"difference_type must be relative or absolute, got {self.difference_type!r}"
            )
        _check_alpha(self.alpha)
        if self.sequential and self.engine != "frequentist":
            raise StatisticsInputError("sequential testing applies to the frequentist engine only")
        if not self.sequential_tuning > 0:
            raise StatisticsInputError(
                f"sequential tuning must be positive, got {self.sequential_tuning}"
            )
        if self.reference_distribution not in ("auto", "t", "normal"):
            raise StatisticsInputError(
                f"reference_distribution must be auto, t or normal, got "
                f"{self.reference_distribution!r}"
            )


@dataclass(frozen=True)
class ExperimentAnalysis:
    """Every treatment compared with the control (the first variant), plus the SRM check."""

    config: AnalysisConfig
    metric_type: MetricType
    variants: tuple[VariantData, ...]
    comparisons: tuple[ComparisonResult, ...]
    srm: SampleRatioMismatchResult
    cuped: bool

    @property
    def control(self) -> VariantData:
        """The control arm."""
        return self.variants[0]


def compare(
    control: VariantData, treatment: VariantData, config: AnalysisConfig | None = None
) -> ComparisonResult:
    """Compare one treatment with the control under ``config`` (CUPED when both have a
    covariate)."""
    config = config or AnalysisConfig()
    if control.covariate is not None and treatment.covariate is not None:
        adjustment = cuped_adjust(control, treatment)
        control_moments, treatment_moments = adjustment.control, adjustment.treatment
    else:
        control_moments, treatment_moments = arm_moments(control), arm_moments(treatment)
    try:
        estimate = effect_estimate(control_moments, treatment_moments, config.difference_type)
    except DegenerateComparisonError as error:
        raise DegenerateComparisonError(
            f"variant {treatment.name!r} vs control {control.name!r}: {error}"
        ) from None
    if config.engine == "bayesian":
        return bayesian_result(treatment.name, estimate, alpha=config.alpha, prior=config.prior)
    return frequentist_result(
        treatment.name,
        estimate,
        alpha=config.alpha,
        sequential=config.sequential,
        sequential_tuning=config.sequential_tuning,
        use_t=_uses_t(config.reference_distribution, control.metric),
    )


def analyze_experiment(
    variants: Sequence[VariantData], config: AnalysisConfig | None = None
) -> ExperimentAnalysis:
    """Analyse an A/B/n test: each treatment against the first variant (the control), with no
    multiple-comparison correction, plus a sample ratio mismatch check on the units."""
    config = config or AnalysisConfig()
    if len(variants) < 2:
        raise StatisticsInputError(
            f"an experiment needs at least 2 variants (control + treatment), got {len(variants)}"
        )
    seen: set[str] = set()
    for variant in variants:
        if variant.name in seen:
            raise StatisticsInputError(f"variant {variant.name!r} appears more than once")
        seen.add(variant.name)
    metric_types = {metric_type_of(variant.metric) for variant in variants}
    if len(metric_types) > 1:
        raise StatisticsInputError(f"variants mix metric types: {', '.join(sorted(metric_types))}")
    with_covariate = [variant.covariate is not None for variant in variants]
    if any(with_covariate) and not all(with_covariate):
        raise StatisticsInputError("either every variant has a CUPED covariate or none has")
    control = variants[0]
    comparisons = tuple(compare(control, treatment, config) for treatment in variants[1:])
    srm = sample_ratio_mismatch(
        [variant.metric.n for variant in variants],
        config.srm_weights,
        threshold=config.srm_threshold,
    )
    return ExperimentAnalysis(
        config=config,
        metric_type=metric_types.pop(),
        variants=tuple(variants),
        comparisons=comparisons,
        srm=srm,
        cuped=all(with_covariate),
    )


# --------------------------------------------------------------------------- rows from files
def _number(row: Mapping[str, str | None], column: str) -> float:
    raw = (row.get(column) or "").strip()
    if not raw:
        raise StatisticsInputError(f"{column!r} is empty")
    try:
        value = float(raw)
    except ValueError:
        raise StatisticsInputError(f"{column!r} is not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise StatisticsInputError(f"{column!r} must be finite, got {raw!r}")
    return value


def _whole(row: Mapping[str, str | None], column: str) -> int:
    value = _number(row, column)
    if not value.is_integer():
        raise StatisticsInputError(f"{column!r} must be a whole number, got {value:g}")
    return int(value)


def required_columns(metric_type: MetricType) -> tuple[str, ...]:
    """The CSV header a metric type needs: ``variant`` then its summary columns."""
    return ("variant", *METRIC_COLUMNS[metric_type])


def variants_from_rows(
    rows: Sequence[Mapping[str, str | None]],
    metric_type: MetricType,
    *,
    header: Sequence[str] | None = None,
    first_line: int = 2,
) -> list[VariantData]:
    """Parse CSV rows (dicts of strings, as ``csv.DictReader`` yields) into variants, control
    first. Errors name the line (``first_line`` is that of the first row), variant and field.
    CUPED covariate columns ``sum_x, sum_x_squares, sum_xy`` are used when present."""
    if metric_type not in METRIC_TYPES:
        raise StatisticsInputError(f"metric type must be one of {', '.join(METRIC_TYPES)}")
    columns = list(header) if header is not None else list(rows[0].keys()) if rows else []
    needed = required_columns(metric_type)
    missing = [column for column in needed if column not in columns]
    if missing:
        raise StatisticsInputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(a {metric_type} file has {','.join(needed)})"
        )
    covariate_present = [column for column in COVARIATE_COLUMNS if column in columns]
    if covariate_present and len(covariate_present) < len(COVARIATE_COLUMNS):
        absent = [column for column in COVARIATE_COLUMNS if column not in columns]
        raise StatisticsInputError(
            f"missing CUPED column{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
            f"(CUPED needs {','.join(COVARIATE_COLUMNS)})"
        )
    if covariate_present and metric_type == "ratio":
        raise StatisticsInputError("CUPED columns are supported for mean and proportion metrics")
    if len(rows) < 2:
        raise StatisticsInputError(
            f"needs at least 2 rows (control first, then treatments), found {len(rows)}"
        )
    variants: list[VariantData] = []
    names: dict[str, int] = {}
    for offset, row in enumerate(rows):
        line = first_line + offset
        name = (row.get("variant") or "").strip()
        where = f"line {line}" + (f" (variant {name!r})" if name else "")
        try:
            if not name:
                raise StatisticsInputError("'variant' is empty")
            if name in names:
                raise StatisticsInputError(f"duplicate variant name, already on line {names[name]}")
            names[name] = line
            variants.append(_variant_from_row(name, row, metric_type, bool(covariate_present)))
        except StatisticsInputError as error:
            raise StatisticsInputError(f"{where}: {error}") from None
    return variants


def _variant_from_row(
    name: str, row: Mapping[str, str | None], metric_type: MetricType, with_covariate: bool
) -> VariantData:
    n = _whole(row, "n")
    metric: MetricSummary
    if metric_type == "proportion":
        conversions = _whole(row, "conversions")
        if n > 1 and conversions > n:
            raise StatisticsInputError(f"'conversions' ({conversions}) exceeds 'n' ({n})")
        metric = ProportionSummary(n=n, conversions=conversions)
    elif metric_type == "ratio":
        metric = RatioSummary(
            n=n,
            numerator_sum=_number(row, "numerator_sum"),
            numerator_sum_squares=_number(row, "numerator_sum_squares"),
            denominator_sum=_number(row, "denominator_sum"),
            denominator_sum_squares=_number(row, "denominator_sum_squares"),
            numerator_denominator_sum_products=_number(row, "numerator_denominator_sum_products"),
        )
    else:
        metric = MeanSummary(n=n, sum=_number(row, "sum"), sum_squares=_number(row, "sum_squares"))
    covariate = None
    if with_covariate:
        covariate = CovariateSummary(
            sum_x=_number(row, "sum_x"),
            sum_x_squares=_number(row, "sum_x_squares"),
            sum_xy=_number(row, "sum_xy"),
        )
    return VariantData(name=name, metric=metric, covariate=covariate)


# --------------------------------------------------------------------------- power
@dataclass(frozen=True)
class SampleSizeResult:
    """Units needed per variant for a two-sided test to detect the effect with the power asked.

    Every treatment is tested against the control at ``alpha`` (no Bonferroni correction), so
    the per-variant n does not depend on ``variants``; ``total_n`` is n × variants.
    """

    metric_type: Literal["mean", "proportion"]
    baseline: float
    minimum_detectable_effect: float
    relative: bool
    absolute_effect: float
    treatment_value: float
    control_standard_deviation: float
    treatment_standard_deviation: float
    alpha: float
    power: float
    variants: int
    n_per_variant_exact: float
    n_per_variant: int
    total_n: int


def power_at_sample_size(
    *,
    absolute_effect: float,
    control_variance: float,
    treatment_variance: float,
    n_per_variant: float,
    alpha: float = DEFAULT_ALPHA,
) -> float:
    """Power of the two-sided z-test with n units per arm:
    Φ(|δ|/SE - z_{1-α/2}) + Φ(-|δ|/SE - z_{1-α/2}), SE = sqrt((σ²_C + σ²_T)/n)."""
    _check_alpha(alpha)
    if not n_per_variant > 0:
        raise StatisticsInputError(f"n per variant must be positive, got {n_per_variant}")
    critical = float(stats.norm.ppf(1 - alpha / 2))
    shift = abs(absolute_effect) / math.sqrt(
        (control_variance + treatment_variance) / n_per_variant
    )
    return float(stats.norm.cdf(shift - critical) + stats.norm.cdf(-shift - critical))


def _solve_sample_size(
    absolute_effect: float,
    control_variance: float,
    treatment_variance: float,
    alpha: float,
    power: float,
) -> float:
    critical = float(stats.norm.ppf(1 - alpha / 2)) + float(stats.norm.ppf(power))
    # The closed form ignores the far rejection tail, so its power is at least the target.
    upper = critical**2 * (control_variance + treatment_variance) / absolute_effect**2

    def shortfall(n: float) -> float:
        return (
            power_at_sample_size(
                absolute_effect=absolute_effect,
                control_variance=control_variance,
                treatment_variance=treatment_variance,
                n_per_variant=n,
                alpha=alpha,
            )
            - power
        )

    if shortfall(upper) <= 0:
        return upper
    return float(optimize.brentq(shortfall, upper * 1e-6, upper, xtol=1e-10, rtol=1e-12))


def _check_design(alpha: float, power: float, variants: int, effect: float) -> None:
    _check_alpha(alpha)
    _check_finite("power", power)
    if not alpha < power < 1:
        raise StatisticsInputError(f"power must be between alpha ({alpha}) and 1, got {power}")
    _check_count("variants", variants)
    if variants < 2:
        raise StatisticsInputError(
            f"variants must be at least 2 (control + treatment), got {variants}"
        )
    _check_finite("minimum detectable effect", effect)
    if effect == 0:
        raise StatisticsInputError("the minimum detectable effect must not be 0")


def _sample_size_result(
    metric_type: Literal["mean", "proportion"],
    *,
    baseline: float,
    effect: float,
    relative: bool,
    treatment_value: float,
    control_variance: float,
    treatment_variance: float,
    alpha: float,
    power: float,
    variants: int,
) -> SampleSizeResult:
    absolute_effect = treatment_value - baseline
    exact = _solve_sample_size(absolute_effect, control_variance, treatment_variance, alpha, power)
    per_variant = math.ceil(exact - 1e-9)
    return SampleSizeResult(
        metric_type=metric_type,
        baseline=baseline,
        minimum_detectable_effect=effect,
        relative=relative,
        absolute_effect=absolute_effect,
        treatment_value=treatment_value,
        control_standard_deviation=math.sqrt(control_variance),
        treatment_standard_deviation=math.sqrt(treatment_variance),
        alpha=alpha,
        power=power,
        variants=variants,
        n_per_variant_exact=exact,
        n_per_variant=per_variant,
        total_n=per_variant * variants,
    )


def sample_size_proportion(
    *,
    baseline_rate: float,
    minimum_detectable_effect: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    variants: int = 2,
    relative: bool = True,
) -> SampleSizeResult:
    """Units per variant to detect a change of the conversion rate from ``baseline_rate`` to
    baseline × (1 + MDE) (or baseline + MDE when not ``relative``) with a two-sided z-test on
    unpooled variances p(1 - p) (the test the analysis runs)."""
    _check_design(alpha, power, variants, minimum_detectable_effect)
    _check_finite("baseline rate", baseline_rate)
    if not 0 < baseline_rate < 1:
        raise StatisticsInputError(
            f"the baseline rate must be between 0 and 1, got {baseline_rate}"
        )
    if relative:
        treatment_rate = baseline_rate * (1 + minimum_detectable_effect)
    else:
        treatment_rate = baseline_rate + minimum_detectable_effect
    if not 0 < treatment_rate < 1:
        raise StatisticsInputError(
            f"the treatment rate {treatment_rate:g} implied by the minimum detectable effect "
            "is outside (0, 1)"
        )
    return _sample_size_result(
        "proportion",
        baseline=baseline_rate,
        effect=minimum_detectable_effect,
        relative=relative,
        treatment_value=treatment_rate,
        control_variance=baseline_rate * (1 - baseline_rate),
        treatment_variance=treatment_rate * (1 - treatment_rate),
        alpha=alpha,
        power=power,
        variants=variants,
    )


def sample_size_mean(
    *,
    baseline_mean: float,
    standard_deviation: float,
    minimum_detectable_effect: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    variants: int = 2,
    relative: bool = True,
) -> SampleSizeResult:
    """Units per variant to detect a shift of a mean metric from ``baseline_mean`` by the MDE
    (relative to the baseline, or absolute) when both arms have ``standard_deviation``:
    the two-sided z-test's n, which solves Φ(δ√n/(σ√2) - z_{1-α/2}) + Φ(-…) = power."""
    _check_design(alpha, power, variants, minimum_detectable_effect)
    _check_finite("baseline mean", baseline_mean)
    _check_finite("standard deviation", standard_deviation)
    if not standard_deviation > 0:
        raise StatisticsInputError(
            f"the standard deviation must be positive, got {standard_deviation}"
        )
    if relative and baseline_mean == 0:
        raise StatisticsInputError("a relative MDE needs a non-zero baseline mean")
    shift = baseline_mean * minimum_detectable_effect if relative else minimum_detectable_effect
    variance = standard_deviation**2
    return _sample_size_result(
        "mean",
        baseline=baseline_mean,
        effect=minimum_detectable_effect,
        relative=relative,
        treatment_value=baseline_mean + shift,
        control_variance=variance,
        treatment_variance=variance,
        alpha=alpha,
        power=power,
        variants=variants,
    )
