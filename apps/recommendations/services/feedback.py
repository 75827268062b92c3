"""Feedback: impressions and clicks of served recommendations, stored as events and counted.

The shop reports what it showed and what was clicked with the `request_id` it got. Each
(request, kind, item) becomes one track event through the events app's ingestion pipeline
(source `recommendations`, a deterministic message id, so a re-sent report is stored once),
and the served request's counters grow by the events newly stored, which gives online CTR
per placement and model version without reading the events table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from apps.core.errors import ValidationFailed
from apps.events.services import events_ingest
from apps.recommendations.choices import FeedbackKind
from apps.recommendations.contracts import FeedbackResult
from apps.recommendations.models import MAX_ITEMS, ServedRecommendation
from apps.recommendations.services.data import CLICK_EVENT_NAME, IMPRESSION_EVENT_NAME
from apps.recommendations.services.served_log import served_get_waiting

EVENT_SOURCE = "recommendations"
EVENT_NAMES = {
    FeedbackKind.IMPRESSION.value: IMPRESSION_EVENT_NAME,
    FeedbackKind.CLICK.value: CLICK_EVENT_NAME,
}
COUNTERS = {FeedbackKind.IMPRESSION.value: "impressions", FeedbackKind.CLICK.value: "clicks"}


def _product_ids(product_ids: Any, served: ServedRecommendation) -> list[str]:
    if not isinstance(product_ids, (list, tuple)) or not product_ids:
        raise ValidationFailed("product_ids: give a non-empty list of SKUs", field="product_ids")
    if len(product_ids) > MAX_ITEMS:
        raise ValidationFailed(f"product_ids: at most {MAX_ITEMS} per call", field="product_ids")
    served_items = set(served.items)
    cleaned: list[str] = []
    for position, sku in enumerate(product_ids):
        where = f"product_ids[{position}]"
        if not isinstance(sku, str) or not sku.strip():
            raise ValidationFailed(f"{where}: must be a SKU", field=where)
        if sku not in served_items:
            raise ValidationFailed(
                f"{where}: {sku!r} was not among the items of request {served.request_id}",
                field=where,
            )
        if sku not in cleaned:
            cleaned.append(sku)
    return cleaned


def _identity(served: ServedRecommendation, visitor_id: str) -> dict[str, str]:
    """Who the events are about: the served customer, else the visitor id given now or then."""
    if served.customer is not None:
        return {"user_id": served.customer.external_id}
    anonymous = served.visitor_id or visitor_id.strip()
    return {"anonymous_id": anonymous or f"recommendation-{served.request_id}"}


def feedback_record(
    *,
    request_id: str,
    kind: str,
    product_ids: list[str],
    occurred_at: datetime | None = None,
    visitor_id: str = "",
    api_key_prefix: str = "",
) -> FeedbackResult:
    """Record impressions or clicks (`kind`) of items of a served request.

    Items must belong to the request (the error names the offending `product_ids[i]`). The
    events and the counters are written in one transaction: both or neither.
    """
    if kind not in COUNTERS:
        raise ValidationFailed(f"type: {kind!r} is not one of {', '.join(COUNTERS)}", field="type")
    served = served_get_waiting(str(request_id))  # served a moment ago: maybe still queued
    if served is None:
        raise ValidationFailed(
            f"request_id: no recommendations were served with id {request_id!r}",
            field="request_id",
        )
    skus = _product_ids(product_ids, served)
    identity = _identity(served, visitor_id)
    positions = {sku: index for index, sku in enumerate(served.items, start=1)}
    messages = []
    for sku in skus:
        message: dict[str, Any] = {
            "type": "track",
            "event": EVENT_NAMES[kind],
            "message_id": f"reco-{kind}-{served.request_id}-{sku}",
            **identity,
            "properties": {
                "sku": sku,
                "request_id": str(served.request_id),
                "placement": served.placement,
                "model_version_id": served.model_version_id,
                "position": positions[sku],
                "source": served.source,
            },
        }
        if occurred_at is not None:
            message["timestamp"] = occurred_at.isoformat()
        messages.append(message)
    with transaction.atomic():
        result = events_ingest(
            messages=messages,
            source=EVENT_SOURCE,
            received_via="api",
            api_key_prefix=api_key_prefix,
        )
        accepted = len(result.accepted)
        if accepted:
            counter = COUNTERS[kind]
            ServedRecommendation.objects.filter(pk=served.pk).update(
                **{counter: F(counter) + accepted}
            )
    return FeedbackResult(
        request_id=str(served.request_id),
        kind=kind,
        accepted=accepted,
        duplicates=len(result.duplicates),
        rejected=len(result.rejected),
    )
