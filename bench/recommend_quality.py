"""Recommendation quality of `recommend evaluate` against tuned LightFM / implicit baselines.

For every split folder (train.csv + test.csv, see bench/recommend_data.py):

  1. the contract run: `manage.py recommend evaluate --train --test --k 10 --json` with the
     default time budget (every algorithm tuned on a validation slice of train only);
  2. the reference run: the same command with `--algorithms als,bpr,lightfm` and a much larger
     budget (--reference-budget, default 600 s), so the baselines are tuned far more than in
     the contract run; the reference is the best of the three on the test split.

Prints one JSON document on stdout, progress on stderr, and markdown rows for
docs/recommendations_engine.md: NDCG@10 of every algorithm, the reference, the algorithm the
contract run picked on validation ("best") and its gain over the reference.

    .venv/bin/python bench/recommend_quality.py var/bench/ml100k_per_user var/bench/ml100k_global
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def evaluate(folder: Path, *extra: str) -> tuple[dict[str, Any], float]:
    command = [
        sys.executable,
        "manage.py",
        "recommend",
        "evaluate",
        "--train",
        str(folder / "train.csv"),
        "--test",
        str(folder / "test.csv"),
        "--k",
        "10",
        "--json",
        *extra,
    ]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"{folder}: recommend evaluate failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("splits", nargs="+", type=Path, help="Folders with train.csv, test.csv.")
    parser.add_argument("--time-budget", type=float, default=None, help="Contract run budget.")
    parser.add_argument("--reference-budget", type=float, default=600.0)
    parser.add_argument("--no-reference", action="store_true", help="Skip the reference run.")
    options = parser.parse_args()
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "splits": {},
    }
    rows = []
    for folder in options.splits:
        log(f"== {folder}: contract run")
        extra = [] if options.time_budget is None else ["--time-budget", str(options.time_budget)]
        contract, seconds = evaluate(folder, *extra)
        entry: dict[str, Any] = {
            "seconds": round(seconds, 1),
            "best": contract["best"],
            "ndcg@10": {n: a["ndcg@10"] for n, a in contract["algorithms"].items()},
            "validation_ndcg@10": {
                n: a.get("validation_ndcg@10") for n, a in contract["algorithms"].items()
            },
            "split": contract["split"],
        }
        reference_name, reference = contract["reference"]["algorithm"], contract["reference"]
        if not options.no_reference:
            log(f"== {folder}: reference run ({options.reference_budget:g} s)")
            tuned, tuned_seconds = evaluate(
                folder,
                "--algorithms",
                "als,bpr,lightfm",
                "--time-budget",
                str(options.reference_budget),
            )
            entry["reference_run"] = {
                "seconds": round(tuned_seconds, 1),
                "ndcg@10": {n: a["ndcg@10"] for n, a in tuned["algorithms"].items()},
                "params": {n: a.get("params") for n, a in tuned["algorithms"].items()},
            }
            if tuned["reference"]["ndcg@10"] > reference["ndcg@10"]:
                reference_name, reference = tuned["reference"]["algorithm"], tuned["reference"]
        best_ndcg = entry["ndcg@10"][contract["best"]]
        entry["reference"] = {"algorithm": reference_name, "ndcg@10": reference["ndcg@10"]}
        entry["gain"] = round(best_ndcg / reference["ndcg@10"] - 1.0, 4)
        results["splits"][str(folder)] = entry
        everything = " | ".join(f"{n} {v:.4f}" for n, v in entry["ndcg@10"].items())
        rows.append(
            f"| {folder.name} | {reference_name} {reference['ndcg@10']:.4f} | "
            f"{contract['best']} {best_ndcg:.4f} | {entry['gain']:+.1%} | {seconds:.0f} s | "
            f"{everything} |"
        )
        log(rows[-1])
    print(json.dumps(results, indent=2))
    log("| split | reference (tuned) | best (picked on validation) | gain | run | all |")
    log("|---|---|---|---|---|---|")
    for row in rows:
        log(row)


if __name__ == "__main__":
    main()
