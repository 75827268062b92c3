"""Customer traits from what customers write, stored on `CustomerScores` for segments.

The insights app computes them (average sentiment, topics and aspects of interest, last
complaint) and hands them over here: segments own the table their conditions compile to.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from apps.segments.contracts import CustomerTextTraits
from apps.segments.models import CustomerScores

TEXT_COLUMNS = (
    "sentiment_average",
    "text_count",
    "interest_topics",
    "interest_aspects",
    "last_complaint_at",
    "text_traits_at",
)
WRITE_BATCH = 2_000


@transaction.atomic
def customer_text_traits_store(*, traits: Sequence[CustomerTextTraits]) -> int:
    """Upsert the text traits of these customers (other columns untouched); returns how many."""
    now = timezone.now()
    rows = [
        CustomerScores(
            customer_id=item.customer_id,
            sentiment_average=item.sentiment_average,
            text_count=item.text_count,
            interest_topics=item.interest_topics[:255],
            interest_aspects=item.interest_aspects[:120],
            last_complaint_at=item.last_complaint_at,
            text_traits_at=now,
            updated_at=now,
        )
        for item in traits
    ]
    CustomerScores.objects.bulk_create(
        rows,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=[*TEXT_COLUMNS, "updated_at"],
    )
    return len(rows)
