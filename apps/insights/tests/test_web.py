"""The insights pages render for readers, and only writers change things."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from apps.catalog.tests.factories import ProductFactory
from apps.events.tests.factories import ReviewFactory
from apps.insights.models import AnalysisJob, InsightAlert, TextCategory
from apps.insights.tests.factories import TextAnalysisFactory

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    user = User.objects.create_user(username=role, password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def analyst() -> Client:
    return _client("analyst")


@pytest.fixture
def marketer() -> Client:
    return _client("marketer")


def test_every_page_renders_with_data(analyst):
    product = ProductFactory(sku="P-1")
    TextAnalysisFactory(
        review=ReviewFactory(product=product, text="Too small"),
        sentiment="negative",
        sentiment_score=-0.7,
        aspects=[{"aspect": "size_fit", "label": "negative", "score": -0.7, "clause": "Too small"}],
    )
    TextAnalysisFactory(review=ReviewFactory(product=product, text="Lovely"))
    InsightAlert.objects.create(
        scope="all",
        day="2026-11-20",
        total=20,
        negative=12,
        share=0.6,
        expected=0.1,
        upper=0.3,
        z_score=5,
    )
    for path in (
        "/insights/",
        "/insights/?channel=shop",
        "/insights/topics/",
        "/insights/topics/?language=zh&method=embedding",
        "/insights/texts/",
        "/insights/texts/?sentiment=negative&aspect=size_fit",
        "/insights/categories/",
        "/insights/products/",
        "/insights/products/P-1/",
        "/insights/model/",
    ):
        response = analyst.get(path)
        assert response.status_code == 200, path
    page = analyst.get("/insights/products/P-1/").content.decode()
    assert "Size and fit" in page
    assert "Negative share above its usual range" in analyst.get("/insights/").content.decode()


def test_empty_pages_say_what_to_do(analyst):
    ReviewFactory(text="waiting")
    dashboard = analyst.get("/insights/").content.decode()
    assert "Texts are waiting for analysis" in dashboard
    assert "manage.py insights analyze" in dashboard
    assert "manage.py insights topics" in analyst.get("/insights/topics/").content.decode()


def test_unknown_product_and_language_are_404(analyst):
    assert analyst.get("/insights/products/NOPE/").status_code == 404
    assert analyst.get("/insights/topics/?language=fr").status_code == 404


def test_analysts_cannot_start_jobs_or_edit_categories(analyst):
    assert analyst.post("/insights/jobs/", {"kind": "analyze"}).status_code == 403
    assert analyst.get("/insights/categories/new/").status_code == 403
    assert not AnalysisJob.objects.exists()


def test_a_marketer_creates_a_category_and_sees_field_errors(marketer):
    bad = marketer.post(
        "/insights/categories/new/", {"name": "q", "examples": "only one", "threshold": "0.2"}
    )
    assert bad.status_code == 200
    assert "at least 2 example" in bad.content.decode()
    assert not TextCategory.objects.exists()
    good = marketer.post(
        "/insights/categories/new/",
        {
            "name": "question",
            "examples": "Do you have it in blue?\n有大码吗？",
            "threshold": "0.2",
            "is_active": "on",
        },
    )
    assert good.status_code == 302
    assert TextCategory.objects.get().examples == ["Do you have it in blue?", "有大码吗？"]


def test_a_bad_training_file_is_refused_naming_the_row(marketer, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "labels.csv", b"text,label\nlovely,positive\nmeh,so-so\n", content_type="text/csv"
    )
    response = marketer.post(
        "/insights/model/",
        {
            "file": upload,
            "text_column": "text",
            "label_column": "label",
            "mode": "adapter",
            "epochs": "2",
        },
    )
    assert response.status_code == 200
    assert "Row 3: label" in response.content.decode()
