"""Benchmark the CLV engine: BG/NBD + Gamma-Gamma fit time at 10k, 100k and 1M customers.

Customers are drawn from the models themselves with the published CDNOW parameters (weeks,
first purchases spread over 12 weeks before a 39-week calibration end), so every size fits the
same problem; the fits are the exact maximum-likelihood fits of `apps.segments.engine.clv`
(L-BFGS-B with analytic gradients from two starts). The summary is built beforehand for the
fit rows; separately, building the summary from a transactions table (same-day merging,
per-customer sort and segment sums) is timed at 100k customers, and so is predicting every
customer's 12-month CLV (12 monthly conditional expectations, hyp2f1).

Usage (from the project root; no database needed):

    .venv/bin/python bench/bench_clv.py                     # 10k, 100k, 1M; summary at 100k
    .venv/bin/python bench/bench_clv.py --sizes 10000 100000 --repeat 5

Prints a markdown table per part (best of --repeat runs, wall and CPU seconds: CPU time is
less disturbed by other load on a shared machine). Time per customer and evaluation of the
likelihood staying flat as the size grows tenfold is the "about linear" check (the number of
evaluations the optimiser needs varies a little between data sets).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.segments.engine import clv  # noqa: E402

CDNOW_BGNBD = (0.243, 4.414, 0.793, 2.426)
CDNOW_GAMMA_GAMMA = (6.25, 3.74, 15.44)


def simulate_summary(customers: int, seed: int) -> dict[str, np.ndarray]:
    """(x, t_x, T, m_x) from BG/NBD and Gamma-Gamma (see apps/segments/tests/test_clv_engine)."""
    r, alpha, a, b = CDNOW_BGNBD
    p, q, v = CDNOW_GAMMA_GAMMA
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    ages = rng.uniform(27.0, 39.0, customers)
    lives = rng.geometric(dropout)
    arrivals = rng.poisson(rates * ages)
    frequency = np.minimum(arrivals, lives)
    recency = np.zeros(customers)
    repeat = frequency > 0
    recency[repeat] = ages[repeat] * rng.beta(
        frequency[repeat], arrivals[repeat] - frequency[repeat] + 1
    )
    nu = rng.gamma(q, 1.0 / v, customers)
    monetary = np.zeros(customers)
    monetary[repeat] = rng.gamma(p * frequency[repeat], 1.0 / (nu[repeat] * frequency[repeat]))
    return {
        "frequency": frequency.astype(float),
        "recency": recency,
        "age": ages,
        "monetary": monetary,
    }


def simulate_transactions(customers: int, seed: int) -> clv.Transactions:
    """Transactions (customer, day, amount) of the same process in days over 600 days."""
    r, alpha, a, b = CDNOW_BGNBD
    p, q, v = CDNOW_GAMMA_GAMMA
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / (alpha * 7), customers)  # per day
    dropout = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1.0 / v, customers)
    now = rng.uniform(0, 300, customers)
    owners, times = [np.arange(customers)], [now.copy()]
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        index = np.flatnonzero(alive)
        now[index] += rng.exponential(1.0 / rates[index])
        inside = now[index] < 600
        bought = index[inside]
        owners.append(bought)
        times.append(now[bought])
        alive[index[~inside]] = False
        alive[bought[rng.random(bought.size) < dropout[bought]]] = False
    owner = np.concatenate(owners)
    start = clv.date_to_day(date(2024, 1, 1))
    return clv.Transactions(
        customer_ids=owner,
        days=start + np.floor(np.concatenate(times)).astype(np.int64),
        amounts=np.round(rng.gamma(p, 1.0 / nu[owner]), 2),
    )


def _timed(function, repeat: int):  # type: ignore[no-untyped-def]
    """Best wall-clock and CPU seconds of `repeat` runs (the least disturbed by other load)."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(wall), min(cpu), result


def bench_fits(sizes: list[int], repeat: int) -> None:
    print(
        "| customers | BG/NBD s | BG/NBD CPU s | evaluations | ns per customer and evaluation "
        "(CPU) | Gamma-Gamma s | repeat buyers | total s | total CPU s | r | alpha | a | b |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        data = simulate_summary(size, seed=size)
        bgnbd_seconds, bgnbd_cpu, bgnbd = _timed(
            lambda data=data: clv.bgnbd_fit(data["frequency"], data["recency"], data["age"]),
            repeat,
        )
        spend_seconds, spend_cpu, spend = _timed(
            lambda data=data: clv.gamma_gamma_fit(data["frequency"], data["monetary"]), repeat
        )
        total, cpu = bgnbd_seconds + spend_seconds, bgnbd_cpu + spend_cpu
        per_evaluation = 1e9 * bgnbd_cpu / (size * bgnbd.evaluations)
        print(
            f"| {size:,} | {bgnbd_seconds:.3f} | {bgnbd_cpu:.3f} | {bgnbd.evaluations} | "
            f"{per_evaluation:.0f} | {spend_seconds:.3f} | {spend.customers:,} | {total:.3f} | "
            f"{cpu:.3f} | {bgnbd.r:.4f} | {bgnbd.alpha:.3f} | {bgnbd.a:.3f} | {bgnbd.b:.3f} |",
            flush=True,
        )


def bench_summary(customers: int, repeat: int) -> None:
    transactions = simulate_transactions(customers, seed=7)
    end = date(2024, 1, 1) + timedelta(days=399)
    seconds, cpu, summary = _timed(
        lambda: clv.rfm_summary(
            transactions,
            calibration_end=end,
            holdout_end=end + timedelta(days=200),
            time_unit="W",
            monthly_discount_rate=0.01,
        ),
        repeat,
    )
    bgnbd = clv.bgnbd_fit(summary.frequency, summary.recency, summary.age)
    spend = clv.gamma_gamma_fit(summary.frequency, summary.monetary_value)
    predict_seconds, predict_cpu, _ = _timed(
        lambda: clv.customer_values_predict(
            bgnbd, spend, summary, months=12, monthly_discount_rate=0.01
        ),
        repeat,
    )
    print()
    print("| step | customers | transactions | s | CPU s |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| summary from transactions (calibration + holdout) | {summary.customers:,} | "
        f"{transactions.days.size:,} | {seconds:.3f} | {cpu:.3f} |"
    )
    print(
        f"| predict P(alive), 90-day purchases, 12-month CLV | {summary.customers:,} | | "
        f"{predict_seconds:.3f} | {predict_cpu:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="Runs per size (the best counts).")
    parser.add_argument(
        "--summary-customers", type=int, default=100_000, help="Customers of the summary bench."
    )
    options = parser.parse_args()
    print(f"numpy {np.__version__}; one process, {time.strftime('%Y-%m-%d %H:%M')}")
    bench_fits(options.sizes, options.repeat)
    bench_summary(options.summary_customers, options.repeat)


if __name__ == "__main__":
    main()
