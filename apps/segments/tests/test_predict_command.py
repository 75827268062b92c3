"""`manage.py predict`: the evaluate contract (one JSON document, exit codes), train and score."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from apps.core.demo.services import demo_shop_generate
from apps.ml.models import ModelVersion
from apps.segments.ml_propensity import register_kinds
from apps.segments.models import CustomerScores

ROOT = Path(__file__).resolve().parents[3]


def feature_table(rows: int, seed: int) -> pd.DataFrame:
    """Numbers, a text column and a yes/no target with a known logistic signal."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, size=rows)
    plan = rng.choice(["free", "basic", "pro"], size=rows)
    logit = -1.5 + 0.4 * visits + pd.Series(plan).map({"free": -1, "basic": 0, "pro": 1}).to_numpy()
    bought = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": [f"u{seed}-{index}" for index in range(rows)],
            "visits": visits,
            "plan": plan,
            "bought": np.where(bought, "yes", "no"),
        }
    )


@pytest.fixture
def tables(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    feature_table(1500, seed=1).to_csv(train, index=False)
    feature_table(800, seed=2).to_csv(test, index=False)
    return train, test


def run_command(*arguments: str) -> subprocess.CompletedProcess:
    """The real command line; `evaluate` reads no database rows."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartmkt.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", "predict", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_evaluate_prints_one_json_document_with_the_contract_keys(tables):
    train, test = tables

    result = run_command(
        "evaluate", "--train", str(train), "--test", str(test), "--target", "bought",
        "--id-col", "customer_id", "--json",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is one document
    assert {"auc", "log_loss", "model"} <= set(document)
    assert isinstance(document["auc"], float) and 0.7 < document["auc"] < 1
    assert isinstance(document["log_loss"], float) and 0 < document["log_loss"] < 0.693
    assert document["model"] == "LGBMClassifier+sigmoid"
    assert (document["n_train"], document["n_test"]) == (1500, 800)
    assert document["positives"] == int((pd.read_csv(test)["bought"] == "yes").sum())
    assert document["target"] == {
        "column": "bought",
        "positive_label": "yes",
        "negative_label": "no",
    }
    assert {feature["name"]: feature["kind"] for feature in document["features"]} == {
        "visits": "numeric",
        "plan": "categorical",
    }
    assert len(document["lift_by_decile"]) == 10 and len(document["calibration"]) == 10
    assert 0 <= document["brier"] < 0.25
    assert "[ 10%] Fitting on 1500 rows of train.csv" in result.stderr


def test_evaluate_with_zero_one_targets_and_a_scores_file(tmp_path, tables):
    train, test = tables
    for path in (train, test):
        frame = pd.read_csv(path)
        frame["bought"] = (frame["bought"] == "yes").astype(int)
        frame.to_csv(path, index=False)
    scores_file = tmp_path / "scores.csv"
    out = io.StringIO()

    call_command(
        "predict", "evaluate", "--train", str(train), "--test", str(test), "--target", "bought",
        "--id-col", "customer_id", "--scores-out", str(scores_file), "--json",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip

    document = json.loads(out.getvalue())
    assert document["target"]["positive_label"] == "1"
    assert document["auc"] > 0.7
    scores = pd.read_csv(scores_file)
    assert list(scores.columns) == ["id", "probability", "actual", "top_reasons"]
    assert len(scores) == 800 and scores["id"].iloc[0] == "u2-0"
    assert scores["probability"].between(0, 1).all()
    assert scores["top_reasons"].str.contains("visits=").any()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"--target": "churned"},
            "--target: column 'churned' is not in train.csv (columns: customer_id, visits, plan, "
            "bought)",
        ),
        (
            {"--id-col": "uid"},
            "--id-col: column 'uid' is not in train.csv (columns: customer_id, visits, plan, "
            "bought)",
        ),
        ({"--train": "missing.csv"}, "--train: file '{dir}/missing.csv' does not exist"),
        (
            {"--target": "plan"},
            "--target: target column 'plan' must have exactly two classes; the training table "
            "has 3: 'basic', 'free', 'pro'",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_one_line_reason(tables, change, reason):
    train, test = tables
    options = {"--train": str(train), "--test": str(test), "--target": "bought"}
    options["--id-col"] = "customer_id"
    for name, value in change.items():
        options[name] = str(train.parent / value) if name == "--train" else value
    arguments = [item for pair in options.items() for item in pair]
    out = io.StringIO()

    with pytest.raises(CommandError) as error:
        call_command("predict", "evaluate", *arguments, "--json", stdout=out, stderr=io.StringIO())

    assert str(error.value) == reason.format(dir=train.parent)
    assert out.getvalue() == ""


def test_the_command_line_exits_non_zero_with_the_reason_on_its_last_line(tables):
    train, test = tables

    result = run_command(
        "evaluate", "--train", str(train), "--test", str(test), "--target", "churned", "--json"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: --target: column 'churned' is not in train.csv (columns: customer_id, "
        "visits, plan, bought)"
    )


def test_a_test_table_without_a_feature_column_is_refused(tables):
    train, test = tables
    pd.read_csv(test).drop(columns=["plan"]).to_csv(test, index=False)

    with pytest.raises(CommandError) as error:
        call_command(
            "predict", "evaluate", "--train", str(train), "--test", str(test), "--target",
            "bought", "--id-col", "customer_id", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip

    assert str(error.value) == (
        "--test: the test table lacks feature column(s) 'plan' of the training table"
    )


def test_a_test_table_with_one_class_is_refused(tables):
    train, test = tables
    frame = pd.read_csv(test)
    frame["bought"] = "no"
    frame.to_csv(test, index=False)

    with pytest.raises(CommandError, match="--test: evaluation needs both classes; all 800 rows"):
        call_command(
            "predict", "evaluate", "--train", str(train), "--test", str(test), "--target",
            "bought", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip


def test_an_empty_file_is_refused(tmp_path, tables):
    _, test = tables
    empty = tmp_path / "empty.csv"
    empty.write_text("")

    with pytest.raises(CommandError, match="^--train: empty.csv is empty$"):
        call_command(
            "predict", "evaluate", "--train", str(empty), "--test", str(test), "--target", "x",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip


# transaction=True: the run is enqueued on commit, as in production, and eager Celery runs it
# before the command starts waiting.
@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_train_waits_then_scores_customers(tmp_path, settings):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()
    demo_shop_generate(
        customers=800, seed=5, end_date=date(2026, 11, 29), truth_file=tmp_path / "t"
    )
    out = io.StringIO()

    call_command(
        "predict", "train", "--kind", "propensity", "--horizon-days", "30", "--wait",
        "--timeout", "120", "--json", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip

    document = json.loads(out.getvalue())
    assert (document["status"], document["model_version"]) == ("succeeded", 1)
    assert document["params"] == {"horizon_days": 30, "seed": 0}
    assert document["metrics"]["auc"] > 0.65
    assert document["scoring"]["scored"] == CustomerScores.objects.count() == 800
    assert ModelVersion.objects.filter(kind="segments.propensity").count() == 1

    rescored = io.StringIO()
    call_command("predict", "score", "--kind", "propensity", stdout=rescored)
    assert "propensity: 800 customers scored with model v1 (0 cleared)" in rescored.getvalue()


@pytest.mark.django_db(transaction=True)
def test_train_reports_not_enough_data_and_exits_non_zero(tmp_path, settings):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()

    with pytest.raises(CommandError) as error:
        call_command(
            "predict", "train", "--kind", "churn", "--wait", "--timeout", "60",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip

    assert "ended not_enough_data: Churn and purchase propensity learn from orders" in str(
        error.value
    )
    assert not CustomerScores.objects.exists()


@pytest.mark.django_db
def test_score_before_training_says_to_train_first():
    register_kinds()

    with pytest.raises(CommandError, match="No churn risk model yet: train one first"):
        call_command("predict", "score", "--kind", "churn", stdout=io.StringIO())
