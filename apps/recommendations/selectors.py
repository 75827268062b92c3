"""Reads of recommendations: placements and their rules, served requests and online CTR."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from apps.recommendations.contracts import PlacementRules, PlacementStats
from apps.recommendations.errors import PlacementNotFound
from apps.recommendations.models import Placement, ServedRecommendation

DEFAULT_RULES = PlacementRules()
# Placements the platform itself names (campaign emails: {% recommendations placement="email" %}):
# their rules until someone adds a placement with that key, which then takes over.
BUILT_IN_RULES = {
    "email": PlacementRules(key="email", default_count=4, diversity=0.3, exclude_purchased_days=30),
}


def placement_list(*, search: str = "", is_active: bool | None = None) -> QuerySet[Placement]:
    """Placements by key."""
    placements = Placement.objects.all()
    search = search.strip()
    if search:
        placements = placements.filter(Q(key__icontains=search) | Q(name__icontains=search))
    if is_active is not None:
        placements = placements.filter(is_active=is_active)
    return placements.order_by("key", "id")


def placement_get(*, key: str) -> Placement:
    """One placement by key, or PlacementNotFound."""
    placement = Placement.objects.filter(key=key).first()
    if placement is None:
        raise PlacementNotFound(f"placement {key!r} does not exist", field="placement")
    return placement


def placement_rules(*, key: str = "") -> PlacementRules:
    """The rules a request for placement `key` is answered with ('' or inactive: defaults)."""
    if not key:
        return DEFAULT_RULES
    placement = Placement.objects.filter(key=key).first()
    if placement is None:
        if key in BUILT_IN_RULES:
            return BUILT_IN_RULES[key]
        placement = placement_get(key=key)  # raises PlacementNotFound
    if not placement.is_active:
        return PlacementRules(key=placement.key)
    return PlacementRules(
        key=placement.key,
        default_count=placement.default_count,
        diversity=placement.diversity,
        exclude_purchased_days=placement.exclude_purchased_days,
        exclude_out_of_stock=placement.exclude_out_of_stock,
        include_categories=tuple(placement.include_categories or ()),
        exclude_categories=tuple(placement.exclude_categories or ()),
        pinned_skus=tuple(placement.pinned_skus or ()),
        boosts={str(sku): float(value) for sku, value in (placement.boosts or {}).items()},
        category_boosts={
            str(slug): float(value) for slug, value in (placement.category_boosts or {}).items()
        },
    )


def served_recommendation_get(*, request_id: str) -> ServedRecommendation | None:
    """The logged request with this id (None for an unknown or malformed id)."""
    try:
        parsed = uuid.UUID(str(request_id))
    except ValueError:
        return None
    return ServedRecommendation.objects.filter(request_id=parsed).first()


def served_recommendation_list(
    *, placement: str = "", days: int | None = None
) -> QuerySet[ServedRecommendation]:
    """Served requests, newest first."""
    served = ServedRecommendation.objects.select_related("model_version", "customer")
    if placement:
        served = served.filter(placement=placement)
    if days is not None:
        served = served.filter(served_at__gte=timezone.now() - timedelta(days=days))
    return served.order_by("-served_at", "-id")


def recommendation_stats(
    *, days: int = 30, placement: str = "", model_version_id: int | None = None
) -> list[PlacementStats]:
    """Requests, impressions, clicks (and CTR) per placement and model version, last `days`.

    Counts come from the served-request log, which the feedback service increments only for
    newly stored events, so a re-sent impression or click is never counted twice.
    """
    served = served_recommendation_list(placement=placement, days=days)
    if model_version_id is not None:
        served = served.filter(model_version_id=model_version_id)
    rows = (
        served.order_by()
        .values("placement", "model_version_id", "model_version__version")
        .annotate(requests=Count("id"), impressions=Sum("impressions"), clicks=Sum("clicks"))
        .order_by("placement", "-model_version__version")
    )
    return [
        PlacementStats(
            placement=row["placement"],
            model_version=row["model_version__version"],
            model_version_id=row["model_version_id"],
            requests=row["requests"],
            impressions=row["impressions"] or 0,
            clicks=row["clicks"] or 0,
        )
        for row in rows
    ]
