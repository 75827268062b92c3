"""Models page: who may start runs, live polling while runs are active, run detail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.accounts.services import roles_sync
from apps.ml.choices import RunStatus, TriggerSource
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.tests.factories import TrainingRunFactory
from apps.ml.trainers import SELFTEST

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_with_role(django_user_model):
    roles_sync()

    def _make(role: str):
        user = django_user_model.objects.create_user(username=f"{role}-user", password="pw-123456")
        user.groups.add(Group.objects.get(name=role))
        return user

    return _make


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/models/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_analyst_sees_runs_but_no_start_form(client, user_with_role):
    TrainingRunFactory(status=RunStatus.FAILED, error="RuntimeError: boom\n\nTraceback ...")
    client.force_login(user_with_role("analyst"))

    response = client.get("/models/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "RuntimeError: boom" in html
    assert "Traceback" not in html
    assert 'action="/models/runs/start"' not in html
    assert "can view models and runs but not start training" in html


def test_analyst_cannot_start_a_run(client, user_with_role):
    client.force_login(user_with_role("analyst"))

    response = client.post("/models/runs/start", {"kind": SELFTEST, "params": "{}"})

    assert response.status_code == 403
    assert TrainingRun.objects.count() == 0


def test_marketer_starts_a_run(client, user_with_role, django_capture_on_commit_callbacks):
    marketer = user_with_role("marketer")
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/models/runs/start", {"kind": SELFTEST, "params": '{"seconds": 0}'})

    assert response.status_code == 302
    assert response["Location"] == "/models/"
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger, run.triggered_by) == (SELFTEST, TriggerSource.UI, marketer)
    assert run.status == RunStatus.SUCCEEDED
    page = client.get("/models/").content.decode()
    assert f"Run {run.pk} of {SELFTEST} started." in page
    assert "v1" in page


def test_start_with_bad_params_shows_the_reason(client, user_with_role):
    client.force_login(user_with_role("marketer"))

    response = client.post("/models/runs/start", {"kind": SELFTEST, "params": '{"seconds": -1}'})

    assert response.status_code == 400
    assert "params: seconds must be between 0 and 3600, got -1" in response.content.decode()
    assert TrainingRun.objects.count() == 0


def test_runs_table_polls_only_while_a_run_is_active(client, user_with_role):
    client.force_login(user_with_role("analyst"))
    run = TrainingRunFactory(status=RunStatus.RUNNING, progress=37, progress_message="Epoch 2 of 5")

    active = client.get("/models/runs/table").content.decode()
    TrainingRun.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED, progress=100)
    idle = client.get("/models/runs/table").content.decode()

    assert 'hx-get="/models/runs/table"' in active
    assert 'hx-trigger="every 2s"' in active
    assert 'aria-valuenow="37"' in active
    assert "Epoch 2 of 5" in active
    assert "hx-get" not in idle


def test_run_detail_shows_status_and_polls_its_partial(client, user_with_role):
    client.force_login(user_with_role("analyst"))
    run = TrainingRunFactory(status=RunStatus.QUEUED)

    page = client.get(f"/models/runs/{run.pk}/")
    partial = client.get(f"/models/runs/{run.pk}/", headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert f'hx-get="/models/runs/{run.pk}/"' in page.content.decode()
    assert partial.status_code == 200
    assert partial.content.decode().lstrip().startswith('<div id="ml-run-status"')


def test_run_detail_of_missing_run_is_404(client, user_with_role):
    client.force_login(user_with_role("analyst"))

    assert client.get("/models/runs/999999/").status_code == 404


def test_marketer_reruns_a_failed_run(client, user_with_role, django_capture_on_commit_callbacks):
    client.force_login(user_with_role("marketer"))
    failed = TrainingRunFactory(status=RunStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/models/runs/{failed.pk}/rerun")

    rerun = TrainingRun.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/models/runs/{rerun.pk}/"
    assert rerun.rerun_of_id == failed.pk


def test_admin_pages_render_and_start_a_run(client, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    TrainingRunFactory(status=RunStatus.FAILED)

    changelist = client.get("/admin/ml/trainingrun/")
    start_page = client.get("/admin/ml/trainingrun/add/", follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/admin/ml/trainingrun/start/", {"kind": SELFTEST, "params": '{"seconds": 0}'}
        )

    assert changelist.status_code == 200
    assert "Start a training run" in changelist.content.decode()
    assert start_page.redirect_chain[-1][0] == "/admin/ml/trainingrun/start/"
    assert "Registered kinds" in start_page.content.decode()
    run = TrainingRun.objects.get(trigger=TriggerSource.ADMIN)
    assert started.status_code == 302
    assert started["Location"] == f"/admin/ml/trainingrun/{run.pk}/change/"
    assert client.get(started["Location"]).status_code == 200
    version = ModelVersion.objects.get()
    assert client.get("/admin/ml/modelversion/").status_code == 200
    assert client.get(f"/admin/ml/modelversion/{version.pk}/change/").status_code == 200
    assert client.get("/admin/ml/modelalias/").status_code == 200


def test_admin_rerun_action(client, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    failed = TrainingRunFactory(status=RunStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/admin/ml/trainingrun/",
            {"action": "rerun_selected", "_selected_action": [failed.pk]},
        )

    assert response.status_code == 302
    assert TrainingRun.objects.get(rerun_of=failed).trigger == TriggerSource.ADMIN
