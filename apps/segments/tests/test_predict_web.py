"""The Predictions page and API: empty states, retrain permissions, metrics, scores, scopes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, UserFactory
from apps.core.demo.services import demo_shop_generate
from apps.ml.models import TrainingRun
from apps.ml.tests.factories import TrainingRunFactory
from apps.segments.ml_propensity import register_kinds
from apps.segments.services.predict import prediction_scores_refresh, prediction_training_start

pytestmark = pytest.mark.django_db

PAGE = "/segments/predictions/"


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def api(*scopes: str) -> APIClient:
    key = ApiKeyFactory(scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    return client


def test_empty_state_says_how_to_train_and_analysts_get_no_button():
    response = signed_in("analyst").get(PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert "No churn model yet" in page
    assert "python manage.py predict train --kind churn --wait" in page
    assert 'data-testid="predict-retrain"' not in page
    other = signed_in("analyst").get(PAGE + "?model=propensity").content.decode()
    assert "No purchase propensity model yet" in other


def test_marketers_start_a_run_from_the_page(django_capture_on_commit_callbacks):
    client = signed_in("marketer")
    assert 'data-testid="predict-retrain"' in client.get(PAGE).content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(PAGE + "churn/train", {"horizon_days": "60"})

    assert response.status_code == 302
    assert response["Location"] == PAGE + "?model=churn"
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger, run.params["horizon_days"]) == ("segments.churn", "ui", 60)
    page = client.get(response["Location"]).content.decode()
    assert f"Training run {run.pk} of the churn risk model started" in page
    assert 'hx-trigger="every 2s"' in page  # the queued run polls its status


def test_analysts_may_not_retrain_and_unknown_kinds_are_404():
    response = signed_in("analyst").post(PAGE + "churn/train")
    unknown = signed_in("admin").post(PAGE + "lifetime/train")

    assert response.status_code == 403
    assert unknown.status_code == 404
    assert not TrainingRun.objects.exists()


def test_a_run_without_enough_data_shows_its_reason():
    TrainingRunFactory(
        kind="segments.propensity",
        status="not_enough_data",
        error="A 30-day model needs at least 90 days of order history; found 12 days.\n\nTrace",
    )

    page = signed_in("analyst").get(PAGE + "?model=propensity").content.decode()
    partial = signed_in("analyst").get(PAGE + "propensity/run").content.decode()

    assert "A 30-day model needs at least 90 days of order history; found 12 days." in page
    assert "Trace" not in page
    assert "Not enough data" in partial
    assert "hx-trigger" not in partial  # finished: no more polling


def test_the_api_lists_both_models_before_training():
    response = api("segments:read").get("/api/v1/segments/predictions")

    assert response.status_code == 200
    models = response.json()["models"]
    assert [model["kind"] for model in models] == ["churn", "propensity"]
    assert models[0]["ml_kind"] == "segments.churn"
    assert models[0]["score_field"] == "churn_risk"
    assert (models[1]["model_version"], models[1]["metrics"], models[1]["latest_run"]) == (
        None,
        {},
        None,
    )
    assert models[1]["scored_customers"] == 0


def test_the_api_needs_its_scopes():
    reader = api("segments:read")

    listing = api("customers:read").get("/api/v1/segments/predictions")
    start = reader.post("/api/v1/segments/predictions/churn/train", {}, format="json")

    assert listing.status_code == 403
    assert start.status_code == 403
    assert not TrainingRun.objects.exists()


def test_the_api_starts_a_run_with_options(django_capture_on_commit_callbacks):
    writer = api("segments:write")

    with django_capture_on_commit_callbacks(execute=False):
        response = writer.post(
            "/api/v1/segments/predictions/churn/train",
            {"horizon_days": 45, "active_days": 180},
            format="json",
        )

    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["status"]) == ("segments.churn", "queued")
    assert body["params"] == {"horizon_days": 45, "active_days": 180, "seed": 0}
    assert TrainingRun.objects.get().trigger == "api"


def test_the_api_refuses_bad_options_and_unknown_kinds():
    writer = api("segments:write")

    too_long = writer.post(
        "/api/v1/segments/predictions/churn/train", {"horizon_days": 999}, format="json"
    )
    wrong_kind = writer.post(
        "/api/v1/segments/predictions/propensity/train", {"active_days": 30}, format="json"
    )
    unknown = writer.post("/api/v1/segments/predictions/ltv/train", {}, format="json")

    assert too_long.status_code == 400
    assert too_long.json()["code"] == "invalid"
    assert "horizon_days" in too_long.json()["detail"]
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["detail"] == "active_days: only the churn model has an activity window"
    assert (unknown.status_code, unknown.json()["code"]) == (404, "prediction_not_found")
    assert not TrainingRun.objects.exists()


@pytest.mark.slow
def test_a_trained_and_scored_model_on_the_page_and_in_the_api(
    tmp_path, django_capture_on_commit_callbacks
):
    demo_shop_generate(
        customers=800, seed=5, end_date=date(2026, 11, 29), truth_file=tmp_path / "t"
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = prediction_training_start(kind="propensity", trigger="cli")
    prediction_scores_refresh(kind="propensity")
    run.refresh_from_db()

    response = signed_in("analyst").get(PAGE + "?model=propensity")
    listing = api("segments:read").get("/api/v1/segments/predictions").json()["models"]

    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="kpi-auc">{run.metrics["auc"]:.3f}<' in page
    assert 'data-testid="kpi-scored">800<' in page
    assert "Most likely to buy" in page
    assert page.count('href="/customers/') >= 10
    charts = json.loads(page.split('id="predict-charts" type="application/json">')[1].split("<")[0])
    assert len(charts["calibration"]) == 10 and len(charts["lift"]) == 10
    assert sum(item["customers"] for item in charts["distribution"]) == 800
    assert charts["importance"][0]["label"]
    propensity = listing[1]
    assert propensity["model_version"]["version"] == 1
    assert propensity["metrics"]["auc"] == run.metrics["auc"]
    assert propensity["metrics"]["model"].startswith("LGBMClassifier+")
    assert (propensity["scored_customers"], propensity["scores_pending"]) == (800, False)
    assert propensity["latest_run"]["status"] == "succeeded"
