"""Clusters on the database: recovery of the demo shop's latent segments (adjusted Rand
index against the generator's ground truth), the `segments.clusters` ML run, applying the
champion to CustomerScores, and saving a cluster as a segment."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from apps.core.demo.services import demo_shop_generate
from apps.core.errors import NotEnoughData, ValidationFailed
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.ml.models import ModelVersion
from apps.ml.selectors import artifact_path, champion_get
from apps.segments.ml_rfm import register_kinds
from apps.segments.models import CustomerScores, Segment
from apps.segments.services.clustering import (
    CLUSTER_DEFAULTS,
    cluster_scores_apply,
    cluster_scores_stale,
    cluster_segment_save,
    clusters_overview,
    clusters_run_start,
    clusters_train,
)

pytestmark = pytest.mark.django_db

DEMO_END = date(2026, 11, 29)
DEMO_AS_OF = datetime(2026, 11, 29, tzinfo=UTC)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def _truth_segments(truth_file) -> dict[str, str]:
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    return {row["external_id"]: row["segment"] for row in truth["customers"]}


@pytest.mark.slow
def test_clusters_recover_the_demo_shops_latent_segments(tmp_path):
    # given the demo shop (2,000 customers) and its ground truth
    truth_file = tmp_path / "truth.json"
    demo_shop_generate(customers=2000, seed=21, end_date=DEMO_END, truth_file=truth_file)
    segments = _truth_segments(truth_file)

    # when the clusters are fitted with the default parameters
    output = clusters_train(params=dict(CLUSTER_DEFAULTS), work_dir=tmp_path, as_of=DEMO_AS_OF)

    # then the clusters agree with the latent segments far beyond chance
    payload = json.loads(output.artifact_path.read_text(encoding="utf-8"))
    customer_ids = payload["assignments"]["customer_ids"]
    labels = np.array(payload["assignments"]["labels"])
    external = dict(Customer.objects.values_list("pk", "external_id"))
    latent = np.array([segments[external[customer_id]] for customer_id in customer_ids])
    ari = adjusted_rand_score(latent, labels)
    ami = adjusted_mutual_info_score(latent, labels)
    rng = np.random.default_rng(0)
    null = [adjusted_rand_score(latent, rng.permutation(labels)) for _ in range(50)]
    summary = payload["summary"]
    print(
        f"\nclusters vs latent segments: ARI={ari:.3f} AMI={ami:.3f} "
        f"(shuffled labels: max ARI {max(null):.4f}) algorithm={summary['algorithm']} "
        f"k={summary['k']} kmeans_k={summary['kmeans_k']} gmm_k={summary['gmm_k']} "
        f"silhouette={summary['silhouette']:.3f} buyers={len(labels)}"
    )
    for profile in summary["profiles"]:
        shares = {
            str(name): round(float(np.mean(latent[labels == profile["cluster"]] == name)), 2)
            for name in sorted(set(latent))
        }
        print(f"  {profile['cluster']} {profile['name']!r} size={profile['size']} {shares}")
    assert ari > 0.05
    assert ari > 10 * max(null)
    # The VIP segment (8% of buyers) concentrates in one cluster at several times its share.
    vip_share = max(
        float(np.mean(latent[labels == cluster] == "vip")) for cluster in range(summary["k"])
    )
    assert vip_share > 3 * float(np.mean(latent == "vip"))
    assert 3 <= summary["k"] <= 8
    assert len({profile["name"] for profile in summary["profiles"]}) == summary["k"]
    assert sum(profile["size"] for profile in summary["profiles"]) == len(labels)
    assert len(labels) == Customer.objects.filter(orders__isnull=False).distinct().count() - (
        Customer.objects.filter(orders__isnull=False)
        .exclude(orders__status__in=["paid", "shipped", "completed"])
        .distinct()
        .count()
    )


@pytest.mark.slow
def test_the_clusters_run_applies_to_scores_and_saves_a_segment(
    tmp_path, django_capture_on_commit_callbacks
):
    # given a small demo shop, and a customer holding a cluster of some older model
    demo_shop_generate(customers=600, seed=3, end_date=DEMO_END, truth_file=tmp_path / "truth.json")
    prospect = Customer.objects.filter(orders__isnull=True).first()
    CustomerScores.objects.create(customer=prospect, cluster=5, cluster_name="Old", clv_12m=9)

    # when a run is started (it executes when the transaction commits, as on a worker)
    with django_capture_on_commit_callbacks(execute=True):
        run = clusters_run_start(params={"k_min": 3, "k_max": 5}, trigger="cli")
    run.refresh_from_db()

    # then it published a champion, and its on_activate hook applied it to the customers
    assert (run.kind, run.status, run.error) == ("segments.clusters", "succeeded", "")
    champion = champion_get("segments.clusters")
    assert champion.pk == run.model_version.pk
    assert cluster_scores_stale() is False
    clustered = CustomerScores.objects.filter(cluster_model_version=champion)
    assert clustered.count() == run.metrics["customers"]
    assert set(clustered.values_list("cluster", flat=True)) == set(range(run.metrics["k"]))
    names = {p["cluster"]: p["name"] for p in run.metrics["profiles"]}
    assert all(row.cluster_name == names[row.cluster] for row in clustered)
    prospect_scores = CustomerScores.objects.get(customer=prospect)
    assert (prospect_scores.cluster, prospect_scores.cluster_name) == (None, "")
    assert prospect_scores.clv_12m == Decimal("9.00")

    overview = clusters_overview()
    assert overview.model_version.pk == champion.pk and not overview.stale
    assert [row.members_now for row in overview.clusters] == [
        clustered.filter(cluster=row.cluster).count() for row in overview.clusters
    ]
    assert len(overview.selection) == 3

    # and a cluster saved as a segment keeps its current members
    segment = cluster_segment_save(cluster=1)
    assert segment.kind == "static"
    assert segment.member_count == overview.clusters[1].members_now
    assert segment.name == f"Cluster: {names[1]} (v1)"
    with pytest.raises(ValidationFailed, match="cluster: the current model"):
        cluster_segment_save(cluster=99)
    assert Segment.objects.count() == 1


def test_too_few_buyers_is_not_enough_data(django_capture_on_commit_callbacks):
    for index in range(20):
        customer = CustomerFactory(external_id=f"few-{index}")
        OrderFactory(customer=customer, placed_at=DEMO_AS_OF - timedelta(days=index + 1))

    with django_capture_on_commit_callbacks(execute=True):
        run = clusters_run_start(trigger="cli")
    run.refresh_from_db()

    assert run.status == "not_enough_data"
    assert run.error.startswith(
        "Clustering needs at least 50 customers with a paid, shipped or completed order; found 20."
    )
    assert not ModelVersion.objects.exists()
    assert not CustomerScores.objects.exists()


def test_bad_params_are_refused_before_anything_is_written():
    with pytest.raises(ValidationFailed, match="k_max \\(3\\) must be at least k_min \\(5\\)"):
        clusters_run_start(params={"k_min": 5, "k_max": 3}, trigger="cli")
    with pytest.raises(ValidationFailed, match="algorithm must be one of"):
        clusters_run_start(params={"algorithm": "dbscan"}, trigger="cli")
    with pytest.raises(ValidationFailed, match="unknown parameter"):
        clusters_run_start(params={"clusters": 4}, trigger="cli")

    from apps.ml.models import TrainingRun

    assert not TrainingRun.objects.exists()


def test_nothing_to_apply_or_save_before_the_first_fit():
    with pytest.raises(NotEnoughData, match="No clusters yet"):
        cluster_scores_apply()
    with pytest.raises(NotEnoughData, match="No clusters yet"):
        cluster_segment_save(cluster=0)
    assert clusters_overview() is None
    assert cluster_scores_stale() is False


@pytest.mark.usefixtures("activation_hooks_lost")
@pytest.mark.slow
def test_a_tampered_artifact_is_not_applied(tmp_path, django_capture_on_commit_callbacks):
    for index in range(60):
        customer = CustomerFactory(external_id=f"buyer-{index}")
        for order in range(1 + index % 4):
            OrderFactory(
                customer=customer,
                placed_at=DEMO_AS_OF - timedelta(days=3 + 17 * order + index),
                total=Decimal(20 + 7 * index),
                subtotal=Decimal(20 + 7 * index),
            )
    with django_capture_on_commit_callbacks(execute=True):
        run = clusters_run_start(params={"k_min": 2, "k_max": 3}, trigger="cli")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    path = artifact_path(run.model_version)
    path.write_text(path.read_text().replace('"labels":[', '"labels":[1,'), encoding="utf-8")

    with pytest.raises(ValidationFailed, match="does not match its recorded hash"):
        cluster_scores_apply()

    assert not CustomerScores.objects.exists()
