"""Custom text categories: a marketer names one and gives a few examples; texts follow.

Matching is by embedding similarity to the examples (engine/categories.py), so changing a
category re-matches every stored text from its stored embedding: no model is retrained and
nothing is re-read, which takes seconds even for 100k texts.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.insights.choices import Sentiment
from apps.insights.engine.categories import CategoryClassifier, examples_check
from apps.insights.models import TextAnalysis, TextCategory, TextCategoryMatch
from apps.insights.services.analysis import COMPLAINT_CATEGORY, COMPLAINT_SCORE
from apps.insights.services.runtime import embedder_get
from apps.insights.services.store import category_specs, embedding_from_bytes

logger = logging.getLogger(__name__)

MIN_EXAMPLES = 2
MAX_EXAMPLES = 50
MAX_EXAMPLE_CHARACTERS = 500
CHUNK = 5_000

STARTER_CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "complaint",
        "description": "Unhappy customers telling us something went wrong.",
        "examples": [
            "This is unacceptable, I want my money back",
            "Terrible experience, nobody answered my emails",
            "The product broke after two days and support ignored me",
            "太差了，要求退款",
            "客服态度恶劣，再也不会买了",
        ],
    },
    {
        "name": "question",
        "description": "Questions we could answer (sizing, care, stock).",
        "examples": [
            "Does this come in a larger size?",
            "How should I wash this jacket?",
            "When will the black one be back in stock?",
            "这个有大码吗？",
            "请问什么时候补货？",
        ],
    },
    {
        "name": "delivery issue",
        "description": "Late, lost or damaged parcels.",
        "examples": [
            "My parcel arrived two weeks late",
            "The package was damaged when it arrived",
            "Still waiting for my order, tracking has not moved",
            "快递太慢了，等了十天",
            "包裹破损，物流太差",
        ],
    },
    {
        "name": "praise",
        "description": "Happy customers: candidates for testimonials and referrals.",
        "examples": [
            "Absolutely love it, best purchase this year",
            "Amazing quality, I will definitely buy again",
            "Thank you, the service was wonderful",
            "非常满意，强烈推荐",
            "质量超好，会回购的",
        ],
    },
]


def _clean(
    *, name: str, examples: list[str], threshold: float | None, description: str
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed("name: give a name of 1-60 characters", field="name")
    cleaned = [str(example).strip() for example in examples if str(example).strip()]
    if len(cleaned) < MIN_EXAMPLES:
        raise ValidationFailed(
            f"examples: give at least {MIN_EXAMPLES} example texts (one per line)", field="examples"
        )
    if len(cleaned) > MAX_EXAMPLES:
        raise ValidationFailed(f"examples: at most {MAX_EXAMPLES} examples", field="examples")
    for number, example in enumerate(cleaned, start=1):
        if len(example) > MAX_EXAMPLE_CHARACTERS:
            raise ValidationFailed(
                f"examples: example {number} is longer than {MAX_EXAMPLE_CHARACTERS} characters",
                field="examples",
            )
    values: dict[str, Any] = {
        "name": name,
        "examples": cleaned,
        "description": (description or "").strip()[:255],
    }
    if threshold is not None:
        if not 0.05 <= float(threshold) <= 0.9:
            raise ValidationFailed("threshold: must be between 0.05 and 0.9", field="threshold")
        values["threshold"] = float(threshold)
    return values


def text_category_create(
    *,
    name: str,
    examples: list[str],
    threshold: float | None = None,
    description: str = "",
    is_active: bool = True,
    user: Any = None,
) -> TextCategory:
    """A new category; stored texts are matched against it right after commit."""
    values = _clean(name=name, examples=examples, threshold=threshold, description=description)
    with transaction.atomic():
        if TextCategory.objects.filter(name__iexact=values["name"]).exists():
            raise Conflict(f"name: a category named {values['name']!r} exists", field="name")
        category = TextCategory.objects.create(
            **values,
            is_active=is_active,
            created_by=user if getattr(user, "pk", None) else None,
        )
        transaction.on_commit(_rematch_enqueue)
    return category


def text_category_update(
    *,
    category_id: int,
    name: str,
    examples: list[str],
    threshold: float | None = None,
    description: str = "",
    is_active: bool = True,
) -> TextCategory:
    values = _clean(name=name, examples=examples, threshold=threshold, description=description)
    with transaction.atomic():
        category = TextCategory.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"Category {category_id} does not exist")
        clash = TextCategory.objects.filter(name__iexact=values["name"]).exclude(pk=category_id)
        if clash.exists():
            raise Conflict(f"name: a category named {values['name']!r} exists", field="name")
        for field, value in values.items():
            setattr(category, field, value)
        category.is_active = is_active
        category.save()
        transaction.on_commit(_rematch_enqueue)
    return category


@transaction.atomic
def text_category_delete(*, category_id: int) -> None:
    deleted, _ = TextCategory.objects.filter(pk=category_id).delete()
    if not deleted:
        raise NotFound(f"Category {category_id} does not exist")
    complaints_refresh()


def text_categories_seed() -> int:
    """Create the starter categories that do not exist yet (demo, first run)."""
    created = 0
    for starter in STARTER_CATEGORIES:
        if not TextCategory.objects.filter(name__iexact=starter["name"]).exists():
            TextCategory.objects.create(**starter)
            created += 1
    if created:
        transaction.on_commit(_rematch_enqueue)
    return created


def _rematch_enqueue() -> None:
    from apps.insights.tasks import rematch_categories_task  # tasks import services

    try:
        rematch_categories_task.apply_async(queue="ml_cpu")
    except (KombuOperationalError, RedisError) as error:  # the next job matches new texts
        logger.error("Category re-match could not be enqueued: %s", error)


def text_categories_rematch() -> dict[str, int]:
    """Match every stored text against the active categories again (from stored vectors)."""
    specs = category_specs()
    ids = dict(TextCategory.objects.filter(is_active=True).values_list("name", "pk"))
    classifier = CategoryClassifier(specs, embedder_get().embed) if specs else None
    matched = 0
    last = 0
    with transaction.atomic():
        TextCategoryMatch.objects.all().delete()
        if classifier is None:
            return {"texts": 0, "matches": 0}
        texts = 0
        while True:
            rows = list(
                TextAnalysis.objects.filter(pk__gt=last, embedding__isnull=False)
                .order_by("pk")
                .values_list("pk", "embedding")[:CHUNK]
            )
            if not rows:
                break
            last = rows[-1][0]
            # The query takes only rows with a vector, so every row decodes to one.
            vectors = np.vstack(
                [vector for _, raw in rows if (vector := embedding_from_bytes(raw)) is not None]
            )
            links = [
                TextCategoryMatch(
                    analysis_id=pk,
                    category_id=ids[match.name],
                    similarity=round(float(match.similarity), 4),
                )
                for (pk, _), matches in zip(rows, classifier.classify(vectors), strict=True)
                for match in matches
                if match.name in ids
            ]
            TextCategoryMatch.objects.bulk_create(links, ignore_conflicts=True)
            matched += len(links)
            texts += len(rows)
    changed = complaints_refresh()
    return {"texts": texts, "matches": matched, "complaints_changed": changed}


def complaints_refresh() -> int:
    """`is_complaint` again (clearly negative, or in the complaint category) after the
    categories changed, and the traits of the customers whose complaints moved."""
    from apps.insights.services.traits import customer_traits_refresh

    rule = Q(sentiment=Sentiment.NEGATIVE, sentiment_score__lte=COMPLAINT_SCORE) | Q(
        category_matches__category__name=COMPLAINT_CATEGORY
    )
    should = set(TextAnalysis.objects.filter(rule).values_list("pk", flat=True))
    marked = set(TextAnalysis.objects.filter(is_complaint=True).values_list("pk", flat=True))
    turned_on, turned_off = should - marked, marked - should
    TextAnalysis.objects.filter(pk__in=turned_on).update(is_complaint=True)
    TextAnalysis.objects.filter(pk__in=turned_off).update(is_complaint=False)
    customers = set(
        TextAnalysis.objects.filter(pk__in=turned_on | turned_off)
        .exclude(customer=None)
        .values_list("customer_id", flat=True)
    )
    if customers:
        customer_traits_refresh(customer_ids=sorted(customers))
    return len(turned_on) + len(turned_off)


def text_categories_check() -> dict[str, Any]:
    """Leave-one-out accuracy of each category's examples and the category they look like."""
    specs = category_specs()
    if len(specs) < 2:
        return {}
    return {
        name: vars(check) for name, check in examples_check(specs, embedder_get().embed).items()
    }
