"""Reads of the insights app: trends, topics, keywords, product insights, alerts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from apps.insights.choices import AlertStatus, JobStatus, Sentiment, TopicMethod
from apps.insights.engine.aspects import AspectSentiment, aspect_summary
from apps.insights.engine.keywords import group_keywords, trending_keywords
from apps.insights.models import (
    AnalysisJob,
    DocumentTopic,
    InsightAlert,
    TextAnalysis,
    TextCategory,
    Topic,
    TopicModel,
)

NEGATIVE = Q(sentiment=Sentiment.NEGATIVE)
POSITIVE = Q(sentiment=Sentiment.POSITIVE)
NEUTRAL = Q(sentiment=Sentiment.NEUTRAL)


def analysis_list(
    *,
    source: str = "",
    channel: str = "",
    language: str = "",
    sentiment: str = "",
    emotion: str = "",
    product_id: int | None = None,
    customer_id: int | None = None,
    category: str = "",
    topic_id: int | None = None,
    aspect: str = "",
    since: datetime | None = None,
    search: str = "",
    product_sku: str = "",
) -> QuerySet[TextAnalysis]:
    """Stored analyses, newest first, filtered."""
    queryset = TextAnalysis.objects.select_related("review", "social_post", "product", "customer")
    filters: dict[str, Any] = {}
    for name, value in (
        ("source", source),
        ("channel", channel),
        ("language", language),
        ("sentiment", sentiment),
        ("emotion", emotion),
    ):
        if value:
            filters[name] = value
    if product_id is not None:
        filters["product_id"] = product_id
    if customer_id is not None:
        filters["customer_id"] = customer_id
    if since is not None:
        filters["written_at__gte"] = since
    if product_sku:
        filters["product__sku"] = product_sku
    queryset = queryset.filter(**filters)
    if category:
        queryset = queryset.filter(category_matches__category__name=category)
    if topic_id is not None:
        queryset = queryset.filter(topics__topic_id=topic_id)
    if aspect:
        queryset = queryset.filter(aspects__icontains=f'"aspect": "{aspect}"')
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(review__text__icontains=search)
            | Q(review__title__icontains=search)
            | Q(social_post__text__icontains=search)
        )
    return queryset.order_by("-written_at", "-id")


def review_text(review: Any) -> str:
    """What is analysed of a review: its title and body, joined."""
    return ". ".join(part for part in (review.title.strip(), review.text.strip()) if part)


def analysis_text(analysis: TextAnalysis) -> str:
    """The text an analysis is about (review title and body, or the post)."""
    if analysis.review is not None:
        return review_text(analysis.review)
    if analysis.social_post is not None:
        return analysis.social_post.text
    return ""


@dataclass(frozen=True)
class TrendPoint:
    """Texts of one day or week: counts by sentiment and the average score."""

    period: date
    total: int
    positive: int
    neutral: int
    negative: int
    average: float | None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.total if self.total else None


def sentiment_trend(
    *,
    days: int = 90,
    channel: str = "",
    product_id: int | None = None,
    weekly: bool = False,
    now: datetime | None = None,
) -> list[TrendPoint]:
    """Sentiment per day (or week) over the last `days` days."""
    since = (now or timezone.now()) - timedelta(days=days)
    queryset = TextAnalysis.objects.filter(written_at__gte=since)
    if channel:
        queryset = queryset.filter(channel=channel)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    bucket = TruncWeek("written_at") if weekly else TruncDate("written_at")
    rows = (
        queryset.annotate(period=bucket)
        .order_by()
        .values("period")
        .annotate(
            total=Count("id"),
            positive=Count("id", filter=POSITIVE),
            neutral=Count("id", filter=NEUTRAL),
            negative=Count("id", filter=NEGATIVE),
            average=Avg("sentiment_score"),
        )
        .order_by("period")
    )
    return [
        TrendPoint(
            period=row["period"].date() if isinstance(row["period"], datetime) else row["period"],
            total=row["total"],
            positive=row["positive"],
            neutral=row["neutral"],
            negative=row["negative"],
            average=None if row["average"] is None else round(float(row["average"]), 4),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ChannelSummary:
    channel: str
    total: int
    negative: int
    positive: int
    average: float | None

    @property
    def negative_share(self) -> float:
        return self.negative / self.total if self.total else 0.0


def channel_summary(*, days: int = 30, now: datetime | None = None) -> list[ChannelSummary]:
    """Per channel (review source or platform): texts, sentiment counts, average score."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        TextAnalysis.objects.filter(written_at__gte=since)
        .order_by()
        .values("channel")
        .annotate(
            total=Count("id"),
            negative=Count("id", filter=NEGATIVE),
            positive=Count("id", filter=POSITIVE),
            average=Avg("sentiment_score"),
        )
        .order_by("-total")
    )
    return [
        ChannelSummary(
            row["channel"],
            row["total"],
            row["negative"],
            row["positive"],
            None if row["average"] is None else round(float(row["average"]), 4),
        )
        for row in rows
    ]


def emotion_counts(*, days: int = 30, product_id: int | None = None) -> dict[str, int]:
    since = timezone.now() - timedelta(days=days)
    queryset = TextAnalysis.objects.filter(written_at__gte=since)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    return dict(
        queryset.order_by()
        .values_list("emotion")
        .annotate(count=Count("id"))
        .values_list("emotion", "count")
    )


def topic_model_active(*, language: str, method: str = TopicMethod.LDA) -> TopicModel | None:
    return TopicModel.objects.filter(language=language, method=method, is_active=True).first()


@dataclass(frozen=True)
class TopicView:
    """A topic as the topics page shows it: words, size, sentiment and weekly trend."""

    topic: Topic
    weekly: list[tuple[date, int]] = field(default_factory=list)

    @property
    def top_words(self) -> list[str]:
        return [word for word, _ in self.topic.words[:8]]


def topic_views(topic_model: TopicModel, *, weeks: int = 12) -> list[TopicView]:
    """Topics of a model, biggest first, each with its texts per week (main topic only)."""
    topics = list(topic_model.topics.order_by("-size", "index"))
    since = timezone.now() - timedelta(weeks=weeks)
    weekly: dict[int, dict[date, int]] = defaultdict(dict)
    rows = (
        DocumentTopic.objects.filter(
            topic__topic_model=topic_model, analysis__written_at__gte=since, weight__gte=0.3
        )
        .annotate(week=TruncWeek("analysis__written_at"))
        .order_by()
        .values("topic_id", "week")
        .annotate(count=Count("id"))
    )
    for row in rows:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        weekly[row["topic_id"]][week] = row["count"]
    start = timezone.localdate() - timedelta(weeks=weeks)
    start -= timedelta(days=start.weekday())
    weeks_list = [start + timedelta(weeks=i) for i in range(weeks + 1)]
    return [
        TopicView(topic, [(week, weekly[topic.pk].get(week, 0)) for week in weeks_list])
        for topic in topics
    ]


def top_negative_topics(*, limit: int = 5) -> list[Topic]:
    """Active LDA topics that hold the most negative texts (size x negative share)."""
    topics = Topic.objects.filter(
        topic_model__is_active=True,
        topic_model__method=TopicMethod.LDA,
        negative_share__isnull=False,
    ).select_related("topic_model")
    return sorted(topics, key=lambda t: -(t.size * (t.negative_share or 0)))[:limit]


def keyword_trends(*, days: int = 7, now: datetime | None = None, top_n: int = 15) -> list[Any]:
    """Terms rising in the last `days` days against the `days` before."""
    end = now or timezone.now()
    current_start = end - timedelta(days=days)
    previous_start = current_start - timedelta(days=days)
    rows = TextAnalysis.objects.filter(
        written_at__gte=previous_start, written_at__lt=end
    ).values_list("written_at", "terms")
    current: list[list[str]] = []
    previous: list[list[str]] = []
    for written_at, terms in rows.iterator(chunk_size=5000):
        (current if written_at >= current_start else previous).append(terms.split())
    if not current:
        return []
    return trending_keywords(current, previous, top_n=top_n)


def keywords_of(
    queryset: QuerySet[TextAnalysis], *, top_n: int = 12, limit: int = 5000
) -> list[tuple[str, float]]:
    """Distinctive terms of a set of texts against all texts (class-based TF-IDF)."""
    chosen = [terms.split() for terms in queryset.values_list("terms", flat=True)[:limit]]
    if not chosen:
        return []
    background = [
        terms.split()
        for terms in TextAnalysis.objects.order_by("-written_at").values_list("terms", flat=True)[
            :limit
        ]
    ]
    return group_keywords({"chosen": chosen, "all": background}, top_n=top_n).get("chosen", [])


@dataclass(frozen=True)
class ProductInsights:
    """What reviews and posts say about one product."""

    texts: int
    average: float | None
    negative_share: float | None
    trend: list[TrendPoint]
    aspects: dict[str, Any]
    topics: list[tuple[Topic, int]]
    keywords: list[tuple[str, float]]
    emotions: dict[str, int]
    recent: list[TextAnalysis]


def product_insights(*, product_id: int, days: int = 365) -> ProductInsights:
    queryset = TextAnalysis.objects.filter(product_id=product_id)
    totals = queryset.aggregate(
        texts=Count("id"), average=Avg("sentiment_score"), negative=Count("id", filter=NEGATIVE)
    )
    aspects = aspect_summary(
        [
            [AspectSentiment(**item) for item in mentioned or []]
            for mentioned in queryset.values_list("aspects", flat=True)
        ]
    )
    topic_counts = (
        DocumentTopic.objects.filter(
            analysis__product_id=product_id,
            topic__topic_model__is_active=True,
            topic__topic_model__method=TopicMethod.LDA,
            weight__gte=0.3,
        )
        .values("topic_id")
        .annotate(count=Count("id"))
        .order_by("-count")[:6]
    )
    topics_by_id = Topic.objects.in_bulk([row["topic_id"] for row in topic_counts])
    return ProductInsights(
        texts=totals["texts"],
        average=None if totals["average"] is None else round(float(totals["average"]), 4),
        negative_share=totals["negative"] / totals["texts"] if totals["texts"] else None,
        trend=sentiment_trend(days=days, product_id=product_id, weekly=True),
        aspects=aspects,
        topics=[(topics_by_id[row["topic_id"]], row["count"]) for row in topic_counts],
        keywords=keywords_of(queryset, top_n=10),
        emotions=emotion_counts(days=days, product_id=product_id),
        recent=list(analysis_list(product_id=product_id)[:10]),
    )


def products_by_sentiment(
    *, days: int = 90, limit: int = 10, worst: bool = True
) -> list[dict[str, Any]]:
    """Products with at least 5 texts lately: the worst by negative share (only those with
    negative texts), or the best by average sentiment."""
    since = timezone.now() - timedelta(days=days)
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in TextAnalysis.objects.filter(written_at__gte=since, product__isnull=False)
        .order_by()
        .values("product_id", "product__title", "product__sku")
        .annotate(
            total=Count("id"),
            negative=Count("id", filter=NEGATIVE),
            average=Avg("sentiment_score"),
        )
        .filter(total__gte=5)
    ]
    for row in rows:
        row["negative_share"] = row["negative"] / row["total"]
    if worst:
        rows = [row for row in rows if row["negative"]]
        rows.sort(key=lambda row: (-row["negative_share"], row["average"]))
    else:
        rows.sort(key=lambda row: -(row["average"] or 0))
    return rows[:limit]


def alert_list(*, status: str = "", limit: int = 50) -> QuerySet[InsightAlert]:
    queryset = InsightAlert.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-day", "scope")[:limit]


def open_alert_count() -> int:
    return InsightAlert.objects.filter(status=AlertStatus.OPEN).count()


def category_list() -> list[tuple[TextCategory, int]]:
    """Custom categories with how many texts fall in each."""
    categories = TextCategory.objects.annotate(texts=Count("matches")).order_by("name")
    return [(category, category.texts) for category in categories]  # type: ignore[attr-defined]


def analysis_job_latest() -> AnalysisJob | None:
    return AnalysisJob.objects.order_by("-created_at", "-id").first()


def analysis_job_active() -> AnalysisJob | None:
    return AnalysisJob.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).first()


def analysis_totals() -> dict[str, Any]:
    """Headline figures of the dashboard."""
    totals = TextAnalysis.objects.aggregate(
        texts=Count("id"),
        negative=Count("id", filter=NEGATIVE),
        positive=Count("id", filter=POSITIVE),
        average=Avg("sentiment_score"),
        latest=Max("analysed_at"),
    )
    model = (
        TextAnalysis.objects.order_by("-analysed_at").values_list("model_label", flat=True).first()
    )
    return {**totals, "model_label": model or ""}
