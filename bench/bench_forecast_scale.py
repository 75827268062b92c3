"""Time to forecast N product series with the auto selector, and how it scales with workers.

What the nightly refresh does per product (apps/forecasts/services/runs.py): weekly units from
the first week with a sale (leading zeros trimmed), at least MIN_HISTORY = 8 weeks or "not
enough data", the last FIT_PERIODS["W"] = 156 weeks, then
`forecast(series, ForecastRequest(horizon=12, candidates=CANDIDATES_FAST, origins=2))`:
naive, drift, ets and theta backtested at two origins, the best (or the ensemble of the best)
refitted on all history. This bench times exactly that engine call; the database reads and
writes of a Celery chunk are not part of it.

The products are synthetic and deterministic: series i comes from
`numpy.random.default_rng([seed, i])`, so the first 1000 of a 10000-series run are the 1000 of
a 1000-series run. 104 weeks each, ending on END (a Monday), in this mix (shares are the
expected ones, drawn per series):

  steady        30%  gamma-Poisson (over-dispersed) units around a level of 1-300 a week
  trend_up      10%  the same, the level growing 1.5-4x over the two years
  trend_down    10%  the level falling to 0.15-0.7x of its start
  seasonal      20%  a yearly swell (+-10-40%) and a Black Friday / Christmas peak
                     (ISO weeks 47-51, up to ~3x), a January dip
  intermittent  20%  a sale in 5-40% of the weeks, 1 + Poisson(0-3) units when it sells
  new           10%  launched 20-60 weeks before the end (ramp-up of 1-8 weeks); before the
                     launch there is nothing, so the series is 20-60 weeks long

A product that sold fewer than 20 units in the 104 weeks (FORECASTS_PRODUCT_MIN_UNITS: the
refresh gives it no series) is drawn again; that only happens to intermittent ones (~2.5%).

Each worker count W runs the same series in a `multiprocessing` pool of W fresh (spawned)
processes; the series are cut into chunks of --chunk (50, FORECASTS_CHUNK_SIZE) and a worker
takes the next chunk when it finishes one, as Celery workers take chunk tasks off `ml_cpu`.
Every worker imports the engine and forecasts one warm-up series before the clock starts
(a Celery worker is long-lived; its start-up is reported apart). Recorded per W: wall
seconds, series per second, per-series median / p95 / max seconds (the `forecast` call),
CPU seconds per wall second of each worker (1.0 = it had a core to itself), peak RSS of each
worker (getrusage ru_maxrss in the worker; psutil's current RSS too when installed), the
chosen model per series shape, where the time goes (backtest seconds per candidate as the
engine reports them; the rest of the call is the refit of the winner, the transform choice
and the scoring), and failures: ForecastError/ModelError are stored as a failed forecast by
the refresh; any other exception would fail the whole Celery chunk (reported as "crash").

Usage (from the project root; no database needed):

    .venv/bin/python bench/bench_forecast_scale.py                      # 1000 series, W=1,2
    .venv/bin/python bench/bench_forecast_scale.py --series 10000 --workers 2 --json out.json
    .venv/bin/python bench/bench_forecast_scale.py --series 200 --workers 1 --profile 100

On the 2-core dev box (AMD EPYC) with nothing else running, 1000 series took 195 s with one
worker and 99 s with two (10 series/s, 99% efficiency), ~0.2 CPU s per series; 10000 with two
took 27 min beside a test suite (workers at 0.67 CPU/wall), ~18 min from its CPU seconds.
A worker whose CPU/wall is well below 1 shared its core: its times measure the machine.

Prints markdown tables on stdout, progress on stderr. `--profile K` also profiles the first K
series in the main process (cProfile) and prints where their time goes, function by function.
Results move with the engine and with whatever else runs on the machine: the output records
the commit and a hash of apps/forecasts/engine/*.py, the load average at start and end, and
each worker's CPU share.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_forecast_accuracy import cpu_model, engine_version  # noqa: E402

from apps.forecasts.engine.forecaster import (  # noqa: E402
    CANDIDATES_FAST,
    ForecastError,
    ForecastRequest,
    forecast,
)
from apps.forecasts.engine.models import ModelError  # noqa: E402
from apps.forecasts.engine.series import Series, series_build  # noqa: E402

# The product request of the nightly refresh (services/runs.py `forecast_request`, product
# level; HORIZONS["W"] = 12) and its guards (MIN_HISTORY, FIT_PERIODS["W"], and series_sync's
# FORECASTS_PRODUCT_MIN_UNITS). Copied rather than imported: they need Django settings.
REQUEST = ForecastRequest(horizon=12, candidates=CANDIDATES_FAST, origins=2)
MIN_HISTORY = 8
FIT_PERIODS_W = 156
MIN_UNITS = 20  # settings.FORECASTS_PRODUCT_MIN_UNITS: fewer units in the window, no series
WEEKS = 104
END = date(2026, 10, 26)  # Monday: the last full week of history; the horizon holds BF/Xmas
SEED = 20260
SHAPES = (
    ("steady", 0.30),
    ("trend_up", 0.10),
    ("trend_down", 0.10),
    ("seasonal", 0.20),
    ("intermittent", 0.20),
    ("new", 0.10),
)
# Black Friday (ISO week 47), Cyber week, the Christmas run-up, then the January dip.
PEAK = {47: 2.6, 48: 1.8, 49: 1.5, 50: 1.8, 51: 2.2, 52: 0.9, 1: 0.6, 2: 0.75}
OK, NOT_ENOUGH_DATA, FAILED, CRASH = "ok", "not_enough_data", "failed", "crash"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- synthetic products -----------------------------------------------------------------------


def week_dates(weeks: int = WEEKS, end: date = END) -> list[date]:
    return [end - timedelta(weeks=weeks - 1 - k) for k in range(weeks)]


def _counts(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Gamma-Poisson units around `mean` (variance mean + mean^2 / dispersion)."""
    rate = rng.gamma(dispersion, np.maximum(mean, 1e-9) / dispersion)
    return rng.poisson(rate).astype(float)


def _draw(shape: str, rng: np.random.Generator) -> np.ndarray:
    """104 weekly unit counts of one product of this shape."""
    t = np.arange(WEEKS, dtype=float)
    dispersion = float(rng.uniform(5, 50))
    if shape == "steady":
        level = np.exp(rng.uniform(np.log(1), np.log(300)))
        units = _counts(rng, np.full(WEEKS, level), dispersion)
    elif shape in ("trend_up", "trend_down"):
        start = np.exp(rng.uniform(np.log(2), np.log(100)))
        ratio = rng.uniform(1.5, 4.0) if shape == "trend_up" else rng.uniform(0.15, 0.7)
        if rng.random() < 0.5:  # exponential or linear change
            mean = start * ratio ** (t / (WEEKS - 1))
        else:
            mean = start * (1 + (ratio - 1) * t / (WEEKS - 1))
        units = _counts(rng, mean, dispersion)
    elif shape == "seasonal":
        level = np.exp(rng.uniform(np.log(3), np.log(200)))
        swell = rng.uniform(0.1, 0.4)
        crest = rng.uniform(0, 52)  # week of the yearly high besides the holiday peak
        intensity = rng.uniform(0.5, 1.5)
        weeks_of_year = np.array([day.isocalendar()[1] for day in week_dates()])
        yearly = 1 + swell * np.cos(2 * np.pi * (weeks_of_year - crest) / 52)
        peak = np.array([1 + intensity * (PEAK.get(int(w), 1.0) - 1) for w in weeks_of_year])
        units = _counts(rng, level * yearly * peak, dispersion)
    elif shape == "intermittent":
        sells = rng.random(WEEKS) < rng.uniform(0.05, 0.4)
        units = np.where(sells, 1 + rng.poisson(rng.uniform(0, 3), WEEKS), 0).astype(float)
    else:  # new
        history = int(rng.integers(20, 61))
        level = np.exp(rng.uniform(np.log(2), np.log(100)))
        age = np.arange(history, dtype=float)
        ramp = 1 - np.exp(-(age + 1) / rng.uniform(1, 8))
        units = np.zeros(WEEKS)
        units[WEEKS - history :] = _counts(rng, level * ramp, dispersion)
        units[WEEKS - history] = max(1.0, units[WEEKS - history])  # launch week sells
    return units


def product_units(index: int, seed: int = SEED) -> tuple[str, np.ndarray]:
    """The shape and the 104 weekly unit counts of synthetic product `index`.

    Drawn again (same generator, so still deterministic) while the product sold fewer than
    FORECASTS_PRODUCT_MIN_UNITS in the window: series_sync gives such a product no series.
    """
    rng = np.random.default_rng([seed, index])
    names = [name for name, _ in SHAPES]
    shares = np.array([share for _, share in SHAPES])
    shape = names[int(rng.choice(len(names), p=shares / shares.sum()))]
    units = _draw(shape, rng)
    while units.sum() < MIN_UNITS:
        units = _draw(shape, rng)
    return shape, units


@dataclass
class Product:
    index: int
    shape: str
    dates: list[date]
    units: np.ndarray  # from the first week with a sale, as series_load trims them


def product(index: int, seed: int = SEED) -> Product:
    shape, units = product_units(index, seed)
    dates = week_dates()
    nonzero = np.flatnonzero(units)
    start = int(nonzero[0]) if len(nonzero) else WEEKS - 1  # services/series _trim_leading_zeros
    return Product(index, shape, dates[start:], units[start:])


# --- the work of one worker -------------------------------------------------------------------


@dataclass
class Outcome:
    """One product's forecast in a worker."""

    index: int
    shape: str
    length: int
    zero_share: float
    status: str = OK
    model: str = ""
    members: list[str] = field(default_factory=list)
    transform: str = ""  # of the final fit (the backtest windows choose their own)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    backtest_seconds: dict[str, float] = field(default_factory=dict)
    backtested: bool = True  # False: too short for an origin, the fallback model was used
    error: str = ""
    pid: int = 0


def forecast_product(item: Product) -> Outcome:
    """The engine call of `runs.series_forecast` for one product, timed."""
    outcome = Outcome(
        item.index,
        item.shape,
        len(item.units),
        round(float(np.mean(item.units == 0)), 3),
        pid=os.getpid(),
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        # series_forecast checks the length first (series_load builds the Series directly;
        # series_build would refuse a one-week series with a SeriesError).
        if len(item.units) < MIN_HISTORY:
            raise ForecastError(
                f"{len(item.units)} weekly periods of history; at least {MIN_HISTORY} are needed"
            )
        series: Series = series_build(
            item.dates, item.units.tolist(), frequency="W", fill="zero", name=f"p{item.index}"
        )
        result = forecast(series.tail(FIT_PERIODS_W), REQUEST)
    except (ForecastError, ModelError) as error:
        outcome.status = (
            NOT_ENOUGH_DATA if "at least" in str(error) or "too short" in str(error) else FAILED
        )
        outcome.error = f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - the Celery chunk would die: a finding
        outcome.status = CRASH
        outcome.error = f"{type(error).__name__}: {error}"
    else:
        outcome.model = result.model
        outcome.members = list(result.members)
        outcome.transform = result.transform
        outcome.backtest_seconds = {
            score.model: score.seconds
            for score in result.backtest
            if score.mase is not None and score.model in REQUEST.candidates
        }
        outcome.backtested = any(score.origins for score in result.backtest)
        if not np.all(np.isfinite(result.mean)):
            outcome.status = FAILED
            outcome.error = "non-finite forecast"
    outcome.seconds = time.perf_counter() - started
    outcome.cpu_seconds = time.process_time() - cpu_started
    return outcome


_WORKER: dict[str, float] = {}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mib() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss / 2**20


def worker_start(barrier: Any, seed: int) -> None:
    """Import the engine and forecast one product (lazy imports of statsmodels), then wait
    for the other workers: the clock starts when every worker is ready."""
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    forecast_product(product(0, seed))
    _WORKER["warmup_seconds"] = time.perf_counter() - started
    _WORKER["warm_rss_mib"] = _peak_rss_mib()
    barrier.wait()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _WORKER["cpu_at_start"] = usage.ru_utime + usage.ru_stime
    _WORKER["wall_at_start"] = time.perf_counter()


def forecast_chunk(items: list[Product]) -> dict[str, Any]:
    """One chunk, as one Celery task: every product in turn."""
    outcomes = [forecast_product(item) for item in items]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "pid": os.getpid(),
        "outcomes": outcomes,
        "peak_rss_mib": _peak_rss_mib(),
        "rss_mib": _current_rss_mib(),
        "warm_rss_mib": _WORKER.get("warm_rss_mib"),
        "warmup_seconds": _WORKER.get("warmup_seconds"),
        "cpu_seconds": usage.ru_utime + usage.ru_stime - _WORKER.get("cpu_at_start", 0.0),
        "busy_until": time.perf_counter() - _WORKER.get("wall_at_start", time.perf_counter()),
    }


# --- a run with W workers ---------------------------------------------------------------------


def run_pool(products: Sequence[Product], workers: int, chunk: int, seed: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    chunks = [list(products[i : i + chunk]) for i in range(0, len(products), chunk)]
    started = time.perf_counter()
    pool = context.Pool(workers, initializer=worker_start, initargs=(barrier, seed))
    outcomes: list[Outcome] = []
    per_worker: dict[int, dict[str, Any]] = {}
    try:
        barrier.wait(timeout=600)
        startup = time.perf_counter() - started
        log(f"W={workers}: {workers} worker(s) ready in {startup:.1f} s; {len(chunks)} chunks")
        began = time.perf_counter()
        last_report = began
        for done, report in enumerate(pool.imap_unordered(forecast_chunk, chunks), 1):
            outcomes.extend(report["outcomes"])
            mine = per_worker.setdefault(report["pid"], {"chunks": 0, "series": 0})
            mine["chunks"] += 1
            mine["series"] += len(report["outcomes"])
            mine["peak_rss_mib"] = max(mine.get("peak_rss_mib", 0.0), report["peak_rss_mib"])
            for key in ("rss_mib", "warm_rss_mib", "warmup_seconds", "cpu_seconds", "busy_until"):
                mine[key] = report[key]
            now = time.perf_counter()
            if now - last_report > 30 or done == len(chunks):
                last_report = now
                rate = len(outcomes) / (now - began)
                left = (len(products) - len(outcomes)) / rate if rate else float("nan")
                log(
                    f"W={workers}: {len(outcomes)}/{len(products)} series, {now - began:.0f} s, "
                    f"{rate:.2f} series/s, ~{left / 60:.1f} min left; load "
                    f"{[round(x, 2) for x in os.getloadavg()]}"
                )
        wall = time.perf_counter() - began
    finally:
        pool.close()
        pool.join()
    outcomes.sort(key=lambda o: o.index)
    return summarise(workers, chunk, outcomes, per_worker, wall, startup)


def _quantile(values: Sequence[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None


def chosen_label(outcome: Outcome) -> str:
    if outcome.status != OK:
        return outcome.status
    return outcome.model


def summarise(
    workers: int,
    chunk: int,
    outcomes: list[Outcome],
    per_worker: dict[int, dict[str, Any]],
    wall: float,
    startup: float,
) -> dict[str, Any]:
    seconds = [o.seconds for o in outcomes]
    for info in per_worker.values():
        info["cpu_per_wall"] = (
            round(info["cpu_seconds"] / info["busy_until"], 3) if info["busy_until"] else None
        )
    by_shape: dict[str, dict[str, Any]] = {}
    for shape, _ in SHAPES:
        mine = [o for o in outcomes if o.shape == shape]
        if not mine:
            continue
        times = [o.seconds for o in mine]
        by_shape[shape] = {
            "n": len(mine),
            "median_length": float(np.median([o.length for o in mine])),
            "median_zero_share": float(np.median([o.zero_share for o in mine])),
            "median_seconds": _quantile(times, 0.5),
            "p95_seconds": _quantile(times, 0.95),
            "max_seconds": max(times),
            "chosen": dict(Counter(chosen_label(o) for o in mine).most_common()),
            "no_backtest": sum(1 for o in mine if o.status == OK and not o.backtested),
        }
    backtest: dict[str, float] = defaultdict(float)
    for o in outcomes:
        for model, spent in o.backtest_seconds.items():
            backtest[model] += spent
    failures = [o for o in outcomes if o.status in (FAILED, CRASH)]
    unbacktested = [o for o in outcomes if o.status == OK and not o.backtested]
    messages: dict[str, dict[str, Any]] = {}
    for o in failures:
        key = o.error[:200]
        entry = messages.setdefault(key, {"count": 0, "status": o.status, "first": o.index})
        entry["count"] += 1
    ensembles = Counter("+".join(sorted(o.members)) for o in outcomes if o.members)
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    return {
        "workers": workers,
        "chunk": chunk,
        "series": len(outcomes),
        "wall_seconds": round(wall, 2),
        "startup_seconds": round(startup, 2),
        "series_per_second": round(len(outcomes) / wall, 3) if wall else None,
        "median_seconds": _quantile(seconds, 0.5),
        "p95_seconds": _quantile(seconds, 0.95),
        "max_seconds": max(seconds) if seconds else None,
        "sum_seconds": round(sum(seconds), 2),
        "sum_cpu_seconds": round(sum(o.cpu_seconds for o in outcomes), 2),
        "backtest_seconds": {k: round(backtest[k], 2) for k in REQUEST.candidates if k in backtest},
        "statuses": dict(Counter(o.status for o in outcomes).most_common()),
        "chosen": dict(Counter(chosen_label(o) for o in outcomes).most_common()),
        "ensemble_members": dict(ensembles.most_common()),
        "final_transforms": dict(
            Counter(o.transform for o in outcomes if o.status == OK).most_common()
        ),
        "no_backtest": {
            "count": len(unbacktested),
            "lengths": sorted(Counter(o.length for o in unbacktested).items()),
            "chosen": dict(Counter(o.model for o in unbacktested).most_common()),
        },
        "by_shape": by_shape,
        "failures": len(failures),
        "failure_messages": messages,
        "not_enough_data": sum(1 for o in outcomes if o.status == NOT_ENOUGH_DATA),
        "per_worker": {str(pid): info for pid, info in sorted(per_worker.items())},
        "slowest": [
            {
                "index": o.index,
                "shape": o.shape,
                "length": o.length,
                "seconds": round(o.seconds, 3),
                "model": o.model,
            }
            for o in slowest
        ],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "outcomes": outcomes,
    }


# --- output -----------------------------------------------------------------------------------


def _n(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_run(run: dict[str, Any]) -> None:
    workers = run["workers"]
    print(f"\n## W = {workers} worker process{'es' if workers > 1 else ''}\n")
    print(
        f"{run['series']} series, chunks of {run['chunk']}; worker start-up (spawn, imports, one "
        f"warm-up forecast) {run['startup_seconds']:.1f} s, not in the wall time. Load average "
        f"at end {run['load_average_at_end']}.\n"
    )
    print(
        "| worker pid | chunks | series | CPU s | busy s | CPU/wall | peak RSS MiB "
        "| RSS after warm-up MiB | RSS at end MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for pid, info in run["per_worker"].items():
        print(
            f"| {pid} | {info['chunks']} | {info['series']} | {info['cpu_seconds']:.1f} "
            f"| {info['busy_until']:.1f} | {_n(info['cpu_per_wall'], 2)} "
            f"| {info['peak_rss_mib']:.0f} | {_n(info['warm_rss_mib'], 0)} "
            f"| {_n(info['rss_mib'], 0)} |"
        )
    models = ["naive", "drift", "ets", "theta", "ensemble", NOT_ENOUGH_DATA, FAILED, CRASH]
    print(
        "\nChosen model per shape (failed: ForecastError/ModelError, stored as a failed "
        "forecast; crash: any other exception, the chunk task would die):\n"
    )
    print(
        "| shape | n | median weeks | median zero weeks | median s | p95 s | max s | "
        + " | ".join(models)
        + " | of which no backtest |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(models) + 1))
    for shape, row in run["by_shape"].items():
        print(
            f"| {shape} | {row['n']} | {row['median_length']:.0f} "
            f"| {row['median_zero_share']:.0%} | {_n(row['median_seconds'])} "
            f"| {_n(row['p95_seconds'])} | {_n(row['max_seconds'])} | "
            + " | ".join(str(row["chosen"].get(model, 0)) for model in models)
            + f" | {row['no_backtest']} |"
        )
    print(
        f"| all | {run['series']} | | | {_n(run['median_seconds'])} | {_n(run['p95_seconds'])} "
        f"| {_n(run['max_seconds'])} | "
        + " | ".join(str(run["chosen"].get(model, 0)) for model in models)
        + f" | {run['no_backtest']['count']} |"
    )
    if run["no_backtest"]["count"]:
        lengths = ", ".join(f"{k} weeks: {v}" for k, v in run["no_backtest"]["lengths"])
        chosen = ", ".join(f"{k} {v}" for k, v in run["no_backtest"]["chosen"].items())
        print(
            f"\nNo backtest (history shorter than the {REQUEST.horizon}-week horizon plus the "
            f"shortest training window): {run['no_backtest']['count']} series ({lengths}); the "
            f"engine's fallback model was used: {chosen}."
        )
    print(
        "\nTransform of the final fit: "
        + ", ".join(f"{k} {v}" for k, v in run["final_transforms"].items())
    )
    if run["ensemble_members"]:
        print(
            "\nEnsembles chosen: "
            + ", ".join(f"{k} {v}" for k, v in run["ensemble_members"].items())
        )
    total = run["sum_seconds"]
    spent = run["backtest_seconds"]
    rest = total - sum(spent.values())
    print("\nWhere the time of the forecast calls goes (sum over series, seconds):\n")
    print("| part | s | share |")
    print("|---|---:|---:|")
    for model, value in spent.items():
        print(f"| backtest {model} (2 origins) | {value:.1f} | {value / total:.0%} |")
    print(
        f"| rest: refit of the winner, transform choice, thread cap, series build | {rest:.1f} "
        f"| {rest / total:.0%} |"
    )
    print(
        f"| all series (series_build + `forecast`; CPU s {run['sum_cpu_seconds']:.1f}) | {total:.1f} | 100% |"
    )
    print(
        "\nSlowest series: "
        + "; ".join(
            f"#{s['index']} {s['shape']} ({s['length']} weeks, {s['model'] or '-'}) {s['seconds']} s"
            for s in run["slowest"]
        )
    )
    if run["failure_messages"]:
        print(f"\nFailures: {run['failures']}\n")
        print("| count | kind | first series | message |")
        print("|---:|---|---:|---|")
        for message, entry in list(run["failure_messages"].items())[:10]:
            text = message.replace("|", "/").replace("\n", " ")
            print(f"| {entry['count']} | {entry['status']} | {entry['first']} | {text} |")
    else:
        print("\nFailures: 0")


def print_overview(runs: list[dict[str, Any]]) -> None:
    print("\n## Summary\n")
    base = next((r for r in runs if r["workers"] == 1), None)
    print(
        "| workers | series | wall s | series/s | median s/series | p95 s/series "
        "| max peak RSS/worker MiB | CPU/wall per worker | failed | crash | not enough data "
        "| speed-up | efficiency |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        speedup = efficiency = None
        if base is not None and base["series"] == run["series"]:
            speedup = base["wall_seconds"] / run["wall_seconds"]
            efficiency = speedup / run["workers"]
        peak = max(info["peak_rss_mib"] for info in run["per_worker"].values())
        shares = [info["cpu_per_wall"] or 0.0 for info in run["per_worker"].values()]
        print(
            f"| {run['workers']} | {run['series']} | {run['wall_seconds']:.1f} "
            f"| {run['series_per_second']:.2f} | {_n(run['median_seconds'])} "
            f"| {_n(run['p95_seconds'])} | {peak:.0f} | {np.mean(shares):.2f} "
            f"| {run['statuses'].get(FAILED, 0)} | {run['statuses'].get(CRASH, 0)} "
            f"| {run['not_enough_data']} | {_n(speedup, 2)} | "
            + ("-" if efficiency is None else f"{efficiency:.0%}")
            + " |"
        )


def profile(products: Sequence[Product], top: int = 25) -> None:
    """cProfile of `forecast_product` over these products in this process."""
    import cProfile
    import io
    import pstats

    warnings.simplefilter("ignore")
    forecast_product(products[0])  # imports out of the profile
    profiler = cProfile.Profile()
    profiler.enable()
    for item in products:
        forecast_product(item)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer).sort_stats("cumulative")
    stats.print_stats(top)
    print(f"\n## Profile of {len(products)} series in one process (cumulative, top {top})\n")
    print("```")
    print(buffer.getvalue().strip())
    print("```")


def machine() -> dict[str, Any]:
    import pandas as pd
    import scipy
    import statsmodels

    return {
        "date": datetime.now().isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "niceness": os.nice(0),
        "python": platform.python_version(),
        "engine": engine_version(),
        "versions": {
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000, help="Products (default 1000).")
    parser.add_argument(
        "--workers", default="1,2", help="Comma-separated worker counts (default 1,2)."
    )
    parser.add_argument("--chunk", type=int, default=50, help="Series per chunk (default 50).")
    parser.add_argument("--seed", type=int, default=SEED, help=f"Data seed (default {SEED}).")
    parser.add_argument(
        "--profile", type=int, default=0, help="Also cProfile this many series in-process."
    )
    parser.add_argument("--json", type=Path, help="Also write every result to this file.")
    options = parser.parse_args()
    workers = [int(part) for part in options.workers.split(",") if part.strip()]
    if options.series < 1 or options.chunk < 1 or not workers or min(workers) < 1:
        parser.error("--series, --chunk and every worker count must be at least 1")

    about = machine()
    print("# Forecasting product series at scale (auto selector, product request)\n")
    print(
        f"Date {about['date']}; {about['nproc']} CPUs ({about['cpu_model']}), load average at "
        f"start {about['load_average_at_start']}, niceness {about['niceness']}; python "
        f"{about['python']}, " + ", ".join(f"{k} {v}" for k, v in about["versions"].items())
    )
    engine = about["engine"]
    print(
        f"\nEngine: commit {engine['commit']}"
        + (" with uncommitted changes" if engine["dirty"] else "")
        + f", apps/forecasts/engine/*.py sha256 {engine['sources_sha256']}"
    )
    print(
        f"\nRequest: horizon {REQUEST.horizon}, candidates {', '.join(REQUEST.candidates)}, "
        f"origins {REQUEST.origins}, transform {REQUEST.transform}; {WEEKS} weeks ending "
        f"{END.isoformat()}, seed {options.seed}"
    )
    print("\nCommand: " + " ".join([Path(sys.executable).name, *sys.argv]))

    started = time.perf_counter()
    products = [product(i, options.seed) for i in range(options.series)]
    shapes = Counter(item.shape for item in products)
    log(f"{len(products)} products generated in {time.perf_counter() - started:.1f} s")
    print(
        "\nProducts: "
        + ", ".join(f"{shape} {shapes.get(shape, 0)}" for shape, _ in SHAPES)
        + f"; history {min(len(p.units) for p in products)}-"
        f"{max(len(p.units) for p in products)} weeks (median "
        f"{np.median([len(p.units) for p in products]):.0f}), zero weeks "
        f"{np.mean([np.mean(p.units == 0) for p in products]):.0%} on average"
    )

    runs = []
    for count in workers:
        # The workers import the engine when they start: a source edit between two pools
        # would compare two engines. Recorded per pool, flagged in the summary.
        sources = engine_version()["sources_sha256"]
        run = run_pool(products, count, options.chunk, options.seed)
        run["engine_sources_sha256"] = sources
        runs.append(run)
        print_run(run)
        sys.stdout.flush()
    print_overview(runs)
    hashes = {run["engine_sources_sha256"] for run in runs} | {about["engine"]["sources_sha256"]}
    if len(hashes) > 1:
        print(
            "\n**The engine sources changed during the run** (sha256 "
            + ", ".join(f"W={run['workers']}: {run['engine_sources_sha256']}" for run in runs)
            + "): the pools did not run the same code."
        )
    if options.profile:
        profile(products[: options.profile])
    print(f"\nLoad average at end {[round(x, 2) for x in os.getloadavg()]}")
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "machine": about,
                    "request": {
                        "horizon": REQUEST.horizon,
                        "candidates": list(REQUEST.candidates),
                        "origins": REQUEST.origins,
                        "weeks": WEEKS,
                        "end": END.isoformat(),
                        "seed": options.seed,
                        "chunk": options.chunk,
                    },
                    "products": dict(shapes),
                    "runs": [
                        {**run, "outcomes": [asdict(o) for o in run["outcomes"]]} for run in runs
                    ],
                },
                indent=1,
                default=str,
            )
        )
        log(f"wrote {options.json}")


if __name__ == "__main__":
    main()
