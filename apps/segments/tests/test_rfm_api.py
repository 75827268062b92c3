"""RFM, lifecycle and clusters API: reads, runs and saved segments, with key scopes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.ml.models import TrainingRun
from apps.segments.ml_rfm import register_kinds
from apps.segments.models import Segment
from apps.segments.services.clustering import cluster_scores_apply
from apps.segments.services.rfm import rfm_compute

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def client(*scopes: str) -> APIClient:
    api_key = ApiKeyFactory(scopes=list(scopes))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
    return api


def buyers(count: int) -> None:
    now = timezone.now()
    for index in range(count):
        customer = CustomerFactory(external_id=f"buyer-{index:03d}")
        for order in range(1 + index % 4):
            OrderFactory(
                customer=customer,
                placed_at=now - timedelta(days=3 + 17 * order + index),
                total=Decimal(20 + 7 * index),
                subtotal=Decimal(20 + 7 * index),
            )


def test_rfm_overview_lists_cells_grid_and_stages():
    buyers(10)
    CustomerFactory(external_id="prospect")
    rfm_compute()

    response = client("segments:read").get("/api/v1/segments/rfm")

    assert response.status_code == 200
    body = response.json()
    assert (body["customers_scored"], body["buyers"]) == (11, 10)
    assert [cell["cell"] for cell in body["cells"]][:3] == [
        "champions",
        "loyal",
        "potential_loyalists",
    ]
    assert sum(cell["customers"] for cell in body["cells"]) == 10
    assert len(body["grid"]) == 25 and sum(square["customers"] for square in body["grid"]) == 10
    assert body["grid"][0] == {
        "recency": 5,
        "frequency_monetary": 1,
        "cell": "new",
        "customers": body["grid"][0]["customers"],
    }
    assert {stage["stage"]: stage["customers"] for stage in body["stages"]}["prospect"] == 1
    assert set(body["boundaries"]) == set()  # no run recorded: computed by the service directly
    assert body["computed_at"] is not None


def test_reads_need_a_key_with_segments_read():
    assert APIClient().get("/api/v1/segments/rfm").status_code == 401
    assert client("customers:read").get("/api/v1/segments/rfm").status_code == 403
    assert client("customers:read").get("/api/v1/segments/clusters").status_code == 403


def test_starting_an_rfm_run_needs_segments_write(django_capture_on_commit_callbacks):
    buyers(3)

    refused = client("segments:read").post("/api/v1/segments/rfm/runs")
    assert refused.status_code == 403
    assert not TrainingRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client("segments:write").post("/api/v1/segments/rfm/runs")

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"], body["params"]) == ("segments.rfm", "queued", {})
    run = TrainingRun.objects.get(pk=body["id"])
    assert (run.status, run.trigger) == ("succeeded", "api")
    assert client("segments:read").get("/api/v1/segments/rfm").json()["buyers"] == 3


def test_an_rfm_cell_saved_as_a_segment_through_the_api():
    buyers(10)
    rfm_compute()
    api = client("segments:write")

    created = api.post(
        "/api/v1/segments/rfm/cells/champions/segment", {"name": "Best"}, format="json"
    )
    unknown = api.post("/api/v1/segments/rfm/cells/vip/segment", {}, format="json")
    taken = api.post("/api/v1/segments/rfm/cells/lost/segment", {"name": "Best"}, format="json")

    assert created.status_code == 201
    assert created.json()["name"] == "Best" and created.json()["kind"] == "dynamic"
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid"
    assert "cell: must be one of" in unknown.json()["detail"]
    assert taken.status_code == 409 and taken.json()["code"] == "conflict"
    assert list(Segment.objects.values_list("name", flat=True)) == ["Best"]


@pytest.mark.usefixtures("activation_hooks_lost")
def test_clusters_before_and_after_a_fit(django_capture_on_commit_callbacks):
    api = client("segments:read", "segments:write")
    empty = api.get("/api/v1/segments/clusters").json()
    assert (empty["model_version"], empty["clusters"], empty["applied"]) == (None, [], False)

    buyers(60)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(
            "/api/v1/segments/clusters/runs",
            {"k_min": 2, "k_max": 3, "algorithm": "kmeans", "seed": 1},
            format="json",
        )
    assert started.status_code == 201
    assert started.json()["params"] == {"k_min": 2, "k_max": 3, "algorithm": "kmeans", "seed": 1}

    fitted = api.get("/api/v1/segments/clusters").json()
    assert fitted["model_version"] == 1 and fitted["applied"] is False
    cluster_scores_apply()
    body = api.get("/api/v1/segments/clusters").json()

    assert body["applied"] is True
    assert body["algorithm"] == "kmeans" and body["k"] in (2, 3)
    assert [row["k"] for row in body["selection"]] == [2, 3]
    assert sum(cluster["size"] for cluster in body["clusters"]) == body["customers"] == 60
    assert sum(cluster["members_now"] for cluster in body["clusters"]) == 60
    first = body["clusters"][0]
    assert first["cluster"] == 0 and first["name"].endswith("buyers")
    assert {feature["feature"] for feature in first["features"]} >= {
        "orders",
        "average_order_value",
    }

    saved = api.post("/api/v1/segments/clusters/0/segment", {}, format="json")
    assert saved.status_code == 201
    assert saved.json()["kind"] == "static"
    assert saved.json()["member_count"] == first["members_now"]
    missing = api.post("/api/v1/segments/clusters/42/segment", {}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"


def test_cluster_runs_with_bad_params_are_refused():
    api = client("segments:write")

    too_small = api.post("/api/v1/segments/clusters/runs", {"k_min": 1}, format="json")
    reversed_range = api.post(
        "/api/v1/segments/clusters/runs", {"k_min": 6, "k_max": 3}, format="json"
    )

    assert too_small.status_code == 400
    assert reversed_range.status_code == 400
    assert "k_max (3) must be at least k_min (6)" in reversed_range.json()["detail"]
    assert not TrainingRun.objects.exists()


def test_saving_a_cluster_before_any_fit_is_not_enough_data():
    response = client("segments:write").post("/api/v1/segments/clusters/0/segment", {})

    assert response.status_code == 422
    assert response.json()["code"] == "not_enough_data"
