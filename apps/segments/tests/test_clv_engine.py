"""CLV engine: the summary protocol, exact BG/NBD and Gamma-Gamma fits, predictions, diagnostics.

No database. Synthetic customers are drawn from the models' own generative processes with
known parameters, so the fits must recover them; likelihoods are checked against a plain
per-customer implementation written from the papers' formulas.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from apps.segments.engine import clv

CDNOW_BGNBD = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee 2005, weeks
CDNOW_GAMMA_GAMMA = (6.25, 3.74, 15.44)


# --- synthetic data from the generative processes ---------------------------------------------


def simulate_customers(
    customers: int,
    bgnbd: tuple[float, float, float, float],
    *,
    seed: int,
    age_range: tuple[float, float] = (27.0, 39.0),
    holdout: float = 0.0,
    gamma_gamma: tuple[float, float, float] | None = None,
) -> dict[str, np.ndarray]:
    """(x, t_x, T) drawn from BG/NBD, with holdout purchases and Gamma-Gamma averages.

    lambda ~ Gamma(r, alpha), p ~ Beta(a, b); the customer drops out after their K-th repeat
    purchase, K ~ Geometric(p). Repeat purchases in (0, T] are Poisson(lambda T) capped at K,
    and the last one's time is T times the x-th of n uniform order statistics, a
    Beta(x, n - x + 1) draw. Average spend of x purchases: Gamma(p x, rate nu x), nu ~
    Gamma(q, v).
    """
    r, alpha, a, b = bgnbd
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    ages = rng.uniform(*age_range, customers)
    lives = rng.geometric(dropout)
    arrivals = rng.poisson(rates * ages)
    frequency = np.minimum(arrivals, lives)
    recency = np.zeros(customers)
    repeat = frequency > 0
    recency[repeat] = ages[repeat] * rng.beta(
        frequency[repeat], arrivals[repeat] - frequency[repeat] + 1
    )
    data = {
        "frequency": frequency.astype(float),
        "recency": recency,
        "age": ages,
        "alive": lives > arrivals,
        "rates": rates,
    }
    if holdout:
        later = rng.poisson(rates * holdout)
        data["holdout"] = np.where(lives > arrivals, np.minimum(later, lives - arrivals), 0).astype(
            float
        )
    if gamma_gamma is not None:
        p, q, v = gamma_gamma
        nu = rng.gamma(q, 1.0 / v, customers)
        monetary = np.zeros(customers)
        monetary[repeat] = rng.gamma(p * frequency[repeat], 1.0 / (nu[repeat] * frequency[repeat]))
        data["monetary"] = monetary
        data["true_mean_spend"] = p / nu
    return data


def simulate_transactions(
    customers: int,
    *,
    seed: int,
    start: date,
    calibration_end: date,
    end: date,
    rate_per_day: tuple[float, float],
    dropout: tuple[float, float],
    spend: tuple[float, float, float],
) -> pd.DataFrame:
    """A transactions table: first purchases spread over [start, calibration_end], then BG/NBD
    repeat purchases (rates per day) until `end`; values from Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    r, alpha = rate_per_day
    a, b = dropout
    p, q, v = spend
    rates = rng.gamma(r, 1.0 / alpha, customers)
    drop = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1.0 / v, customers)
    first = rng.uniform(0, (calibration_end - start).days + 1, customers)
    horizon = (end - start).days + 1
    rows_customer = [np.arange(customers)]
    rows_time = [first]
    now = first.copy()
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        index = np.flatnonzero(alive)
        now[index] += rng.exponential(1.0 / rates[index])
        in_window = now[index] < horizon
        bought = index[in_window]
        rows_customer.append(bought)
        rows_time.append(now[bought])
        alive[index[~in_window]] = False
        dies = rng.random(bought.size) < drop[bought]
        alive[bought[dies]] = False
    customer = np.concatenate(rows_customer)
    when = np.concatenate(rows_time)
    values = rng.gamma(p, 1.0 / nu[customer])
    days = np.floor(when).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"c{index:05d}" for index in customer],
            "date": [(start + timedelta(days=int(day))).isoformat() for day in days],
            "amount": np.round(values, 2),
        }
    )


# --- independent, non-vectorised likelihoods written from the papers -------------------------


def plain_bgnbd_log_likelihood(r, alpha, a, b, rows):
    total = 0.0
    for x, t_x, big_t in rows:
        a1 = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
        a2 = math.exp(
            math.lgamma(a + b) + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x)
        )
        a3 = (1.0 / (alpha + big_t)) ** (r + x)
        a4 = (a / (b + x - 1)) * (1.0 / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
        total += math.log(a1 * a2 * (a3 + a4))
    return total


def plain_gamma_gamma_log_likelihood(p, q, v, rows):
    total = 0.0
    for x, m in rows:
        if x == 0:
            continue
        density = (
            special.gamma(p * x + q)
            / (special.gamma(p * x) * special.gamma(q))
            * v**q
            * m ** (p * x - 1)
            * x ** (p * x)
            / (v + m * x) ** (p * x + q)
        )
        total += math.log(density)
    return total


SMALL_ROWS = [
    (0, 0.0, 38.86),
    (0, 0.0, 30.0),
    (1, 1.71, 38.86),
    (2, 27.0, 32.71),
    (4, 35.57, 38.29),
    (7, 30.14, 31.0),
    (1, 22.0, 27.5),
    (12, 38.0, 38.86),
]
SMALL_SPEND = [(0, 0.0), (1, 24.5), (2, 31.25), (4, 17.8), (7, 55.0), (1, 12.0), (12, 40.1)]


def test_bgnbd_log_likelihood_equals_the_plain_formula_on_a_small_case():
    # given a few customers and the CDNOW parameters
    x, t_x, big_t = (np.array(column, dtype=float) for column in zip(*SMALL_ROWS, strict=True))

    # when the vectorised log-likelihood is evaluated
    value = clv.bgnbd_log_likelihood(CDNOW_BGNBD, x, t_x, big_t)

    # then it equals the straightforward product of the paper's four terms
    assert value == pytest.approx(plain_bgnbd_log_likelihood(*CDNOW_BGNBD, SMALL_ROWS), rel=1e-12)
    assert value == pytest.approx(-86.4602193978, abs=1e-9)


def test_bgnbd_log_likelihood_weights_count_repeated_rows():
    x, t_x, big_t = (np.array(column, dtype=float) for column in zip(*SMALL_ROWS, strict=True))
    weights = np.array([3, 1, 2, 1, 1, 1, 1, 5], dtype=float)

    weighted = clv.bgnbd_log_likelihood(CDNOW_BGNBD, x, t_x, big_t, weights=weights)

    repeated = np.repeat(np.arange(len(SMALL_ROWS)), weights.astype(int))
    expected = clv.bgnbd_log_likelihood(CDNOW_BGNBD, x[repeated], t_x[repeated], big_t[repeated])
    assert weighted == pytest.approx(expected, rel=1e-12)


def test_gamma_gamma_log_likelihood_equals_the_plain_formula_on_a_small_case():
    x, m = (np.array(column, dtype=float) for column in zip(*SMALL_SPEND, strict=True))

    value = clv.gamma_gamma_log_likelihood(CDNOW_GAMMA_GAMMA, x, m)

    assert value == pytest.approx(
        plain_gamma_gamma_log_likelihood(*CDNOW_GAMMA_GAMMA, SMALL_SPEND), rel=1e-12
    )


def test_the_analytic_gradients_match_finite_differences():
    data = simulate_customers(500, CDNOW_BGNBD, seed=3, gamma_gamma=CDNOW_GAMMA_GAMMA)
    weights = np.ones(500)
    bgnbd_data = clv._BgNbdData.build(data["frequency"], data["recency"], data["age"], weights)
    point = np.log([0.3, 5.0, 0.7, 2.0])

    _, gradient = clv._bgnbd_objective(point, bgnbd_data, 500.0)
    numeric = optimize.approx_fprime(
        point, lambda values: clv._bgnbd_objective(values, bgnbd_data, 500.0)[0], 1e-7
    )
    assert gradient == pytest.approx(numeric, rel=1e-4, abs=1e-6)

    repeat = (data["frequency"] > 0) & (data["monetary"] > 0)
    spend_point = np.log([5.0, 3.0, 12.0])
    arguments = (clv._GammaGammaData.build(data["frequency"][repeat], data["monetary"][repeat]),)
    _, spend_gradient = clv._gamma_gamma_objective(spend_point, *arguments)
    spend_numeric = optimize.approx_fprime(
        spend_point, lambda values: clv._gamma_gamma_objective(values, *arguments)[0], 1e-7
    )
    assert spend_gradient == pytest.approx(spend_numeric, rel=1e-4, abs=1e-6)


def test_bgnbd_fit_is_the_exact_maximum_of_the_plain_likelihood():
    # given 400 customers (small enough for a plain Python likelihood)
    data = simulate_customers(400, CDNOW_BGNBD, seed=11)
    rows = list(zip(data["frequency"], data["recency"], data["age"], strict=True))

    # when the engine fits, and Nelder-Mead maximises the plain likelihood from elsewhere
    fitted = clv.bgnbd_fit(data["frequency"], data["recency"], data["age"])
    reference = optimize.minimize(
        lambda log_values: -plain_bgnbd_log_likelihood(*np.exp(log_values), rows),
        np.log([1.0, 1.0, 1.0, 1.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 40_000, "maxfev": 80_000},
    )

    # then both find the same optimum, and no better point exists
    assert fitted.converged is True
    assert [fitted.r, fitted.alpha, fitted.a, fitted.b] == pytest.approx(
        list(np.exp(reference.x)), rel=1e-4
    )
    assert fitted.log_likelihood == pytest.approx(-reference.fun, abs=1e-7)
    assert fitted.log_likelihood >= -reference.fun - 1e-9
    assert fitted.customers == 400


def test_bgnbd_and_gamma_gamma_recover_the_cdnow_parameters_from_synthetic_customers():
    # given 200,000 customers drawn with the published CDNOW parameters (weeks, T 27-39)
    data = simulate_customers(
        200_000, CDNOW_BGNBD, seed=2357, gamma_gamma=CDNOW_GAMMA_GAMMA, age_range=(27, 39)
    )

    # when both models are fitted
    bgnbd = clv.bgnbd_fit(data["frequency"], data["recency"], data["age"])
    gamma_gamma = clv.gamma_gamma_fit(data["frequency"], data["monetary"])

    # then every parameter is recovered within about four standard errors at this size
    # (standard errors of log r, alpha, a, b: 0.6%, 0.9%, 2.5%, 3.2%; p, q, v: 1.6, 1.0, 2.5%)
    r, alpha, a, b = CDNOW_BGNBD
    assert bgnbd.converged and gamma_gamma.converged
    assert bgnbd.r == pytest.approx(r, rel=0.025)
    assert bgnbd.alpha == pytest.approx(alpha, rel=0.04)
    assert bgnbd.a == pytest.approx(a, rel=0.12)
    assert bgnbd.b == pytest.approx(b, rel=0.12)
    # the quantities that drive predictions are identified more tightly
    assert bgnbd.r / bgnbd.alpha == pytest.approx(r / alpha, rel=0.02)
    assert bgnbd.a / (bgnbd.a + bgnbd.b) == pytest.approx(a / (a + b), rel=0.03)
    p, q, v = CDNOW_GAMMA_GAMMA
    assert gamma_gamma.p == pytest.approx(p, rel=0.07)
    assert gamma_gamma.q == pytest.approx(q, rel=0.04)
    assert gamma_gamma.v == pytest.approx(v, rel=0.10)
    assert gamma_gamma.population_mean_spend == pytest.approx(p * v / (q - 1), rel=0.02)
    assert gamma_gamma.customers == int((data["frequency"] > 0).sum())


def test_parameters_are_within_four_standard_errors_of_the_truth_in_days():
    # given a shop-like process in days (the demo's "occasional" segment), T from 1 to 600 days
    truth = (1.5, 220.0, 1.5, 6.0)
    data = simulate_customers(60_000, truth, seed=5, age_range=(1, 600))

    fitted = clv.bgnbd_fit(data["frequency"], data["recency"], data["age"])

    # then each log-parameter is within 4 asymptotic standard errors (observed information)
    point = np.log([fitted.r, fitted.alpha, fitted.a, fitted.b])
    weights = np.ones(data["frequency"].size)
    bgnbd_data = clv._BgNbdData.build(data["frequency"], data["recency"], data["age"], weights)

    def gradient(values):
        return clv._bgnbd_objective(values, bgnbd_data, float(weights.size))[1]

    hessian = (
        np.array(
            [(gradient(point + step) - gradient(point - step)) / 2e-5 for step in np.eye(4) * 1e-5]
        )
        * weights.size
    )
    standard_errors = np.sqrt(np.diag(np.linalg.inv((hessian + hessian.T) / 2)))
    z_scores = (point - np.log(truth)) / standard_errors
    assert np.abs(z_scores).max() < 4
    assert standard_errors.max() < 0.15


def test_expected_purchases_match_what_simulated_customers_do_in_the_holdout():
    # given customers with a 39-week holdout and the true parameters
    data = simulate_customers(100_000, CDNOW_BGNBD, seed=7, holdout=39.0)
    truth = clv.BgNbdParameters(*CDNOW_BGNBD)

    predicted = clv.bgnbd_expected_purchases(
        truth, data["frequency"], data["recency"], data["age"], 39.0
    )
    alive = clv.bgnbd_probability_alive(truth, data["frequency"], data["recency"], data["age"])

    # then the conditional expectations add up to what happened, overall and per frequency
    assert predicted.sum() == pytest.approx(data["holdout"].sum(), rel=0.02)
    for low, high in [(0, 0), (1, 1), (2, 3), (4, 7), (8, 1000)]:
        members = (data["frequency"] >= low) & (data["frequency"] <= high)
        assert predicted[members].mean() == pytest.approx(data["holdout"][members].mean(), rel=0.06)
    # and P(alive) is calibrated: its mean is the share still alive
    assert alive.mean() == pytest.approx(data["alive"].mean(), abs=0.005)
    assert np.all(alive[data["frequency"] == 0] == 1.0)


def test_expected_purchases_of_a_new_customer_match_simulation():
    truth = clv.BgNbdParameters(*CDNOW_BGNBD)
    data = simulate_customers(200_000, CDNOW_BGNBD, seed=13, age_range=(52, 52))

    expected = clv.bgnbd_expected_purchases_new_customer(truth, 52.0)

    assert expected == pytest.approx(data["frequency"].mean(), rel=0.02)
    # and the conditional form with x = 0, T = 0 says the same
    same = clv.bgnbd_expected_purchases(truth, [0.0], [0.0], [0.0], 52.0)[0]
    assert same == pytest.approx(expected, rel=1e-12)


def test_expected_purchases_agree_with_high_precision_arithmetic_where_scipy_fails():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def reference(r, alpha, a, b, x, t_x, big_t, horizon):
        r, alpha, a, b, x, t_x, big_t, horizon = (
            mpmath.mpf(value) for value in (r, alpha, a, b, x, t_x, big_t, horizon)
        )
        z = horizon / (alpha + big_t + horizon)
        bracket = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * mpmath.hyp2f1(
            r + x, b + x, a + b + x - 1, z
        )
        odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0
        return float((a + b + x - 1) / (a - 1) * bracket / (1 + odds))

    cases = [
        # (r, alpha, a, b, x, t_x, T, horizon): frequent buyers, long horizons, a < 1, a > 1
        (0.243, 4.414, 0.793, 2.426, 0, 0.0, 38.0, 52.0),
        (0.243, 4.414, 0.793, 2.426, 25, 37.0, 38.0, 52.0),
        (0.1, 0.5, 0.8, 300.0, 0, 0.0, 0.5, 365.0),  # scipy's hyp2f1 returns nan here
        (2.0, 0.01, 50.0, 100.0, 5, 20.0, 38.0, 5000.0),  # and here
        (8.0, 400.0, 20.0, 3.0, 150, 500.0, 600.0, 365.0),
        (1.5, 220.0, 1.5, 6.0, 3, 100.0, 400.0, 90.0),
        (0.5, 60.0, 20.0, 300.0, 20, 500.0, 600.0, 365.0),
        (2.0, 400.0, 80.0, 30.0, 4, 300.0, 600.0, 365.0),
    ]
    for r, alpha, a, b, x, t_x, big_t, horizon in cases:
        got = clv.bgnbd_expected_purchases(
            clv.BgNbdParameters(r, alpha, a, b), [x], [t_x], [big_t], horizon
        )[0]
        assert got == pytest.approx(reference(r, alpha, a, b, x, t_x, big_t, horizon), rel=1e-8), (
            r,
            alpha,
            a,
            b,
            x,
            horizon,
        )


def test_expected_purchases_with_a_nearly_common_dropout_probability():
    # given a degenerate fit (a, b huge: every customer has p = a / (a + b)), where both
    # scipy's hyp2f1 and the series fail and the expectation over p is integrated instead
    parameters = clv.BgNbdParameters(0.96, 1.28, 6.5e7, 7.4e7)
    x = np.array([0.0, 1.0, 3.0, 12.0])
    t_x = np.array([0.0, 0.3, 2.0, 7.5])
    big_t = np.array([5.3, 8.0, 8.0, 7.9])

    expected = clv.bgnbd_expected_purchases(parameters, x, t_x, big_t, 52.0)

    # then it equals the homogeneous-p limit (1 - (1 + p s)^-(r + x)) / p times P(alive)
    p = 6.5e7 / (6.5e7 + 7.4e7)
    scaled = 52.0 / (1.28 + big_t)
    alive = clv.bgnbd_probability_alive(parameters, x, t_x, big_t)
    limit = (1 - (1 + p * scaled) ** -(0.96 + x)) / p * alive
    assert expected == pytest.approx(limit, rel=1e-6)


def test_gamma_gamma_expected_spend_is_the_posterior_mean_of_the_true_spend():
    data = simulate_customers(
        100_000, CDNOW_BGNBD, seed=17, gamma_gamma=CDNOW_GAMMA_GAMMA, age_range=(27, 39)
    )
    truth = clv.GammaGammaParameters(*CDNOW_GAMMA_GAMMA)

    expected = clv.gamma_gamma_expected_spend(truth, data["frequency"], data["monetary"])

    # without repeats: the population mean p v / (q - 1)
    population = 6.25 * 15.44 / 2.74
    assert np.all(expected[data["frequency"] == 0] == pytest.approx(population, rel=1e-12))
    # with repeats: unbiased for the customers' true mean spend, frequency by frequency
    for frequency in (1, 2, 3):
        members = data["frequency"] == frequency
        assert expected[members].mean() == pytest.approx(
            data["true_mean_spend"][members].mean(), rel=0.03
        )


def test_independence_check_reports_the_correlation_of_frequency_and_spend():
    frequency = np.array([0, 1, 2, 3, 4, 5, 6], dtype=float)
    monetary = np.array([0, 10.0, 12.0, 11.0, 15.0, 14.0, 18.0])

    check = clv.frequency_spend_correlation(frequency, monetary)

    expected = np.corrcoef(frequency[1:], monetary[1:])[0, 1]
    assert check.customers == 6
    assert check.pearson == pytest.approx(expected, rel=1e-12)
    assert check.spearman == pytest.approx(0.8857142857, rel=1e-9)
    assert check.weak is False
    independent = simulate_customers(20_000, CDNOW_BGNBD, seed=19, gamma_gamma=CDNOW_GAMMA_GAMMA)
    assert (
        clv.frequency_spend_correlation(independent["frequency"], independent["monetary"]).weak
        is True
    )


# --- the summary protocol ---------------------------------------------------------------------


def hand_made_transactions() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("A", "2024-01-01", "10.00"),
            ("A", "2024-01-01T18:30:00", "5.00"),  # same day: one purchase of 15
            ("A", "2024-01-08", "20.00"),
            ("A", "2024-01-22", "30.00"),
            ("A", "2024-02-10", "100.00"),  # holdout
            ("B", "2024-01-15", "50.00"),
            ("C", "2024-01-29", "12.50"),
            ("C", "20240129", "7.50"),  # compact date, same day
            ("C", "2024-02-05", "40.00"),  # holdout, two rows on one day: one purchase
            ("C", "2024-02-05", "10.00"),
            ("D", "2024-02-03", "99.00"),  # first purchase after the calibration end
            ("A", "2024-03-05", "70.00"),  # after the holdout end
        ],
        columns=["customer", "when", "value"],
    )


def test_summary_follows_the_protocol_on_a_hand_made_table_in_weeks():
    transactions = clv.transactions_from_frame(
        hand_made_transactions(),
        customer_column="customer",
        date_column="when",
        amount_column="value",
    )

    summary = clv.rfm_summary(
        transactions,
        calibration_end=date(2024, 1, 31),
        holdout_end=date(2024, 2, 29),
        time_unit="W",
    )

    assert list(summary.customer_ids) == ["A", "B", "C"]
    assert list(summary.frequency) == [2.0, 0.0, 0.0]
    assert list(summary.recency) == pytest.approx([3.0, 0.0, 0.0], abs=1e-12)
    assert list(summary.age) == pytest.approx([30 / 7, 16 / 7, 2 / 7], abs=1e-12)
    assert list(summary.monetary_value) == pytest.approx([25.0, 0.0, 0.0], abs=1e-12)
    assert list(summary.total_value) == pytest.approx([65.0, 50.0, 20.0], abs=1e-12)
    assert list(summary.holdout_frequency) == [1.0, 0.0, 1.0]
    assert list(summary.holdout_value) == pytest.approx([100.0, 0.0, 50.0], abs=1e-12)
    assert summary.holdout_length == pytest.approx(29 / 7)
    assert summary.customers == 3
    assert summary.repeat_customers == 1


def test_summary_in_days_with_discounting_back_to_the_first_purchase():
    transactions = clv.transactions_from_frame(
        hand_made_transactions(),
        customer_column="customer",
        date_column="when",
        amount_column="value",
    )

    summary = clv.rfm_summary(
        transactions, calibration_end=date(2024, 1, 31), time_unit="D", monthly_discount_rate=0.01
    )

    assert list(summary.recency) == [21.0, 0.0, 0.0]
    assert list(summary.age) == [30.0, 16.0, 2.0]
    month = 365.25 / 12
    expected_a = 15 + 20 / 1.01 ** (7 / month) + 30 / 1.01 ** (21 / month)
    assert list(summary.discounted_value) == pytest.approx([expected_a, 50.0, 20.0], rel=1e-12)
    assert list(summary.holdout_frequency) == [0.0, 0.0, 0.0]
    assert summary.holdout_length == 0.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"column": "missing"},
            "column 'missing' is not in the transactions; columns: customer, when, value",
        ),
        ({"row": 3, "field": "when", "value": "31/01/2024"}, "row 5: date column 'when' has"),
        ({"row": 1, "field": "value", "value": "ten"}, "row 3: amount column 'value' has 'ten'"),
        ({"row": 6, "field": "customer", "value": " "}, "row 8: customer column 'customer' is"),
    ],
)
def test_bad_transactions_name_the_column_and_the_row(change, message):
    frame = hand_made_transactions()
    customer_column = "customer"
    if "column" in change:
        customer_column = change["column"]
    else:
        frame.loc[change["row"], change["field"]] = change["value"]

    with pytest.raises(clv.TransactionsError) as caught:
        clv.transactions_from_frame(
            frame,
            customer_column=customer_column,
            date_column="when",
            amount_column="value",
            first_row_number=2,
        )

    assert str(caught.value).startswith(message)


def test_summary_of_simulated_transactions_matches_a_pandas_groupby():
    # given a table of simulated transactions with same-day repeats
    frame = simulate_transactions(
        3000,
        seed=23,
        start=date(2023, 1, 1),
        calibration_end=date(2023, 12, 31),
        end=date(2024, 6, 30),
        rate_per_day=(2.0, 60.0),
        dropout=(1.0, 5.0),
        spend=(5.0, 4.0, 60.0),
    )
    transactions = clv.transactions_from_frame(
        frame, customer_column="customer_id", date_column="date", amount_column="amount"
    )

    summary = clv.rfm_summary(
        transactions,
        calibration_end=date(2023, 12, 31),
        holdout_end=date(2024, 6, 30),
        time_unit="D",
    )

    # then it equals a straightforward pandas computation of the protocol
    frame["day"] = pd.to_datetime(frame["date"])
    daily = frame.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    calibration = daily[daily["day"] <= "2023-12-31"]
    grouped = calibration.groupby("customer_id")
    first = grouped["day"].min()
    expected = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (grouped["day"].max() - first).dt.days,
            "age": (pd.Timestamp("2023-12-31") - first).dt.days,
            "total": grouped["amount"].sum(),
        }
    )
    first_values = calibration.sort_values("day").groupby("customer_id")["amount"].first()
    expected["monetary"] = np.where(
        expected["frequency"] > 0,
        (expected["total"] - first_values) / expected["frequency"].clip(lower=1),
        0.0,
    )
    holdout = daily[(daily["day"] > "2023-12-31") & daily["customer_id"].isin(expected.index)]
    expected["holdout"] = holdout.groupby("customer_id").size()
    expected = expected.fillna({"holdout": 0}).loc[list(summary.customer_ids)]
    assert summary.customers == 3000
    assert np.array_equal(summary.frequency, expected["frequency"].to_numpy(dtype=float))
    assert np.array_equal(summary.recency, expected["recency"].to_numpy(dtype=float))
    assert np.array_equal(summary.age, expected["age"].to_numpy(dtype=float))
    assert summary.total_value == pytest.approx(expected["total"].to_numpy(), rel=1e-12)
    assert summary.monetary_value == pytest.approx(expected["monetary"].to_numpy(), rel=1e-12)
    assert np.array_equal(summary.holdout_frequency, expected["holdout"].to_numpy(dtype=float))
    assert (daily.groupby("customer_id").size() < frame.groupby("customer_id").size()).any()


# --- CLV and diagnostics ----------------------------------------------------------------------


def test_predicted_clv_is_expected_purchases_times_expected_spend_discounted_monthly():
    bgnbd = clv.BgNbdParameters(*CDNOW_BGNBD)
    gamma_gamma = clv.GammaGammaParameters(*CDNOW_GAMMA_GAMMA)
    transactions = clv.transactions_from_frame(
        hand_made_transactions(),
        customer_column="customer",
        date_column="when",
        amount_column="value",
    )
    summary = clv.rfm_summary(transactions, calibration_end=date(2024, 1, 31), time_unit="W")

    plain = clv.customer_values_predict(bgnbd, gamma_gamma, summary, months=12)
    discounted = clv.customer_values_predict(
        bgnbd, gamma_gamma, summary, months=12, monthly_discount_rate=0.01
    )

    arrays = (summary.frequency, summary.recency, summary.age)
    year = clv.bgnbd_expected_purchases(bgnbd, *arrays, horizon=365.25 / 7)
    spend = clv.gamma_gamma_expected_spend(gamma_gamma, summary.frequency, summary.monetary_value)
    assert plain.predicted_clv == pytest.approx(year * spend, rel=1e-10)
    month = 365.25 / 12 / 7
    cumulative = [
        clv.bgnbd_expected_purchases(bgnbd, *arrays, horizon=m * month) for m in range(13)
    ]
    by_hand = sum((cumulative[m] - cumulative[m - 1]) * spend / 1.01**m for m in range(1, 13))
    assert discounted.predicted_clv == pytest.approx(by_hand, rel=1e-10)
    assert np.all(discounted.predicted_clv < plain.predicted_clv)
    assert plain.expected_purchases == pytest.approx(
        clv.bgnbd_expected_purchases(bgnbd, *arrays, horizon=90 / 7), rel=1e-12
    )
    assert plain.expected_spend[1] == pytest.approx(6.25 * 15.44 / 2.74, rel=1e-12)
    assert plain.expected_spend[0] == pytest.approx((15.44 + 25 * 2) * 6.25 / (6.25 * 2 + 2.74))


def test_holdout_diagnostics_bucket_customers_by_calibration_frequency():
    data = simulate_customers(30_000, CDNOW_BGNBD, seed=29, holdout=39.0)
    summary = clv.RfmSummary(
        customer_ids=np.arange(30_000),
        frequency=data["frequency"],
        recency=data["recency"],
        age=data["age"],
        monetary_value=np.zeros(30_000),
        total_value=np.zeros(30_000),
        discounted_value=np.zeros(30_000),
        first_purchase_days=np.zeros(30_000, dtype=np.int64),
        holdout_frequency=data["holdout"],
        holdout_value=np.zeros(30_000),
        calibration_end=date(1997, 9, 30),
        holdout_end=date(1997, 9, 30) + timedelta(days=273),
        time_unit="W",
    )
    truth = clv.BgNbdParameters(*CDNOW_BGNBD)
    fitted = clv.bgnbd_fit(summary.frequency, summary.recency, summary.age)

    diagnostics = clv.holdout_diagnostics(truth, summary)
    fitted_diagnostics = clv.holdout_diagnostics(fitted, summary)

    assert [bucket.label for bucket in diagnostics.buckets] == [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7+",
    ]
    assert sum(bucket.customers for bucket in diagnostics.buckets) == 30_000
    assert diagnostics.buckets[0].customers == int((data["frequency"] == 0).sum())
    assert diagnostics.buckets[7].customers == int((data["frequency"] >= 7).sum())
    assert diagnostics.buckets[2].actual == pytest.approx(
        data["holdout"][data["frequency"] == 2].mean()
    )
    assert diagnostics.actual_total == data["holdout"].sum()
    assert abs(diagnostics.total_error) < 0.05  # about 2.5 standard deviations of the total
    for bucket in diagnostics.buckets:
        assert bucket.predicted == pytest.approx(bucket.actual, rel=0.10, abs=0.02)
    assert abs(fitted_diagnostics.total_error) < 0.07
    assert diagnostics.as_dict()["buckets"][0]["frequency"] == "0"


def test_too_few_customers_is_a_clear_refusal():
    with pytest.raises(clv.NotEnoughCustomers, match="at least 20 customers; found 3"):
        clv.bgnbd_fit([0, 1, 2], [0, 1, 2], [3, 3, 3])
    with pytest.raises(clv.NotEnoughCustomers, match="with a repeat purchase; found 0"):
        clv.bgnbd_fit(np.zeros(30), np.zeros(30), np.full(30, 5.0))
    with pytest.raises(clv.NotEnoughCustomers, match="Gamma-Gamma needs at least 5"):
        clv.gamma_gamma_fit([1, 2, 0], [10.0, 20.0, 0.0])
