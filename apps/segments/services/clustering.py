"""Customer clusters: build features in bulk, fit (ML kind `segments.clusters`), write the
champion's clusters into CustomerScores, describe them, and save one as a segment.

Flow, the same from every interface:

    clusters_run_start  -> ml training_run_start("segments.clusters")  (a TrainingRun)
    worker: clusters_train -> features -> engine.clustering.clusters_fit -> JSON artifact
    ML platform publishes a ModelVersion and makes it the champion
    cluster_scores_apply -> CustomerScores.cluster / cluster_name / cluster_model_version

The trainer cannot write the version into CustomerScores (the version exists only once the
platform publishes it), so applying is its own step: right after the run when it ran in
this process (eager mode, the CLI, tests), otherwise by `cluster_scores_apply_if_stale`
(scheduled) or the Apply button on the clusters page, which shows when the champion is
newer than the stored clusters. docs/rfm_and_clusters.md describes the features and names.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.catalog.selectors import category_list
from apps.core.errors import NotEnoughData, ValidationFailed
from apps.customers.selectors import customer_demographic_rows, customer_list
from apps.events.selectors import (
    customer_category_spend,
    customer_event_counts,
    customer_purchase_totals,
    customer_review_counts,
    customer_search_queries,
)
from apps.ml import selectors as ml_selectors
from apps.ml import services as ml_services
from apps.ml.contracts import TrainingOutput, unknown_params_reject
from apps.segments.engine.clustering import (
    ALGORITHMS,
    BEHAVIOURAL,
    DEMOGRAPHIC,
    MONETARY,
    ClusteringParams,
    FeatureSpec,
    clusters_fit,
    result_summary,
)
from apps.segments.models import CustomerScores
from apps.segments.services.rfm import scores_upsert
from apps.segments.services.segments import segment_create

ProgressCallback = Callable[[float, str], None]

CLUSTERS_KIND = "segments.clusters"
ARTIFACT_NAME = "clusters.json"
ARTIFACT_FORMAT = 1
SECONDS_PER_DAY = 86_400.0
MIN_BUYERS = 50
MAX_CATEGORIES = 12
CLUSTER_COLUMNS = ("cluster", "cluster_name", "cluster_model_version", "updated_at")

CLUSTER_DEFAULTS: dict[str, Any] = {"k_min": 3, "k_max": 8, "algorithm": "auto", "seed": 0}

FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("orders", BEHAVIOURAL, "Orders", log=True),
    FeatureSpec("purchase_rate", BEHAVIOURAL, "Repeat orders per 30 days", log=True),
    FeatureSpec("days_since_last_order", BEHAVIOURAL, "Days since the last order", log=True),
    FeatureSpec("tenure_days", BEHAVIOURAL, "Days since the first order"),
    FeatureSpec("discount_share", BEHAVIOURAL, "Share of orders with a discount"),
    FeatureSpec("events_per_week", BEHAVIOURAL, "Events per week since sign-up", log=True),
    FeatureSpec("views_per_order", BEHAVIOURAL, "Product views per order", log=True),
    FeatureSpec("reviews_per_order", BEHAVIOURAL, "Reviews per order"),
    FeatureSpec("average_order_value", MONETARY, "Average order value", log=True),
    FeatureSpec("total_spend", MONETARY, "Total spend", log=True),
    FeatureSpec("age", DEMOGRAPHIC, "Age (years)"),
    FeatureSpec("gender_female", DEMOGRAPHIC, "Share female"),
    FeatureSpec("gender_male", DEMOGRAPHIC, "Share male"),
)
FEATURE_LABELS = {spec.name: spec.label for spec in FEATURES}


def _silent(percent: float, message: str) -> None:
    return None


# --- parameters -----------------------------------------------------------------------------


def _whole_number(params: dict[str, Any], name: str, *, low: int, high: int) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a whole number between {low} and {high}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number != int(number) or not low <= number <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")
    return int(number)


def clusters_params_validate(params: dict[str, Any]) -> dict[str, Any]:
    """`k_min` 2-20 <= `k_max` 2-20, `algorithm` auto|kmeans|gmm, `seed` (defaults merged in)."""
    unknown_params_reject(params, CLUSTER_DEFAULTS)
    k_min = _whole_number(params, "k_min", low=2, high=20)
    k_max = _whole_number(params, "k_max", low=2, high=20)
    algorithm = str(params.get("algorithm", "")).strip().lower()
    seed = _whole_number(params, "seed", low=0, high=2**31 - 1)
    if k_max < k_min:
        raise ValueError(f"k_max ({k_max}) must be at least k_min ({k_min})")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    cleaned: dict[str, Any] = {"k_min": k_min, "k_max": k_max, "algorithm": algorithm, "seed": seed}
    return cleaned


# --- features -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterData:
    """The customers to cluster (buyers) with their features, category spend and texts."""

    frame: pd.DataFrame  # index: customer id, columns: FEATURES
    category_spend: pd.DataFrame  # index: customer id, columns: category names
    texts: list[str]  # one per row of `frame`: the customer's search queries
    as_of: datetime


def _age_years(birth_date: date | None, as_of: date) -> float:
    if birth_date is None:
        return float("nan")
    return (as_of - birth_date).days / 365.25


def cluster_data_build(*, as_of: datetime | None = None) -> ClusterData:
    """Features of every customer with a revenue order before `as_of`, from grouped queries.

    Six bulk reads through the events and customers selectors (order totals, event counts,
    review counts, spend per category, search queries, demographics); no per-customer query.
    """
    as_of = as_of or timezone.now()
    totals = pd.DataFrame(
        customer_purchase_totals(until=as_of),
        columns=[
            "customer_id",
            "orders",
            "revenue",
            "first_order_at",
            "last_order_at",
            "discounted_orders",
            "discount",
            "merchandise",
        ],
    ).set_index("customer_id")
    totals = totals.sort_index()
    frame = pd.DataFrame(index=totals.index)
    orders = totals["orders"].astype(np.float64)
    revenue = totals["revenue"].astype(np.float64)
    as_of_seconds = as_of.timestamp()
    last_seconds = np.array([moment.timestamp() for moment in totals["last_order_at"]])
    first_seconds = np.array([moment.timestamp() for moment in totals["first_order_at"]])
    tenure = (as_of_seconds - first_seconds) / SECONDS_PER_DAY
    frame["orders"] = orders
    frame["purchase_rate"] = (orders - 1) / (tenure + 30.0) * 30.0
    frame["days_since_last_order"] = (as_of_seconds - last_seconds) / SECONDS_PER_DAY
    frame["tenure_days"] = tenure
    frame["discount_share"] = totals["discounted_orders"].astype(np.float64) / orders

    demographics = pd.DataFrame(
        customer_demographic_rows(), columns=["customer_id", "signup_at", "gender", "birth_date"]
    ).set_index("customer_id")
    demographics = demographics.reindex(frame.index)
    signup_seconds = np.array(
        [
            moment.timestamp() if isinstance(moment, datetime) else first
            for moment, first in zip(demographics["signup_at"], first_seconds, strict=True)
        ]
    )
    weeks = np.maximum((as_of_seconds - np.minimum(signup_seconds, first_seconds)) / 604_800, 1.0)
    events = pd.DataFrame(
        customer_event_counts(until=as_of), columns=["customer_id", "events", "views"]
    ).set_index("customer_id")
    events = events.reindex(frame.index).fillna(0).astype(np.float64)
    frame["events_per_week"] = events["events"].to_numpy() / weeks
    frame["views_per_order"] = events["views"] / orders
    reviews = pd.DataFrame(
        customer_review_counts(until=as_of), columns=["customer_id", "reviews"]
    ).set_index("customer_id")
    frame["reviews_per_order"] = reviews["reviews"].reindex(frame.index).fillna(0) / orders
    frame["average_order_value"] = revenue / orders
    frame["total_spend"] = revenue
    today = as_of.date()
    frame["age"] = [
        _age_years(value, today) if isinstance(value, date) else np.nan
        for value in demographics["birth_date"]
    ]
    gender = demographics["gender"].fillna("")
    frame["gender_female"] = (gender == "female").astype(np.float64)
    frame["gender_male"] = (gender == "male").astype(np.float64)

    category_spend = _category_spend(as_of, frame.index)
    queries: dict[int, list[str]] = {}
    for customer_id, query in customer_search_queries(until=as_of):
        queries.setdefault(customer_id, []).append(query)
    texts = [" ".join(queries.get(customer_id, [])) for customer_id in frame.index]
    return ClusterData(frame=frame, category_spend=category_spend, texts=texts, as_of=as_of)


def _category_spend(as_of: datetime, index: pd.Index) -> pd.DataFrame:
    """Spend per top-level category (by name), the `MAX_CATEGORIES` biggest, the rest "Other"."""
    names = {
        path: name
        for path, name in category_list().values_list("path", "name")
        if path and "/" not in path
    }
    rows = [
        (customer_id, names.get(path.split("/")[0], path.split("/")[0].title()), float(spend or 0))
        for customer_id, path, spend in customer_category_spend(until=as_of)
    ]
    if not rows:
        return pd.DataFrame(index=index)
    spend = pd.DataFrame(rows, columns=["customer_id", "category", "spend"]).pivot_table(
        index="customer_id", columns="category", values="spend", aggfunc="sum", fill_value=0.0
    )
    totals = spend.sum(axis=0).sort_values(ascending=False, kind="stable")
    if len(totals) > MAX_CATEGORIES:
        keep = list(totals.index[: MAX_CATEGORIES - 1])
        other = spend.drop(columns=keep).sum(axis=1)
        spend = spend[keep].assign(Other=other)
    else:
        spend = spend[list(totals.index)]
    return spend.reindex(index).fillna(0.0)


# --- training (the trainer of segments.clusters) -----------------------------------------------


def _dataset_hash(data: ClusterData) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(data.frame.round(6), index=True).to_numpy().tobytes())
    if data.category_spend.shape[1]:
        digest.update(
            pd.util.hash_pandas_object(data.category_spend.round(2), index=True)
            .to_numpy()
            .tobytes()
        )
    digest.update("\n".join(data.texts).encode())
    return digest.hexdigest()


def clusters_train(
    *,
    params: dict[str, Any],
    work_dir: Path,
    report_progress: ProgressCallback | None = None,
    as_of: datetime | None = None,
) -> TrainingOutput:
    """Build features, fit and describe the clusters, write the JSON artifact.

    The artifact holds the summary (k selection, profiles, names), how features were scaled
    and every buyer's cluster; the metrics hold the summary without per-customer rows.
    NotEnoughData below `MIN_BUYERS` buyers.
    """
    report = report_progress or _silent
    started = time.monotonic()
    report(2, "Reading orders, events and customers")
    data = cluster_data_build(as_of=as_of)
    buyers = len(data.frame)
    minimum = max(MIN_BUYERS, 10 * int(params["k_min"]))
    if buyers < minimum:
        raise NotEnoughData(
            f"Clustering needs at least {minimum} customers with a paid, shipped or completed "
            f"order; found {buyers}. Import more orders (or generate the demo shop with "
            "manage.py demo_data) and fit again."
        )
    read_seconds = time.monotonic() - started
    report(25, f"Fitting k-means and Gaussian mixtures for k = {params['k_min']}-{params['k_max']}")
    result = clusters_fit(
        data.frame,
        FEATURES,
        params=ClusteringParams(
            k_min=int(params["k_min"]),
            k_max=int(params["k_max"]),
            algorithm=str(params["algorithm"]),
            seed=int(params["seed"]),
        ),
        category_spend=data.category_spend,
        texts=data.texts,
    )
    report(90, f"Chose {result.algorithm} with k = {result.k}; writing the artifact")
    summary = result_summary(result)
    summary["as_of"] = data.as_of.isoformat()
    summary["read_seconds"] = round(read_seconds, 3)
    summary["fit_seconds"] = round(time.monotonic() - started - read_seconds, 3)
    artifact = work_dir / ARTIFACT_NAME
    payload = {
        "format": ARTIFACT_FORMAT,
        "kind": CLUSTERS_KIND,
        "params": dict(params),
        "summary": summary,
        "scaling": {
            "columns": result.matrix.columns,
            "center": result.matrix.center.tolist(),
            "scale": result.matrix.scale.tolist(),
            "weights": result.matrix.weights.tolist(),
            "centers": result.centers.tolist(),
        },
        "assignments": {
            "customer_ids": [int(value) for value in result.customer_ids.tolist()],
            "labels": [int(value) for value in result.labels.tolist()],
        },
    }
    artifact.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
    return TrainingOutput(artifact_path=artifact, metrics=summary, dataset_hash=_dataset_hash(data))


# --- applying the champion to CustomerScores ---------------------------------------------------


@dataclass(frozen=True)
class ClusterApplySummary:
    """What one apply wrote."""

    model_version_id: int
    version: int
    assigned: int
    cleared: int
    seconds: float


def _artifact_load(version: Any) -> dict[str, Any]:
    if not ml_selectors.artifact_intact(version):
        raise ValidationFailed(
            f"the artifact of {version} does not match its recorded hash; fit the clusters again",
            field="model_version",
        )
    payload: dict[str, Any] = json.loads(ml_selectors.artifact_path(version).read_bytes())
    return payload


@transaction.atomic
def cluster_scores_apply(*, model_version_id: int | None = None) -> ClusterApplySummary:
    """Write the clusters of a `segments.clusters` version (default: the champion) into
    CustomerScores: `cluster`, `cluster_name`, `cluster_model_version` of every buyer it
    clustered; customers it did not cluster lose theirs. Other columns are not touched."""
    started = time.monotonic()
    if model_version_id is None:
        version = ml_selectors.champion_get(CLUSTERS_KIND)
        if version is None:
            raise NotEnoughData(
                "No clusters yet: fit them first (the Fit clusters button, or "
                "manage.py rfm clusters)."
            )
    else:
        version = ml_selectors.model_version_get(model_version_id=model_version_id)
        if version.kind != CLUSTERS_KIND:
            raise ValidationFailed(
                f"model_version: {version} is a {version.kind} model, not {CLUSTERS_KIND}",
                field="model_version",
            )
    payload = _artifact_load(version)
    names = {profile["cluster"]: profile["name"] for profile in payload["summary"]["profiles"]}
    existing = set(customer_list().order_by().values_list("id", flat=True))
    now = timezone.now()
    rows = [
        (customer_id, label, names.get(label, f"Cluster {label}"), version.pk, now)
        for customer_id, label in zip(
            payload["assignments"]["customer_ids"], payload["assignments"]["labels"], strict=True
        )
        if customer_id in existing  # deleted or merged away since the fit
    ]
    scores_upsert(columns=CLUSTER_COLUMNS, rows=rows)
    cleared = (
        CustomerScores.objects.exclude(cluster=None)
        .exclude(cluster_model_version_id=version.pk)
        .update(cluster=None, cluster_name="", cluster_model_version=None, updated_at=now)
    )
    cleared += (
        CustomerScores.objects.filter(cluster=None, cluster_model_version_id=version.pk)
        .exclude(cluster_name="")
        .update(cluster_name="", updated_at=now)
    )
    return ClusterApplySummary(
        model_version_id=version.pk,
        version=version.version,
        assigned=len(rows),
        cleared=cleared,
        seconds=round(time.monotonic() - started, 3),
    )


def cluster_scores_stale() -> bool:
    """Whether the champion of `segments.clusters` is not the version stored in CustomerScores."""
    champion = ml_selectors.champion_get(CLUSTERS_KIND)
    if champion is None:
        return False
    return not CustomerScores.objects.filter(cluster_model_version_id=champion.pk).exists()


def cluster_scores_apply_if_stale() -> ClusterApplySummary | None:
    """Apply the champion when it changed since the last apply (the scheduled entry point)."""
    if not cluster_scores_stale():
        return None
    return cluster_scores_apply()


def clusters_run_start(
    *, params: dict[str, Any] | None = None, trigger: str, triggered_by: Any = None
) -> Any:
    """Start a `segments.clusters` run; when it already finished (it ran in this process:
    no broker configured, the CLI, tests) apply its clusters at once.

    Not atomic on purpose: the run is enqueued when the platform's own transaction commits,
    and only after that can it have finished.
    """
    run = ml_services.training_run_start(
        kind=CLUSTERS_KIND, params=params or {}, trigger=trigger, triggered_by=triggered_by
    )
    run = ml_selectors.training_run_get(run_id=run.pk)
    version = getattr(run, "model_version", None)
    if run.status == "succeeded" and version is not None and cluster_scores_stale():
        cluster_scores_apply(model_version_id=version.pk)
    return run


# --- reads for the page and the API -------------------------------------------------------


@dataclass(frozen=True)
class ClusterRow:
    """One cluster of the champion, for the page and the API."""

    cluster: int
    name: str
    size: int
    share: float
    members_now: int  # customers holding this cluster in CustomerScores
    top_categories: list[tuple[str, float]]
    traits: list[str]
    highlights: list[dict[str, Any]]  # the features that set it apart most
    features: list[dict[str, Any]]  # every feature: label, mean, overall, difference


@dataclass(frozen=True)
class ClustersOverview:
    """The champion clustering: model facts, k selection, profiles, whether it is applied."""

    model_version: Any
    applied_version_id: int | None
    stale: bool
    algorithm: str
    k: int
    kmeans_k: int
    gmm_k: int
    silhouette: float | None
    customers: int
    used_text: bool
    text_terms: list[list[str]]
    selection: list[dict[str, Any]]
    clusters: list[ClusterRow]
    as_of: str
    latest_run: Any


def _feature_rows(profile: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every feature of a profile in FEATURES order (jsonb does not keep the keys' order)."""
    known = [spec.name for spec in FEATURES if spec.name in profile["means"]]
    others = sorted(name for name in profile["means"] if name not in FEATURE_LABELS)
    rows = []
    for name in known + others:
        mean = profile["means"][name]
        rows.append(
            {
                "feature": name,
                "label": labels.get(name, name.replace("_", " ")),
                "mean": mean,
                "overall": profile["overall"].get(name),
                "difference": profile["differences"].get(name) or 0.0,
            }
        )
    return rows


def clusters_overview() -> ClustersOverview | None:
    """The champion's clusters (None before the first successful fit)."""
    version = ml_selectors.champion_get(CLUSTERS_KIND)
    latest_run = ml_selectors.training_run_list(kind=CLUSTERS_KIND).first()
    if version is None:
        return None
    summary = version.metrics
    labels = {**FEATURE_LABELS, **summary.get("feature_labels", {})}
    counts = dict(
        CustomerScores.objects.filter(cluster_model_version_id=version.pk)
        .exclude(cluster=None)
        .values_list("cluster")
        .annotate(customers=Count("customer_id"))
        .order_by()
    )
    applied = (
        CustomerScores.objects.exclude(cluster_model_version=None)
        .values_list("cluster_model_version_id", flat=True)
        .first()
    )
    clusters = []
    for profile in summary.get("profiles", []):
        features = _feature_rows(profile, labels)
        highlights = sorted(features, key=lambda row: -abs(row["difference"]))[:4]
        clusters.append(
            ClusterRow(
                cluster=profile["cluster"],
                name=profile["name"],
                size=profile["size"],
                share=profile["share"],
                members_now=int(counts.get(profile["cluster"], 0)),
                top_categories=[(name, share) for name, share in profile["top_categories"]],
                traits=profile.get("traits", []),
                highlights=highlights,
                features=features,
            )
        )
    return ClustersOverview(
        model_version=version,
        applied_version_id=applied,
        stale=not counts,  # no customer holds the champion's clusters yet
        algorithm=summary.get("algorithm", ""),
        k=int(summary.get("k", len(clusters))),
        kmeans_k=int(summary.get("kmeans_k", 0)),
        gmm_k=int(summary.get("gmm_k", 0)),
        silhouette=summary.get("silhouette"),
        customers=int(summary.get("customers", 0)),
        used_text=bool(summary.get("used_text")),
        text_terms=summary.get("text_terms", []),
        selection=summary.get("selection", []),
        clusters=clusters,
        as_of=summary.get("as_of", ""),
        latest_run=latest_run,
    )


# --- saving a cluster as a segment ----------------------------------------------------------


def cluster_segment_save(*, cluster: int, name: str = "", actor: Any = None) -> Any:
    """Save the current members of a cluster as a static segment and return it.

    Static on purpose: cluster numbers are renumbered by every refit, so a dynamic "cluster
    = 2" would silently change meaning; the segment keeps exactly the customers shown. The
    name defaults to the cluster's name with its model version.
    """
    version = ml_selectors.champion_get(CLUSTERS_KIND)
    if version is None:
        raise NotEnoughData("No clusters yet: fit them first.")
    profiles = {profile["cluster"]: profile for profile in version.metrics.get("profiles", [])}
    if cluster not in profiles:
        raise ValidationFailed(
            f"cluster: the current model (v{version.version}) has clusters "
            f"0-{len(profiles) - 1}, not {cluster}",
            field="cluster",
        )
    members = list(
        CustomerScores.objects.filter(cluster_model_version_id=version.pk, cluster=cluster)
        .order_by("customer_id")
        .values_list("customer__external_id", flat=True)
    )
    if not members:
        raise ValidationFailed(
            "cluster: no customer holds this cluster yet; apply the clusters first",
            field="cluster",
        )
    label = profiles[cluster]["name"]
    return segment_create(
        name=name.strip() or f"Cluster: {label} (v{version.version})"[:120],
        customer_external_ids=members,
        description=f'The {len(members)} customers of cluster {cluster} "{label}" of clustering '
        f"model v{version.version}, saved {timezone.now():%Y-%m-%d}.",
        actor=actor,
    )
