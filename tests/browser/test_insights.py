"""Insights in a real browser: a marketer analyses new reviews, reads the dashboard, tries a
text, defines a category from examples, reads a product's page, topics and the model page."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from apps.catalog.tests.factories import ProductFactory
from apps.events.tests.factories import ReviewFactory, SocialPostFactory
from apps.insights.models import TextAnalysis, TextCategory
from apps.insights.services import topics
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REVIEWS = [
    ("Love it", "Absolutely love this dress, the fabric is gorgeous and soft."),
    ("Too small", "Runs very small, the fit is tight across the shoulders. Returned it."),
    ("Late", "The parcel arrived two weeks late and the box was crushed."),
    ("", "质量很好，面料很舒服，物流也快，非常满意！"),
    ("", "尺码偏小，穿着太紧了，失望"),
    ("Great value", "Great price for the quality, would buy again."),
]


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_marketer_reads_what_customers_write(web):
    product = ProductFactory(sku="DRESS-1", title="Linen summer dress")
    for title, text in REVIEWS:
        ReviewFactory(product=product, title=title, text=text)
    SocialPostFactory(product=product, platform="weibo", text="客服态度太差了，再也不买了 😡")
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # nothing analysed yet: the dashboard says texts are waiting and offers to analyse them
    assert web.goto("/insights/") == 200
    expect(web.page.locator("[data-testid=empty-state]")).to_be_visible()
    web.page.click("[data-testid=analyze-now]")
    web.page.wait_for_load_state("networkidle")
    assert TextAnalysis.objects.count() == 7

    # the dashboard: KPIs, the chart, channels
    web.goto("/insights/")
    expect(web.page.locator("[data-testid=kpi-texts-value]")).to_have_text("7")
    expect(web.page.locator("[data-testid=trend-chart]")).to_be_visible()
    expect(web.page.locator("[data-testid=channels]")).to_contain_text("weibo")
    web.screenshot("insights-dashboard")

    # try a text (htmx): sentiment and aspects appear without a reload
    web.page.fill(
        "[data-testid=try-form] textarea", "The delivery was slow but the quality is great"
    )
    web.page.click("[data-testid=try-form] button")
    expect(web.page.locator("[data-testid=try-result]")).to_be_visible()
    expect(web.page.locator("[data-testid=try-result]")).to_contain_text("delivery")
    web.screenshot("insights-try")

    # a category from a few examples, with a bad first attempt
    web.goto("/insights/categories/")
    web.page.click("[data-testid=category-new]")
    web.page.fill("#id_name", "sizing problem")
    web.page.fill("#id_examples", "Too small")
    web.page.click("text=Save")
    expect(web.page.locator("[data-testid=field-error]")).to_contain_text("at least 2")
    web.page.fill("#id_examples", "Runs small, order a size up\nThe fit is too tight\n尺码偏小")
    web.page.click("text=Save")
    web.page.wait_for_load_state("networkidle")
    assert TextCategory.objects.filter(name="sizing problem").exists()
    expect(web.page.locator("[data-testid=categories]")).to_contain_text("sizing problem")
    web.screenshot("insights-categories")

    # texts filtered by sentiment
    web.goto("/insights/texts/?sentiment=negative")
    expect(web.page.locator("[data-testid=text-row]").first).to_be_visible()
    assert (
        web.page.locator("[data-testid=text-row]").count()
        == TextAnalysis.objects.filter(sentiment="negative").count()
    )
    web.screenshot("insights-texts")

    # the product page: trend, aspects, latest texts
    web.goto("/insights/products/DRESS-1/")
    expect(web.page.locator("[data-testid=aspects]")).to_contain_text("Size and fit")
    expect(web.page.locator("[data-testid=product-trend]")).to_be_visible()
    web.screenshot("insights-product")

    # the model page says which model serves and how it measured
    web.goto("/insights/model/")
    expect(web.page.locator("[data-testid=champion]")).to_contain_text("insights.sentiment v1")
    expect(web.page.locator("[data-testid=holdout-accuracy]")).to_be_visible()
    web.screenshot("insights-model")
    assert web.console_errors == []


def test_topics_page_shows_words_size_sentiment_and_trend(web):
    rng = np.random.default_rng(0)
    themes = [["delivery", "late", "parcel", "courier"], ["fabric", "soft", "quality", "cotton"]]
    product = ProductFactory()
    for index in range(60):
        review = ReviewFactory(
            product=product, title="", text=" ".join(rng.choice(themes[index % 2], 6))
        )
        TextAnalysis.objects.create(
            source="review",
            review=review,
            product=product,
            channel="shop",
            written_at=review.reviewed_at,
            text_hash="0" * 64,
            language="en",
            sentiment="negative" if index % 2 == 0 else "positive",
            sentiment_score=-0.6 if index % 2 == 0 else 0.6,
            terms=review.text,
            model_label="insights.sentiment v1",
            analysed_at=review.reviewed_at,
        )
    topics.topic_models_fit()
    create_user(username="ana", role="analyst")
    web.sign_in("ana", PASSWORD)

    assert web.goto("/insights/topics/?language=en") == 200
    cards = web.page.locator("[data-testid=topic-card]")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 2
    expect(web.page.locator("[data-testid=topics]")).to_contain_text("negative")
    assert web.page.locator("[data-testid=fit-topics]").count() == 0  # analysts read only
    web.screenshot("insights-topics")
    web.goto("/insights/topics/?language=zh")
    expect(web.page.locator("[data-testid=empty-state]")).to_be_visible()
    assert web.console_errors == []
