"""Analyse texts: language, sentiment, emotion, aspects, categories, keywords, terms.

`texts_analyze` is the one pipeline behind the ad-hoc API, the CLI and the stored analyses
of reviews and posts, so a text gets the same answer wherever it is analysed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.insights.engine import text as text_engine
from apps.insights.engine.aspects import aspect_sentiments
from apps.insights.engine.categories import CategoryClassifier, CategorySpec
from apps.insights.engine.emotions import EmotionClassifier
from apps.insights.engine.keywords import textrank_keywords
from apps.insights.engine.sentiment import NEGATIVE, NEUTRAL
from apps.insights.services.runtime import LoadedSentiment, embedder_get, sentiment_model_get

# A text this negative counts as a complaint (customer traits, "last complaint").
COMPLAINT_SCORE = -0.5
COMPLAINT_CATEGORY = "complaint"
KEYWORDS_PER_TEXT = 5
MAX_TEXT_CHARACTERS = 20_000

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TextResult:
    """Everything the pipeline says about one text."""

    language: str
    language_confidence: float
    mixed_language: bool
    sentiment: str
    sentiment_score: float
    probabilities: dict[str, float]
    emotion: str
    emotion_score: float
    emotions: dict[str, float]
    aspects: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    keywords: list[list[Any]]
    terms: list[str]
    is_complaint: bool
    model_version: str
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the embedding is left out)."""
        return {
            "language": self.language,
            "language_confidence": self.language_confidence,
            "mixed_language": self.mixed_language,
            "sentiment": {
                "label": self.sentiment,
                "score": self.sentiment_score,
                "probabilities": self.probabilities,
            },
            "emotion": {
                "label": self.emotion,
                "score": self.emotion_score,
                "scores": self.emotions,
            },
            "aspects": self.aspects,
            "categories": self.categories,
            "keywords": [{"term": term, "weight": weight} for term, weight in self.keywords],
            "is_complaint": self.is_complaint,
            "model_version": self.model_version,
        }


@functools.lru_cache(maxsize=1)
def _emotion_classifier() -> EmotionClassifier:
    return EmotionClassifier(embedder_get().embed)


@functools.lru_cache(maxsize=4)
def _category_classifier(specs: tuple[CategorySpec, ...]) -> CategoryClassifier:
    """Built once per set of categories (it embeds their examples and a background)."""
    return CategoryClassifier(list(specs), embedder_get().embed)


def texts_analyze(
    texts: Sequence[str],
    *,
    categories: Sequence[CategorySpec] = (),
    progress: Progress | None = None,
    loaded: LoadedSentiment | None = None,
) -> list[TextResult]:
    """The full analysis of each text, in input order. Empty or emoji-only texts are valid;
    texts longer than 20,000 characters are cut (the models read the head and the tail)."""
    if not texts:
        return []
    cleaned = [text_engine.text_clean(text[:MAX_TEXT_CHARACTERS]) for text in texts]
    languages = [text_engine.language_detect(text) for text in cleaned]
    loaded = loaded or sentiment_model_get()
    _report(progress, 5, f"Sentiment of {len(texts):,} texts")
    sentiments = loaded.model.predict(cleaned)
    _report(progress, 35, "Embeddings")
    embeddings = embedder_get().embed(cleaned)
    empty = np.array([not text for text in cleaned])
    emotions = _emotion_classifier().classify(embeddings)
    _report(progress, 65, "Aspects")
    # Clauses are scored by the same model as their texts (not a champion looked up again).
    aspects = aspect_sentiments(
        cleaned, lambda clauses: [(p.label, p.score) for p in loaded.model.predict(clauses)]
    )
    matches: list[list[Any]] = [[] for _ in texts]
    if categories:
        found = _category_classifier(tuple(categories)).classify(embeddings)
        matches = [[] if empty[index] else found[index] for index in range(len(texts))]
    _report(progress, 85, "Keywords")
    results: list[TextResult] = []
    for index, text in enumerate(cleaned):
        sentiment = sentiments[index]
        emotion = emotions[index]
        names = [match.name for match in matches[index]]
        is_empty = bool(empty[index])
        results.append(
            TextResult(
                language=languages[index].code,
                language_confidence=languages[index].confidence,
                mixed_language=languages[index].mixed,
                sentiment=sentiment.label,
                sentiment_score=sentiment.score,
                probabilities=sentiment.probabilities,
                emotion="neutral" if is_empty else emotion.label,
                emotion_score=0.0 if is_empty else round(float(emotion.score), 4),
                emotions={}
                if is_empty
                else {k: round(float(v), 4) for k, v in emotion.scores.items()},
                aspects=[
                    {
                        "aspect": item.aspect,
                        "label": item.label,
                        "score": round(float(item.score), 4),
                        "clause": item.clause,
                    }
                    for item in aspects[index]
                ],
                categories=[
                    {"name": match.name, "similarity": round(float(match.similarity), 4)}
                    for match in matches[index]
                ],
                keywords=[
                    [term, round(float(weight), 4)]
                    for term, weight in (
                        textrank_keywords(text, top_n=KEYWORDS_PER_TEXT) if text else []
                    )
                ],
                terms=text_engine.tokens(text) if text else [],
                is_complaint=(sentiment.label == NEGATIVE and sentiment.score <= COMPLAINT_SCORE)
                or COMPLAINT_CATEGORY in names,
                model_version=loaded.label,
                embedding=None if is_empty else embeddings[index],
            )
        )
    _report(progress, 100, "Done")
    return results


def _report(progress: Progress | None, percent: float, message: str) -> None:
    if progress is not None:
        progress(percent, message)


__all__ = ["NEUTRAL", "TextResult", "texts_analyze"]
