"""Customer traits from their texts: average sentiment, topics and aspects, last complaint.

They land on the segments app's `CustomerScores` (through its service), so a marketer can
build psychographic segments: "writes about fit", "unhappy lately", "complained in 30 days".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Avg, Count, Max, Q

from apps.insights.models import DocumentTopic, TextAnalysis
from apps.segments.contracts import CustomerTextTraits
from apps.segments.services.text_traits import customer_text_traits_store

TOPICS_KEPT = 3
ASPECTS_KEPT = 3
CHUNK = 5_000


def customer_traits_refresh(*, customer_ids: Sequence[int] | None = None) -> int:
    """Recompute the traits of these customers (all who wrote anything when None)."""
    if customer_ids is None:
        customer_ids = list(
            TextAnalysis.objects.exclude(customer=None)
            .order_by()
            .values_list("customer_id", flat=True)
            .distinct()
        )
    stored = 0
    for start in range(0, len(customer_ids), CHUNK):
        stored += customer_text_traits_store(
            traits=_traits(list(customer_ids[start : start + CHUNK]))
        )
    return stored


def _traits(customer_ids: list[int]) -> list[CustomerTextTraits]:
    rows = (
        TextAnalysis.objects.filter(customer_id__in=customer_ids)
        .order_by()
        .values("customer_id")
        .annotate(
            average=Avg("sentiment_score"),
            count=Count("id"),
            complaint=Max("written_at", filter=Q(is_complaint=True)),
        )
    )
    summary: dict[int, tuple[float | None, int, datetime | None]] = {
        row["customer_id"]: (row["average"], row["count"], row["complaint"]) for row in rows
    }
    aspects: dict[int, Counter[str]] = defaultdict(Counter)
    for customer_id, mentioned in TextAnalysis.objects.filter(
        customer_id__in=customer_ids
    ).values_list("customer_id", "aspects"):
        aspects[customer_id].update({item["aspect"] for item in mentioned or []})
    topics: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for customer_id, label, weight in DocumentTopic.objects.filter(
        analysis__customer_id__in=customer_ids,
        topic__topic_model__is_active=True,
        topic__topic_model__method="lda",
    ).values_list("analysis__customer_id", "topic__label", "weight"):
        topics[customer_id][label] += weight
    out = []
    for customer_id in customer_ids:
        average, count, complaint = summary.get(customer_id, (None, 0, None))
        out.append(
            CustomerTextTraits(
                customer_id=customer_id,
                sentiment_average=None if average is None else round(float(average), 4),
                text_count=count,
                interest_topics="; ".join(
                    sorted(topics[customer_id], key=lambda label: -topics[customer_id][label])[
                        :TOPICS_KEPT
                    ]
                ),
                interest_aspects=",".join(
                    name for name, _ in aspects[customer_id].most_common(ASPECTS_KEPT)
                ),
                last_complaint_at=complaint,
            )
        )
    return out
