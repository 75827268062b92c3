"""Placements (where recommendations are shown, with their business rules) and the log of
answered requests that impressions and clicks are joined to."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.core.models import BaseModel
from apps.recommendations.choices import CacheState, RecommendationSource

MAX_ITEMS = 100


class Placement(BaseModel):
    """A place recommendations are shown (home page, product page, cart, email) and its rules.

    Merchandisers tune each placement without a deploy: how many items, how diverse, which
    categories, which items to pin first or push up, and how long a purchase keeps an item
    out. A request names its placement by `key`; without one the defaults below apply.
    """

    key = models.SlugField(
        max_length=64, unique=True, help_text="Stable id the shop sends, e.g. home or cart."
    )
    name = models.CharField(max_length=120, help_text="Readable name, e.g. Home page carousel.")
    description = models.TextField(blank=True, help_text="Where and how it is shown.")
    default_count = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ITEMS)],
        help_text="Items returned when the request gives no n (1-100).",
    )
    diversity = models.FloatField(
        default=0.3,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="0 = pure relevance, 1 = most varied (MMR); a request's diversity overrides it.",
    )
    exclude_purchased_days = models.PositiveIntegerField(
        default=90,
        validators=[MaxValueValidator(3650)],
        help_text="Items the customer bought in this many days are left out (0 = never).",
    )
    exclude_out_of_stock = models.BooleanField(
        default=True, help_text="Leave out products with no stock."
    )
    include_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Category slugs (with their subtrees) to recommend from; empty = all.",
    )
    exclude_categories = models.JSONField(
        default=list, blank=True, help_text="Category slugs (with their subtrees) never shown."
    )
    pinned_skus = models.JSONField(
        default=list,
        blank=True,
        help_text="SKUs shown first, in this order (when available and not excluded).",
    )
    boosts = models.JSONField(
        default=dict,
        blank=True,
        help_text="SKU -> amount added to the item's relevance (0-1 scale); negative buries it.",
    )
    category_boosts = models.JSONField(
        default=dict,
        blank=True,
        help_text="Category slug -> amount added to the relevance of its products (0-1 scale).",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive placements answer with the default rules."
    )

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(diversity__gte=0) & models.Q(diversity__lte=1),
                name="placement_diversity_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(default_count__gte=1) & models.Q(default_count__lte=MAX_ITEMS),
                name="placement_count_1_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class ServedRecommendation(models.Model):
    """One answered recommendation request: who asked, where, which model, which items.

    Kept compact (one row, the SKUs as a list) so every request can be logged; impressions
    and clicks sent back with the `request_id` are counted here and stored as events, which
    gives online CTR per placement and model version. Old rows are pruned on a schedule.
    """

    request_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="Id returned to the caller."
    )
    served_at = models.DateTimeField(default=timezone.now, help_text="When it was answered.")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The known customer, if the id resolved to one.",
    )
    visitor_id = models.CharField(
        max_length=128, blank=True, help_text="The id asked for: external id or anonymous id."
    )
    placement = models.CharField(
        max_length=64, blank=True, help_text="Placement key ('' = default rules)."
    )
    anchor_sku = models.CharField(
        max_length=64, blank=True, help_text="For similar-item lists: the product shown."
    )
    model_version = models.ForeignKey(
        "ml.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Recommender version that ranked the items (null: popularity fallback).",
    )
    source = models.CharField(
        max_length=16,
        choices=RecommendationSource.choices,
        help_text="Where the ranking came from.",
    )
    cache = models.CharField(
        max_length=16,
        choices=CacheState.choices,
        default=CacheState.SKIPPED,
        help_text="What the precomputed-candidates cache did.",
    )
    items = models.JSONField(default=list, help_text="SKUs served, in order.")
    impressions = models.PositiveIntegerField(
        default=0, help_text="Items of this list reported shown."
    )
    clicks = models.PositiveIntegerField(
        default=0, help_text="Items of this list reported clicked."
    )

    class Meta:
        ordering = ["-served_at", "-id"]
        indexes = [
            models.Index(fields=["served_at"], name="served_time"),
            models.Index(fields=["placement", "served_at"], name="served_placement_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clicks__gte=0) & models.Q(impressions__gte=0),
                name="served_counts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.placement or 'default'}, {len(self.items)} items)"
