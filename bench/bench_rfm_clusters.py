"""RFM + lifecycle and clustering time on the demo shop, and how well the clusters recover its
latent segments (adjusted Rand index against the ground truth).

Generates the demo shop (`demo_data`, fixed seed and end date) into BENCH_DATABASE_URL unless
it already holds exactly that many customers, then measures in the same process (no broker:
runs execute in-process, as `manage.py rfm` does without REDIS_URL):

  rfm        rfm_compute: two grouped order reads, the engines, the upsert of every customer
             (median of --repeats runs)
  clusters   the `segments.clusters` ML run (features, k-means + mixtures over k = 3..8,
             profiles, artifact), then cluster_scores_apply (the upsert of every buyer)
  recovery   how well the clusters recover the latent segments: ARI and AMI, overall purity
             (each cluster counted as its biggest segment) and, per latent segment, the
             cluster holding most of it, the share of the segment in it and its purity
  ceiling    the supervised ceiling: a gradient-boosting classifier trained on the true
             segments with the same feature matrix (stratified 5-fold cross-validation on at
             most 20,000 buyers, each predicted by a model that did not see them): its ARI, accuracy against
             always guessing the largest segment, and recall and precision per segment. No
             unsupervised clustering of these features can be expected to do much better.

    .venv/bin/python bench/bench_rfm_clusters.py --customers 100000
    .venv/bin/python bench/bench_rfm_clusters.py --customers 5000 --repeats 1 \
        --try-weights '{"demographic": 0}'   # also cluster with other group weights (engine only)

Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/smartmkt_rfm_bench;
created and migrated when missing). Prints one JSON document on stdout, progress on stderr,
and a markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smartmkt_rfm_bench"
)
END_DATE = date(2026, 11, 29)
SEED = 7
CEILING_SAMPLE = 20_000


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
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],
        capture_output=True,
        check=False,
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def ensure_shop(customers: int, truth_file: Path) -> float | None:
    from apps.core.demo.services import demo_shop_generate
    from apps.customers.selectors import customer_count

    if customer_count() == customers and truth_file.exists():
        log(f"demo shop of {customers:,} customers already there")
        return None
    log(f"generating the demo shop: {customers:,} customers (seed {SEED})")
    started = time.monotonic()
    demo_shop_generate(
        customers=customers, seed=SEED, end_date=END_DATE, truth_file=truth_file, flush=True
    )
    return time.monotonic() - started


def recovery(latent: Any, labels: Any) -> dict[str, Any]:
    """ARI, AMI, overall purity and per latent segment: its share of buyers, the cluster that
    holds most of it, how much of the segment that cluster holds, and the segment's share of
    that cluster (its purity for the segment)."""
    import numpy as np
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    clusters = sorted(set(labels.tolist()))
    segments = sorted(set(latent.tolist()))
    table = np.array(
        [
            [int(np.sum((latent == segment) & (labels == c))) for c in clusters]
            for segment in segments
        ]
    )
    per_segment = {}
    for row, segment in enumerate(segments):
        best = int(np.argmax(table[row]))
        per_segment[segment] = {
            "share": round(float(table[row].sum() / len(latent)), 3),
            "cluster": clusters[best],
            "in_cluster": round(float(table[row, best] / table[row].sum()), 3),
            "purity": round(float(table[row, best] / table[:, best].sum()), 3),
        }
    return {
        "ari": round(float(adjusted_rand_score(latent, labels)), 4),
        "ami": round(float(adjusted_mutual_info_score(latent, labels)), 4),
        "purity": round(float(table.max(axis=0).sum() / len(latent)), 3),
        "segments": per_segment,
    }


def supervised_ceiling(
    values: Any, latent: Any, *, sample: int = CEILING_SAMPLE, seed: int = SEED
) -> dict[str, Any]:
    """A gradient-boosting classifier on the true segments, cross-validated (5 folds), on a
    stratified sample of at most `sample` buyers (it bounds the cost; the figure is a property
    of the segments' overlap, not of the shop's size). Early stopping on a tenth of each
    training fold keeps it from overfitting."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    started = time.monotonic()
    if len(latent) > sample:
        values, _, latent, _ = train_test_split(
            values, latent, train_size=sample, stratify=latent, random_state=seed
        )
    model = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.05, early_stopping=True, random_state=seed
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    predicted = cross_val_predict(model, values, latent, cv=folds)
    segments = sorted(set(latent.tolist()))
    precision, recall, _, support = precision_recall_fscore_support(
        latent, predicted, labels=segments, zero_division=0
    )
    largest = max(segments, key=lambda segment: int(np.sum(latent == segment)))
    return {
        **{key: value for key, value in recovery(latent, predicted).items() if key != "segments"},
        "accuracy": round(float(accuracy_score(latent, predicted)), 3),
        "largest_segment_accuracy": round(float(np.mean(latent == largest)), 3),
        "segments": {
            segment: {
                "share": round(float(count / len(latent)), 3),
                "recall": round(float(recall[index]), 3),
                "precision": round(float(precision[index]), 3),
            }
            for index, (segment, count) in enumerate(zip(segments, support, strict=True))
        },
        "buyers": len(latent),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--try-weights",
        action="append",
        default=[],
        metavar="JSON",
        help="other feature group weights to cluster with (engine only), e.g. '{\"demographic\": 0}'",
    )
    args = parser.parse_args()
    setup_django()

    import numpy as np
    from django.db import connection
    from django.test.utils import override_settings

    from apps.customers.models import Customer
    from apps.ml.selectors import artifact_path
    from apps.segments.engine.clustering import ClusteringParams, clusters_fit, feature_matrix_build
    from apps.segments.ml_rfm import register_kinds
    from apps.segments.services.clustering import (
        CLUSTER_DEFAULTS,
        FEATURES,
        cluster_data_build,
        cluster_scores_apply,
        clusters_run_start,
    )
    from apps.segments.services.rfm import rfm_compute

    register_kinds()
    truth_file = ROOT / "var" / "bench" / f"rfm_truth_{args.customers}_{SEED}.json"
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    generate_seconds = ensure_shop(args.customers, truth_file)
    as_of = datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=UTC)

    rfm_seconds = []
    summary = None
    for repeat in range(args.repeats):
        started = time.monotonic()
        summary = rfm_compute(as_of=as_of)
        rfm_seconds.append(time.monotonic() - started)
        log(f"rfm_compute {repeat + 1}/{args.repeats}: {rfm_seconds[-1]:.2f} s {summary.timings}")
    assert summary is not None

    with tempfile.TemporaryDirectory() as artifacts, override_settings(ML_ARTIFACT_ROOT=artifacts):
        started = time.monotonic()
        run = clusters_run_start(trigger="cli")  # in-process: applies once it succeeded
        clusters_seconds = time.monotonic() - started
        run.refresh_from_db()
        if run.status != "succeeded":
            log(f"clusters run {run.status}: {run.error}")
            return 1
        started = time.monotonic()
        applied = cluster_scores_apply(model_version_id=run.model_version.pk)
        apply_seconds = time.monotonic() - started
        payload = json.loads(artifact_path(run.model_version).read_text(encoding="utf-8"))

    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    segment_of = {row["external_id"]: row["segment"] for row in truth["customers"]}
    external = dict(Customer.objects.values_list("pk", "external_id"))
    labels = np.array(payload["assignments"]["labels"])
    latent = np.array(
        [
            segment_of[external[customer_id]]
            for customer_id in payload["assignments"]["customer_ids"]
        ]
    )
    metrics = run.metrics
    log("recovery of the latent segments, and the supervised ceiling on the same features")
    data = cluster_data_build(as_of=datetime.fromisoformat(metrics["as_of"]))  # the run's
    if data.frame.index.tolist() != payload["assignments"]["customer_ids"]:
        log("the features' buyers differ from the clustered ones")
        return 1
    matrix = feature_matrix_build(
        data.frame, FEATURES, category_spend=data.category_spend, texts=data.texts
    )
    ceiling = supervised_ceiling(matrix.values, latent)
    tried = []
    for weights_text in args.try_weights:
        weights = json.loads(weights_text)
        params = ClusteringParams(
            k_min=CLUSTER_DEFAULTS["k_min"],
            k_max=CLUSTER_DEFAULTS["k_max"],
            algorithm=CLUSTER_DEFAULTS["algorithm"],
            seed=CLUSTER_DEFAULTS["seed"],
            group_weights=weights,
        )
        result = clusters_fit(
            data.frame,
            FEATURES,
            params=params,
            category_spend=data.category_spend,
            texts=data.texts,
        )
        tried.append(
            {
                "group_weights": weights,
                "algorithm": result.algorithm,
                "k": result.k,
                "silhouette": round(result.silhouette, 4),
                **recovery(latent, result.labels),
            }
        )
        log(
            f"weights {weights}: {tried[-1]['algorithm']} k={tried[-1]['k']} ARI {tried[-1]['ari']}"
        )
    document: dict[str, Any] = {
        "customers": args.customers,
        "buyers": summary.buyers,
        "database": connection.vendor,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "generate_seconds": round(generate_seconds, 1) if generate_seconds else None,
        "rfm_seconds": round(statistics.median(rfm_seconds), 3),
        "rfm_timings": summary.timings,
        "clusters_run_seconds": round(clusters_seconds, 2),
        "clusters_read_seconds": metrics.get("read_seconds"),
        "clusters_fit_seconds": metrics.get("fit_seconds"),
        "apply_seconds": round(apply_seconds, 2),
        "assigned": applied.assigned,
        "algorithm": metrics["algorithm"],
        "k": metrics["k"],
        "kmeans_k": metrics["kmeans_k"],
        "gmm_k": metrics["gmm_k"],
        "silhouette": metrics["silhouette"],
        "recovery": recovery(latent, labels),
        "supervised_ceiling": ceiling,
        "tried_weights": tried,
        "clusters": [[p["name"], p["size"]] for p in metrics["profiles"]],
    }
    print(json.dumps(document, indent=2))
    log(
        f"| {args.customers:,} | {summary.buyers:,} | {document['rfm_seconds']:.2f} s | "
        f"{document['clusters_run_seconds']:.1f} s (read {document['clusters_read_seconds']:.1f} s"
        f", fit {document['clusters_fit_seconds']:.1f} s) | {document['apply_seconds']:.2f} s | "
        f"{document['algorithm']} k={document['k']} | ARI {document['recovery']['ari']:.3f} "
        f"(supervised ceiling {ceiling['ari']:.3f}) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
