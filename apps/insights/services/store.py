"""Stored analyses of reviews and social posts: the incremental job and its rows.

A job (`AnalysisJob`, a first-class row) picks the texts that have no analysis or changed
since theirs (`updated_at` after `analysed_at`), or every text for a full re-analysis (a new
sentiment champion), analyses them in batches and upserts one `TextAnalysis` per text with
the model version, its topic mixture under the active topic models and its category matches.
Then customer traits and alerts are refreshed for what changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.core.errors import NotFound, ValidationFailed
from apps.events.selectors import review_list, social_post_list
from apps.insights.choices import JobKind, JobStatus, TextSource
from apps.insights.engine.categories import CategorySpec
from apps.insights.models import (
    AnalysisJob,
    DocumentTopic,
    TextAnalysis,
    TextCategory,
    TextCategoryMatch,
)
from apps.insights.selectors import review_text
from apps.insights.services.analysis import TextResult, texts_analyze

logger = logging.getLogger(__name__)

BATCH_SIZE = 256
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class PendingText:
    """A review or post to analyse, with what the analysis row copies from it."""

    source: str
    source_id: int
    text: str
    customer_id: int | None
    product_id: int | None
    channel: str
    written_at: datetime


def embedding_to_bytes(vector: np.ndarray | None) -> bytes | None:
    """How a text's vector is stored: 384 float16 values (768 bytes)."""
    return None if vector is None else vector.astype(np.float16).tobytes()


def embedding_from_bytes(raw: bytes | memoryview | None) -> np.ndarray | None:
    """A stored vector back as float32 (None stays None)."""
    if raw is None:
        return None
    return np.frombuffer(bytes(raw), dtype=np.float16).astype(np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def category_specs() -> list[CategorySpec]:
    """The active custom categories as the engine takes them."""
    return [
        CategorySpec(name=c.name, examples=tuple(c.examples), threshold=c.threshold)
        for c in TextCategory.objects.filter(is_active=True).order_by("name")
        if c.examples
    ]


def _analysis_value(field: str, value: str) -> Subquery:
    return Subquery(TextAnalysis.objects.filter(**{field: OuterRef("pk")}).values(value)[:1])


def _champion_id() -> int | None:
    from apps.insights.services.runtime import SENTIMENT_KIND
    from apps.ml.selectors import champion_get

    champion = champion_get(SENTIMENT_KIND)
    return champion.pk if champion is not None else None


def _pending(queryset: QuerySet[Any], field: str, full: bool) -> QuerySet[Any]:
    """Texts without an analysis, changed since theirs, or analysed by another model than the
    champion (so a re-analysis cut short resumes where it stopped)."""
    queryset = queryset.order_by("pk")
    if full:
        return queryset
    stale = Q(analysed__isnull=True) | Q(updated_at__gt=F("analysed"))
    champion_id = _champion_id()
    if champion_id is not None:
        stale |= ~Q(analysed_by=champion_id) | Q(analysed_by__isnull=True)
    return queryset.annotate(
        analysed=_analysis_value(field, "analysed_at"),
        analysed_by=_analysis_value(field, "model_version_id"),
    ).filter(stale)


def pending_reviews(*, full: bool = False) -> QuerySet[Any]:
    return _pending(review_list(), "review_id", full)


def pending_social_posts(*, full: bool = False) -> QuerySet[Any]:
    return _pending(social_post_list(), "social_post_id", full)


def pending_count() -> int:
    """How many reviews and posts wait for (re-)analysis."""
    return pending_reviews().count() + pending_social_posts().count()


def _pending_texts(full: bool) -> Iterator[PendingText]:
    for review in pending_reviews(full=full).iterator(chunk_size=2000):
        yield PendingText(
            TextSource.REVIEW,
            review.pk,
            review_text(review),
            review.customer_id,
            review.product_id,
            review.source or "shop",
            review.reviewed_at,
        )
    for post in pending_social_posts(full=full).iterator(chunk_size=2000):
        yield PendingText(
            TextSource.SOCIAL,
            post.pk,
            post.text,
            post.customer_id,
            post.product_id,
            post.platform,
            post.posted_at,
        )


def _row(
    item: PendingText, result: TextResult, model_version_id: int, now: datetime
) -> TextAnalysis:
    return TextAnalysis(
        source=item.source,
        review_id=item.source_id if item.source == TextSource.REVIEW else None,
        social_post_id=item.source_id if item.source == TextSource.SOCIAL else None,
        customer_id=item.customer_id,
        product_id=item.product_id,
        channel=item.channel[:32],
        written_at=item.written_at,
        text_hash=text_hash(item.text),
        language=result.language,
        language_confidence=result.language_confidence,
        mixed_language=result.mixed_language,
        sentiment=result.sentiment,
        sentiment_score=max(-1.0, min(1.0, result.sentiment_score)),
        emotion=result.emotion,
        emotion_score=result.emotion_score,
        aspects=result.aspects,
        keywords=result.keywords,
        terms=" ".join(result.terms),
        embedding=embedding_to_bytes(result.embedding),
        is_complaint=result.is_complaint,
        model_version_id=model_version_id,
        model_label=result.model_version,
        analysed_at=now,
    )


_UPDATE_FIELDS = [
    "customer",
    "product",
    "channel",
    "written_at",
    "text_hash",
    "language",
    "language_confidence",
    "mixed_language",
    "sentiment",
    "sentiment_score",
    "emotion",
    "emotion_score",
    "aspects",
    "keywords",
    "terms",
    "embedding",
    "is_complaint",
    "model_version",
    "model_label",
    "analysed_at",
    "updated_at",
]


@transaction.atomic
def _batch_store(
    batch: list[PendingText], results: list[TextResult], model_version_id: int
) -> list[TextAnalysis]:
    """Upsert the batch's analyses, then their topic mixtures and category matches."""
    from apps.insights.services.topics import document_topics_assign

    now = timezone.now()
    stored: list[TextAnalysis] = []
    for source, field in ((TextSource.REVIEW, "review"), (TextSource.SOCIAL, "social_post")):
        rows = [
            _row(item, result, model_version_id, now)
            for item, result in zip(batch, results, strict=True)
            if item.source == source
        ]
        if not rows:
            continue
        TextAnalysis.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=[field], update_fields=_UPDATE_FIELDS
        )
        ids = [getattr(row, f"{field}_id") for row in rows]
        stored.extend(TextAnalysis.objects.filter(**{f"{field}_id__in": ids}))
    by_key = {(row.source, row.review_id or row.social_post_id): row for row in stored}
    analyses = [by_key[(item.source, item.source_id)] for item in batch]
    TextCategoryMatch.objects.filter(analysis__in=analyses).delete()
    categories = dict(TextCategory.objects.filter(is_active=True).values_list("name", "pk"))
    TextCategoryMatch.objects.bulk_create(
        ignore_conflicts=True,
        objs=[
            TextCategoryMatch(
                analysis=analysis,
                category_id=categories[match["name"]],
                similarity=match["similarity"],
            )
            for analysis, result in zip(analyses, results, strict=True)
            for match in result.categories
            if match["name"] in categories
        ],
    )
    DocumentTopic.objects.filter(analysis__in=analyses).delete()
    document_topics_assign(analyses)
    return analyses


def analysis_job_start(*, kind: str = JobKind.ANALYZE, user: Any = None) -> AnalysisJob:
    """Queue a job (or return the one of that kind already queued or running)."""
    if kind not in JobKind.values:
        raise ValidationFailed(
            f"kind: unknown job kind {kind!r}; choose one of {', '.join(JobKind.values)}",
            field="kind",
        )
    with transaction.atomic():
        existing = (
            AnalysisJob.objects.select_for_update()
            .filter(kind=kind, status__in=ACTIVE_STATUSES)
            .first()
        )
        if existing is not None and not _stale(existing):
            return existing
        if existing is not None:
            # Its worker died (hard time limit, out of memory): say so and start afresh.
            existing.status = JobStatus.FAILED
            existing.error = "The worker running this job stopped (no progress for 15 minutes)"
            existing.finished_at = timezone.now()
            existing.save(update_fields=["status", "error", "finished_at", "updated_at"])
        job = AnalysisJob.objects.create(
            kind=kind, requested_by=user if getattr(user, "pk", None) else None
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from apps.insights.tasks import run_analysis_job_task  # tasks import services

    try:
        run_analysis_job_task.apply_async(args=[job_id], queue="ml_cpu")
    except (KombuOperationalError, RedisError) as error:  # broker down: say so on the row
        logger.error("Analysis job %s could not be enqueued: %s", job_id, error)
        AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED,
            error=f"Could not enqueue the job: the broker is unreachable ({error})",
            finished_at=timezone.now(),
        )


STALE_AFTER = timedelta(minutes=15)


def _stale(job: AnalysisJob) -> bool:
    """A running job that has not reported progress for 15 minutes has lost its worker
    (progress is written at least every batch of 256 texts, seconds apart)."""
    return job.status == JobStatus.RUNNING and job.updated_at < timezone.now() - STALE_AFTER


def _claim(job_id: int) -> AnalysisJob | None:
    """The job, now running; None when it is not queued (a second delivery of its task)."""
    now = timezone.now()
    claimed = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now, message="Starting"
    )
    job = AnalysisJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"Analysis job {job_id} does not exist")
    return job if claimed else None


def _progress(job: AnalysisJob, percent: float, message: str) -> None:
    AnalysisJob.objects.filter(pk=job.pk).update(
        progress=int(min(max(percent, 0), 100)), message=message[:255], updated_at=timezone.now()
    )


def analysis_job_run(*, job_id: int) -> AnalysisJob:
    """Run a queued job to its end; the outcome is recorded on the row, not raised. A job
    that is not queued (done, or running elsewhere) is returned untouched."""
    claimed = _claim(job_id)
    if claimed is None:
        return AnalysisJob.objects.get(pk=job_id)
    job = claimed
    try:
        if job.kind == JobKind.TOPICS:
            from apps.insights.services.topics import topic_models_fit

            counts = topic_models_fit(progress=lambda p, m: _progress(job, p, m))
            texts = int(counts.get("documents", 0))
        else:
            counts = texts_store(
                full=job.kind == JobKind.REANALYZE, progress=lambda p, m: _progress(job, p, m)
            )
            texts = int(counts["analysed"])
        status = JobStatus.NOT_ENOUGH_DATA if counts.get("not_enough_data") else JobStatus.SUCCEEDED
        AnalysisJob.objects.filter(pk=job.pk).update(
            status=status,
            progress=100,
            texts=texts,
            counts=counts,
            message=str(counts.get("message", "Done"))[:255],
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("Analysis job %s failed", job.pk)
        AnalysisJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            message="Failed",
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def texts_store(*, full: bool = False, progress: Any = None) -> dict[str, Any]:
    """Analyse pending (or, `full`, all) reviews and posts and store the results."""
    from apps.insights.services.alerts import insight_alerts_detect
    from apps.insights.services.runtime import sentiment_model_get
    from apps.insights.services.traits import customer_traits_refresh

    total = pending_reviews(full=full).count() + pending_social_posts(full=full).count()
    if total == 0:
        return {"analysed": 0, "message": "Nothing new to analyse"}
    loaded = sentiment_model_get()
    specs = category_specs()
    analysed = 0
    customers: set[int] = set()
    batch: list[PendingText] = []

    def flush() -> None:
        nonlocal analysed
        results = texts_analyze([item.text for item in batch], categories=specs, loaded=loaded)
        _batch_store(batch, results, loaded.model_version_id)
        customers.update(item.customer_id for item in batch if item.customer_id)
        analysed += len(batch)
        if progress is not None:
            progress(95 * analysed / total, f"Analysed {analysed:,} of {total:,} texts")
        batch.clear()

    for item in _pending_texts(full):
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    if progress is not None:
        progress(96, "Customer traits and alerts")
    traits = customer_traits_refresh(customer_ids=sorted(customers))
    alerts = insight_alerts_detect()
    return {
        "analysed": analysed,
        "customers": traits,
        "alerts": len(alerts),
        "model_version": loaded.label,
        "message": f"Analysed {analysed:,} texts with {loaded.label}",
    }
