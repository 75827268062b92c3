"""The RFM & lifecycle and Clusters pages: grid, counts, charts' data, empty states, the
buttons each role may use, saving a cell or a cluster as a segment."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.ml.models import TrainingRun
from apps.segments.ml_rfm import register_kinds
from apps.segments.models import CustomerScores, Segment
from apps.segments.services.clustering import cluster_scores_apply, clusters_run_start
from apps.segments.services.rfm import rfm_compute

pytestmark = pytest.mark.django_db

RFM_PAGE = "/segments/rfm/"
CLUSTERS_PAGE = "/segments/rfm/clusters/"


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def buyers(count: int = 60) -> None:
    """`count` customers with 1-4 orders of different sizes and ages."""
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


def fitted(capture) -> None:
    buyers()
    with capture(execute=True):
        clusters_run_start(params={"k_min": 2, "k_max": 3}, trigger="cli")


def test_rfm_page_without_scores_says_what_to_do():
    response = signed_in("analyst").get(RFM_PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "No RFM scores yet" in page
    assert 'data-testid="rfm-compute"' not in page  # analysts may not start runs
    admin_page = signed_in("admin").get(RFM_PAGE).content.decode()
    assert 'data-testid="rfm-compute"' in admin_page
    assert "python manage.py rfm compute" in admin_page


def test_rfm_page_shows_the_grid_cells_and_lifecycle_counts():
    buyers(10)
    CustomerFactory(external_id="prospect")
    rfm_compute()

    response = signed_in("analyst").get(RFM_PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    squares = re.findall(r'data-testid="rfm-square-(\d)-(\d)"', page)
    assert len(squares) == 25 and squares[0] == ("5", "1") and squares[-1] == ("1", "5")
    grid_total = sum(
        int(count.replace(",", ""))
        for count in re.findall(r'<span class="rfm-count">([\d,]+)</span>', page)
    )
    assert grid_total == 10
    assert 'data-testid="cell-champions"' in page and "Can&#x27;t lose them" in page
    chart = json.loads(
        re.search(
            r'<script id="lifecycle-chart-data" type="application/json">(.*?)</script>', page
        ).group(1)
    )
    assert chart["labels"][0] == "Prospect" and chart["values"][0] == 1
    assert sum(chart["values"]) == 11
    assert 'data-testid="save-cell-champions"' not in page  # read-only role


def test_analyst_may_not_recompute_and_nothing_starts():
    response = signed_in("analyst").post("/segments/rfm/compute")

    assert response.status_code == 403
    assert not TrainingRun.objects.exists()


def test_marketer_recomputes_and_the_run_writes_scores(django_capture_on_commit_callbacks):
    buyers(5)
    client = signed_in("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/segments/rfm/compute")

    assert response.status_code == 302 and response.url == RFM_PAGE
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger) == ("segments.rfm", "ui")
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert CustomerScores.objects.exclude(rfm_cell="").count() == 5


def test_saving_a_cell_creates_a_dynamic_segment_and_a_taken_name_is_refused():
    buyers(10)
    rfm_compute()
    cell = CustomerScores.objects.exclude(rfm_cell="").values_list("rfm_cell", flat=True).first()
    client = signed_in("marketer")

    response = client.post(f"/segments/rfm/cells/{cell}/segment")
    again = client.post(f"/segments/rfm/cells/{cell}/segment", follow=True)

    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.kind == "dynamic" and segment.member_count >= 1
    assert "exists already" in again.content.decode()
    assert Segment.objects.count() == 1


def test_status_partial_polls_while_active_and_reloads_when_done():
    client = signed_in("analyst")
    run = TrainingRun.objects.create(kind="segments.rfm", status="running", progress=40)

    polling = client.get("/segments/rfm/status/rfm?polling=1")
    run.status = "succeeded"
    run.save()
    done = client.get("/segments/rfm/status/rfm?polling=1")

    assert 'hx-trigger="every 2s"' in polling.content.decode()
    assert "HX-Refresh" not in polling.headers
    assert done.headers["HX-Refresh"] == "true"
    assert client.get("/segments/rfm/status/other").status_code == 404


def test_clusters_page_without_a_model_says_what_to_do():
    page = signed_in("admin").get(CLUSTERS_PAGE).content.decode()

    assert "No clusters yet" in page
    assert "python manage.py rfm clusters" in page
    assert 'data-testid="clusters-fit"' in page


@pytest.mark.usefixtures("activation_hooks_lost")
def test_clusters_page_shows_profiles_k_selection_and_applies_a_worker_fit(
    django_capture_on_commit_callbacks,
):
    fitted(django_capture_on_commit_callbacks)
    client = signed_in("marketer")

    before = client.get(CLUSTERS_PAGE).content.decode()
    applied = client.post("/segments/rfm/clusters/apply", follow=True).content.decode()

    assert 'data-testid="clusters-stale"' in before
    assert 'data-testid="clusters-stale"' not in applied
    assert "written to 60 customers" in applied
    chart = json.loads(
        re.search(
            r'<script id="k-chart-data" type="application/json">(.*?)</script>', applied
        ).group(1)
    )
    assert chart["k"] == [2, 3]
    assert len(chart["silhouette"]) == len(chart["bic"]) == 2
    assert 'data-testid="cluster-0"' in applied and 'data-testid="save-cluster-0"' in applied
    assert 'data-testid="profile-table"' in applied and "Average order value" in applied


def test_saving_a_cluster_creates_a_static_segment(django_capture_on_commit_callbacks):
    fitted(django_capture_on_commit_callbacks)
    cluster_scores_apply()

    response = signed_in("marketer").post("/segments/rfm/clusters/0/segment")

    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.kind == "static"
    assert segment.member_count == CustomerScores.objects.filter(cluster=0).count()


def test_analyst_may_not_fit_apply_or_save(django_capture_on_commit_callbacks):
    client = signed_in("analyst")

    assert client.post("/segments/rfm/clusters/fit").status_code == 403
    assert client.post("/segments/rfm/clusters/apply").status_code == 403
    assert client.post("/segments/rfm/clusters/0/segment").status_code == 403
    assert client.post("/segments/rfm/cells/champions/segment").status_code == 403
    assert not TrainingRun.objects.exists() and not Segment.objects.exists()


def test_fit_with_bad_parameters_shows_the_reason():
    response = signed_in("marketer").post(
        "/segments/rfm/clusters/fit", {"k_min": "6", "k_max": "3"}, follow=True
    )

    assert "k_max (3) must be at least k_min (6)" in response.content.decode()
    assert not TrainingRun.objects.exists()
