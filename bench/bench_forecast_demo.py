"""Forecast accuracy per model on the demo shop's own series (rolling-origin backtest).

Reads the series the nightly refresh forecasts (shop revenue and units per day, week and
month, weekly categories, new customers, and a sample of product series) from the database
Django is configured with (the `make demo` SQLite by default, or DATABASE_URL), and runs the
engine's backtest with every model as a candidate (the LSTM included), 3 origins, the
horizon of each frequency. Every score is out of sample: each origin's model saw only the
history before it. Prints per-level tables of mean MASE, sMAPE and 80/95% coverage per
model, and how often each model (and the auto choice) wins; --json writes everything.

    .venv/bin/python bench/bench_forecast_demo.py [--products 40] [--categories 12] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALL_MODELS = ("naive", "drift", "arima", "sarima", "ets", "theta", "lstm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=40, help="Product series sampled.")
    parser.add_argument("--categories", type=int, default=12, help="Category series sampled.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="Write all scores here.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmkt.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from apps.forecasts.engine.forecaster import ForecastRequest, forecast
    from apps.forecasts.models import ForecastSeries
    from apps.forecasts.services.runs import FIT_PERIODS
    from apps.forecasts.services.series import (
        HORIZONS,
        series_load,
        series_sync,
        series_with_regressors,
    )

    series_sync()
    rows = list(ForecastSeries.objects.filter(active=True, level__in=["shop", "customers"]))
    for level, count in (("category", args.categories), ("product", args.products)):
        sample = list(ForecastSeries.objects.filter(active=True, level=level).order_by("key"))
        random.Random(args.seed).shuffle(sample)
        rows += sample[:count]
    loaded = series_load(rows)
    scores: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    wins: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = time.perf_counter()
    for index, row in enumerate(rows, start=1):
        series = loaded[row.pk].tail(FIT_PERIODS[row.frequency])
        horizon = HORIZONS[row.frequency]
        series, future = series_with_regressors(row, series, horizon)
        group = f"{row.level} {row.get_frequency_display().lower()}"
        try:
            result = forecast(
                series,
                ForecastRequest(
                    horizon=horizon, candidates=ALL_MODELS, origins=3, exog_future=future
                ),
            )
        except ValueError as error:
            print(f"{row.key}: {error}", file=sys.stderr)
            continue
        ranked = [s for s in result.backtest if s.mase is not None]
        for score in ranked:
            scores[group][score.model].append(score.__dict__)
        if ranked:
            best = min(ranked, key=lambda s: s.mase)
            wins[group][best.model] += 1
            wins[group]["(auto chose) " + result.model] += 1
        print(
            f"[{index}/{len(rows)}] {row.key}: {result.model} ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
    print(
        f"# Forecast accuracy on the demo shop's series ({datetime.now():%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()})\n"
    )
    print(f"{len(rows)} series, {time.perf_counter() - started:.0f} s\n")
    for group in sorted(scores):
        print(f"## {group} ({max(len(v) for v in scores[group].values())} series)\n")
        print(
            "| model | series | mean MASE | median MASE | mean sMAPE % | cover 80 | cover 95 | mean s |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for model, rows_ in sorted(
            scores[group].items(), key=lambda kv: sum(r["mase"] for r in kv[1]) / len(kv[1])
        ):
            mases = sorted(r["mase"] for r in rows_)
            mean = {
                key: sum(r[key] for r in rows_) / len(rows_)
                for key in ("mase", "smape", "coverage_80", "coverage_95", "seconds")
            }
            print(
                f"| {model} | {len(rows_)} | {mean['mase']:.3f} | {mases[len(mases) // 2]:.3f} | "
                f"{mean['smape']:.1f} | {mean['coverage_80']:.2f} | {mean['coverage_95']:.2f} | {mean['seconds']:.2f} |"
            )
        print(
            "\nbest by MASE: "
            + ", ".join(f"{k} {v}" for k, v in sorted(wins[group].items()))
            + "\n"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"scores": scores, "wins": wins}, default=str))


if __name__ == "__main__":
    main()
