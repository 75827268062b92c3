"""Customer lifetime value: the RFM summary, BG/NBD and Gamma-Gamma by exact maximum likelihood.

Pure numpy/scipy/pandas (no Django), so the same code fits a file from the command line, the
orders of the database in an ML job, and a notebook.

Protocol (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):

* Transactions of one customer on the same calendar day are one purchase (amounts summed).
* `frequency` x is the number of repeat purchases (purchases after the first one).
* `recency` t_x is the time of the last purchase and `age` T the time of the calibration end,
  both measured from the customer's first purchase, in days (`D`) or weeks (`W` = days / 7).
* `monetary_value` is the average value of the repeat purchases (0 without any); Gamma-Gamma
  is fitted on the customers with at least one repeat purchase (and a positive average).

BG/NBD (Fader, Hardie & Lee 2005): while alive, a customer buys as a Poisson process with rate
lambda ~ Gamma(r, alpha) (alpha a rate); after each repeat purchase they drop out for good with
probability p ~ Beta(a, b). Its likelihood per customer is

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [ (alpha + T)^-(r + x) + [x > 0] a / (b + x - 1) (alpha + t_x)^-(r + x) ]

evaluated in logs (gammaln, betaln) with log-sum-exp for the bracket, and maximised in
log-parameter space with L-BFGS-B and the analytic gradient, from two starting points.

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013): transaction values
z ~ Gamma(p, nu) around a customer's mean, nu ~ Gamma(q, v); the average m_x of x values has

    f(m_x) = Gamma(p x + q) / (Gamma(p x) Gamma(q))
             * v^q m_x^(p x - 1) x^(p x) / (v + m_x x)^(p x + q)

The conditional expectations (P(alive), expected purchases in the next t, expected average
spend) follow the papers; the hypergeometric term of the expected purchases uses Euler's
transformation so that its parameters do not grow with x (see `bgnbd_expected_purchases`).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

try:  # comes with scikit-learn; only used to keep BLAS single-threaded in the optimiser
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - the fit works the same, only slower when loaded
    threadpool_limits = None

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0}
DAYS_PER_MONTH = 365.25 / 12
# Smallest data the fits accept: fewer customers (or repeat buyers) identify nothing.
MIN_CUSTOMERS = 20
MIN_REPEAT_CUSTOMERS = 5
# Parameters live in exp([-LOG_BOUND, LOG_BOUND]): wide, but keeps the optimiser off overflow.
LOG_BOUND = 23.0
# |a - 1| below this is moved off 1, where the expected-purchases formula is 0/0.
A_NEAR_ONE = 1e-7
# Customers per block of the likelihood's evaluation (temporaries stay in the CPU cache).
BLOCK_SIZE = 8192
# Frequency buckets of the holdout diagnostics: 0, 1, ..., MAX_BUCKET - 1 and MAX_BUCKET+.
MAX_BUCKET = 7
# |correlation| of frequency and spend under which Gamma-Gamma's independence holds well enough.
WEAK_CORRELATION = 0.3

_EPOCH = np.datetime64("1970-01-01", "D")


class TransactionsError(ValueError):
    """The transactions table cannot be used; the message names the column and the row."""


class NotEnoughCustomers(ValueError):
    """Too few customers (or repeat buyers) to fit the models; the message says how many."""


# --- the RFM summary --------------------------------------------------------------------------


@dataclass(frozen=True)
class Transactions:
    """Validated transactions: parallel arrays, one entry per input row."""

    customer_ids: np.ndarray  # any hashable values
    days: np.ndarray  # int64 days since 1970-01-01
    amounts: np.ndarray  # float64

    @property
    def first_day(self) -> date | None:
        return day_to_date(int(self.days.min())) if self.days.size else None

    @property
    def last_day(self) -> date | None:
        return day_to_date(int(self.days.max())) if self.days.size else None


@dataclass(frozen=True)
class RfmSummary:
    """One row per customer with a purchase on or before the calibration end.

    Times are in `time_unit` ("D" days or "W" weeks); values in the currency of the amounts.
    Holdout columns are zero when no holdout period was asked for.
    """

    customer_ids: np.ndarray
    frequency: np.ndarray  # repeat purchases x (float64 for the maths)
    recency: np.ndarray  # t_x: first to last purchase
    age: np.ndarray  # T: first purchase to the calibration end
    monetary_value: np.ndarray  # average repeat purchase value, 0 without repeats
    total_value: np.ndarray  # every purchase up to the calibration end (historical CLV)
    discounted_value: np.ndarray  # the same, each purchase discounted back to the first one
    first_purchase_days: np.ndarray  # int64 days since 1970-01-01
    holdout_frequency: np.ndarray  # purchases in (calibration end, holdout end]
    holdout_value: np.ndarray
    calibration_end: date
    holdout_end: date | None
    time_unit: str
    monthly_discount_rate: float = 0.0

    @property
    def customers(self) -> int:
        return int(self.customer_ids.size)

    @property
    def repeat_customers(self) -> int:
        return int((self.frequency > 0).sum())

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in time units (0 without one)."""
        if self.holdout_end is None:
            return 0.0
        days = (self.holdout_end - self.calibration_end).days
        return days / TIME_UNIT_DAYS[self.time_unit]


def date_to_day(value: date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return int((np.datetime64(value, "D") - _EPOCH).astype(np.int64))


def day_to_date(day: int) -> date:
    """The calendar date of a day number (days since 1970-01-01)."""
    result: date = (_EPOCH + np.timedelta64(int(day), "D")).astype(object)
    return result


def _time_unit_days(time_unit: str) -> float:
    try:
        return TIME_UNIT_DAYS[time_unit]
    except KeyError:
        raise ValueError(f"time unit must be D (days) or W (weeks), got {time_unit!r}") from None


def transactions_from_frame(
    frame: pd.DataFrame,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str,
    first_row_number: int = 1,
) -> Transactions:
    """Check and convert a table of transactions (e.g. a CSV read as text).

    Dates may be ISO dates or timestamps (`2024-03-01`, `2024-03-01T10:00:00+02:00`) or compact
    `YYYYMMDD` (the CDNOW file); timestamps with an offset are taken in UTC before the day is
    taken. `first_row_number` is the number errors give the first row (2 for a CSV line number
    under its header). Raises TransactionsError naming the column and the first bad row.
    """
    missing = [
        name for name in (customer_column, date_column, amount_column) if name not in frame.columns
    ]
    if missing:
        available = ", ".join(str(name) for name in frame.columns) or "none"
        raise TransactionsError(
            f"column {missing[0]!r} is not in the transactions; columns: {available}"
        )
    if frame.empty:
        raise TransactionsError("the transactions have no rows")

    def first_bad(mask: np.ndarray) -> int:
        return int(np.flatnonzero(mask)[0])

    customers = frame[customer_column]
    customer_text = customers.astype(str).str.strip()
    empty = customers.isna().to_numpy() | (customer_text == "").to_numpy()
    if empty.any():
        index = first_bad(empty)
        raise TransactionsError(
            f"row {index + first_row_number}: customer column {customer_column!r} is empty"
        )
    customer_ids = customer_text.to_numpy() if customers.dtype == object else customers.to_numpy()

    days = _days_parse(frame[date_column], date_column, first_row_number)

    raw_amounts = frame[amount_column]
    amounts = pd.to_numeric(raw_amounts, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(amounts)
    if bad.any():
        index = first_bad(bad)
        raise TransactionsError(
            f"row {index + first_row_number}: amount column {amount_column!r} has "
            f"{_shown(raw_amounts.iloc[index])}, not a number"
        )
    return Transactions(customer_ids=customer_ids, days=days, amounts=amounts)


def _shown(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return repr(text[:40]) if text else "nothing"


def _days_parse(values: pd.Series, column: str, first_row_number: int) -> np.ndarray:
    text = values.astype(str).str.strip()
    blank = values.isna().to_numpy() | (text == "").to_numpy()
    compact = text.str.fullmatch(r"\d{8}").to_numpy()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if compact.any():
        parsed[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce", utc=True)
    others = ~compact & ~blank
    if others.any():
        parsed[others] = pd.to_datetime(text[others], format="ISO8601", errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise TransactionsError(
            f"row {index + first_row_number}: date column {column!r} has "
            f"{_shown(values.iloc[index])}, not a date (use YYYY-MM-DD)"
        )
    naive = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    return (naive - _EPOCH).astype(np.int64)


def rfm_summary(
    transactions: Transactions,
    *,
    calibration_end: date,
    holdout_end: date | None = None,
    time_unit: str = "W",
    monthly_discount_rate: float = 0.0,
) -> RfmSummary:
    """Per-customer frequency, recency, age and values up to `calibration_end` (inclusive).

    Customers whose first purchase is after the calibration end are left out. With
    `holdout_end`, purchases in (calibration_end, holdout_end] are counted per customer
    (same-day rule again) for the diagnostics. Sort and segment sums only: O(n log n).
    """
    unit_days = _time_unit_days(time_unit)
    if monthly_discount_rate < 0:
        raise ValueError("monthly discount rate must not be negative")
    end_day = date_to_day(calibration_end)
    holdout_day = None if holdout_end is None else date_to_day(holdout_end)
    if holdout_day is not None and holdout_day <= end_day:
        raise ValueError("the holdout end must be after the calibration end")

    codes, uniques = pd.factorize(transactions.customer_ids, sort=False)
    codes = codes.astype(np.int64)
    days = transactions.days.astype(np.int64)
    amounts = transactions.amounts.astype(np.float64)

    calibration = days <= end_day
    daily_codes, daily_days, daily_amounts = _daily_purchases(
        codes[calibration], days[calibration], amounts[calibration]
    )
    empty_float = np.empty(0, dtype=np.float64)
    if daily_codes.size == 0:
        return RfmSummary(
            customer_ids=np.empty(0, dtype=object),
            frequency=empty_float,
            recency=empty_float,
            age=empty_float,
            monetary_value=empty_float,
            total_value=empty_float,
            discounted_value=empty_float,
            first_purchase_days=np.empty(0, dtype=np.int64),
            holdout_frequency=empty_float,
            holdout_value=empty_float,
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            time_unit=time_unit,
            monthly_discount_rate=monthly_discount_rate,
        )
    starts = np.flatnonzero(np.r_[True, daily_codes[1:] != daily_codes[:-1]])
    ends = np.r_[starts[1:], daily_codes.size] - 1
    customer_codes = daily_codes[starts]
    first_days = daily_days[starts]
    last_days = daily_days[ends]
    purchases = (ends - starts + 1).astype(np.float64)
    totals = np.add.reduceat(daily_amounts, starts)
    repeats = purchases - 1
    repeat_totals = totals - daily_amounts[starts]
    monetary = np.divide(
        repeat_totals, repeats, out=np.zeros_like(repeat_totals), where=repeats > 0
    )
    months_since_first = (daily_days - np.repeat(first_days, ends - starts + 1)) / DAYS_PER_MONTH
    discounted = np.add.reduceat(
        daily_amounts / (1.0 + monthly_discount_rate) ** months_since_first, starts
    )

    holdout_frequency: np.ndarray = np.zeros(customer_codes.size)
    holdout_value: np.ndarray = np.zeros(customer_codes.size)
    if holdout_day is not None:
        later = (days > end_day) & (days <= holdout_day)
        position = np.full(uniques.size, -1, dtype=np.int64)
        position[customer_codes] = np.arange(customer_codes.size)
        kept = later & (position[codes] >= 0)
        held_codes, _, held_amounts = _daily_purchases(codes[kept], days[kept], amounts[kept])
        rows = position[held_codes]
        holdout_frequency = np.bincount(rows, minlength=customer_codes.size).astype(np.float64)
        holdout_value = np.bincount(rows, weights=held_amounts, minlength=customer_codes.size)

    return RfmSummary(
        customer_ids=np.asarray(uniques)[customer_codes],
        frequency=repeats,
        recency=(last_days - first_days) / unit_days,
        age=(end_day - first_days) / unit_days,
        monetary_value=monetary,
        total_value=totals,
        discounted_value=discounted,
        first_purchase_days=first_days,
        holdout_frequency=holdout_frequency,
        holdout_value=holdout_value,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        monthly_discount_rate=monthly_discount_rate,
    )


def _daily_purchases(
    codes: np.ndarray, days: np.ndarray, amounts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (customer, day) with the day's amounts summed, sorted by customer then day."""
    if codes.size == 0:
        return codes, days, amounts
    first = int(days.min())
    span = int(days.max()) - first + 1
    keys = codes * span + (days - first)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    unique_keys = sorted_keys[starts]
    return (
        unique_keys // span,
        unique_keys % span + first,
        np.add.reduceat(amounts[order], starts),
    )


# --- BG/NBD -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParameters:
    """Fitted BG/NBD parameters (alpha in the summary's time unit) and the maximised LL."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    customers: int = 0
    converged: bool = True
    iterations: int = 0
    evaluations: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }


def _as_float_arrays(*arrays: Any) -> list[np.ndarray]:
    converted = [np.asarray(array, dtype=np.float64) for array in arrays]
    shape = converted[0].shape
    if any(array.shape != shape for array in converted):
        raise ValueError("frequency, recency and age must have the same length")
    return converted


def _weights(weights: Any, size: int) -> np.ndarray:
    if weights is None:
        return np.ones(size)
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError("weights must have one entry per customer")
    return array


@dataclass(frozen=True)
class _BgNbdData:
    """The fit's data: customers' (x, t_x, T) with weights, and the distinct frequencies.

    Special functions of x alone (gammaln, digamma) are evaluated once per distinct frequency
    (a few dozen values) and gathered, instead of once per customer. The objective works
    through `blocks` (views of BLOCK_SIZE customers) so its temporaries stay in the CPU cache:
    per-customer cost is then the same at 10k and 1M customers.
    """

    x: np.ndarray
    t_x: np.ndarray
    big_t: np.ndarray
    weights: np.ndarray
    distinct_x: np.ndarray
    index: np.ndarray  # distinct_x[index] == x
    repeat: np.ndarray  # x > 0
    blocks: tuple[_BgNbdData, ...] = ()

    @classmethod
    def build(
        cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weights: np.ndarray
    ) -> _BgNbdData:
        distinct_x, index = np.unique(x, return_inverse=True)
        index = index.ravel()
        repeat = x > 0
        blocks = tuple(
            cls(
                x[start : start + BLOCK_SIZE],
                t_x[start : start + BLOCK_SIZE],
                big_t[start : start + BLOCK_SIZE],
                weights[start : start + BLOCK_SIZE],
                distinct_x,
                index[start : start + BLOCK_SIZE],
                repeat[start : start + BLOCK_SIZE],
            )
            for start in range(0, x.size, BLOCK_SIZE)
        )
        return cls(x, t_x, big_t, weights, distinct_x, index, repeat, blocks)


def _bgnbd_terms(
    r: float, alpha: float, a: float, b: float, data: _BgNbdData
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-customer log L and the shares of the bracket's two terms, A3 / (A3 + A4) and
    A4 / (A3 + A4), as logs (the second is -inf without a repeat purchase)."""
    x, t_x, big_t, repeat = data.x, data.t_x, data.big_t, data.repeat
    distinct = data.distinct_x
    # log A1 + log A2 - log A3's alpha part, per distinct x:
    per_x = (
        special.gammaln(r + distinct)
        - special.gammaln(r)
        + r * math.log(alpha)
        + special.betaln(a, b + distinct)
        - special.betaln(a, b)
    )
    log_a3 = -(r + x) * np.log(alpha + big_t)
    log_a4 = np.full_like(x, -np.inf)
    log_a4[repeat] = (
        math.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    log_bracket = np.logaddexp(log_a3, log_a4)
    log_l = per_x[data.index] + log_bracket
    return log_l, log_a3 - log_bracket, log_a4 - log_bracket


def bgnbd_log_likelihood(
    parameters: BgNbdParameters | tuple[float, float, float, float],
    frequency: Any,
    recency: Any,
    age: Any,
    *,
    weights: Any = None,
) -> float:
    """Total BG/NBD log-likelihood of the customers (optionally weighted, e.g. by counts)."""
    r, alpha, a, b = _bgnbd_values(parameters)
    x, t_x, big_t = _as_float_arrays(frequency, recency, age)
    data = _BgNbdData.build(x, t_x, big_t, _weights(weights, x.size))
    log_l, _, _ = _bgnbd_terms(r, alpha, a, b, data)
    return float(np.dot(data.weights, log_l))


def _bgnbd_values(
    parameters: BgNbdParameters | tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    if isinstance(parameters, BgNbdParameters):
        return parameters.r, parameters.alpha, parameters.a, parameters.b
    r, alpha, a, b = (float(value) for value in parameters)
    return r, alpha, a, b


def _bgnbd_objective(
    log_parameters: np.ndarray, data: _BgNbdData, total_weight: float
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = (float(value) for value in np.exp(log_parameters))
    log_likelihood = 0.0
    gradient = np.zeros(4)
    for block in data.blocks or (data,):
        block_value, block_gradient = _bgnbd_block_gradient(r, alpha, a, b, block)
        log_likelihood += block_value
        gradient += block_gradient
    gradient *= np.array([r, alpha, a, b])  # chain rule: d/d log(theta) = theta d/d theta
    value = -log_likelihood / total_weight
    if not math.isfinite(value) or not np.isfinite(gradient).all():
        return 1e300, np.zeros(4)
    return value, -gradient / total_weight


def _bgnbd_block_gradient(
    r: float, alpha: float, a: float, b: float, data: _BgNbdData
) -> tuple[float, np.ndarray]:
    """Weighted log-likelihood of a block and its gradient in (r, alpha, a, b)."""
    log_l, share_3, share_4 = _bgnbd_terms(r, alpha, a, b, data)
    x, t_x, big_t, weights = data.x, data.t_x, data.big_t, data.weights
    weight_3, weight_4 = np.exp(share_3), np.exp(share_4)  # A3 / (A3 + A4), A4 / (A3 + A4)
    distinct = data.distinct_x
    # Derivatives of the x-only terms, per distinct x, gathered.
    d_r_x = (special.digamma(r + distinct) - special.digamma(r) + math.log(alpha))[data.index]
    digamma_ab = special.digamma(a + b)
    digamma_abx = special.digamma(a + b + distinct)
    d_a_x = (digamma_ab - digamma_abx)[data.index]
    d_b_x = (special.digamma(b + distinct) - digamma_abx - special.digamma(b) + digamma_ab)[
        data.index
    ]
    inverse_bx = np.zeros_like(x)
    inverse_bx[data.repeat] = 1.0 / (b + x[data.repeat] - 1)
    alpha_t = alpha + big_t
    alpha_tx = alpha + t_x
    d_r = d_r_x - weight_3 * np.log(alpha_t) - weight_4 * np.log(alpha_tx)
    d_alpha = r / alpha - (r + x) * (weight_3 / alpha_t + weight_4 / alpha_tx)
    d_a = d_a_x + weight_4 / a
    d_b = d_b_x - weight_4 * inverse_bx
    gradient = np.array(
        [np.dot(weights, d_r), np.dot(weights, d_alpha), np.dot(weights, d_a), np.dot(weights, d_b)]
    )
    return float(np.dot(weights, log_l)), gradient


# The fit counts as converged when the gradient of the mean log-likelihood (per customer, with
# respect to the log-parameters) is this small, even if L-BFGS-B stopped on its line search
# (it does at the optimum when the last digits of the objective are rounding noise).
CONVERGED_GRADIENT = 1e-6


@dataclass(frozen=True)
class _Optimum:
    log_parameters: np.ndarray
    iterations: int
    evaluations: int  # of the likelihood and its gradient, all starts together
    converged: bool


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """L-BFGS-B calls BLAS on 4-element vectors many times; a multi-threaded OpenBLAS spends
    milliseconds waking its threads on each call (5x the whole 10k-customer fit)."""
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _minimise(objective: Any, starts: list[np.ndarray], arguments: tuple[Any, ...]) -> _Optimum:
    """L-BFGS-B from each start (log-parameter space); the best end point wins."""
    with _single_threaded_blas():
        return _minimise_from(objective, starts, arguments)


def _minimise_from(
    objective: Any, starts: list[np.ndarray], arguments: tuple[Any, ...]
) -> _Optimum:
    bounds = [(-LOG_BOUND, LOG_BOUND)] * starts[0].size
    best: optimize.OptimizeResult | None = None
    iterations = evaluations = 0
    for start in starts:
        result = optimize.minimize(
            objective,
            start,
            args=arguments,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 5000, "maxfun": 20000, "ftol": 1e-15, "gtol": 1e-10},
        )
        iterations += int(result.nit)
        evaluations += int(result.nfev)
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None  # noqa: S101 - at least one start
    _, gradient = objective(best.x, *arguments)
    inside = np.abs(best.x) < LOG_BOUND - 1e-6
    converged = bool(
        np.isfinite(best.fun) and np.all(np.abs(gradient[inside]) < CONVERGED_GRADIENT)
    )
    return _Optimum(np.asarray(best.x), iterations, evaluations, converged)


def bgnbd_fit(frequency: Any, recency: Any, age: Any, *, weights: Any = None) -> BgNbdParameters:
    """Exact maximum-likelihood BG/NBD parameters of the customers' (x, t_x, T).

    `weights` counts customers per row when identical rows were merged beforehand.
    """
    x, t_x, big_t = _as_float_arrays(frequency, recency, age)
    counts = _weights(weights, x.size)
    if x.size < MIN_CUSTOMERS:
        raise NotEnoughCustomers(f"BG/NBD needs at least {MIN_CUSTOMERS} customers; found {x.size}")
    repeaters = int((x > 0).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise NotEnoughCustomers(
            f"BG/NBD needs at least {MIN_REPEAT_CUSTOMERS} customers with a repeat purchase; "
            f"found {repeaters}"
        )
    if (x < 0).any() or (t_x < 0).any() or (t_x > big_t).any() or (big_t <= 0).all():
        raise ValueError("need 0 <= recency <= age and frequency >= 0 for every customer")
    mean_rate = float(np.dot(counts, x) / max(np.dot(counts, big_t), 1e-12))
    starts = [
        np.log([1.0, max(1.0 / max(mean_rate, 1e-9), 1e-6), 1.0, 1.0]),
        np.log([0.5, max(0.5 / max(mean_rate, 1e-9), 1e-6), 0.5, 2.0]),
    ]
    data = _BgNbdData.build(x, t_x, big_t, counts)
    result = _minimise(_bgnbd_objective, starts, (data, float(counts.sum())))
    r, alpha, a, b = (float(value) for value in np.exp(result.log_parameters))
    return BgNbdParameters(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=bgnbd_log_likelihood((r, alpha, a, b), x, t_x, big_t, weights=counts),
        customers=int(round(counts.sum())),
        converged=result.converged,
        iterations=result.iterations,
        evaluations=result.evaluations,
    )


def bgnbd_probability_alive(
    parameters: BgNbdParameters, frequency: Any, recency: Any, age: Any
) -> np.ndarray:
    """P(alive at T | x, t_x, T): 1 without repeat purchases, else
    1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))."""
    r, alpha, a, b = _bgnbd_values(parameters)
    x, t_x, big_t = _as_float_arrays(frequency, recency, age)
    return _probability_alive(r, alpha, a, b, x, t_x, big_t)


def _probability_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    log_odds_dead = np.full_like(x, -np.inf)
    repeat = x > 0
    log_odds_dead[repeat] = (
        math.log(a)
        - np.log(b + x[repeat] - 1)
        + (r + x[repeat]) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
    )
    return np.asarray(special.expit(-log_odds_dead), dtype=np.float64)


def bgnbd_expected_purchases(
    parameters: BgNbdParameters, frequency: Any, recency: Any, age: Any, horizon: float
) -> np.ndarray:
    """E[purchases in (T, T + horizon] | x, t_x, T] (FHL 2005 equation 10), horizon in units.

        (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
                                         * 2F1(r + x, b + x; a + b + x - 1; z)] * P(alive)
        with z = t / (alpha + T + t).

    Euler's transformation 2F1(A, B; C; z) = (1 - z)^(C - A - B) 2F1(C - A, C - B; C; z) turns
    the bracket's product into (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z),
    whose first two parameters do not grow with x: it stays finite and accurate where the
    direct form overflows (frequent buyers, long horizons).
    """
    r, alpha, a, b = _bgnbd_values(parameters)
    x, t_x, big_t = _as_float_arrays(frequency, recency, age)
    if horizon < 0:
        raise ValueError("the horizon must not be negative")
    if horizon == 0:
        return np.zeros_like(x)
    expected = _expected_purchases_if_alive(r, alpha, a, b, x, big_t, horizon)
    alive = _probability_alive(r, alpha, a, b, x, t_x, big_t)
    return np.asarray(expected * alive, dtype=np.float64)


def bgnbd_expected_purchases_new_customer(parameters: BgNbdParameters, horizon: float) -> float:
    """E[X(t)]: expected repeat purchases of a customer in their first t units (equation 9).

    The same expression as the conditional one with x = 0 and T = 0 (alive at the start).
    """
    r, alpha, a, b = _bgnbd_values(parameters)
    if horizon <= 0:
        return 0.0
    zero = np.zeros(1)
    return float(_expected_purchases_if_alive(r, alpha, a, b, zero, zero, horizon)[0])


def _expected_purchases_if_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, big_t: np.ndarray, horizon: float
) -> np.ndarray:
    """E[purchases in the next t | alive at T] =
        (a + b + x - 1) / (a - 1)
        * [1 - (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)].

    scipy's hyp2f1 first; where it gives a non-finite value or one outside the bounds the
    quantity must respect, 0 <= E <= (r + x) t / (alpha + T) (at most the expected purchases of
    a customer who never drops out), the series is summed directly instead, or, where that
    would take too many terms (large a: a nearly common dropout probability), the expectation
    over p is integrated numerically.
    """
    if abs(a - 1.0) < A_NEAR_ONE:  # 0/0 at a = 1: step just off it (changes E by ~1e-7)
        a = 1.0 + (A_NEAR_ONE if a >= 1.0 else -A_NEAR_ONE)
    z = horizon / (alpha + big_t + horizon)
    log_one_minus_z = np.log1p(-z)
    upper = (r + x) * horizon / (alpha + big_t)
    factor = (a + b + x - 1) / (a - 1)
    with np.errstate(all="ignore"):
        hypergeometric = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        expected = factor * (1.0 - np.exp((a - 1) * log_one_minus_z) * hypergeometric)
    wrong = ~np.isfinite(expected) | (expected < -1e-9 * upper) | (expected > upper * (1 + 1e-9))
    if wrong.any():
        # The series needs about ((a - 1) z + 50) / (1 - z) terms (it grows until k ~ (a - 1) z,
        # then shrinks like z^k); beyond the budget, integrate over p instead.
        terms = (max(a - 1.0, 0.0) * z + 50.0) / (1.0 - z)
        by_series = wrong & (terms <= SERIES_TERM_BUDGET)
        by_quadrature = wrong & ~by_series
        if by_series.any():
            bracket = _hypergeometric_bracket_series(
                a + b - 1 - r,
                a - 1,
                a + b + x[by_series] - 1,
                z[by_series],
                (a - 1) * log_one_minus_z[by_series],
            )
            expected[by_series] = factor[by_series] * bracket
        if by_quadrature.any():
            expected[by_quadrature] = _expected_purchases_quadrature(
                r, a, b, x[by_quadrature], horizon / (alpha + big_t[by_quadrature])
            )
    if not np.isfinite(expected).all():
        raise FloatingPointError("the expected purchases are not finite for some customers")
    return np.clip(expected, 0.0, upper)


SERIES_MAX_TERMS = 2_000_000
_RESCALE = 1e200
# Fallback customers whose series would need more terms than this are integrated over p.
SERIES_TERM_BUDGET = 200_000
QUADRATURE_NODES = 64


def _expected_purchases_quadrature(
    r: float, a: float, b: float, x: np.ndarray, scaled_horizon: np.ndarray
) -> np.ndarray:
    """E_p[(1 - (1 + p s)^-(r + x)) / p] for p ~ Beta(a, b + x), s = t / (alpha + T).

    Given alive at T, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x); a customer with
    (lambda, p) buys (1 - exp(-lambda p t)) / p times in the next t, and the expectation over
    lambda is the bracket above. The remaining integral over p is taken with Gauss-Legendre
    nodes on the Beta's quantile scale, accurate (relative error < 1e-4 from a = 20, < 1e-7
    from a = 10^4) where the Beta is concentrated, which is where the series is slow.
    """
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    quantiles = (nodes + 1.0) / 2.0
    p = special.betaincinv(a, (b + x)[:, None], quantiles[None, :])
    p = np.clip(p, 1e-300, 1.0)
    values = -np.expm1(-(r + x)[:, None] * np.log1p(p * scaled_horizon[:, None])) / p
    return np.asarray(values @ (weights / 2.0), dtype=np.float64)


def _hypergeometric_bracket_series(
    first: float, second: float, third: np.ndarray, z: np.ndarray, log_prefactor: np.ndarray
) -> np.ndarray:
    """1 - exp(log_prefactor) * 2F1(first, second; third; z), summing the series term by term.

    For 0 <= z < 1 the series converges (geometrically, at rate z); partial sums are rescaled
    to stay finite and the loop ends per customer when a term no longer changes the sum. Slow
    near z = 1, so only used where scipy's hyp2f1 fails.
    """
    size = third.size
    total = np.ones(size)
    term = np.ones(size)
    log_scale = np.zeros(size)
    active = np.ones(size, dtype=bool)
    # Terms may change sign until k passes -first and -second; only stop after that.
    settle = max(-first, -second, 0.0) + 2
    k = 0
    while active.any():
        if k >= SERIES_MAX_TERMS:
            raise FloatingPointError("the hypergeometric series did not converge")
        index = np.flatnonzero(active)
        step = term[index] * (first + k) * (second + k) / ((third[index] + k) * (k + 1)) * z[index]
        term[index] = step
        total[index] += step
        large = np.abs(total[index]) > _RESCALE
        if large.any():
            rescaled = index[large]
            total[rescaled] /= _RESCALE
            term[rescaled] /= _RESCALE
            log_scale[rescaled] += math.log(_RESCALE)
        k += 1
        if k > settle:
            finished = np.abs(step) <= 1e-17 * np.abs(total[index])
            active[index[finished]] = False
    with np.errstate(divide="ignore"):
        magnitude = np.exp(log_prefactor + log_scale + np.log(np.abs(total)))
    return np.asarray(1.0 - np.sign(total) * magnitude, dtype=np.float64)


# --- Gamma-Gamma ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaParameters:
    """Fitted Gamma-Gamma parameters (v in the currency of the amounts) and the maximised LL."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    customers: int = 0
    converged: bool = True
    iterations: int = 0
    evaluations: int = 0

    @property
    def population_mean_spend(self) -> float | None:
        """E[average spend] of a new customer, p v / (q - 1); undefined for q <= 1."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else None

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v, "log_likelihood": self.log_likelihood}


def _repeat_spenders(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
    x, m = _as_float_arrays(frequency, monetary_value)
    used = (x > 0) & (m > 0)
    return x[used], m[used]


def _gamma_gamma_terms(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * math.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + m * x)
    )


def gamma_gamma_log_likelihood(
    parameters: GammaGammaParameters | tuple[float, float, float],
    frequency: Any,
    monetary_value: Any,
) -> float:
    """Total Gamma-Gamma log-likelihood of the customers with x > 0 and a positive average."""
    p, q, v = _gamma_gamma_values(parameters)
    x, m = _repeat_spenders(frequency, monetary_value)
    return float(_gamma_gamma_terms(p, q, v, x, m).sum())


def _gamma_gamma_values(
    parameters: GammaGammaParameters | tuple[float, float, float],
) -> tuple[float, float, float]:
    if isinstance(parameters, GammaGammaParameters):
        return parameters.p, parameters.q, parameters.v
    p, q, v = (float(value) for value in parameters)
    return p, q, v


@dataclass(frozen=True)
class _GammaGammaData:
    """Repeat buyers' (x, m_x) with the logs that do not depend on the parameters, the
    distinct frequencies (special functions once per x), and cache-sized blocks."""

    x: np.ndarray
    m: np.ndarray
    mx: np.ndarray  # m x
    x_log_m: np.ndarray  # x log m
    log_m: np.ndarray
    distinct_x: np.ndarray
    index: np.ndarray  # distinct_x[index] == x
    blocks: tuple[_GammaGammaData, ...] = ()

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray) -> _GammaGammaData:
        distinct_x, index = np.unique(x, return_inverse=True)
        index = index.ravel()
        mx, x_log_m, log_m = m * x, x * np.log(m), np.log(m)
        blocks = tuple(
            cls(
                x=x[window],
                m=m[window],
                mx=mx[window],
                x_log_m=x_log_m[window],
                log_m=log_m[window],
                distinct_x=distinct_x,
                index=index[window],
            )
            for window in (
                slice(start, start + BLOCK_SIZE) for start in range(0, x.size, BLOCK_SIZE)
            )
        )
        return cls(x, m, mx, x_log_m, log_m, distinct_x, index, blocks)


def _gamma_gamma_objective(
    log_parameters: np.ndarray, data: _GammaGammaData
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient with respect to the log-parameters."""
    p, q, v = (float(value) for value in np.exp(log_parameters))
    distinct = data.distinct_x
    px = p * distinct
    digamma_pxq = special.digamma(px + q)
    # Terms of x alone (and the parameters), per distinct x.
    per_x = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(v)
        + px * np.log(distinct)
    )
    d_p_x = distinct * (digamma_pxq - special.digamma(px) + np.log(distinct))
    d_q_x = digamma_pxq - special.digamma(q) + math.log(v)
    log_likelihood = 0.0
    gradient = np.zeros(3)
    for block in data.blocks or (data,):
        log_v_mx = np.log(v + block.mx)
        shape = p * block.x + q
        log_likelihood += float(
            per_x[block.index].sum()
            + p * block.x_log_m.sum()
            - block.log_m.sum()
            - np.dot(shape, log_v_mx)
        )
        gradient += np.array(
            [
                d_p_x[block.index].sum() + block.x_log_m.sum() - np.dot(block.x, log_v_mx),
                d_q_x[block.index].sum() - log_v_mx.sum(),
                block.x.size * q / v - (shape / (v + block.mx)).sum(),
            ]
        )
    gradient *= np.array([p, q, v])
    value = -log_likelihood / data.x.size
    if not math.isfinite(value) or not np.isfinite(gradient).all():
        return 1e300, np.zeros(3)
    return value, -gradient / data.x.size


def gamma_gamma_fit(frequency: Any, monetary_value: Any) -> GammaGammaParameters:
    """Exact maximum-likelihood Gamma-Gamma parameters from repeat buyers' (x, m_x)."""
    x, m = _repeat_spenders(frequency, monetary_value)
    if x.size < MIN_REPEAT_CUSTOMERS:
        raise NotEnoughCustomers(
            f"Gamma-Gamma needs at least {MIN_REPEAT_CUSTOMERS} customers with a repeat "
            f"purchase of positive value; found {x.size}"
        )
    mean = float(m.mean())
    starts = [np.log([1.0, 2.0, mean]), np.log([4.0, 4.0, 0.75 * mean])]
    result = _minimise(_gamma_gamma_objective, starts, (_GammaGammaData.build(x, m),))
    p, q, v = (float(value) for value in np.exp(result.log_parameters))
    return GammaGammaParameters(
        p=p,
        q=q,
        v=v,
        log_likelihood=float(_gamma_gamma_terms(p, q, v, x, m).sum()),
        customers=int(x.size),
        converged=result.converged,
        iterations=result.iterations,
        evaluations=result.evaluations,
    )


def gamma_gamma_expected_spend(
    parameters: GammaGammaParameters, frequency: Any, monetary_value: Any
) -> np.ndarray:
    """E[average spend | x, m_x] = (v + m_x x) p / (p x + q - 1).

    A weighted mean of the population mean p v / (q - 1) and the customer's own m_x; for x = 0
    it is the population mean. Needs q > 1 (else the population mean is infinite).
    """
    p, q, v = _gamma_gamma_values(parameters)
    if q <= 1:
        raise ValueError(f"Gamma-Gamma q must exceed 1 for a finite mean spend, got {q:.4g}")
    x, m = _as_float_arrays(frequency, monetary_value)
    own = np.where(x > 0, np.clip(m, 0.0, None), 0.0)
    return np.asarray((v + own * x) * p / (p * x + q - 1), dtype=np.float64)


@dataclass(frozen=True)
class IndependenceCheck:
    """Gamma-Gamma assumes spend does not depend on frequency: their correlation among repeat
    buyers (Pearson, and Spearman for robustness to outliers)."""

    pearson: float | None
    spearman: float | None
    customers: int
    weak: bool  # |pearson| below WEAK_CORRELATION: the assumption is reasonable

    def as_dict(self) -> dict[str, Any]:
        return {
            "pearson": self.pearson,
            "spearman": self.spearman,
            "customers": self.customers,
            "weak": self.weak,
            "threshold": WEAK_CORRELATION,
        }


def frequency_spend_correlation(frequency: Any, monetary_value: Any) -> IndependenceCheck:
    """The independence check of Gamma-Gamma on customers with a repeat purchase."""
    x, m = _repeat_spenders(frequency, monetary_value)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return IndependenceCheck(None, None, int(x.size), True)
    pearson = float(np.corrcoef(x, m)[0, 1])
    spearman = float(stats.spearmanr(x, m).statistic)
    return IndependenceCheck(pearson, spearman, int(x.size), abs(pearson) < WEAK_CORRELATION)


# --- CLV --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerValues:
    """Per-customer predictions, parallel to the summary's rows."""

    probability_alive: np.ndarray
    expected_purchases: np.ndarray  # in the next `horizon_days`
    expected_spend: np.ndarray  # Gamma-Gamma conditional mean of a purchase
    predicted_clv: np.ndarray  # next `months` months, discounted monthly
    horizon_days: float
    months: int
    monthly_discount_rate: float


def customer_values_predict(
    bgnbd: BgNbdParameters,
    gamma_gamma: GammaGammaParameters,
    summary: RfmSummary,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.0,
    horizon_days: float = 90.0,
) -> CustomerValues:
    """P(alive), expected purchases in `horizon_days`, and the predicted `months`-month CLV.

    CLV = sum over months m = 1..months of (E[Y(m)] - E[Y(m - 1)]) * E[spend] / (1 + d)^m,
    with E[Y] the conditional expected purchases and months of 365.25 / 12 days; with d = 0 it
    is E[Y(months)] * E[spend].
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_discount_rate < 0:
        raise ValueError("monthly discount rate must not be negative")
    unit_days = _time_unit_days(summary.time_unit)
    arrays = (summary.frequency, summary.recency, summary.age)
    spend = gamma_gamma_expected_spend(gamma_gamma, summary.frequency, summary.monetary_value)
    clv = np.zeros(summary.customers)
    previous = np.zeros(summary.customers)
    for month in range(1, months + 1):
        cumulative = bgnbd_expected_purchases(
            bgnbd, *arrays, horizon=month * DAYS_PER_MONTH / unit_days
        )
        clv += (cumulative - previous) * spend / (1.0 + monthly_discount_rate) ** month
        previous = cumulative
    return CustomerValues(
        probability_alive=bgnbd_probability_alive(bgnbd, *arrays),
        expected_purchases=bgnbd_expected_purchases(
            bgnbd, *arrays, horizon=horizon_days / unit_days
        ),
        expected_spend=spend,
        predicted_clv=clv,
        horizon_days=horizon_days,
        months=months,
        monthly_discount_rate=monthly_discount_rate,
    )


# --- diagnostics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyBucket:
    """Customers of one calibration frequency and their holdout purchases, mean per customer."""

    label: str  # "0", "1", ..., "7+"
    customers: int
    actual: float
    predicted: float


@dataclass(frozen=True)
class HoldoutDiagnostics:
    """Predicted vs actual repeat purchases in the holdout period, by calibration frequency."""

    calibration_end: date
    holdout_end: date
    holdout_length: float  # in time units
    customers: int
    actual_total: float
    predicted_total: float
    buckets: list[FrequencyBucket] = field(default_factory=list)

    @property
    def total_error(self) -> float | None:
        """(predicted - actual) / actual over all customers."""
        if self.actual_total == 0:
            return None
        return (self.predicted_total - self.actual_total) / self.actual_total

    def as_dict(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "holdout_length": self.holdout_length,
            "customers": self.customers,
            "actual_total": self.actual_total,
            "predicted_total": self.predicted_total,
            "total_error": self.total_error,
            "buckets": [
                {
                    "frequency": bucket.label,
                    "customers": bucket.customers,
                    "actual": bucket.actual,
                    "predicted": bucket.predicted,
                }
                for bucket in self.buckets
            ],
        }


def holdout_diagnostics(
    bgnbd: BgNbdParameters, summary: RfmSummary, *, max_bucket: int = MAX_BUCKET
) -> HoldoutDiagnostics:
    """Compare the conditional expectations over the holdout with what customers did."""
    if summary.holdout_end is None:
        raise ValueError("the summary has no holdout period")
    predicted = bgnbd_expected_purchases(
        bgnbd, summary.frequency, summary.recency, summary.age, summary.holdout_length
    )
    bucket_of = np.minimum(summary.frequency, max_bucket).astype(np.int64)
    buckets = []
    for index in range(max_bucket + 1):
        members = bucket_of == index
        count = int(members.sum())
        label = f"{index}+" if index == max_bucket else str(index)
        buckets.append(
            FrequencyBucket(
                label=label,
                customers=count,
                actual=float(summary.holdout_frequency[members].mean()) if count else 0.0,
                predicted=float(predicted[members].mean()) if count else 0.0,
            )
        )
    return HoldoutDiagnostics(
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
        holdout_length=summary.holdout_length,
        customers=summary.customers,
        actual_total=float(summary.holdout_frequency.sum()),
        predicted_total=float(predicted.sum()),
        buckets=buckets,
    )


# --- one call for the command and the job -----------------------------------------------------


@dataclass(frozen=True)
class ClvFit:
    """Both models fitted on one summary, with the independence check and timings."""

    bgnbd: BgNbdParameters
    gamma_gamma: GammaGammaParameters
    independence: IndependenceCheck
    customers: int
    repeat_customers: int
    seconds: dict[str, float]


def clv_fit(summary: RfmSummary) -> ClvFit:
    """Fit BG/NBD on every customer and Gamma-Gamma on the repeat buyers of `summary`."""
    started = time.perf_counter()
    bgnbd = bgnbd_fit(summary.frequency, summary.recency, summary.age)
    middle = time.perf_counter()
    gamma_gamma = gamma_gamma_fit(summary.frequency, summary.monetary_value)
    finished = time.perf_counter()
    return ClvFit(
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        independence=frequency_spend_correlation(summary.frequency, summary.monetary_value),
        customers=summary.customers,
        repeat_customers=summary.repeat_customers,
        seconds={
            "bgnbd": round(middle - started, 4),
            "gamma_gamma": round(finished - middle, 4),
        },
    )
