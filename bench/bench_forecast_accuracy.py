"""Out-of-sample accuracy of every forecasting model on real series shipped inside packages.

Each series comes from a package already installed (pmdarima.datasets, statsmodels.datasets,
the CDNOW purchase log that ships with lifetimes): nothing is downloaded. Its last h periods
(monthly 12, quarterly 8, weekly 13, yearly 6) are held out; every model of
`apps.forecasts.engine.models.MODELS` (the LSTM included), `model="ensemble"` and
`model="auto"` forecast them from the rest through `forecaster.forecast(ForecastRequest(...))`
with the defaults a user gets (auto Box-Cox, candidates CANDIDATES_FULL, 3 backtest origins).
auto and the ensemble choose by rolling-origin backtest on the training part only; the holdout
is seen by nothing but the scoring. Scores on the holdout: MASE (scaled by the in-sample
seasonal naive MAE of the training part, `metrics.mase`), sMAPE, and the share of held-out
points inside the 80% and 95% intervals.

No fit is done twice for nothing (the run takes about 3 minutes on 2 cores, 9 with --windows 3):

- a single model is asked with `origins=0` (no backtest: it would not change its forecast);
  "s" is the call: one fit on the training part;
- auto is the default request (3 origins); "s" is the whole call, what a user waits for;
- the ensemble is `model="ensemble"` with `candidates` = the members auto's identical backtest
  ranked best and `origins=1`: the same members refitted on the same history, so the same
  forecast as the default ensemble request; its "s" is auto's backtest seconds plus its own
  refit, what the default request costs.

Results move with the engine: the output records the git commit and a hash of
apps/forecasts/engine/*.py (with "dirty" when they differ from the commit).

"airline" was used while the engine was built (the forecast command reproduces its model):
it is the development series. Every other series is untuned: none was looked at while the
engine was built (once results from here drive engine changes, they stop being untuned: add
fresh series then). The untuned monthly sales series (wineind: Australian wine sales;
elec_equip: euro-area turnover of electrical equipment makers) are summarised separately.

Usage (from the project root; no database needed):

    .venv/bin/python bench/bench_forecast_accuracy.py
    .venv/bin/python bench/bench_forecast_accuracy.py --series wineind elec_equip --json out.json
    .venv/bin/python bench/bench_forecast_accuracy.py --models naive ets auto --windows 3

Prints markdown tables on stdout (per series, then the summaries) and progress on stderr.
`--windows N` scores the last N non-overlapping holdouts of each series (N times the work).

Threads: `--threads 1` (the default) caps OpenBLAS/OpenMP (threadpoolctl) and torch at one
thread for the whole run. The engine now does the same inside `forecast` and the LSTM; before
it did, with the default pools of 2 threads and another job keeping both cores busy, one
SARIMA search on austres took 125 s instead of 2 s and one LSTM fit on cdnow_weekly 117 s
instead of 2.7 s (spinning thread pools). The cap keeps runs against such engine versions
comparable; `--threads 0` leaves the libraries' defaults.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.forecasts.engine import metrics  # noqa: E402
from apps.forecasts.engine.forecaster import (  # noqa: E402
    AUTO_MODEL,
    ForecastError,
    ForecastRequest,
    forecast,
)
from apps.forecasts.engine.models import ENSEMBLE, ETS, MODELS, NAIVE  # noqa: E402
from apps.forecasts.engine.series import Series, series_build  # noqa: E402

HORIZONS = {"M": 12, "Q": 8, "W": 13, "Y": 6}
ALL_MODELS = (*MODELS, AUTO_MODEL, ENSEMBLE)  # auto before the ensemble: it reuses its ranking
TIE = 0.001  # MASE differences below this (the printed precision) are ties
DEVELOPMENT = "development"
UNTUNED = "untuned"


@dataclass(frozen=True)
class SeriesSpec:
    """One benchmark series: where it comes from, its frequency and what it measures."""

    name: str
    frequency: str
    load: Callable[[], tuple[list[date], np.ndarray]]
    source: str
    kind: str  # sales, production, demand, macro, natural, population
    role: str = UNTUNED


def _dates(start: str, periods: int, frequency: str) -> list[date]:
    alias = {"M": "MS", "Q": "QS", "W": "W-MON", "Y": "YS"}[frequency]
    return [stamp.date() for stamp in pd.date_range(start, periods=periods, freq=alias)]


def _pmdarima(name: str, start: str, frequency: str) -> Callable[[], tuple[list[date], Any]]:
    def load() -> tuple[list[date], np.ndarray]:
        from pmdarima import datasets

        values = getattr(datasets, f"load_{name}")(as_series=True).to_numpy(dtype=float)
        if np.isnan(values[:-1]).any():
            raise SystemExit(f"{name}: missing values inside the series")
        values = values[~np.isnan(values)]  # ausbeer ends with an empty quarter
        return _dates(start, len(values), frequency), values

    return load


def _from_pandas(series: pd.Series) -> tuple[list[date], np.ndarray]:
    """Dates and values of a dated pandas series; empty periods are left for series_build
    to interpolate (it counts them in `filled`)."""
    series = series.dropna()
    return [stamp.date() for stamp in series.index], series.to_numpy(dtype=float)


def _elec_equip() -> tuple[list[date], np.ndarray]:
    from statsmodels.datasets import elec_equip

    data = elec_equip.load().data
    return _from_pandas(data.iloc[:, 0])


def _co2(frequency: str) -> Callable[[], tuple[list[date], np.ndarray]]:
    def load() -> tuple[list[date], np.ndarray]:
        from statsmodels.datasets import co2

        weekly = co2.load_pandas().data["co2"]
        if frequency == "M":
            return _from_pandas(weekly.resample("MS").mean())
        # The last 12 years only (626 weeks): years of weekly history, as a shop has.
        return _from_pandas(weekly.loc["1990":].resample("W-MON").mean())

    return load


def _realgdp() -> tuple[list[date], np.ndarray]:
    from statsmodels.datasets import macrodata

    values = macrodata.load_pandas().data["realgdp"].to_numpy(dtype=float)
    return _dates("1959-01-01", len(values), "Q"), values


def _yearly_statsmodels(module: str, column: str) -> Callable[[], tuple[list[date], Any]]:
    def load() -> tuple[list[date], np.ndarray]:
        import statsmodels.datasets

        data = getattr(statsmodels.datasets, module).load_pandas().data
        first = int(data.iloc[0, 0])
        return _dates(f"{first}-01-01", len(data), "Y"), data[column].to_numpy(dtype=float)

    return load


def _cdnow_weekly() -> tuple[list[date], np.ndarray]:
    """Weekly dollar sales of CDNOW's 1997 cohort (the purchase log shipped with lifetimes),
    complete Monday-Sunday weeks only."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise SystemExit("cdnow_weekly needs the lifetimes package (it ships the CDNOW log)")
    path = Path(spec.origin).parent / "datasets" / "CDNOW_master.txt"
    log = pd.read_csv(path, sep=r"\s+", header=0, names=["customer", "day", "cds", "dollars"])
    days = pd.to_datetime(log["day"].astype(str), format="%Y%m%d")
    week_start = days - pd.to_timedelta(days.dt.weekday, unit="D")
    weekly = log["dollars"].groupby(week_start).sum().sort_index()
    first_full = days.min() + pd.Timedelta(days=(7 - days.min().weekday()) % 7)
    last_full = (
        days.max() - pd.Timedelta(days=(days.max().weekday() + 1) % 7) - pd.Timedelta(6, "D")
    )
    weekly = weekly.loc[first_full:last_full]
    return [stamp.date() for stamp in weekly.index], weekly.to_numpy(dtype=float)


SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec(
        "airline",
        "M",
        _pmdarima("airpassengers", "1949-01-01", "M"),
        "pmdarima load_airpassengers (Box & Jenkins), 1949-1960",
        "demand",
        role=DEVELOPMENT,
    ),
    SeriesSpec(
        "wineind",
        "M",
        _pmdarima("wineind", "1980-01-01", "M"),
        "pmdarima load_wineind: Australian wine sales by winemakers (litres), 1980-1994",
        "sales",
    ),
    SeriesSpec(
        "elec_equip",
        "M",
        _elec_equip,
        "statsmodels elec_equip: euro-area turnover index, electrical equipment, 1995-2016",
        "sales",
    ),
    SeriesSpec(
        "co2_monthly",
        "M",
        _co2("M"),
        "statsmodels co2 (Mauna Loa, weekly) averaged by month, 1958-2001",
        "natural",
    ),
    SeriesSpec(
        "ausbeer",
        "Q",
        _pmdarima("ausbeer", "1956-01-01", "Q"),
        "pmdarima load_ausbeer: Australian beer production (megalitres), 1956-2008",
        "production",
    ),
    SeriesSpec(
        "woolyrnq",
        "Q",
        _pmdarima("woolyrnq", "1965-01-01", "Q"),
        "pmdarima load_woolyrnq: Australian woollen yarn production (tonnes), 1965-1994",
        "production",
    ),
    SeriesSpec(
        "austres",
        "Q",
        _pmdarima("austres", "1971-01-01", "Q"),
        "pmdarima load_austres: Australian residents (thousands), 1971-1993",
        "population",
    ),
    SeriesSpec(
        "realgdp",
        "Q",
        _realgdp,
        "statsmodels macrodata realgdp: US real GDP, 1959-2009 (holdout: the 2008 recession)",
        "macro",
    ),
    SeriesSpec(
        "co2_weekly",
        "W",
        _co2("W"),
        "statsmodels co2 (Mauna Loa) by week, 1990-2001",
        "natural",
    ),
    SeriesSpec(
        "cdnow_weekly",
        "W",
        _cdnow_weekly,
        "lifetimes CDNOW_master: weekly $ sales of CDNOW's Q1-1997 cohort, 1997-1998",
        "sales",
    ),
    SeriesSpec(
        "lynx",
        "Y",
        _pmdarima("lynx", "1821-01-01", "Y"),
        "pmdarima load_lynx: Canadian lynx trappings, 1821-1934 (10-year cycle)",
        "natural",
    ),
    SeriesSpec(
        "sunspots",
        "Y",
        _yearly_statsmodels("sunspots", "SUNACTIVITY"),
        "statsmodels sunspots: yearly sunspot activity, 1700-2008 (11-year cycle, zeros)",
        "natural",
    ),
)


@dataclass
class Outcome:
    """One model on one holdout window of one series."""

    series: str
    window: int  # 0 = the last h periods, 1 = the h before those ...
    model: str
    fitted_as: str = ""
    mase: float | None = None
    smape: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    seconds: float | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def engine_version() -> dict[str, Any]:
    """The commit, and a hash of the engine's sources as they are (they may be uncommitted)."""
    root = Path(__file__).resolve().parent.parent
    engine = root / "apps" / "forecasts" / "engine"
    digest = hashlib.sha256()
    for path in sorted(engine.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", *arguments], cwd=root, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--", str(engine))),
        "sources_sha256": digest.hexdigest()[:12],
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ("unknown" elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux
    return "unknown"


def machine() -> dict[str, Any]:
    import pmdarima
    import statsmodels
    import torch
    from threadpoolctl import threadpool_info

    return {
        "date": datetime.now().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "engine": engine_version(),
        "torch_threads": torch.get_num_threads(),
        "blas_threads": sorted({pool["num_threads"] for pool in threadpool_info()}),
        "versions": {
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "statsmodels": statsmodels.__version__,
            "pmdarima": pmdarima.__version__,
            "torch": torch.__version__,
        },
    }


@dataclass
class AutoRanking:
    """What the ensemble run reuses from auto's backtest of the same training part."""

    members: tuple[str, ...] = ()
    backtest_seconds: float = 0.0


def run_model(
    spec: SeriesSpec,
    train: Series,
    actual: np.ndarray,
    model: str,
    window: int,
    ranking: AutoRanking,
) -> Outcome:
    """Forecast the holdout with one model through the engine's `forecast` and score it."""
    outcome = Outcome(spec.name, window, model)
    horizon = len(actual)
    if model == ENSEMBLE and ranking.members:
        request = ForecastRequest(
            horizon=horizon, model=model, candidates=ranking.members, origins=1
        )
    elif model in (AUTO_MODEL, ENSEMBLE):  # the default request (ensemble: auto found none)
        request = ForecastRequest(horizon=horizon, model=model)
    else:
        request = ForecastRequest(horizon=horizon, model=model, origins=0)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = forecast(train, request)
    except ForecastError as error:
        outcome.error = str(error)
        outcome.seconds = round(time.perf_counter() - started, 2)
        return outcome
    except Exception as error:  # noqa: BLE001 - an engine crash is a finding: record, go on
        outcome.error = f"CRASH {type(error).__name__}: {error}"
        outcome.seconds = round(time.perf_counter() - started, 2)
        return outcome
    total = time.perf_counter() - started
    backtest = sum(score.seconds for score in result.backtest)
    if model == AUTO_MODEL:
        outcome.seconds = round(total, 2)
        ensemble = [s for s in result.backtest if s.model == ENSEMBLE and s.members]
        ranking.members = tuple(ensemble[0].members) if ensemble else ()
        ranking.backtest_seconds = backtest
    elif model == ENSEMBLE and ranking.members:
        outcome.seconds = round(ranking.backtest_seconds + total - backtest, 2)
    else:
        outcome.seconds = round(total, 2)
    outcome.fitted_as = (
        f"{result.model}: {result.description}" if model == AUTO_MODEL else result.description
    )
    if result.model == ENSEMBLE:
        outcome.fitted_as = f"{result.model}: mean of {', '.join(sorted(result.members))}"
    outcome.notes = list(result.notes)
    mean = np.asarray(result.mean, dtype=float)
    if not np.all(np.isfinite(mean)):
        outcome.error = "non-finite forecast"
        return outcome
    outcome.mase = metrics.mase(actual, mean, train.values, train.season)
    outcome.smape = metrics.smape(actual, mean)
    outcome.coverage_80 = metrics.coverage(actual, result.lower[80], result.upper[80])
    outcome.coverage_95 = metrics.coverage(actual, result.lower[95], result.upper[95])
    return outcome


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_series_table(
    spec: SeriesSpec, full: Series, window: int, outcomes: list[Outcome]
) -> None:
    horizon = HORIZONS[spec.frequency]
    print(
        f"\n### {spec.name} ({spec.role}, {spec.kind}; {spec.source})\n\n"
        f"{len(full)} periods (frequency {spec.frequency}, season {full.season}, "
        f"{full.filled} filled), holdout: last {horizon}"
        + (f" before the last {window * horizon}" if window else "")
        + f" from {full.dates[len(full) - (window + 1) * horizon].isoformat()}\n"
    )
    print("| model | fitted as | MASE | sMAPE % | cover 80 | cover 95 | s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for outcome in outcomes:
        if outcome.error:
            text = outcome.error.replace("|", "/").replace("\n", " ")[:110]
            print(
                f"| {outcome.model} | FAILED: {text} | - | - | - | - | "
                f"{_number(outcome.seconds, 1)} |"
            )
            continue
        print(
            f"| {outcome.model} | {outcome.fitted_as[:70]} | {_number(outcome.mase)} "
            f"| {_number(outcome.smape, 2)} | {_number(outcome.coverage_80, 2)} "
            f"| {_number(outcome.coverage_95, 2)} | {_number(outcome.seconds, 2)} |"
        )
    notes: dict[str, list[str]] = {}
    for outcome in outcomes:
        for note in outcome.notes:
            notes.setdefault(note, []).append(outcome.model)
    for note, models in notes.items():
        print(f"\n- {', '.join(models)}: {note}")


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def print_summary(title: str, outcomes: list[Outcome], models: Sequence[str]) -> dict[str, Any]:
    cases = sorted({(o.series, o.window) for o in outcomes})
    print(
        f"\n## Summary: {title} ({len(cases)} holdouts: "
        f"{', '.join(sorted({o.series for o in outcomes}))})\n"
    )
    print("Means are over the holdouts where the model ran (n); failures are counted.\n")
    print(
        "| model | n | failed | mean MASE | median MASE | mean sMAPE % "
        "| cover 80 | cover 95 | mean s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for model in models:
        mine = [o for o in outcomes if o.model == model]
        ran = [o for o in mine if o.mase is not None]
        mases = [o.mase for o in ran]
        row = {
            "n": len(ran),
            "failed": sum(1 for o in mine if o.error),
            "mean_mase": _mean(mases),
            "median_mase": float(np.median(mases)) if mases else None,
            "mean_smape": _mean([o.smape for o in ran]),
            "coverage_80": _mean([o.coverage_80 for o in ran]),
            "coverage_95": _mean([o.coverage_95 for o in ran]),
            "mean_seconds": _mean([o.seconds for o in ran]),
        }
        rows[model] = row
        print(
            f"| {model} | {row['n']} | {row['failed']} "
            f"| {_number(row['mean_mase'])} | {_number(row['median_mase'])} "
            f"| {_number(row['mean_smape'], 2)} | {_number(row['coverage_80'], 2)} "
            f"| {_number(row['coverage_95'], 2)} | {_number(row['mean_seconds'], 2)} |"
        )
    duels = {}
    for rival in (NAIVE, ETS):
        if AUTO_MODEL not in models or rival not in models:
            continue
        wins = ties = losses = 0
        for case in cases:
            by_model = {o.model: o for o in outcomes if (o.series, o.window) == case}
            auto, other = by_model.get(AUTO_MODEL), by_model.get(rival)
            if auto is None or other is None or auto.mase is None or other.mase is None:
                continue
            if abs(auto.mase - other.mase) < TIE:
                ties += 1
            elif auto.mase < other.mase:
                wins += 1
            else:
                losses += 1
        duels[rival] = {"wins": wins, "ties": ties, "losses": losses}
        label = "seasonal naive" if rival == NAIVE else rival
        print(
            f"\nauto vs {label} by MASE: auto better on {wins}, tie on {ties} (MASE within "
            f"{TIE}), worse on {losses} of {wins + ties + losses} holdouts."
        )
    return {
        "title": title,
        "cases": [list(case) for case in cases],
        "models": rows,
        "auto_duels": duels,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--series",
        nargs="+",
        choices=[s.name for s in SERIES],
        help="Series to run (default: all).",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=ALL_MODELS,
        default=list(ALL_MODELS),
        help="Models to run (default: every model, ensemble, auto).",
    )
    parser.add_argument(
        "--windows",
        type=int,
        default=1,
        help="Non-overlapping holdouts per series, latest first (default 1).",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS/OpenMP/torch threads per fit (default 1; 0 = the libraries' defaults).",
    )
    parser.add_argument("--json", type=Path, help="Also write every result to this file.")
    options = parser.parse_args()
    if options.threads:
        # Load every library with a thread pool first: threadpoolctl caps the loaded ones.
        import pmdarima  # noqa: F401
        import statsmodels.tsa.api  # noqa: F401
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=options.threads)  # kept for the whole process
        torch.set_num_threads(options.threads)
    chosen = [s for s in SERIES if not options.series or s.name in options.series]
    models = [name for name in ALL_MODELS if name in options.models]  # auto before ensemble

    about = machine()
    print("# Forecast accuracy on real series (holdout of the last h periods)\n")
    print(
        f"Date {about['date']}; {about['nproc']} CPUs ({about['cpu_model']}), load average "
        f"at start {about['load_average_at_start']}; torch threads {about['torch_threads']}, "
        f"BLAS/OpenMP threads {about['blas_threads']}; "
        + ", ".join(f"{k} {v}" for k, v in about["versions"].items())
    )
    engine = about["engine"]
    print(
        f"\nEngine: commit {engine['commit']}"
        + (" with uncommitted changes" if engine["dirty"] else "")
        + f", apps/forecasts/engine/*.py sha256 {engine['sources_sha256']}"
    )
    print("\nCommand: " + " ".join([Path(sys.executable).name, *sys.argv]))

    began = time.perf_counter()
    outcomes: list[Outcome] = []
    series_info = {}
    for spec in chosen:
        dates, values = spec.load()
        full = series_build(dates, values, frequency=spec.frequency, name=spec.name)
        horizon = HORIZONS[spec.frequency]
        series_info[spec.name] = {
            "source": spec.source,
            "kind": spec.kind,
            "role": spec.role,
            "frequency": spec.frequency,
            "periods": len(full),
            "filled": full.filled,
            "first": full.dates[0].isoformat(),
            "last": full.dates[-1].isoformat(),
            "horizon": horizon,
        }
        for window in range(options.windows):
            cut = len(full) - (window + 1) * horizon
            train = full.head(cut)
            actual = full.values[cut : cut + horizon]
            mine = []
            ranking = AutoRanking()
            for model in models:
                log(f"{spec.name} window {window}: {model} ...")
                outcome = run_model(spec, train, actual, model, window, ranking)
                log(
                    f"  MASE {_number(outcome.mase)} in {_number(outcome.seconds, 1)} s "
                    f"{outcome.error[:120]}"
                )
                mine.append(outcome)
            outcomes.extend(mine)
            print_series_table(spec, full, window, mine)
    wall = time.perf_counter() - began

    summaries = [print_summary("all series", outcomes, models)]
    untuned = [o for o in outcomes if series_info[o.series]["role"] == UNTUNED]
    if untuned and len(untuned) != len(outcomes):
        summaries.append(print_summary("untuned series", untuned, models))
    monthly_sales = [
        o
        for o in untuned
        if series_info[o.series]["kind"] == "sales" and series_info[o.series]["frequency"] == "M"
    ]
    if monthly_sales:
        summaries.append(print_summary("untuned monthly sales series", monthly_sales, models))
    sales_like = [o for o in untuned if series_info[o.series]["kind"] in ("sales", "production")]
    if sales_like and len(sales_like) != len(monthly_sales):
        summaries.append(
            print_summary("untuned sales and production series, any frequency", sales_like, models)
        )
    print(
        f"\nWall time {wall:.0f} s ({wall / 60:.1f} min); load average at end "
        f"{[round(x, 2) for x in os.getloadavg()]}"
    )
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "machine": about,
                    "wall_seconds": round(wall, 1),
                    "series": series_info,
                    "outcomes": [asdict(o) for o in outcomes],
                    "summaries": summaries,
                },
                indent=2,
                default=str,
            )
        )
        log(f"wrote {options.json}")


if __name__ == "__main__":
    main()
