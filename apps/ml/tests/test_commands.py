"""`manage.py train`: start, wait with a progress bar, JSON output, exit status."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.ml import registry
from apps.ml.choices import RunStatus
from apps.ml.models import ModelVersion, TrainingRun
from apps.ml.trainers import PRODUCT_POPULARITY, SELFTEST

# Runs are enqueued on commit and run eagerly, so commands see them finish: real commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _train(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("train", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_train_wait_json_prints_one_document_of_the_succeeded_run():
    out, err = _train("--kind", SELFTEST, "--params", '{"seconds": 0.5}', "--wait", "--json")

    document = json.loads(out)
    run = TrainingRun.objects.get()
    assert document["id"] == run.pk
    assert document["status"] == RunStatus.SUCCEEDED
    assert document["progress"] == 100
    assert document["params"] == {"seconds": 0.5, "fail": False}
    assert document["model_version"]["version"] == 1
    assert document["model_version"]["is_champion"] is True
    assert document["model_version"]["content_hash"] == ModelVersion.objects.get().content_hash
    assert f"Run {run.pk} ({SELFTEST})" in err
    assert "100%" in err


def test_train_wait_exits_non_zero_with_the_reason_when_the_run_fails():
    with pytest.raises(CommandError) as caught:
        _train("--kind", SELFTEST, "--params", '{"seconds": 0, "fail": true}', "--wait")

    run = TrainingRun.objects.get()
    assert str(caught.value) == (
        f"Run {run.pk} ended failed: RuntimeError: Self-test failure requested (fail=true)"
    )
    assert ModelVersion.objects.count() == 0


def test_train_unknown_kind_is_a_one_line_reason():
    with pytest.raises(CommandError) as caught:
        _train("--kind", "nope")

    message = str(caught.value)
    assert message.startswith("kind: Unknown kind 'nope'; registered kinds:")
    assert "\n" not in message
    assert TrainingRun.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{bad", "--params is not valid JSON: Expecting property name enclosed in double quotes"),
        ("[1]", "--params must be a JSON object"),
        ('{"seconds": -1}', "params: seconds must be between 0 and 3600, got -1"),
    ],
)
def test_train_bad_params_are_refused(params, message):
    with pytest.raises(CommandError, match=r"^" + message.replace("[", r"\[").replace("(", r"\(")):
        _train("--kind", SELFTEST, "--params", params)

    assert TrainingRun.objects.count() == 0


def test_train_all_trains_routine_kinds_and_reports_not_enough_data():
    out, err = _train("--all", "--wait", "--json")

    document = json.loads(out)
    runs = {run["kind"]: run for run in document["runs"]}
    assert PRODUCT_POPULARITY in runs
    assert sorted(runs) == sorted(spec.kind for spec in registry.kinds() if spec.train_all)
    # an empty shop: every routine kind says so instead of failing
    assert {run["status"] for run in runs.values()} == {RunStatus.NOT_ENOUGH_DATA}
    assert f"{PRODUCT_POPULARITY}: not enough data yet: Product popularity needs" in err


def test_list_kinds_json():
    out, _ = _train("--list-kinds", "--json")

    kinds = {kind["kind"]: kind for kind in json.loads(out)}
    assert kinds[SELFTEST]["train_all"] is False
    assert kinds[PRODUCT_POPULARITY]["train_all"] is True
