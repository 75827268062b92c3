"""Experiment statistics engine: published reference values (GrowthBook's gbstats test suite,
a textbook z-test), scipy and statsmodels as independent implementations, and the properties
that make each method worth having. No database.

GrowthBook references are the expected values in the public growthbook/growthbook repository,
packages/stats/tests/frequentist/test_tests.py (classes TestTwoSidedTTest, TestSequentialTTest)
and packages/stats/tests/bayesian/test_tests.py (TestBinom, TestNorm), asserted there to 5
decimals; they are asserted to 5 decimals here too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.power import NormalIndPower, TTestIndPower, zt_ind_solve_power

from apps.campaigns.engine.stats import (
    AnalysisConfig,
    CovariateSummary,
    DegenerateComparisonError,
    GaussianPrior,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    StatisticsInputError,
    VariantData,
    analyze_experiment,
    compare,
    cuped_adjust,
    power_at_sample_size,
    sample_ratio_mismatch,
    sample_size_mean,
    sample_size_proportion,
    sequential_halfwidth,
    sequential_rho,
    two_proportion_z_test,
    variants_from_rows,
    welch_t_test,
)


def _r(value: float) -> float:
    return round(value, 5)


def _mean_variant(name: str, values: np.ndarray, x: np.ndarray | None = None) -> VariantData:
    """Summary statistics of raw per-unit values, as a warehouse query would return them."""
    covariate = None
    if x is not None:
        covariate = CovariateSummary(
            sum_x=float(x.sum()),
            sum_x_squares=float((x**2).sum()),
            sum_xy=float((x * values).sum()),
        )
    return VariantData(
        name,
        MeanSummary(n=len(values), sum=float(values.sum()), sum_squares=float((values**2).sum())),
        covariate,
    )


# gbstats TestTwoSidedTTest: control mean 0.41, treatment 0.7 (sd 3.9 / 6.2, n 3407 / 3461).
GB_CONTROL = VariantData("control", MeanSummary(n=3407, sum=1396.87, sum_squares=52377.9767))
GB_TREATMENT = VariantData("treatment", MeanSummary(n=3461, sum=2422.7, sum_squares=134698.29))
# gbstats TestSequentialTTest: the same sums with 3000 control units.
GB_SEQ_CONTROL = VariantData("control", MeanSummary(n=3000, sum=1396.87, sum_squares=52377.9767))


# --------------------------------------------------------------------------- GrowthBook references
def test_relative_welch_t_test_matches_gbstats_two_sided_ttest():
    # when
    result = compare(GB_CONTROL, GB_TREATMENT)

    # then: gbstats test_two_sided_ttest
    assert _r(result.lift) == 0.70732
    assert _r(result.standard_error) == 0.37879
    assert (_r(result.ci_low), _r(result.ci_high)) == (-0.03526, 1.44989)
    assert _r(result.p_value) == 0.06191


def test_absolute_welch_t_test_matches_gbstats_and_scipy():
    # when
    result = compare(GB_CONTROL, GB_TREATMENT, AnalysisConfig(difference_type="absolute"))
    control, treatment = GB_CONTROL.metric, GB_TREATMENT.metric
    reference = stats.ttest_ind_from_stats(
        treatment.mean,
        math.sqrt(treatment.variance),
        treatment.n,
        control.mean,
        math.sqrt(control.variance),
        control.n,
        equal_var=False,
    )

    # then: gbstats test_two_sided_ttest_absolute
    assert _r(result.lift) == 0.29
    assert _r(result.standard_error) == 0.12478
    assert (_r(result.ci_low), _r(result.ci_high)) == (0.04538, 0.53462)
    assert _r(result.p_value) == 0.02016
    # and scipy's Welch test to machine precision
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.lift / result.standard_error == pytest.approx(reference.statistic, rel=1e-12)


def test_proportion_with_t_reference_matches_gbstats_binomial_ttest():
    # given: gbstats test_two_sided_ttest_binom (14/28 vs 16/30), which uses Welch's t for
    # proportions too
    control = VariantData("control", ProportionSummary(n=28, conversions=14))
    treatment = VariantData("treatment", ProportionSummary(n=30, conversions=16))

    # when
    with_t = compare(control, treatment, AnalysisConfig(reference_distribution="t"))
    default = compare(control, treatment)

    # then
    assert _r(with_t.lift) == 0.06667
    assert _r(with_t.standard_error) == 0.2717
    assert (_r(with_t.ci_low), _r(with_t.ci_high)) == (-0.47767, 0.61101)
    assert _r(with_t.p_value) == 0.80707
    # our default for proportions is the z-test: same estimate and SE, normal quantile
    assert default.standard_error == with_t.standard_error
    assert default.ci_high - default.lift == pytest.approx(
        1.959963984540054 * with_t.standard_error, rel=1e-12
    )
    assert default.degrees_of_freedom is None


def test_sequential_mean_matches_gbstats_sequential_test_runs():
    # when: tuning parameter 1000, as in gbstats test_sequential_test_runs
    result = compare(
        GB_SEQ_CONTROL, GB_TREATMENT, AnalysisConfig(sequential=True, sequential_tuning=1000)
    )

    # then
    assert _r(result.lift) == 0.50336
    assert _r(result.standard_error) == 0.33341
    assert (_r(result.ci_low), _r(result.ci_high)) == (-0.55844, 1.56516)
    assert result.p_value == 1.0


def test_sequential_proportion_matches_gbstats_sequential_test_runs_prop():
    # given
    control = VariantData("control", ProportionSummary(n=3000, conversions=1396))
    treatment = VariantData("treatment", ProportionSummary(n=3461, conversions=2422))

    # when: default tuning 5000
    result = compare(control, treatment, AnalysisConfig(sequential=True))

    # then
    assert _r(result.lift) == 0.50386
    assert _r(result.standard_error) == 0.03386
    assert (_r(result.ci_low), _r(result.ci_high)) == (0.40098, 0.60675)
    assert _r(result.p_value) == 0.0


def test_sequential_cuped_matches_gbstats_sequential_test_runs_ra():
    # given: gbstats test_sequential_test_runs_ra (post_pre_sum_of_products=1, theta pooled)
    control = VariantData(
        "control",
        MeanSummary(n=3000, sum=1396.87, sum_squares=52377.9767),
        CovariateSummary(sum_x=16.87, sum_x_squares=527.9767, sum_xy=1),
    )
    treatment = VariantData(
        "treatment",
        MeanSummary(n=3461, sum=2422.7, sum_squares=134698.29),
        CovariateSummary(sum_x=22.7, sum_x_squares=1348.29, sum_xy=1),
    )

    # when
    result = compare(control, treatment, AnalysisConfig(sequential=True))

    # then
    assert _r(result.lift) == 0.50338
    assert _r(result.standard_error) == 0.33341
    assert (_r(result.ci_low), _r(result.ci_high)) == (-0.50969, 1.51646)
    assert result.p_value == 1.0


def test_bayesian_binomial_matches_gbstats_effect_test():
    # given: gbstats bayesian TestBinom.test_bayesian_binomial_ab_test, 49/100 vs 51/100
    control = VariantData("control", ProportionSummary(n=100, conversions=49))
    treatment = VariantData("treatment", ProportionSummary(n=100, conversions=51))

    # when
    result = compare(control, treatment, AnalysisConfig(engine="bayesian"))

    # then: gbstats risk = [risk of keeping control, risk of shipping treatment]
    assert _r(result.lift) == 0.04082
    assert _r(result.standard_error) == 0.14725
    assert (_r(result.ci_low), _r(result.ci_high)) == (-0.24779, 0.32943)
    assert _r(result.chance_to_win) == 0.60918
    assert (_r(result.expected_loss_control), _r(result.expected_loss)) == (0.0814, 0.04058)


def test_bayesian_gaussian_matches_gbstats_effect_test():
    # given: gbstats bayesian TestNorm, means 10 vs 10.5, variances 0.25 vs 1, n 10 each
    control = VariantData("control", MeanSummary(n=10, sum=100, sum_squares=1002.25))
    treatment = VariantData("treatment", MeanSummary(n=10, sum=105, sum_squares=1111.5))

    # when
    flat = compare(control, treatment, AnalysisConfig(engine="bayesian"))
    informative = compare(
        control,
        treatment,
        AnalysisConfig(engine="bayesian", prior=GaussianPrior(mean=0.1, variance=0.1, proper=True)),
    )

    # then: test_bayesian_gaussian_ab_test
    assert _r(flat.lift) == 0.05
    assert _r(flat.standard_error) == 0.03572
    assert (_r(flat.ci_low), _r(flat.ci_high)) == (-0.02, 0.12)
    assert _r(flat.chance_to_win) == 0.91923
    assert (_r(flat.expected_loss_control), _r(flat.expected_loss)) == (0.05131, 0.00131)
    # and test_bayesian_gaussian_ab_test_informative
    assert _r(informative.lift) == 0.05063
    assert _r(informative.standard_error) == 0.03549
    assert (_r(informative.ci_low), _r(informative.ci_high)) == (-0.01893, 0.12019)
    assert _r(informative.chance_to_win) == 0.92315
    assert (_r(informative.expected_loss_control), _r(informative.expected_loss)) == (
        0.05186,
        0.00123,
    )


# --------------------------------------------------------------------------- classic tests
def test_two_proportion_z_test_matches_the_textbook_voter_poll_example():
    # given: 168 of 300 New York voters vs 96 of 200 Washington voters in favour (a standard
    # textbook exercise; worked answer z = 1.755, two-sided p = 0.0792, pooled p̂ = 0.528)
    new_york = ProportionSummary(n=300, conversions=168)
    washington = ProportionSummary(n=200, conversions=96)

    # when
    pooled = two_proportion_z_test(washington, new_york)
    unpooled = two_proportion_z_test(washington, new_york, pooled=False)
    statsmodels_pooled = sm_proportion.proportions_ztest([168, 96], [300, 200])
    statsmodels_wald = sm_proportion.test_proportions_2indep(
        168, 300, 96, 200, method="wald", compare="diff"
    )

    # then
    assert round(pooled.statistic, 3) == 1.755
    assert round(pooled.p_value, 4) == 0.0792
    assert pooled.statistic == pytest.approx(statsmodels_pooled[0], rel=1e-12)
    assert pooled.p_value == pytest.approx(statsmodels_pooled[1], rel=1e-12)
    assert unpooled.statistic == pytest.approx(statsmodels_wald.statistic, rel=1e-12)


def test_absolute_proportion_analysis_is_the_unpooled_z_test():
    # given
    control = VariantData("washington", ProportionSummary(n=200, conversions=96))
    treatment = VariantData("new_york", ProportionSummary(n=300, conversions=168))

    # when
    result = compare(control, treatment, AnalysisConfig(difference_type="absolute"))
    reference = sm_proportion.test_proportions_2indep(
        168, 300, 96, 200, method="wald", compare="diff"
    )

    # then: the interval and the p-value use the same (unpooled) standard error
    assert result.lift == pytest.approx(0.08, abs=1e-12)
    assert result.standard_error == pytest.approx(math.sqrt(reference.variance), rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.ci_low == pytest.approx(0.08 - 1.959963984540054 * result.standard_error)


def test_welch_t_test_on_raw_data_matches_scipy_ttest_ind():
    # given
    rng = np.random.default_rng(7)
    a = rng.gamma(2.0, 3.0, size=400)
    b = rng.gamma(2.2, 3.0, size=350)

    # when
    result = welch_t_test(_mean_variant("a", a).metric, _mean_variant("b", b).metric)
    reference = stats.ttest_ind(b, a, equal_var=False)

    # then
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.degrees_of_freedom == pytest.approx(reference.df, rel=1e-9)


def test_frequentist_chance_to_win_is_phi_of_lift_over_standard_error():
    # when
    result = compare(GB_CONTROL, GB_TREATMENT)

    # then
    assert result.chance_to_win == pytest.approx(stats.norm.cdf(0.70732 / 0.37879), abs=1e-4)
    assert result.expected_loss is None and result.expected_loss_control is None


# --------------------------------------------------------------------------- ratio metrics
def _ratio_variant(name: str, numerator: np.ndarray, denominator: np.ndarray) -> VariantData:
    return VariantData(
        name,
        RatioSummary(
            n=len(numerator),
            numerator_sum=float(numerator.sum()),
            numerator_sum_squares=float((numerator**2).sum()),
            denominator_sum=float(denominator.sum()),
            denominator_sum_squares=float((denominator**2).sum()),
            numerator_denominator_sum_products=float((numerator * denominator).sum()),
        ),
    )


def _delta_method_ratio(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """Ratio of means and its variance by the delta method, from the raw data (gradient of
    M/D at the means times the 2x2 covariance of the means)."""
    means = np.array([numerator.mean(), denominator.mean()])
    covariance = np.cov(np.vstack([numerator, denominator])) / len(numerator)
    gradient = np.array([1 / means[1], -means[0] / means[1] ** 2])
    return means[0] / means[1], float(gradient @ covariance @ gradient)


def test_ratio_metric_matches_an_independent_delta_method_on_raw_data():
    # given: revenue per session, sessions per user vary, revenue correlates with sessions
    rng = np.random.default_rng(11)
    sessions_a = rng.poisson(3, size=2000) + 1
    sessions_b = rng.poisson(3, size=2100) + 1
    revenue_a = sessions_a * rng.gamma(2.0, 5.0, size=2000)
    revenue_b = sessions_b * rng.gamma(2.0, 5.5, size=2100)
    control = _ratio_variant("control", revenue_a, sessions_a)
    treatment = _ratio_variant("treatment", revenue_b, sessions_b)

    # when
    absolute = compare(control, treatment, AnalysisConfig(difference_type="absolute"))
    relative = compare(control, treatment)
    ratio_a, variance_a = _delta_method_ratio(revenue_a, sessions_a)
    ratio_b, variance_b = _delta_method_ratio(revenue_b, sessions_b)

    # then
    assert absolute.control_mean == pytest.approx(ratio_a, rel=1e-12)
    assert absolute.lift == pytest.approx(ratio_b - ratio_a, rel=1e-10)
    assert absolute.standard_error == pytest.approx(math.sqrt(variance_a + variance_b), rel=1e-9)
    # relative: variance of ratio_b / ratio_a for independent arms
    expected_relative = variance_b / ratio_a**2 + variance_a * ratio_b**2 / ratio_a**4
    assert relative.lift == pytest.approx(ratio_b / ratio_a - 1, rel=1e-10)
    assert relative.standard_error == pytest.approx(math.sqrt(expected_relative), rel=1e-9)


def test_ratio_with_one_denominator_per_unit_is_the_mean_metric():
    # given
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, size=500), rng.normal(10.4, 2, size=480)
    ones_a, ones_b = np.ones_like(a), np.ones_like(b)

    # when
    as_ratio = compare(_ratio_variant("a", a, ones_a), _ratio_variant("b", b, ones_b))
    as_mean = compare(_mean_variant("a", a), _mean_variant("b", b))

    # then
    assert as_ratio.lift == pytest.approx(as_mean.lift, rel=1e-12)
    assert as_ratio.standard_error == pytest.approx(as_mean.standard_error, rel=1e-9)
    assert as_ratio.p_value == pytest.approx(as_mean.p_value, rel=1e-7)


# --------------------------------------------------------------------------- sequential
@pytest.mark.parametrize("tuning", [100, 1000, 5000, 50000])
@pytest.mark.parametrize("difference_type", ["relative", "absolute"])
def test_sequential_interval_contains_the_fixed_horizon_interval(tuning, difference_type):
    # when
    fixed = compare(GB_CONTROL, GB_TREATMENT, AnalysisConfig(difference_type=difference_type))
    sequential = compare(
        GB_CONTROL,
        GB_TREATMENT,
        AnalysisConfig(difference_type=difference_type, sequential=True, sequential_tuning=tuning),
    )

    # then
    assert sequential.lift == fixed.lift
    assert sequential.ci_low < fixed.ci_low < fixed.ci_high < sequential.ci_high
    assert sequential.p_value > fixed.p_value


def test_sequential_p_value_is_below_alpha_exactly_when_the_interval_excludes_zero():
    # given: an effect that grows from invisible to obvious
    control = VariantData("control", ProportionSummary(n=20000, conversions=1000))
    for conversions in range(1000, 1300, 10):
        treatment = VariantData("treatment", ProportionSummary(n=20000, conversions=conversions))

        # when
        result = compare(control, treatment, AnalysisConfig(sequential=True))

        # then
        excludes_zero = result.ci_low > 0 or result.ci_high < 0
        assert (result.p_value < 0.05) == excludes_zero


def test_sequential_interval_is_tightest_near_the_tuning_sample_size():
    # given: gbstats test_sequential_test_tuning_as_expected (6461 units in all)
    def width(tuning: float) -> float:
        result = compare(
            GB_SEQ_CONTROL,
            GB_TREATMENT,
            AnalysisConfig(sequential=True, sequential_tuning=tuning),
        )
        return result.ci_high - result.ci_low

    # then
    assert width(10) > width(10000) > width(6461)
    assert sequential_rho(0.05, 5000) == pytest.approx(
        math.sqrt((-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 5000)
    )
    assert sequential_halfwidth(1.0, 10, 0.05, 5000) > sequential_halfwidth(1.0, 5000, 0.05, 5000)


# --------------------------------------------------------------------------- CUPED
def _correlated_experiment(seed: int, correlation_slope: float):
    rng = np.random.default_rng(seed)
    x_a, x_b = rng.normal(50, 10, size=3000), rng.normal(50, 10, size=3000)
    y_a = correlation_slope * x_a + rng.normal(0, 8, size=3000)
    y_b = correlation_slope * x_b + rng.normal(0, 8, size=3000) + 1.0
    return x_a, y_a, x_b, y_b


def test_cuped_theta_is_the_pooled_regression_slope_and_reduces_variance():
    # given: y = 0.9 x + noise, so corr² = 81/(81 + 64) ≈ 0.56
    x_a, y_a, x_b, y_b = _correlated_experiment(seed=5, correlation_slope=0.9)
    control, treatment = _mean_variant("a", y_a, x_a), _mean_variant("b", y_b, x_b)

    # when
    adjustment = cuped_adjust(control, treatment)
    plain = compare(_mean_variant("a", y_a), _mean_variant("b", y_b))
    adjusted = compare(control, treatment)

    # then: θ = Cov(x, y)/Var(x) on both arms pooled, exactly
    x, y = np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])
    assert adjustment.theta == pytest.approx(np.cov(x, y)[0, 1] / np.var(x, ddof=1), rel=1e-9)
    assert adjustment.control.variance_reduction == pytest.approx(
        np.corrcoef(x_a, y_a)[0, 1] ** 2, abs=0.01
    )
    assert adjusted.variance_reduction > 0.5
    assert adjusted.standard_error < 0.7 * plain.standard_error
    assert adjusted.ci_high - adjusted.ci_low < plain.ci_high - plain.ci_low
    assert adjusted.lift == pytest.approx(plain.lift, abs=2 * plain.standard_error)


def test_absolute_cuped_equals_welch_on_the_adjusted_per_unit_values():
    # given
    x_a, y_a, x_b, y_b = _correlated_experiment(seed=9, correlation_slope=0.6)
    control, treatment = _mean_variant("a", y_a, x_a), _mean_variant("b", y_b, x_b)
    theta = cuped_adjust(control, treatment).theta

    # when
    result = compare(control, treatment, AnalysisConfig(difference_type="absolute"))
    reference = stats.ttest_ind(y_b - theta * x_b, y_a - theta * x_a, equal_var=False)

    # then
    assert result.lift / result.standard_error == pytest.approx(reference.statistic, rel=1e-8)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-7)
    assert result.degrees_of_freedom == pytest.approx(reference.df, rel=1e-8)


def test_cuped_with_an_unrelated_covariate_changes_almost_nothing():
    # given
    rng = np.random.default_rng(2)
    y_a, y_b = rng.normal(20, 5, size=4000), rng.normal(20.3, 5, size=4000)
    x_a, x_b = rng.normal(0, 1, size=4000), rng.normal(0, 1, size=4000)

    # when
    plain = compare(_mean_variant("a", y_a), _mean_variant("b", y_b))
    adjusted = compare(_mean_variant("a", y_a, x_a), _mean_variant("b", y_b, x_b))

    # then
    assert abs(adjusted.variance_reduction) < 0.01
    assert adjusted.standard_error == pytest.approx(plain.standard_error, rel=0.01)


# --------------------------------------------------------------------------- Bayesian behaviour
def test_bayesian_identical_arms_have_even_chances_and_equal_risks():
    # given
    arm = ProportionSummary(n=5000, conversions=400)

    # when
    result = compare(
        VariantData("a", arm), VariantData("b", arm), AnalysisConfig(engine="bayesian")
    )

    # then
    assert result.lift == 0.0
    assert result.chance_to_win == 0.5
    assert result.expected_loss == pytest.approx(result.expected_loss_control, rel=1e-12)
    assert result.expected_loss == pytest.approx(result.standard_error / math.sqrt(2 * math.pi))
    assert result.p_value == 1.0


def test_bayesian_clear_winner_has_chance_to_win_near_one_and_no_risk():
    # given: 5% vs 7% on 20,000 units each
    control = VariantData("a", ProportionSummary(n=20000, conversions=1000))
    treatment = VariantData("b", ProportionSummary(n=20000, conversions=1400))

    # when
    result = compare(control, treatment, AnalysisConfig(engine="bayesian"))
    loser = compare(treatment, control, AnalysisConfig(engine="bayesian"))

    # then
    assert result.chance_to_win > 0.999999
    assert result.expected_loss < 1e-9
    assert result.expected_loss_control == pytest.approx(result.lift, rel=1e-6)
    assert loser.chance_to_win < 1e-6


def test_a_proper_prior_shrinks_the_lift_towards_its_mean():
    # when
    flat = compare(GB_CONTROL, GB_TREATMENT, AnalysisConfig(engine="bayesian"))
    shrunk = compare(
        GB_CONTROL,
        GB_TREATMENT,
        AnalysisConfig(engine="bayesian", prior=GaussianPrior(mean=0, variance=0.01, proper=True)),
    )

    # then: posterior precision adds, the mean is the precision-weighted average
    precision = 1 / flat.standard_error**2 + 1 / 0.01
    assert shrunk.standard_error == pytest.approx(math.sqrt(1 / precision), rel=1e-12)
    assert shrunk.lift == pytest.approx(flat.lift / flat.standard_error**2 / precision, rel=1e-12)
    assert 0 < shrunk.lift < flat.lift


# --------------------------------------------------------------------------- SRM
def test_sample_ratio_mismatch_matches_scipy_chisquare():
    # given
    observed = [10000, 10600]

    # when
    equal = sample_ratio_mismatch(observed)
    weighted = sample_ratio_mismatch([5021, 2514, 2465], [50, 25, 25])
    reference_equal = stats.chisquare(observed)
    reference_weighted = stats.chisquare([5021, 2514, 2465], [5000, 2500, 2500])

    # then
    assert equal.chi_square == pytest.approx(reference_equal.statistic, rel=1e-12)
    assert equal.p_value == pytest.approx(reference_equal.pvalue, rel=1e-12)
    assert equal.expected == (10300.0, 10300.0)
    assert equal.mismatch is True  # χ² = 2·300²/10300 ≈ 17.5, p ≈ 3e-5
    assert weighted.chi_square == pytest.approx(reference_weighted.statistic, rel=1e-12)
    assert weighted.p_value == pytest.approx(reference_weighted.pvalue, rel=1e-12)
    assert weighted.weights == (0.5, 0.25, 0.25)
    assert weighted.degrees_of_freedom == 2
    assert weighted.mismatch is False


def test_sample_ratio_mismatch_flags_only_below_one_in_a_thousand():
    # given: chi-square 1 df at p = 0.001 is 10.828; 10000 vs 10000+d gives χ² ≈ d²/20000
    just_fine = sample_ratio_mismatch([10000, 10460])  # χ² ≈ 10.34
    mismatch = sample_ratio_mismatch([10000, 10480])  # χ² ≈ 11.24

    # then
    assert just_fine.p_value > 0.001 and just_fine.mismatch is False
    assert mismatch.p_value < 0.001 and mismatch.mismatch is True


def test_sample_ratio_mismatch_rejects_bad_weights():
    with pytest.raises(StatisticsInputError, match="weights has 2 values for 3 variants"):
        sample_ratio_mismatch([1, 2, 3], [1, 1])
    with pytest.raises(StatisticsInputError, match="weights must all be positive"):
        sample_ratio_mismatch([1, 2], [1, 0])


# --------------------------------------------------------------------------- power
@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power"),
    [
        (0.05, 0.1, 0.05, 0.8),
        (0.2, 0.05, 0.05, 0.9),
        (0.01, 0.3, 0.01, 0.8),
        (0.5, -0.04, 0.1, 0.8),
    ],
)
def test_proportion_sample_size_matches_statsmodels_normal_ind_power(baseline, mde, alpha, power):
    # when
    result = sample_size_proportion(
        baseline_rate=baseline, minimum_detectable_effect=mde, alpha=alpha, power=power
    )
    treatment = baseline * (1 + mde)
    # the same test in statsmodels' standardised units: d = δ / sqrt((σ²_C + σ²_T)/2)
    effect_size = abs(treatment - baseline) / math.sqrt(
        (baseline * (1 - baseline) + treatment * (1 - treatment)) / 2
    )
    reference = NormalIndPower().solve_power(effect_size=effect_size, alpha=alpha, power=power)
    cohen_h = NormalIndPower().solve_power(
        effect_size=abs(sm_proportion.proportion_effectsize(treatment, baseline)),
        alpha=alpha,
        power=power,
    )

    # then
    assert result.n_per_variant_exact == pytest.approx(reference, rel=1e-6)
    assert result.n_per_variant == math.ceil(reference)
    assert result.n_per_variant == pytest.approx(cohen_h, rel=0.01)  # arcsine variant agrees
    assert result.total_n == 2 * result.n_per_variant


def test_proportion_sample_size_for_five_percent_plus_ten_percent():
    # when: the classic 5% -> 5.5% case
    result = sample_size_proportion(baseline_rate=0.05, minimum_detectable_effect=0.1, variants=3)

    # then: (1.95996 + 0.84162)² (0.0475 + 0.051975) / 0.005² = 31,230.6
    assert result.n_per_variant == 31231
    assert result.total_n == 3 * 31231
    assert result.treatment_value == pytest.approx(0.055)


def test_mean_sample_size_matches_statsmodels_and_t_power_is_close():
    # when
    result = sample_size_mean(
        baseline_mean=40.0, standard_deviation=25.0, minimum_detectable_effect=0.05, power=0.9
    )
    effect_size = 2.0 / 25.0
    z_reference = zt_ind_solve_power(effect_size=effect_size, alpha=0.05, power=0.9)
    t_reference = TTestIndPower().solve_power(effect_size=effect_size, alpha=0.05, power=0.9)

    # then
    assert result.absolute_effect == pytest.approx(2.0)
    assert result.n_per_variant_exact == pytest.approx(z_reference, rel=1e-6)
    assert result.n_per_variant_exact == pytest.approx(t_reference, rel=0.001)


def test_power_at_sample_size_matches_statsmodels_power():
    # when
    power = power_at_sample_size(
        absolute_effect=0.5, control_variance=4.0, treatment_variance=4.0, n_per_variant=200
    )
    reference = NormalIndPower().power(effect_size=0.25, nobs1=200, alpha=0.05)

    # then
    assert power == pytest.approx(reference, rel=1e-12)


def test_sample_size_rejects_impossible_designs():
    with pytest.raises(StatisticsInputError, match="outside \\(0, 1\\)"):
        sample_size_proportion(baseline_rate=0.6, minimum_detectable_effect=0.8)
    with pytest.raises(StatisticsInputError, match="power must be between alpha"):
        sample_size_proportion(baseline_rate=0.1, minimum_detectable_effect=0.1, power=1.0)
    with pytest.raises(StatisticsInputError, match="must not be 0"):
        sample_size_mean(baseline_mean=1, standard_deviation=1, minimum_detectable_effect=0)
    with pytest.raises(StatisticsInputError, match="variants must be at least 2"):
        sample_size_proportion(baseline_rate=0.1, minimum_detectable_effect=0.1, variants=1)


# --------------------------------------------------------------------------- A/B/n
def test_every_treatment_is_compared_with_the_first_variant():
    # given
    variants = [
        VariantData("control", ProportionSummary(n=10000, conversions=500)),
        VariantData("b", ProportionSummary(n=10050, conversions=560)),
        VariantData("c", ProportionSummary(n=9950, conversions=430)),
    ]

    # when
    analysis = analyze_experiment(variants)

    # then
    assert [result.variant for result in analysis.comparisons] == ["b", "c"]
    assert analysis.comparisons[0] == compare(variants[0], variants[1])
    assert analysis.comparisons[1] == compare(variants[0], variants[2])
    assert analysis.comparisons[1].lift == pytest.approx(0.0432160804 / 0.05 - 1, rel=1e-6)
    assert analysis.srm.observed == (10000, 10050, 9950)
    assert analysis.srm.degrees_of_freedom == 2


def test_analysis_refuses_duplicates_single_arms_and_mixed_metrics():
    arm = ProportionSummary(n=100, conversions=10)
    with pytest.raises(StatisticsInputError, match="at least 2 variants"):
        analyze_experiment([VariantData("a", arm)])
    with pytest.raises(StatisticsInputError, match="'a' appears more than once"):
        analyze_experiment([VariantData("a", arm), VariantData("a", arm)])
    with pytest.raises(StatisticsInputError, match="mix metric types"):
        analyze_experiment([VariantData("a", arm), VariantData("b", MeanSummary(100, 10, 50))])
    with pytest.raises(StatisticsInputError, match="frequentist engine only"):
        AnalysisConfig(engine="bayesian", sequential=True)


def test_zero_control_mean_makes_only_the_relative_lift_undefined():
    # given
    control = VariantData("control", ProportionSummary(n=1000, conversions=0))
    treatment = VariantData("treatment", ProportionSummary(n=1000, conversions=12))

    # when / then
    with pytest.raises(DegenerateComparisonError, match="'treatment' vs control 'control'"):
        compare(control, treatment)
    absolute = compare(control, treatment, AnalysisConfig(difference_type="absolute"))
    assert absolute.lift == pytest.approx(0.012)


def test_no_variance_in_either_arm_is_an_explicit_outcome():
    control = VariantData("a", MeanSummary(n=10, sum=50, sum_squares=250))
    treatment = VariantData("b", MeanSummary(n=10, sum=60, sum_squares=360))
    with pytest.raises(DegenerateComparisonError, match="neither arm varies"):
        compare(control, treatment)


# --------------------------------------------------------------------------- input validation
def test_summaries_refuse_impossible_values():
    with pytest.raises(StatisticsInputError, match="n must be greater than 1"):
        MeanSummary(n=1, sum=1, sum_squares=1)
    with pytest.raises(StatisticsInputError, match="variance would be negative"):
        MeanSummary(n=10, sum=100, sum_squares=900)
    with pytest.raises(StatisticsInputError, match="conversions must be between 0 and n"):
        ProportionSummary(n=10, conversions=11)
    with pytest.raises(StatisticsInputError, match="whole number"):
        ProportionSummary(n=10, conversions=2.5)  # type: ignore[arg-type]
    with pytest.raises(StatisticsInputError, match="finite"):
        MeanSummary(n=10, sum=float("nan"), sum_squares=1)
    with pytest.raises(StatisticsInputError, match="correlation"):
        VariantData(
            "a",
            MeanSummary(n=3, sum=6, sum_squares=14),  # y = 1, 2, 3
            CovariateSummary(sum_x=6, sum_x_squares=14, sum_xy=20),  # Σxy ≤ 14 if x = y
        )


def test_sum_of_squares_rounding_noise_is_not_a_negative_variance():
    # given: values all equal to 0.1, whose float sums leave Σx² a hair under (Σx)²/n
    summary = MeanSummary(n=3, sum=0.1 * 3, sum_squares=0.1**2 * 3 - 1e-18)

    # then
    assert summary.variance == 0.0


def test_rows_are_parsed_with_errors_that_name_the_line_and_field():
    # given
    good = [
        {"variant": "control", "n": "1000", "conversions": "50"},
        {"variant": "b", "n": "1000", "conversions": "61"},
    ]

    # when
    variants = variants_from_rows(good, "proportion")

    # then
    assert [variant.name for variant in variants] == ["control", "b"]
    assert variants[1].metric == ProportionSummary(n=1000, conversions=61)
    bad_cases = [
        (
            {"n": "1000", "conversions": "x"},
            "line 3 \\(variant 'b'\\): 'conversions' is not a number",
        ),
        ({"n": "1", "conversions": "0"}, "line 3 \\(variant 'b'\\): n must be greater than 1"),
        (
            {"n": "100", "conversions": "101"},
            "line 3 \\(variant 'b'\\): 'conversions' \\(101\\) exceeds",
        ),
        ({"n": "10.5", "conversions": "1"}, "line 3 \\(variant 'b'\\): 'n' must be a whole number"),
        ({"n": "", "conversions": "1"}, "line 3 \\(variant 'b'\\): 'n' is empty"),
    ]
    for fields, message in bad_cases:
        with pytest.raises(StatisticsInputError, match=message):
            variants_from_rows([good[0], {"variant": "b", **fields}], "proportion")
    with pytest.raises(StatisticsInputError, match="line 3 \\(variant 'control'\\): duplicate"):
        variants_from_rows([good[0], good[0]], "proportion")
    with pytest.raises(StatisticsInputError, match="missing column sum_squares"):
        variants_from_rows([{"variant": "a", "n": "5", "sum": "1"}] * 2, "mean")
    with pytest.raises(StatisticsInputError, match="missing CUPED columns sum_x_squares, sum_xy"):
        variants_from_rows(
            [{"variant": "a", "n": "5", "conversions": "1", "sum_x": "1"}], "proportion"
        )
    with pytest.raises(StatisticsInputError, match="at least 2 rows"):
        variants_from_rows(good[:1], "proportion")
