"""`manage.py sentiment` and `manage.py insights` as the README and CONTRACTS.md use them."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.events.tests.factories import ReviewFactory
from apps.insights.engine.sentiment import SentimentModel
from apps.insights.models import TextAnalysis

pytestmark = pytest.mark.django_db


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_sentiment_predict_prints_one_prediction_per_row_in_input_order(tmp_path):
    source = _csv(
        tmp_path / "in.csv",
        [
            {"id": "1", "text": "Absolutely love it, five stars!"},
            {"id": "2", "text": "垃圾产品，质量太差，退货！"},
            {"id": "3", "text": ""},
            {"id": "4", "text": "Broken on arrival. Never again."},
            {"id": "5", "text": "物流很快，衣服很漂亮，好评"},
        ],
    )
    document = _run("sentiment", "predict", "--input", str(source), "--text-col", "text", "--json")

    labels = [p["label"] for p in document["predictions"]]
    assert labels == ["positive", "negative", "neutral", "negative", "positive"]
    assert all(-1 <= p["score"] <= 1 for p in document["predictions"])
    assert document["predictions"][2]["score"] == 0.0
    assert document["model_version"] == "insights.sentiment v1"


def test_sentiment_predict_names_a_missing_column_and_a_missing_file(tmp_path):
    source = _csv(tmp_path / "in.csv", [{"body": "hello"}])
    with pytest.raises(CommandError, match="column 'text' is not in in.csv"):
        call_command("sentiment", "predict", "--input", str(source), "--json", stdout=StringIO())
    with pytest.raises(CommandError, match="no file"):
        call_command(
            "sentiment", "predict", "--input", str(tmp_path / "nope.csv"), stdout=StringIO()
        )


def test_sentiment_evaluate_reports_accuracy_per_language(tmp_path):
    rows = [
        {"text": "Love it, perfect!", "label": "positive"},
        {"text": "Awful, broke at once.", "label": "negative"},
        {"text": "非常好，很满意", "label": "positive"},
        {"text": "太差了，不推荐", "label": "negative"},
    ]
    document = _run(
        "sentiment", "evaluate", "--input", str(_csv(tmp_path / "l.csv", rows)), "--json"
    )
    assert document["texts"] == 4
    assert document["accuracy"] == 1.0
    assert set(document["confusion"]) == {"negative", "positive"}


def test_sentiment_evaluate_names_the_row_with_a_bad_label(tmp_path):
    rows = [{"text": "fine", "label": "positive"}, {"text": "meh", "label": "so-so"}]
    with pytest.raises(CommandError, match="Row 3: label 'so-so'"):
        call_command(
            "sentiment",
            "evaluate",
            "--input",
            str(_csv(tmp_path / "l.csv", rows)),
            stdout=StringIO(),
        )


@pytest.mark.slow
def test_sentiment_train_with_output_writes_a_model_that_loads(tmp_path):
    rows = [
        {"text": f"I love it, wonderful number {i}", "label": "positive"} for i in range(20)
    ] + [{"text": f"I hate it, awful number {i}", "label": "negative"} for i in range(20)]
    output = tmp_path / "head.safetensors"
    document = _run(
        "sentiment",
        "train",
        "--input",
        str(_csv(tmp_path / "train.csv", rows)),
        "--layers",
        "1",
        "--epochs",
        "10",
        "--learning-rate",
        "0.005",
        "--output",
        str(output),
        "--json",
    )
    assert document["metrics"]["holdout"]["texts"] == 8
    assert document["metrics"]["holdout"]["accuracy"] >= 0.75
    model = SentimentModel.load(output)
    assert [p.label for p in model.predict(["I love it, wonderful", "I hate it, awful"])] == [
        "positive",
        "negative",
    ]


def test_insights_analyze_runs_the_incremental_job_now():
    ReviewFactory(title="", text="Lovely dress")
    document = _run("insights", "analyze", "--json")
    assert (document["status"], document["texts"]) == ("succeeded", 1)
    assert TextAnalysis.objects.count() == 1
    assert _run("insights", "analyze", "--json")["texts"] == 0


def test_insights_text_analyses_without_storing():
    document = _run("insights", "text", "Great price!", "价格太贵了", "--json")
    assert [r["sentiment"]["label"] for r in document["results"]] == ["positive", "negative"]
    assert not TextAnalysis.objects.exists()


def test_insights_categories_seed_adds_the_starter_set_once():
    assert _run("insights", "categories", "--seed", "--json")["created"] == 4
    document = _run("insights", "categories", "--seed", "--json")
    assert document["created"] == 0
    assert [c["name"] for c in document["categories"]] == [
        "complaint",
        "delivery issue",
        "praise",
        "question",
    ]
