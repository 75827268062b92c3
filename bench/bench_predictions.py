"""Churn and purchase propensity on the demo shop: quality of the backtest and time per phase.

Generates the demo shop (`demo_data`, fixed seed and end date) into BENCH_DATABASE_URL unless
it already holds exactly that many customers, then, for each kind, in this process:

  features   customer_features_build at one cut (bulk reads + pandas)
  train      the ML run (`segments.churn` / `segments.propensity`, in-process without a broker):
             features at two cuts, backtest fit + evaluation, refit on the latest window,
             TreeSHAP importance, artifact, publish
  score      prediction_scores_refresh at the end of the history: features, probabilities,
             top-5 reasons and the upsert of CustomerScores for every scored customer

Also reports the AUC of a one-feature baseline on the same test window (recency: fewer days
since the last order = more likely to buy / less likely to churn), so the model's gain is
visible.

    .venv/bin/python bench/bench_predictions.py --customers 20000

Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/smartmkt_predict_bench;
created and migrated when missing). Prints one JSON document on stdout, progress on stderr, and
markdown rows for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_predict_bench"
)
END_DATE = date(2026, 11, 29)
SEED = 7


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("SMARTMKT_READ_DOTENV", "0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "smartmkt.settings.local"
    os.environ["DEBUG"] = "0"  # DEBUG keeps every SQL query in memory
    os.environ.pop("REDIS_URL", None)
    name = DATABASE_URL.rsplit("/", 1)[1]
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, check=False
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def ensure_shop(customers: int, truth_file: Path) -> None:
    from apps.core.demo.services import demo_shop_generate
    from apps.customers.selectors import customer_count

    if customer_count() == customers and truth_file.exists():
        log(f"demo shop of {customers:,} customers already there")
        return
    log(f"generating the demo shop: {customers:,} customers (seed {SEED})")
    demo_shop_generate(
        customers=customers, seed=SEED, end_date=END_DATE, truth_file=truth_file, flush=True
    )


def bench_kind(name: str, artifacts: Path) -> dict[str, Any]:
    import numpy as np
    from django.test.utils import override_settings
    from sklearn.metrics import roc_auc_score

    from apps.segments.services import predict
    from apps.segments.services.features import customer_features_build

    kind = predict.prediction_kind_get(name)
    horizon = kind.default_horizon_days
    windows = predict.training_windows_plan(horizon_days=horizon)
    started = time.monotonic()
    customer_features_build(cut=windows.test_cut)
    features_seconds = time.monotonic() - started

    with override_settings(ML_ARTIFACT_ROOT=str(artifacts)):
        started = time.monotonic()
        # No broker: the ML run executes in this process when it is committed.
        run = predict.prediction_training_start(kind=name, trigger="cli")
        run.refresh_from_db()
        train_seconds = time.monotonic() - started
        if run.status != "succeeded":
            raise SystemExit(f"{name} run {run.status}: {run.error.splitlines()[0]}")
        metrics = run.metrics
        version = run.model_version.version
        started = time.monotonic()
        summary = predict.prediction_scores_refresh(kind=name, now=windows.data_end)
        score_seconds = time.monotonic() - started

    test_frame, test_labels = predict.prediction_dataset_build(
        kind=kind, cut=windows.test_cut, horizon_days=horizon, active_days=365
    )
    recency = test_frame["days_since_last_order"].fillna(10_000).to_numpy()
    baseline = roc_auc_score(test_labels, recency if kind is predict.CHURN else -recency)
    log(
        f"{name}: auc {metrics['auc']:.4f} (recency baseline {baseline:.4f}), log loss "
        f"{metrics['log_loss']:.4f}, train {train_seconds:.1f} s, score {score_seconds:.1f} s"
    )
    return {
        "kind": name,
        "horizon_days": horizon,
        "model": metrics["model"],
        "auc": round(metrics["auc"], 4),
        "log_loss": round(metrics["log_loss"], 4),
        "brier": round(metrics["brier"], 4),
        "calibration_error": round(metrics["calibration_error"], 4),
        "base_rate": round(metrics["base_rate"], 4),
        "top_decile_lift": round(metrics["lift_by_decile"][0]["lift"], 2),
        "recency_baseline_auc": round(float(baseline), 4),
        "n_train": metrics["n_train"],
        "n_test": metrics["n_test"],
        "features_seconds": round(features_seconds, 2),
        "train_seconds": round(train_seconds, 2),
        "score_seconds": round(score_seconds, 2),
        "scored": summary.scored,
        "model_version": version,
        "mean_score": round(float(np.mean([summary.mean_score or 0])), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    setup_django()
    from apps.segments.ml_propensity import register_kinds

    register_kinds()
    truth_file = ROOT / "var" / "bench" / f"predict_truth_{args.customers}_{SEED}.json"
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    ensure_shop(args.customers, truth_file)
    artifacts = Path(tempfile.mkdtemp(prefix="predict-bench-"))
    results = [bench_kind(name, artifacts) for name in ("propensity", "churn")]
    document = {
        "customers": args.customers,
        "seed": SEED,
        "end_date": END_DATE.isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "results": results,
    }
    print(json.dumps(document, indent=2))
    log(
        "| customers | model | horizon | AUC (recency baseline) | log loss | Brier | top-decile lift | train s | score s |"
    )
    for row in results:
        log(
            f"| {args.customers:,} | {row['kind']} ({row['model']}) | {row['horizon_days']} d | "
            f"{row['auc']:.3f} ({row['recency_baseline_auc']:.3f}) | {row['log_loss']:.3f} | "
            f"{row['brier']:.3f} | {row['top_decile_lift']:.1f}x | {row['train_seconds']:.1f} | "
            f"{row['score_seconds']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
