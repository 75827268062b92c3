"""Trainers of the ML platform itself, registered in `MlConfig.ready()`.

- `catalog.product_popularity`: time-decayed product popularity (the cold-start ranking that
  recommendations and campaigns fall back on). The algorithm is in
  `apps.ml.engine.popularity`; this module only loads data, evaluates and writes the artifact.
- `ml.selftest`: the runner self-test. It trains nothing: it sleeps in small steps reporting
  progress (and fails on request) so the job platform can be checked end to end, including
  killing a worker mid-run. Safe to run in production; its versions serve nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from apps.core.errors import NotEnoughData
from apps.events.selectors import event_list, order_revenue_queryset
from apps.ml.contracts import TrainingContext, TrainingOutput
from apps.ml.engine.fingerprint import arrays_fingerprint
from apps.ml.engine.params import number_param, unknown_params_reject
from apps.ml.engine.popularity import SECONDS_PER_DAY, hit_rate_at_k, popularity_scores

PRODUCT_POPULARITY = "catalog.product_popularity"
SELFTEST = "ml.selftest"
MIN_PURCHASES = 20

# Interaction codes of the popularity data (one array of these per dataset).
VIEW, CART, PURCHASE = 0, 1, 2
# Event types (apps.events EventType values) that count as interest in a product.
_EVENT_TYPES = {"product_view": VIEW, "add_to_cart": CART}

PRODUCT_POPULARITY_DEFAULTS: dict[str, Any] = {
    "half_life_days": 30.0,
    "purchase_weight": 5.0,
    "cart_weight": 2.0,
    "view_weight": 1.0,
    "holdout_days": 7,
    "top_k": 50,
}

SELFTEST_DEFAULTS: dict[str, Any] = {"seconds": 3.0, "fail": False}


def _boolean(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in {
        "1",
        "true",
        "yes",
        "0",
        "false",
        "no",
    }:
        return str(value).strip().lower() in {"1", "true", "yes"}
    raise ValueError(f"{name} must be true or false, got {value!r}")


# --- catalog.product_popularity ---------------------------------------------------------------


def product_popularity_validate(params: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the popularity params (defaults already merged in)."""
    unknown_params_reject(params, PRODUCT_POPULARITY_DEFAULTS)
    return {
        "half_life_days": number_param(params, "half_life_days", low=0.1, high=3650),
        "purchase_weight": number_param(params, "purchase_weight", low=0, high=1000),
        "cart_weight": number_param(params, "cart_weight", low=0, high=1000),
        "view_weight": number_param(params, "view_weight", low=0, high=1000),
        "holdout_days": number_param(params, "holdout_days", low=1, high=365, integer=True),
        "top_k": number_param(params, "top_k", low=1, high=10_000, integer=True),
    }


@dataclass(frozen=True)
class _Interactions:
    product_ids: np.ndarray  # int64
    timestamps: np.ndarray  # float64 epoch seconds
    types: np.ndarray  # int8: VIEW, CART or PURCHASE
    quantities: np.ndarray  # int64, 1 for views and carts


def _interactions_load(context: TrainingContext) -> _Interactions:
    """Purchases (order lines of revenue orders) and product views/add-to-carts, time-sorted.

    Reads through the events app's selectors (`order_revenue_queryset`, `event_list`), the
    only way into another app's data (house rule 5).
    """
    context.report_progress(2, "Loading purchases")
    purchases = [
        row
        for row in order_revenue_queryset()
        .order_by()
        .values_list("lines__product_id", "placed_at", "lines__quantity")
        .iterator(chunk_size=20_000)
        if row[0] is not None  # orders without lines, lines of deleted products
    ]
    context.report_progress(20, f"Loaded {len(purchases):,} purchase lines; loading events")
    events: list[tuple[int, Any, int]] = []
    for event_type, code in _EVENT_TYPES.items():
        rows = (
            event_list(event_type=event_type)
            .filter(product__isnull=False)
            .order_by()
            .values_list("product_id", "occurred_at")
            .iterator(chunk_size=50_000)
        )
        events.extend((product_id, occurred_at, code) for product_id, occurred_at in rows)
    context.report_progress(40, f"Loaded {len(events):,} product events")
    size = len(purchases) + len(events)
    product_ids = np.empty(size, dtype=np.int64)
    timestamps = np.empty(size, dtype=np.float64)
    types = np.empty(size, dtype=np.int8)
    quantities = np.ones(size, dtype=np.int64)
    for index, (product_id, placed_at, quantity) in enumerate(purchases):
        product_ids[index] = product_id
        timestamps[index] = placed_at.timestamp()
        types[index] = PURCHASE
        quantities[index] = quantity
    for index, (product_id, occurred_at, code) in enumerate(events, start=len(purchases)):
        product_ids[index] = product_id
        timestamps[index] = occurred_at.timestamp()
        types[index] = code
    # Database order is arbitrary: sort so equal data always hashes (and scores) the same.
    order = np.lexsort((quantities, types, product_ids, timestamps))
    return _Interactions(product_ids[order], timestamps[order], types[order], quantities[order])


def _weights(data: _Interactions, params: dict[str, Any]) -> np.ndarray:
    per_type = np.array(
        [params["view_weight"], params["cart_weight"], params["purchase_weight"]], dtype=np.float64
    )
    return per_type[data.types] * data.quantities


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat()


def product_popularity_train(context: TrainingContext) -> TrainingOutput:
    """Rank products by time-decayed popularity; evaluate on the last `holdout_days`.

    Metrics: hit rate of the top-k ranking (trained on data before the held-out window) on
    the held-out purchases, against the hit rate of k random products; counts of data used.
    The artifact (JSON) holds every scored product id with its score, best first.
    """
    params = dict(context.params)
    data = _interactions_load(context)
    is_purchase = data.types == PURCHASE
    purchases = int(is_purchase.sum())
    if purchases < MIN_PURCHASES:
        raise NotEnoughData(
            f"Product popularity needs at least {MIN_PURCHASES} purchases of known products in "
            f"paid, shipped or completed orders; found {purchases}. Import orders (or generate "
            "the demo shop with manage.py demo_data) and train again."
        )
    weights = _weights(data, params)
    half_life = float(params["half_life_days"])
    top_k = int(params["top_k"])

    context.report_progress(55, f"Evaluating on the last {params['holdout_days']} days")
    cutoff = float(data.timestamps.max()) - params["holdout_days"] * SECONDS_PER_DAY
    before = data.timestamps < cutoff
    held_out = data.product_ids[~before & is_purchase]
    hit_rate = random_hit_rate = None
    if before.any():
        past = popularity_scores(
            data.product_ids[before],
            data.timestamps[before],
            weights[before],
            half_life_days=half_life,
            reference_time=cutoff,
        )
        hit_rate = hit_rate_at_k(past.item_ids, held_out, top_k)
        if hit_rate is not None and past.item_ids.size:
            random_hit_rate = min(1.0, top_k / past.item_ids.size)

    context.report_progress(75, "Scoring products on all data")
    scores = popularity_scores(data.product_ids, data.timestamps, weights, half_life_days=half_life)

    context.report_progress(90, f"Writing {scores.item_ids.size:,} scores")
    artifact = context.work_dir / "popularity.json"
    payload = {
        "kind": PRODUCT_POPULARITY,
        "format": 1,
        "params": params,
        "reference_time": _iso(scores.reference_time),
        "product_ids": scores.item_ids.tolist(),
        "scores": [round(score, 9) for score in scores.scores.tolist()],
    }
    artifact.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
    metrics = {
        f"hit_rate_at_{top_k}": hit_rate,
        f"random_hit_rate_at_{top_k}": random_hit_rate,
        "holdout_purchases": int(held_out.size),
        "products_scored": int(scores.item_ids.size),
        "purchases": purchases,
        "units": int(data.quantities[is_purchase].sum()),
        "carts": int((data.types == CART).sum()),
        "views": int((data.types == VIEW).sum()),
        "data_start": _iso(float(data.timestamps.min())),
        "data_end": _iso(float(data.timestamps.max())),
    }
    dataset_hash = arrays_fingerprint(
        data.product_ids, data.timestamps, data.types, data.quantities
    )
    return TrainingOutput(artifact_path=artifact, metrics=metrics, dataset_hash=dataset_hash)


# --- ml.selftest: the runner self-test -------------------------------------------------------


def selftest_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`seconds` (0-3600) to sleep, `fail` to raise halfway through."""
    unknown_params_reject(params, SELFTEST_DEFAULTS)
    return {
        "seconds": number_param(params, "seconds", low=0, high=3600),
        "fail": _boolean(params, "fail"),
    }


def selftest_train(context: TrainingContext) -> TrainingOutput:
    """Runner self-test: sleep `seconds` in quarter-second steps reporting progress.

    With `fail` it raises halfway, to check that a failed run keeps the previous champion.
    Its artifact is a small JSON note of where it ran; nothing serves it.
    """
    seconds = float(context.params["seconds"])
    fail = bool(context.params["fail"])
    steps = max(1, math.ceil(seconds * 4))
    for step in range(1, steps + 1):
        if fail and step > steps // 2:
            raise RuntimeError("Self-test failure requested (fail=true)")
        time.sleep(seconds / steps)
        context.report_progress(100 * step / steps, f"Self-test step {step} of {steps}")
    artifact = context.work_dir / "selftest.json"
    note = {
        "run_id": context.run_id,
        "attempt": context.attempt,
        "seconds": seconds,
        "device": context.device,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    artifact.write_text(json.dumps(note), encoding="utf-8")
    dataset_hash = hashlib.sha256(
        json.dumps(dict(context.params), sort_keys=True).encode()
    ).hexdigest()
    return TrainingOutput(
        artifact_path=artifact,
        metrics={"steps": steps, "seconds": seconds},
        dataset_hash=dataset_hash,
    )
