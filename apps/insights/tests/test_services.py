"""Stored analyses, incremental jobs, traits, alerts, topics and categories, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from apps.events.tests.factories import ReviewFactory, SocialPostFactory
from apps.insights.choices import JobKind, JobStatus, Sentiment, TopicMethod, WebhookStatus
from apps.insights.models import (
    AnalysisJob,
    DocumentTopic,
    InsightAlert,
    TextAnalysis,
    TextCategoryMatch,
    TopicModel,
)
from apps.insights.services import alerts, categories, store, topics
from apps.insights.services.runtime import SENTIMENT_KIND, sentiment_champion_ensure
from apps.insights.services.traits import customer_traits_refresh
from apps.insights.tests.factories import TextAnalysisFactory
from apps.ml.models import ModelVersion
from apps.segments.models import CustomerScores
from apps.segments.services.segments import definition_members

pytestmark = pytest.mark.django_db


def _group(*conditions: dict) -> dict:
    return {"type": "group", "operator": "and", "negate": False, "conditions": list(conditions)}


def test_the_shipped_head_is_registered_once_as_the_champion():
    first = sentiment_champion_ensure()
    second = sentiment_champion_ensure()
    assert first.pk == second.pk
    assert (first.kind, first.version) == (SENTIMENT_KIND, 1)
    assert first.metrics["source"] == "shipped with SmartMkt"
    assert ModelVersion.objects.filter(kind=SENTIMENT_KIND).count() == 1


def test_reviews_and_posts_in_both_languages_are_analysed_and_stored_with_the_version():
    happy = ReviewFactory(
        title="Love it", text="Absolutely love this dress, the fabric is gorgeous."
    )
    angry = ReviewFactory(
        title="Awful", text="Terrible quality, it fell apart after one wash. Waste of money."
    )
    zh_happy = ReviewFactory(title="", text="质量非常好，面料很舒服，非常满意！", language="zh")
    zh_angry = SocialPostFactory(
        text="太差了，快递慢得要命，客服也不理人，再也不买了", language="zh", platform="weibo"
    )

    counts = store.texts_store()

    assert counts["analysed"] == 4
    rows = {row.review_id or row.social_post_id: row for row in TextAnalysis.objects.all()}
    assert rows[happy.pk].sentiment == Sentiment.POSITIVE
    assert rows[angry.pk].sentiment == Sentiment.NEGATIVE
    assert rows[zh_happy.pk].sentiment == Sentiment.POSITIVE
    assert rows[zh_angry.pk].sentiment == Sentiment.NEGATIVE
    assert rows[zh_angry.pk].channel == "weibo"
    assert {row.language for row in rows.values()} == {"en", "zh"}
    version = ModelVersion.objects.get(kind=SENTIMENT_KIND)
    assert {row.model_version_id for row in rows.values()} == {version.pk}
    assert {row.model_label for row in rows.values()} == {"insights.sentiment v1"}
    assert rows[angry.pk].is_complaint is True
    assert rows[happy.pk].is_complaint is False
    assert "quality" in {item["aspect"] for item in rows[angry.pk].aspects}
    assert "delivery" in {item["aspect"] for item in rows[zh_angry.pk].aspects}
    assert len(bytes(rows[happy.pk].embedding)) == 384 * 2


def test_the_incremental_job_skips_analysed_texts_and_redoes_changed_ones():
    review = ReviewFactory(title="", text="Absolutely love it, perfect fit.")
    store.texts_store()
    first = TextAnalysis.objects.get(review=review)

    assert store.texts_store()["analysed"] == 0

    review.text = "Horrible. It ripped the first day and the refund never came."
    review.save()
    assert store.pending_count() == 1
    assert store.texts_store()["analysed"] == 1
    changed = TextAnalysis.objects.get(review=review)
    assert changed.pk == first.pk
    assert (first.sentiment, changed.sentiment) == (Sentiment.POSITIVE, Sentiment.NEGATIVE)
    assert changed.text_hash != first.text_hash


def test_empty_emoji_only_mixed_and_very_long_texts_are_analysed():
    empty = ReviewFactory(title="", text="")
    emoji_only = SocialPostFactory(text="😍😍😍")
    mixed = ReviewFactory(title="", text="质量很好 but the delivery was really slow")
    long = ReviewFactory(title="", text="The fabric is lovely and soft. " * 3000)

    assert store.texts_store()["analysed"] == 4

    rows = {row.review_id or row.social_post_id: row for row in TextAnalysis.objects.all()}
    assert (rows[empty.pk].sentiment, rows[empty.pk].sentiment_score, rows[empty.pk].language) == (
        Sentiment.NEUTRAL,
        0.0,
        "und",
    )
    assert rows[emoji_only.pk].sentiment == Sentiment.POSITIVE
    assert (rows[mixed.pk].language, rows[mixed.pk].mixed_language) == ("zh", True)
    assert rows[long.pk].sentiment == Sentiment.POSITIVE


def test_customer_traits_land_on_scores_and_segments_select_on_them():
    unhappy = ReviewFactory(title="", text="Terrible, broke in a day, I want a refund!").customer
    happy = ReviewFactory(title="", text="Love it! Beautiful colour and great price.").customer
    store.texts_store()

    scores = {
        row.customer_id: row for row in CustomerScores.objects.filter(customer__in=[unhappy, happy])
    }
    assert scores[unhappy.pk].sentiment_average < -0.5
    assert scores[happy.pk].sentiment_average > 0.5
    assert scores[unhappy.pk].last_complaint_at is not None
    assert scores[happy.pk].last_complaint_at is None
    assert scores[happy.pk].text_count == 1
    assert "price" in scores[happy.pk].interest_aspects
    unhappy_segment = _group(
        {"type": "score", "field": "sentiment_average", "operator": "lt", "value": 0}
    )
    assert definition_members(definition=unhappy_segment) == {unhappy.pk}
    complained = _group(
        {"type": "score", "field": "last_complaint_at", "operator": "in_last_days", "value": 30}
    )
    assert definition_members(definition=complained) == {unhappy.pk}


def _daily(day: date, total: int, negative: int, channel: str = "shop") -> None:
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    for index in range(total):
        TextAnalysisFactory(
            written_at=moment,
            channel=channel,
            sentiment=Sentiment.NEGATIVE if index < negative else Sentiment.POSITIVE,
            sentiment_score=-0.8 if index < negative else 0.8,
        )


def test_a_negative_spike_makes_one_alert_and_one_webhook_post(
    settings, webhook, django_capture_on_commit_callbacks
):
    settings.INSIGHTS_ALERT_WEBHOOK_URL = webhook.url
    today = timezone.localdate()
    for back in range(20, 0, -1):
        _daily(today - timedelta(days=back), total=20, negative=2)
    _daily(today, total=20, negative=12)

    with django_capture_on_commit_callbacks(execute=True):
        created = alerts.insight_alerts_detect(today=today)
    with django_capture_on_commit_callbacks(execute=True):
        again = alerts.insight_alerts_detect(today=today)

    assert [(a.scope, a.day) for a in created] == [("all", today), ("channel:shop", today)]
    assert again == []
    alert = InsightAlert.objects.get(scope="all")
    assert (alert.total, alert.negative, alert.share) == (20, 12, 0.6)
    assert alert.expected == pytest.approx(0.1)
    assert alert.webhook_status == WebhookStatus.SENT
    assert len(webhook.received) == 2
    body = webhook.received[0]["body"]
    assert (body["type"], body["day"], body["negative_share"]) == (
        "insights.negative_spike",
        today.isoformat(),
        0.6,
    )
    assert webhook.received[0]["headers"]["Idempotency-Key"] == f"insight-alert-{alert.pk}"


def test_a_failing_webhook_is_recorded_on_the_alert(
    settings, webhook, django_capture_on_commit_callbacks
):
    webhook.status = 500
    settings.INSIGHTS_ALERT_WEBHOOK_URL = webhook.url
    today = timezone.localdate()
    for back in range(10, 0, -1):
        _daily(today - timedelta(days=back), total=20, negative=1)
    _daily(today, total=20, negative=15)

    with django_capture_on_commit_callbacks(execute=True):
        alerts.insight_alerts_detect(today=today)

    alert = InsightAlert.objects.get(scope="all")
    assert alert.webhook_status == WebhookStatus.FAILED
    assert alert.webhook_error.startswith("HTTP 500")


def test_no_alert_on_a_flat_series_or_without_a_baseline():
    today = timezone.localdate()
    _daily(today, total=30, negative=20)
    assert alerts.insight_alerts_detect(today=today) == []
    for back in range(15, 0, -1):
        _daily(today - timedelta(days=back), total=20, negative=12)
    assert alerts.insight_alerts_detect(today=today) == []


def test_acknowledging_an_alert_keeps_who_and_when(admin_user):
    alert = InsightAlert.objects.create(
        scope="all",
        day=date(2026, 1, 5),
        total=10,
        negative=8,
        share=0.8,
        expected=0.1,
        upper=0.3,
        z_score=5,
    )
    alerts.insight_alert_acknowledge(alert_id=alert.pk, user=admin_user)
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", admin_user)


THEMES = {
    "en": [
        ["delivery", "late", "parcel", "courier", "tracking", "slow"],
        ["fabric", "soft", "quality", "stitching", "material", "cotton"],
        ["size", "small", "fit", "tight", "large", "length"],
    ],
    "zh": [
        ["物流", "快递", "发货", "包装", "速度", "慢"],
        ["质量", "面料", "做工", "材质", "柔软", "舒服"],
        ["尺码", "偏小", "合身", "大小", "腰围", "长度"],
    ],
}


def _themed(language: str, count: int, rng: np.random.Generator) -> list[TextAnalysis]:
    rows = []
    centres = rng.normal(size=(3, 384))
    for index in range(count):
        theme = index % 3
        words = list(rng.choice(THEMES[language][theme], size=8))
        vector = centres[theme] + 0.3 * rng.normal(size=384)
        vector /= np.linalg.norm(vector)
        rows.append(
            TextAnalysisFactory(
                language=language,
                terms=" ".join(words),
                embedding=vector.astype(np.float16).tobytes(),
                sentiment=Sentiment.NEGATIVE if theme == 0 else Sentiment.POSITIVE,
                sentiment_score=-0.7 if theme == 0 else 0.7,
            )
        )
    return rows


def test_topics_are_fitted_per_language_and_new_texts_get_their_mixture():
    rng = np.random.default_rng(3)
    _themed("en", 60, rng)
    _themed("zh", 60, rng)

    summary = topics.topic_models_fit()

    assert summary["documents"] == 120
    active = TopicModel.objects.filter(is_active=True)
    assert {(m.method, m.language) for m in active} == {
        (TopicMethod.LDA, "en"),
        (TopicMethod.LDA, "zh"),
        (TopicMethod.EMBEDDING, "en"),
        (TopicMethod.EMBEDDING, "zh"),
    }
    lda_en = active.get(method=TopicMethod.LDA, language="en")
    assert lda_en.model_version is not None
    labels = " ".join(lda_en.topics.values_list("label", flat=True))
    assert "delivery" in labels or "late" in labels or "parcel" in labels
    assert DocumentTopic.objects.filter(topic__topic_model=lda_en).count() >= 60
    delivery = max(lda_en.topics.all(), key=lambda t: t.negative_share or 0)
    assert delivery.negative_share == pytest.approx(1.0)

    vector = rng.normal(size=384)
    vector /= np.linalg.norm(vector)
    new = TextAnalysisFactory(
        language="en",
        terms="parcel late courier delivery slow tracking",
        embedding=vector.astype(np.float16).tobytes(),
    )
    assert topics.document_topics_assign([new]) >= 2  # LDA mixture rows and one cluster
    assert new.topics.filter(topic__topic_model=lda_en).exists()
    assert new.topics.filter(topic__topic_model__method=TopicMethod.EMBEDDING).count() == 1


def test_fitting_topics_again_replaces_the_active_set():
    rng = np.random.default_rng(4)
    _themed("en", 45, rng)
    topics.topic_models_fit()
    topics.topic_models_fit()
    assert (
        TopicModel.objects.filter(is_active=True, method=TopicMethod.LDA, language="en").count()
        == 1
    )
    assert TopicModel.objects.filter(method=TopicMethod.LDA, language="en").count() == 2


def test_a_topic_job_without_text_ends_not_enough_data():
    job = store.analysis_job_start(kind=JobKind.TOPICS)
    job = store.analysis_job_run(job_id=job.pk)
    assert job.status == JobStatus.NOT_ENOUGH_DATA
    assert "Not enough text" in job.message


def test_jobs_of_a_kind_are_not_queued_twice():
    first = AnalysisJob.objects.create(kind=JobKind.ANALYZE)
    assert store.analysis_job_start(kind=JobKind.ANALYZE).pk == first.pk


def test_a_job_whose_worker_died_is_failed_and_replaced():
    lost = AnalysisJob.objects.create(kind=JobKind.ANALYZE, status=JobStatus.RUNNING)
    AnalysisJob.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(minutes=20))

    fresh = store.analysis_job_start(kind=JobKind.ANALYZE)

    lost.refresh_from_db()
    assert fresh.pk != lost.pk
    assert lost.status == JobStatus.FAILED
    assert "stopped" in lost.error


def test_a_second_delivery_of_a_finished_job_does_nothing():
    job = AnalysisJob.objects.create(kind=JobKind.ANALYZE, status=JobStatus.SUCCEEDED, texts=5)
    assert store.analysis_job_run(job_id=job.pk).texts == 5


def test_a_training_dataset_must_be_a_stored_one():
    from apps.core.errors import ValidationFailed
    from apps.insights.services.sentiment import sentiment_training_start

    with pytest.raises(ValidationFailed, match="dataset"):
        sentiment_training_start(dataset="../../etc/passwd")


def test_categories_match_stored_texts_and_follow_edits(django_capture_on_commit_callbacks):
    late = ReviewFactory(
        title="", text="My parcel arrived three weeks late and the box was crushed"
    )
    lovely = ReviewFactory(title="", text="Gorgeous colour, fits perfectly, I love it")
    store.texts_store()

    with django_capture_on_commit_callbacks(execute=True):
        category = categories.text_category_create(
            name="delivery issue",
            examples=[
                "The package was late",
                "Parcel never arrived",
                "快递太慢了",
                "Box arrived damaged",
            ],
            threshold=0.2,
        )

    matched = set(
        TextCategoryMatch.objects.filter(category=category).values_list(
            "analysis__review_id", flat=True
        )
    )
    assert late.pk in matched
    assert lovely.pk not in matched

    with django_capture_on_commit_callbacks(execute=True):
        categories.text_category_update(
            category_id=category.pk,
            name="delivery issue",
            examples=["x y", "z w"],
            threshold=0.9,
            is_active=False,
        )
    assert TextCategoryMatch.objects.filter(category=category).count() == 0


def test_bad_categories_are_refused_with_the_field_named():
    with pytest.raises(Exception) as error:
        categories.text_category_create(name="", examples=["a", "b"])
    assert "name" in str(error.value)
    with pytest.raises(Exception) as error:
        categories.text_category_create(name="x", examples=["only one"])
    assert "examples" in str(error.value)
    with pytest.raises(Exception) as error:
        categories.text_category_create(name="x", examples=["a", "b"], threshold=1.5)
    assert "threshold" in str(error.value)
    assert not TextCategoryMatch.objects.exists()


def test_traits_refresh_without_texts_keeps_scores_empty():
    assert customer_traits_refresh(customer_ids=[]) == 0
