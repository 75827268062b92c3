"""Choices of the insights app."""

from django.db import models


class TextSource(models.TextChoices):
    """Where an analysed text comes from."""

    REVIEW = "review", "Product review"
    SOCIAL = "social", "Social post"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class Emotion(models.TextChoices):
    """Nearest emotion prototype in embedding space (see engine/emotions.py)."""

    JOY = "joy", "Joy"
    TRUST = "trust", "Trust"
    SURPRISE = "surprise", "Surprise"
    SADNESS = "sadness", "Sadness"
    FEAR = "fear", "Fear"
    ANGER = "anger", "Anger"
    NEUTRAL = "neutral", "Neutral"


class Aspect(models.TextChoices):
    PRICE = "price", "Price"
    QUALITY = "quality", "Quality"
    SIZE_FIT = "size_fit", "Size and fit"
    DELIVERY = "delivery", "Delivery"
    SERVICE = "service", "Service"


class TopicMethod(models.TextChoices):
    LDA = "lda", "LDA (gensim), topics chosen by coherence"
    EMBEDDING = "embedding", "Clusters of sentence embeddings"


class JobKind(models.TextChoices):
    ANALYZE = "analyze", "Analyse new and changed texts"
    REANALYZE = "reanalyze", "Analyse every text again"
    TOPICS = "topics", "Fit topic models"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough text"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class WebhookStatus(models.TextChoices):
    NOT_CONFIGURED = "not_configured", "No webhook configured"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent: an older day found by a backfill"
