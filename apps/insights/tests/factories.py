"""Factories of the insights tests. Analyses are made directly when a test is about what
happens after the models (alerts, topics, traits), so it need not run them on hundreds of
texts."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.events.tests.factories import ReviewFactory
from apps.insights.choices import Sentiment, TextSource
from apps.insights.models import TextAnalysis


class TextAnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TextAnalysis

    source = TextSource.REVIEW
    review = factory.SubFactory(ReviewFactory)
    customer = factory.LazyAttribute(lambda o: o.review.customer if o.review else None)
    product = factory.LazyAttribute(lambda o: o.review.product if o.review else None)
    channel = "shop"
    written_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    text_hash = "0" * 64
    language = "en"
    sentiment = Sentiment.POSITIVE
    sentiment_score = 0.8
    model_label = "insights.sentiment v1"
    analysed_at = factory.LazyFunction(timezone.now)
