"""CLV API: GET /api/v1/segments/clv and POST /api/v1/segments/clv/fit, with key scopes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory
from apps.ml.models import TrainingRun
from apps.segments.ml_clv import register_kinds
from apps.segments.models import CustomerScores
from apps.segments.services.clv import clv_fit_start
from apps.segments.tests.test_clv_services import shop_frame, shop_load

OVERVIEW = "/api/v1/segments/clv"
FIT = "/api/v1/segments/clv/fit"


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def client(*scopes: str) -> APIClient:
    api_key = ApiKeyFactory(scopes=list(scopes))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
    return api


@pytest.mark.django_db
def test_before_a_fit_the_overview_is_empty():
    response = client("segments:read").get(OVERVIEW)

    body = response.json()
    assert response.status_code == 200
    assert body["model_version"] is None
    assert body["bgnbd"] is None and body["gamma_gamma"] is None
    assert body["predictions"]["customers"] == 0
    assert body["top_customers"] == []
    assert body["latest_run"] is None


@pytest.mark.django_db(transaction=True)
def test_the_overview_returns_the_fit_diagnostics_and_stored_predictions():
    shop_load(shop_frame(customers=200, seed=83))
    run = clv_fit_start(trigger="cli")

    body = client("segments:read").get(OVERVIEW).json()

    assert body["model_version"] == 1 and body["stale"] is False
    assert body["bgnbd"]["r"] == pytest.approx(run.metrics["bgnbd_r"])
    assert body["bgnbd"]["log_likelihood"] == pytest.approx(run.metrics["bgnbd_log_likelihood"])
    assert body["gamma_gamma"]["v"] == pytest.approx(run.metrics["gamma_gamma_v"])
    assert body["customers"] == 200
    assert body["independence_check"]["pearson"] == pytest.approx(
        run.metrics["frequency_spend_correlation"]
    )
    assert [bucket["frequency"] for bucket in body["diagnostics"]["buckets"]][-1] == "7+"
    assert body["predictions"]["customers"] == 200
    assert sum(band["customers"] for band in body["predictions"]["distribution"]) == 200
    top = CustomerScores.objects.select_related("customer").order_by("-clv_12m").first()
    assert body["top_customers"][0]["external_id"] == top.customer.external_id
    assert body["top_customers"][0]["clv_12m"] == f"{top.clv_12m:.2f}"
    assert body["latest_run"]["id"] == run.pk


@pytest.mark.django_db(transaction=True)
def test_fit_starts_a_run_with_parameters():
    shop_load(shop_frame(customers=120, seed=89))

    response = client("segments:write").post(
        FIT, {"time_unit": "W", "holdout_days": 30}, format="json"
    )

    body = response.json()
    run = TrainingRun.objects.get()
    assert response.status_code == 201
    assert (body["id"], body["kind"], body["status"]) == (run.pk, "segments.clv", "succeeded")
    assert body["params"] == {
        "time_unit": "W",
        "holdout_days": 30,
        "monthly_discount_rate": 0.01,
        "months": 12,
    }
    assert run.trigger == "api"
    assert CustomerScores.objects.filter(clv_model_version__version=1).count() == 120


@pytest.mark.django_db
def test_fit_refuses_bad_parameters_and_starts_nothing():
    response = client("segments:write").post(FIT, {"time_unit": "M"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("time_unit:")
    assert TrainingRun.objects.count() == 0


@pytest.mark.django_db
def test_scopes_guard_both_endpoints():
    assert client("segments:write").get(OVERVIEW).status_code == 403
    assert client("segments:read").post(FIT, {}, format="json").status_code == 403
    assert APIClient().get(OVERVIEW).status_code == 401
    assert TrainingRun.objects.count() == 0
