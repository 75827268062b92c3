"""Training time and peak memory of every recommender algorithm at 100k customers x 5k
products x 5M interactions (the size issue 5 asks about), and of the whole champion fit.

The log is synthetic and e-commerce-like: power-law product popularity, 50 categories with a
per-customer affinity to two or three of them, activity per customer log-normal, event types
view / cart / purchase weighted by EVENT_WEIGHTS, timestamps over a year. Each algorithm is fitted
with its default parameters in a fresh child process, so its peak RSS is its own (data loading
included, reported separately as the floor). Prints markdown rows for docs/benchmarks.md.

    .venv/bin/python bench/bench_recommend_training.py [--customers 100000] [--products 5000]
        [--interactions 5000000] [--algorithms als,ease,...] [--champion-budget 600]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.recommendations.engine.data import EVENT_WEIGHTS, InteractionLog  # noqa: E402


def synthetic_log(customers: int, products: int, interactions: int, seed: int) -> InteractionLog:
    rng = np.random.default_rng(seed)
    categories = 50
    item_category = rng.integers(0, categories, products)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    popularity = popularity[rng.permutation(products)]
    activity = rng.lognormal(0.0, 1.0, customers)
    users = rng.choice(customers, interactions, p=activity / activity.sum())
    favourite = rng.integers(0, categories, (customers, 3))
    # 70% of a customer's interactions fall in their favourite categories
    in_favourite = rng.random(interactions) < 0.7
    wanted = favourite[users, rng.integers(0, 3, interactions)]
    by_category = [np.flatnonzero(item_category == c) for c in range(categories)]
    items = rng.choice(products, interactions, p=popularity / popularity.sum())
    for category in range(categories):
        rows = np.flatnonzero(in_favourite & (wanted == category))
        pool = by_category[category]
        if rows.size and pool.size:
            weights = popularity[pool] / popularity[pool].sum()
            items[rows] = rng.choice(pool, rows.size, p=weights)
    kind = rng.choice(3, interactions, p=[0.8, 0.13, 0.07])
    weights = np.asarray(
        [EVENT_WEIGHTS["product_view"], EVENT_WEIGHTS["add_to_cart"], EVENT_WEIGHTS["purchase"]],
        dtype=np.float32,
    )[kind]
    timestamps = 1.7e9 + rng.random(interactions) * 365 * 86_400
    return InteractionLog(
        user_ids=np.char.add("c", users.astype(str)),
        item_ids=np.char.add("p", items.astype(str)),
        timestamps=timestamps,
        weights=weights,
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fit_one(path: str, name: str, queue: multiprocessing.Queue) -> None:
    from apps.recommendations.engine.dataset import training_set_build
    from apps.recommendations.engine.train import ALGORITHMS

    with np.load(path) as data:
        log = InteractionLog(*(data[key] for key in ("users", "items", "times", "weights")))
    started = time.perf_counter()
    train = training_set_build(log)
    build_seconds = time.perf_counter() - started
    floor = _peak_mib()
    if name == "(data only)":
        queue.put((name, build_seconds, 0.0, floor, floor, ""))
        return
    algorithm = next(a for a in ALGORITHMS if a.name == name)
    reason = algorithm.unavailable(train)
    if reason:
        queue.put((name, build_seconds, 0.0, floor, floor, reason))
        return
    started = time.perf_counter()
    algorithm.fit(train, dict(algorithm.defaults), 0)
    queue.put((name, build_seconds, time.perf_counter() - started, floor, _peak_mib(), ""))


def _champion(path: str, budget: float, queue: multiprocessing.Queue) -> None:
    from apps.recommendations.engine.train import fit_champion

    with np.load(path) as data:
        log = InteractionLog(*(data[key] for key in ("users", "items", "times", "weights")))
    started = time.perf_counter()
    result = fit_champion(log, time_budget_s=budget, embedder=None, progress=None)
    seconds = time.perf_counter() - started
    queue.put(("fit_champion", 0.0, seconds, 0.0, _peak_mib(), result.report.get("best", "")))


def _run(target, *args) -> tuple:
    # spawn, not fork: the child's peak RSS must not start at the parent's
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--algorithms", default="")
    parser.add_argument("--champion-budget", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmkt.settings.local")
    from apps.recommendations.engine.train import ALGORITHMS

    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rec_train_{args.customers}_{args.products}_{args.interactions}.npz"
    if not path.exists():
        started = time.perf_counter()
        log = synthetic_log(args.customers, args.products, args.interactions, args.seed)
        np.savez(
            path, users=log.user_ids, items=log.item_ids, times=log.timestamps, weights=log.weights
        )
        print(f"generated the log in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    names = [n for n in args.algorithms.split(",") if n] or [a.name for a in ALGORITHMS]
    size = f"{args.customers:,} x {args.products:,} x {args.interactions:,}"
    print("| algorithm | data | build s | fit s | peak RSS MiB (floor: libraries + data) | note |")
    print("|---|---|---:|---:|---:|---|")
    for name in ["(data only)", *names]:
        name_, build, fit, floor, peak, note = _run(_fit_one, str(path), name)
        print(
            f"| {name_} | {size} | {build:.1f} | {fit:.1f} | {peak:,.0f} ({floor:,.0f}) | {note} |",
            flush=True,
        )
    if args.champion_budget > 0:
        name_, _, seconds, _, peak, best = _run(_champion, str(path), args.champion_budget)
        print(
            f"| fit_champion (budget {args.champion_budget:.0f} s, no text) | {size} | | "
            f"{seconds:.1f} | {peak:,.0f} | champion {best} |"
        )
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
