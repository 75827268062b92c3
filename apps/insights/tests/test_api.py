"""The insights API: ad-hoc analysis, stored results, categories, alerts and jobs."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.services import api_key_create
from apps.catalog.tests.factories import ProductFactory
from apps.events.tests.factories import ReviewFactory
from apps.insights.models import AnalysisJob, InsightAlert, TextCategory
from apps.insights.services import store

pytestmark = pytest.mark.django_db


def _client(*scopes: str) -> Client:
    created = api_key_create(name="partner", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")


@pytest.fixture
def api() -> Client:
    return _client("insights:read", "insights:write")


def test_analyze_answers_each_text_in_order_in_both_languages(api):
    texts = [
        "I love this jacket, the quality is amazing!",
        "质量太差了，穿了一次就坏了，要求退款",
        "",
        "😍😍😍",
    ]
    response = api.post(
        "/api/v1/insights/analyze", {"texts": texts}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    results = body["results"]
    assert [r["sentiment"]["label"] for r in results] == [
        "positive",
        "negative",
        "neutral",
        "positive",
    ]
    assert [r["language"] for r in results] == ["en", "zh", "und", "und"]
    assert -1 <= results[1]["sentiment"]["score"] < -0.5
    assert results[1]["is_complaint"] is True
    assert {a["aspect"] for a in results[1]["aspects"]} >= {"quality"}
    assert body["model_version"] == "insights.sentiment v1"
    assert set(results[0]) >= {"emotion", "keywords", "categories", "mixed_language"}


def test_analyze_refuses_bad_bodies_naming_the_field(api):
    empty = api.post("/api/v1/insights/analyze", {"texts": []}, content_type="application/json")
    assert empty.status_code == 400
    assert "texts" in empty.json()["detail"]
    too_many = api.post(
        "/api/v1/insights/analyze", {"texts": ["a"] * 101}, content_type="application/json"
    )
    assert too_many.status_code == 400
    too_long = api.post(
        "/api/v1/insights/analyze", {"texts": ["ok", "x" * 20_001]}, content_type="application/json"
    )
    assert too_long.status_code == 400
    assert "1" in too_long.json()["detail"]


def test_analyze_needs_the_insights_read_scope():
    response = _client("events:read").post(
        "/api/v1/insights/analyze", {"texts": ["hi"]}, content_type="application/json"
    )
    assert response.status_code == 403


def test_stored_texts_trend_and_product_insights_read_back(api):
    product = ProductFactory(sku="SKU-1")
    ReviewFactory(
        product=product, title="", text="Terrible stitching, it fell apart. Refund please."
    )
    ReviewFactory(product=product, title="", text="Beautiful fabric and a perfect fit.")
    store.texts_store()

    listed = api.get("/api/v1/insights/texts?sentiment=negative&product=SKU-1")
    assert listed.status_code == 200
    assert [row["text"] for row in listed.json()["results"]] == [
        "Terrible stitching, it fell apart. Refund please."
    ]
    row = listed.json()["results"][0]
    assert (row["product_sku"], row["model_label"]) == ("SKU-1", "insights.sentiment v1")
    detail = api.get(f"/api/v1/insights/texts/{row['id']}")
    assert detail.json()["sentiment"] == "negative"

    trend = api.get("/api/v1/insights/trend?days=30&interval=week").json()
    assert sum(point["total"] for point in trend) == 2
    assert sum(point["negative"] for point in trend) == 1

    insights = api.get("/api/v1/insights/products/SKU-1").json()
    assert insights["texts"] == 2
    assert insights["aspects"]["quality"]["mentions"] >= 1
    assert api.get("/api/v1/insights/products/NOPE").status_code == 404
    assert api.get("/api/v1/insights/texts?product=NOPE").status_code == 404


def test_topics_and_keywords_answer_when_nothing_is_fitted(api):
    topics = api.get("/api/v1/insights/topics?language=zh").json()
    assert (topics["topics"], topics["documents"]) == ([], 0)
    assert api.get("/api/v1/insights/keywords?days=7").json() == []
    assert api.get("/api/v1/insights/topics?language=fr").status_code == 400


def test_categories_are_created_changed_and_deleted_with_errors_naming_fields(api):
    created = api.post(
        "/api/v1/insights/categories",
        {
            "name": "question",
            "examples": ["Do you have it in blue?", "有大码吗？"],
            "threshold": 0.25,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    category_id = created.json()["id"]
    clash = api.post(
        "/api/v1/insights/categories",
        {"name": "Question", "examples": ["a b", "c d"]},
        content_type="application/json",
    )
    assert clash.status_code == 409
    assert "name" in clash.json()["detail"]
    bad = api.put(
        f"/api/v1/insights/categories/{category_id}",
        {"name": "question", "examples": ["just one"]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "examples" in bad.json()["detail"]
    assert TextCategory.objects.get(pk=category_id).examples == [
        "Do you have it in blue?",
        "有大码吗？",
    ]
    assert api.delete(f"/api/v1/insights/categories/{category_id}").status_code == 204
    assert not TextCategory.objects.exists()


def test_writes_need_the_insights_write_scope():
    reader = _client("insights:read")
    response = reader.post(
        "/api/v1/insights/categories",
        {"name": "x", "examples": ["a", "b"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not TextCategory.objects.exists()
    assert (
        reader.post(
            "/api/v1/insights/jobs", {"kind": "analyze"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert not AnalysisJob.objects.exists()


def test_alerts_are_listed_and_acknowledged(api):
    alert = InsightAlert.objects.create(
        scope="channel:weibo",
        day="2026-11-20",
        total=40,
        negative=30,
        share=0.75,
        expected=0.2,
        upper=0.4,
        z_score=6,
    )
    listed = api.get("/api/v1/insights/alerts?status=open").json()
    assert [a["scope"] for a in listed] == ["channel:weibo"]
    done = api.post(f"/api/v1/insights/alerts/{alert.pk}/acknowledge")
    assert done.json()["status"] == "acknowledged"
    assert api.get("/api/v1/insights/alerts?status=open").json() == []


def test_a_job_is_started_and_followed(api):
    ReviewFactory(title="", text="Great value for money")
    started = api.post(
        "/api/v1/insights/jobs", {"kind": "analyze"}, content_type="application/json"
    )
    assert started.status_code == 202
    job = api.get(f"/api/v1/insights/jobs/{started.json()['id']}").json()
    # Tasks run in process in the tests (eager), after the request's transaction commits.
    assert job["kind"] == "analyze"
    assert job["status"] in ("queued", "succeeded")
