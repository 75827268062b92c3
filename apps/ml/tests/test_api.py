"""ML API: create, list and read runs, list versions and kinds, with key scopes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_key_create
from apps.ml.choices import RunStatus, TriggerSource
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.tests.factories import ModelVersionFactory, TrainingRunFactory
from apps.ml.trainers import SELFTEST

pytestmark = pytest.mark.django_db


def _client(*scopes: str) -> APIClient:
    created = api_key_create(name="ml-test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    return client


def test_create_run_returns_201_and_enqueues(django_capture_on_commit_callbacks):
    client = _client("ml:run")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 1}}, format="json"
        )

    assert response.status_code == 201
    body = response.json()
    run = TrainingRun.objects.get()
    assert body["id"] == run.pk
    assert body["kind"] == SELFTEST
    assert body["status"] == RunStatus.QUEUED
    assert body["params"] == {"seconds": 1.0, "fail": False}
    assert body["progress"] == 0
    assert body["model_version"] is None
    assert run.trigger == TriggerSource.API
    assert len(callbacks) == 1


def test_create_run_executed_eagerly_reports_the_outcome(django_capture_on_commit_callbacks):
    client = _client("ml:run", "ml:read")

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 0}}, format="json"
        )
    response = client.get(f"/api/v1/ml/runs/{created.json()['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == RunStatus.SUCCEEDED
    assert body["progress"] == 100
    assert body["metrics"] == {"steps": 1, "seconds": 0.0}
    assert body["error"] == ""
    assert body["model_version"] == {"id": ModelVersion.objects.get().pk, "version": 1}


def test_create_run_of_unknown_kind_is_400_naming_the_field():
    response = _client("ml:run").post("/api/v1/ml/runs", {"kind": "nope"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == "kind"
    assert body["detail"].startswith("kind: Unknown kind 'nope'; registered kinds:")
    assert TrainingRun.objects.count() == 0


def test_create_run_with_bad_params_is_400():
    response = _client("ml:run").post(
        "/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": -5}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "params: seconds must be between 0 and 3600, got -5"
    assert TrainingRun.objects.count() == 0


def test_create_run_needs_the_run_scope():
    response = _client("ml:read").post("/api/v1/ml/runs", {"kind": SELFTEST}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "This operation needs the scope ml:run",
        "code": "permission_denied",
    }
    assert TrainingRun.objects.count() == 0


def test_runs_need_a_key():
    response = APIClient().get("/api/v1/ml/runs")

    assert response.status_code == 401


def test_list_runs_newest_first_with_filters():
    older = TrainingRunFactory(
        status=RunStatus.FAILED,
        error='RuntimeError: boom\n\nTraceback (most recent call last):\n  File "/srv/x.py"',
    )
    newer = TrainingRunFactory(status=RunStatus.RUNNING, progress=42, progress_message="Epoch 3")
    client = _client("ml:read")

    everything = client.get("/api/v1/ml/runs").json()
    failed = client.get("/api/v1/ml/runs", {"status": "failed"}).json()

    assert [run["id"] for run in everything["results"]] == [newer.pk, older.pk]
    assert everything["results"][0]["progress"] == 42
    assert everything["results"][0]["progress_message"] == "Epoch 3"
    assert [run["id"] for run in failed["results"]] == [older.pk]
    # the headline only: no traceback (server paths) for API keys
    assert failed["results"][0]["error"] == "RuntimeError: boom"


def test_list_runs_rejects_an_unknown_status():
    response = _client("ml:read").get("/api/v1/ml/runs", {"status": "exploded"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("status:")


def test_get_run_not_found_is_404():
    response = _client("ml:read").get("/api/v1/ml/runs/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Training run 999999 does not exist", "code": "not_found"}


def test_rerun_creates_a_new_run(django_capture_on_commit_callbacks):
    failed = TrainingRunFactory(status=RunStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=False):
        response = _client("ml:run").post(f"/api/v1/ml/runs/{failed.pk}/rerun")

    assert response.status_code == 201
    assert response.json()["rerun_of"] == failed.pk
    assert TrainingRun.objects.count() == 2


def test_rerun_of_a_running_run_is_409():
    running = TrainingRunFactory(status=RunStatus.RUNNING)

    response = _client("ml:run").post(f"/api/v1/ml/runs/{running.pk}/rerun")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert TrainingRun.objects.count() == 1


def test_models_list_flags_the_champion(django_capture_on_commit_callbacks):
    client = _client("ml:run", "ml:read")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 0}}, format="json")
        client.post("/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 0}}, format="json")
    ModelVersionFactory(kind="other.kind", version=1)

    body = client.get("/api/v1/ml/models", {"kind": SELFTEST}).json()

    assert [(v["version"], v["is_champion"]) for v in body["results"]] == [(2, True), (1, False)]
    assert len(body["results"][0]["content_hash"]) == 64


def test_activate_model_switches_the_champion(django_capture_on_commit_callbacks):
    client = _client("ml:run", "ml:read")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 0}}, format="json")
        client.post("/api/v1/ml/runs", {"kind": SELFTEST, "params": {"seconds": 0}}, format="json")
    first = ModelVersion.objects.get(kind=SELFTEST, version=1)

    response = client.post(f"/api/v1/ml/models/{first.pk}/activate")
    listed = client.get("/api/v1/ml/models", {"kind": SELFTEST}).json()

    assert response.status_code == 200
    assert response.json()["is_champion"] is True
    assert [(v["version"], v["is_champion"]) for v in listed["results"]] == [(2, False), (1, True)]


def test_kinds_lists_registered_kinds():
    response = _client("ml:read").get("/api/v1/ml/kinds")

    assert response.status_code == 200
    kinds = {kind["kind"]: kind for kind in response.json()}
    assert {"catalog.product_popularity", SELFTEST} <= set(kinds)
    assert kinds[SELFTEST]["default_params"] == {"seconds": 3.0, "fail": False}
    assert kinds["catalog.product_popularity"]["default_params"]["half_life_days"] == 30.0
    assert kinds["catalog.product_popularity"]["gpu_capable"] is False


def test_schema_documents_the_ml_operations(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/ml/runs",
        "/api/v1/ml/runs/{run_id}",
        "/api/v1/ml/models",
        "/api/v1/ml/kinds",
    } <= set(paths)
    assert "ml:run" in paths["/api/v1/ml/runs"]["post"]["description"]
