"""What the insights app stores: per-text analyses, topic models, custom categories, alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.insights.choices import (
    AlertStatus,
    Emotion,
    JobKind,
    JobStatus,
    Sentiment,
    TextSource,
    TopicMethod,
    WebhookStatus,
)


class TextAnalysis(BaseModel):
    """The analysis of one review or social post, with the model version that made it.

    One row per text (its review or post is unique here); a changed text (another
    `text_hash`) or a new champion model is analysed again by the incremental job.
    """

    source = models.CharField(max_length=10, choices=TextSource.choices)
    review = models.OneToOneField(
        "events.Review", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    social_post = models.OneToOneField(
        "events.SocialPost", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(
        max_length=32, help_text="Review source (shop, app ...) or social platform (weibo ...)."
    )
    written_at = models.DateTimeField(help_text="When the text was written.")
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the analysed text.")
    language = models.CharField(max_length=8, help_text="Detected: en, zh ... or und.")
    language_confidence = models.FloatField(default=0.0)
    mixed_language = models.BooleanField(default=False, help_text="Chinese and English mixed.")
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices)
    sentiment_score = models.FloatField(help_text="-1 (negative) to 1 (positive).")
    emotion = models.CharField(max_length=10, choices=Emotion.choices, default=Emotion.NEUTRAL)
    emotion_score = models.FloatField(default=0.0, help_text="Share of the emotion, 0-1.")
    aspects = models.JSONField(
        default=list,
        blank=True,
        help_text="Aspects mentioned: [{aspect, label, score, clause}].",
    )
    keywords = models.JSONField(default=list, blank=True, help_text="[[term, weight], ...]")
    terms = models.TextField(blank=True, help_text="Terms (space separated) for topics.")
    embedding = models.BinaryField(
        null=True, blank=True, help_text="384-d float16 sentence embedding (e5-small)."
    )
    is_complaint = models.BooleanField(
        default=False, help_text="Clearly negative (score <= -0.5) or in a 'complaint' category."
    )
    model_version = models.ForeignKey(
        "ml.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_label = models.CharField(
        max_length=64, help_text="Sentiment model that scored it, e.g. insights.sentiment v1."
    )
    analysed_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at", "-id"]
        verbose_name_plural = "text analyses"
        indexes = [
            models.Index(fields=["written_at"], name="analysis_written"),
            models.Index(fields=["product", "written_at"], name="analysis_product_time"),
            models.Index(fields=["channel", "written_at"], name="analysis_channel_time"),
            models.Index(fields=["sentiment", "written_at"], name="analysis_sentiment_time"),
            models.Index(fields=["customer", "written_at"], name="analysis_customer_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        source=TextSource.REVIEW,
                        review__isnull=False,
                        social_post__isnull=True,
                    )
                    | models.Q(
                        source=TextSource.SOCIAL,
                        review__isnull=True,
                        social_post__isnull=False,
                    )
                ),
                name="analysis_one_source",
            ),
            models.CheckConstraint(
                condition=models.Q(sentiment_score__gte=-1) & models.Q(sentiment_score__lte=1),
                name="analysis_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.review_id or self.social_post_id}: {self.sentiment}"


class TopicModel(BaseModel):
    """One fitted set of topics (LDA or embedding clusters) for one language."""

    method = models.CharField(max_length=10, choices=TopicMethod.choices)
    language = models.CharField(max_length=8, help_text="en or zh: topics are per language.")
    is_active = models.BooleanField(
        default=False, help_text="The set shown on pages and used for new texts."
    )
    topic_count = models.PositiveSmallIntegerField(default=0)
    coherence = models.JSONField(
        default=dict, blank=True, help_text="Score per number of topics tried."
    )
    documents = models.PositiveIntegerField(default=0, help_text="Texts it was fitted on.")
    seconds = models.FloatField(default=0.0, help_text="Fit time.")
    model_version = models.ForeignKey(
        "ml.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The stored LDA model (scores new texts); none for embedding clusters.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["method", "language"],
                condition=models.Q(is_active=True),
                name="topicmodel_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.language} ({self.topic_count} topics)"


class Topic(BaseModel):
    """A topic of a topic model: its words, size and how its texts feel."""

    topic_model = models.ForeignKey(TopicModel, on_delete=models.CASCADE, related_name="topics")
    index = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=120, help_text="From its top words.")
    words = models.JSONField(default=list, help_text="[[word, weight], ...], top 10.")
    size = models.PositiveIntegerField(default=0, help_text="Texts whose main topic it is.")
    share = models.FloatField(default=0.0)
    average_sentiment = models.FloatField(null=True, blank=True)
    negative_share = models.FloatField(null=True, blank=True)
    centroid = models.BinaryField(
        null=True, blank=True, help_text="Embedding clusters: the float32 centre (384-d)."
    )

    class Meta:
        ordering = ["topic_model", "-size", "index"]
        constraints = [
            models.UniqueConstraint(fields=["topic_model", "index"], name="topic_model_index"),
        ]

    def __str__(self) -> str:
        return self.label


class DocumentTopic(models.Model):
    """The weight of a topic in a text (the document-topic mixture, weights >= 0.05)."""

    analysis = models.ForeignKey(TextAnalysis, on_delete=models.CASCADE, related_name="topics")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="documents")
    weight = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["analysis", "topic"], name="documenttopic_unique"),
        ]
        indexes = [models.Index(fields=["topic", "-weight"], name="documenttopic_topic")]

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.weight:.2f}"


class TextCategory(BaseModel):
    """A category a marketer defines by a few example texts (complaint, question ...)."""

    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=255, blank=True)
    examples = models.JSONField(default=list, help_text="Example texts, English or Chinese.")
    threshold = models.FloatField(
        default=0.2,
        help_text="Similarity a text needs to fall in the category (0.05-0.9; see docs).",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "text categories"

    def __str__(self) -> str:
        return self.name


class TextCategoryMatch(models.Model):
    """A text that falls in a category, and how similar it is to the examples."""

    analysis = models.ForeignKey(
        TextAnalysis, on_delete=models.CASCADE, related_name="category_matches"
    )
    category = models.ForeignKey(TextCategory, on_delete=models.CASCADE, related_name="matches")
    similarity = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["analysis", "category"], name="categorymatch_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.similarity:.2f}"


class AnalysisJob(BaseModel):
    """One run of text processing (incremental, full or topic fitting): a first-class row."""

    kind = models.CharField(max_length=10, choices=JobKind.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.CharField(max_length=255, blank=True)
    texts = models.PositiveIntegerField(default=0, help_text="Texts analysed.")
    counts = models.JSONField(default=dict, blank=True, help_text="Figures of the run.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class InsightAlert(BaseModel):
    """A day on which the negative share of a channel (or all texts) rose above its range."""

    scope = models.CharField(max_length=64, help_text="all, or channel:<name>.")
    day = models.DateField()
    total = models.PositiveIntegerField()
    negative = models.PositiveIntegerField()
    share = models.FloatField(help_text="Negative share that day.")
    expected = models.FloatField(help_text="Usual negative share (previous 28 days).")
    upper = models.FloatField(help_text="Top of the usual range.")
    z_score = models.FloatField()
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    webhook_status = models.CharField(
        max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.NOT_CONFIGURED
    )
    webhook_error = models.CharField(max_length=255, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "day"], name="insightalert_scope_day"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.day}: {self.share:.0%} negative"
