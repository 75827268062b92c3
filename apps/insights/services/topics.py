"""Topic models of the stored texts: LDA (gensim) and embedding clusters, per language.

`topic_models_fit` fits both methods for English and Chinese on the newest texts (at most
100,000 per language), stores each as a `TopicModel` with its `Topic` rows (words, size,
sentiment) and every text's mixture (`DocumentTopic`), and makes it the active set. The LDA
model file is registered as an `insights.topics` model version, so new texts analysed later
get their mixture from the same model (`document_topics_assign`).
"""

from __future__ import annotations

import functools
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction

from apps.insights.choices import Sentiment, TopicMethod
from apps.insights.engine.topics import (
    NotEnoughText,
    TopicResult,
    embedding_topics,
    lda_fit,
    lda_load,
    lda_save,
)
from apps.insights.models import DocumentTopic, TextAnalysis, Topic, TopicModel
from apps.insights.services.runtime import TOPICS_KIND
from apps.insights.services.store import embedding_from_bytes
from apps.ml.selectors import artifact_path, model_version_get
from apps.ml.services import model_version_import

LANGUAGES = ("en", "zh")
MAX_DOCUMENTS = 100_000
MIN_WEIGHT = 0.05
WRITE_BATCH = 5_000

Progress = Callable[[float, str], None]


def topic_models_fit(*, progress: Progress | None = None) -> dict[str, Any]:
    """Fit and activate LDA and embedding topics for each language with enough texts."""
    report = progress or (lambda percent, message: None)
    summary: dict[str, Any] = {"documents": 0, "languages": {}}
    for number, language in enumerate(LANGUAGES):
        share = 100 / len(LANGUAGES)
        base = number * share
        rows = list(
            TextAnalysis.objects.filter(language=language)
            .exclude(terms="")
            .order_by("-written_at", "-id")
            .values_list("id", "terms", "embedding", "sentiment_score", "sentiment")[:MAX_DOCUMENTS]
        )
        documents = [terms.split() for _, terms, _, _, _ in rows]
        report(base + 1, f"{language}: LDA on {len(rows):,} texts")

        def fit_progress(
            percent: float, message: str, base: float = base, share: float = share
        ) -> None:
            report(base + share * 0.6 * percent / 100, message)

        try:
            lda = lda_fit(documents, seed=0, progress=fit_progress)
        except NotEnoughText as error:
            summary["languages"][language] = {"skipped": str(error)}
            continue
        version = _lda_register(lda, language)
        _topic_model_store(TopicMethod.LDA, language, lda, rows, version)
        report(base + share * 0.7, f"{language}: embedding clusters")
        with_vectors = [
            (row, vector) for row in rows if (vector := embedding_from_bytes(row[2])) is not None
        ]
        if len(with_vectors) >= 20:
            vectors = np.vstack([vector for _, vector in with_vectors])
            clusters = embedding_topics(
                vectors, [row[1].split() for row, _ in with_vectors], seed=0
            )
            _topic_model_store(
                TopicMethod.EMBEDDING,
                language,
                clusters,
                [row for row, _ in with_vectors],
                None,
                centroids=_centroids(vectors, clusters),
            )
        summary["documents"] += len(rows)
        summary["languages"][language] = {
            "documents": len(rows),
            "lda_topics": lda.chosen_k,
            "coherence": lda.coherence,
            "seconds": round(lda.seconds, 1),
        }
    if summary["documents"]:
        from apps.insights.services.traits import customer_traits_refresh

        report(98, "Customer traits (topics of interest)")
        summary["customers"] = customer_traits_refresh()
    if not summary["documents"]:
        summary["not_enough_data"] = True
        summary["message"] = "Not enough text to find topics: " + "; ".join(
            f"{language}: {info.get('skipped', '')}"
            for language, info in summary["languages"].items()
        )
    else:
        summary["message"] = "Topics fitted for " + ", ".join(
            language for language, info in summary["languages"].items() if "documents" in info
        )
    return summary


def _lda_register(result: TopicResult, language: str) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"lda-{language}.pkl"
        lda_save(result, path)
        return model_version_import(
            kind=TOPICS_KIND,
            source=path,
            metrics={
                "language": language,
                "topics": result.chosen_k,
                "coherence": result.coherence,
            },
            params={"method": "lda", "language": language},
            activate=False,
        )


def _centroids(vectors: np.ndarray, result: TopicResult) -> dict[int, np.ndarray]:
    members: dict[int, list[int]] = defaultdict(list)
    for row, mixture in enumerate(result.document_topics):
        if mixture:
            members[mixture[0][0]].append(row)
    out = {}
    for index, rows in members.items():
        centre = vectors[rows].mean(axis=0)
        out[index] = centre / max(float(np.linalg.norm(centre)), 1e-9)
    return out


@transaction.atomic
def _topic_model_store(
    method: str,
    language: str,
    result: TopicResult,
    rows: Sequence[tuple[Any, ...]],
    version: Any,
    *,
    centroids: dict[int, np.ndarray] | None = None,
) -> TopicModel:
    """Replace the active model of (method, language) with this one, mixtures included."""
    previous = TopicModel.objects.filter(method=method, language=language, is_active=True)
    # Old sets keep their topics (history), not their 100k x k mixtures.
    DocumentTopic.objects.filter(topic__topic_model__in=previous).delete()
    previous.update(is_active=False)
    topic_model = TopicModel.objects.create(
        method=method,
        language=language,
        is_active=True,
        topic_count=len(result.topics),
        coherence={str(k): round(float(v), 4) for k, v in result.coherence.items()},
        documents=len(rows),
        seconds=round(result.seconds, 2),
        model_version=version,
    )
    scores: dict[int, list[float]] = defaultdict(list)
    negatives: dict[int, int] = defaultdict(int)
    for row, mixture in zip(rows, result.document_topics, strict=True):
        if mixture:
            scores[mixture[0][0]].append(float(row[3]))
            negatives[mixture[0][0]] += row[4] == Sentiment.NEGATIVE
    topics = {}
    for topic in result.topics:
        values = scores.get(topic.index, [])
        centre = (centroids or {}).get(topic.index)
        topics[topic.index] = Topic.objects.create(
            topic_model=topic_model,
            index=topic.index,
            label=topic.label[:120],
            words=[[word, round(float(weight), 5)] for word, weight in topic.words],
            size=topic.size,
            share=round(topic.share, 4),
            average_sentiment=round(float(np.mean(values)), 4) if values else None,
            negative_share=round(negatives[topic.index] / len(values), 4) if values else None,
            centroid=None if centre is None else centre.astype(np.float32).tobytes(),
        )
    links = [
        DocumentTopic(analysis_id=row[0], topic=topics[index], weight=round(float(weight), 4))
        for row, mixture in zip(rows, result.document_topics, strict=True)
        for index, weight in mixture
        if weight >= MIN_WEIGHT and index in topics
    ]
    DocumentTopic.objects.bulk_create(links, batch_size=WRITE_BATCH, ignore_conflicts=True)
    return topic_model


@functools.lru_cache(maxsize=4)
def _lda_model(model_version_id: int, content_hash: str) -> Any:
    return lda_load(artifact_path(model_version_get(model_version_id=model_version_id)))


def document_topics_assign(analyses: Sequence[TextAnalysis]) -> int:
    """Mixtures of new or changed texts under the active topic models of their language."""
    links: list[DocumentTopic] = []
    active = TopicModel.objects.filter(is_active=True).select_related("model_version")
    for topic_model in active:
        chosen = [a for a in analyses if a.language == topic_model.language and a.terms]
        if not chosen:
            continue
        topics = {topic.index: topic for topic in topic_model.topics.all()}
        if topic_model.method == TopicMethod.LDA and topic_model.model_version is not None:
            version = topic_model.model_version
            model = _lda_model(version.pk, version.content_hash)
            mixtures = model.infer([analysis.terms.split() for analysis in chosen])
        else:
            mixtures = _nearest_centroid(chosen, topics)
        links.extend(
            DocumentTopic(analysis=analysis, topic=topics[index], weight=round(float(weight), 4))
            for analysis, mixture in zip(chosen, mixtures, strict=True)
            for index, weight in mixture
            if weight >= MIN_WEIGHT and index in topics
        )
    DocumentTopic.objects.bulk_create(links, batch_size=WRITE_BATCH, ignore_conflicts=True)
    return len(links)


def _nearest_centroid(
    analyses: Sequence[TextAnalysis], topics: dict[int, Topic]
) -> list[list[tuple[int, float]]]:
    centres = [
        (index, np.frombuffer(bytes(topic.centroid), dtype=np.float32))
        for index, topic in topics.items()
        if topic.centroid
    ]
    out: list[list[tuple[int, float]]] = []
    for analysis in analyses:
        vector = embedding_from_bytes(analysis.embedding)
        if vector is None or not centres:
            out.append([])
            continue
        best = max(centres, key=lambda item: float(item[1] @ vector))  # type: ignore[operator]
        out.append([(best[0], 1.0)])
    return out
