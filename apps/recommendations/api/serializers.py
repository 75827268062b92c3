"""Shapes of the recommendations API: queries, recommendations, feedback, stats, placements and
the recommender's models. Business rules are checked by the services (errors name the field)."""

from __future__ import annotations

from rest_framework import serializers

from apps.recommendations.choices import FeedbackKind
from apps.recommendations.models import MAX_ITEMS, Placement
from apps.recommendations.services.placements import EDITABLE_FIELDS

COUNT_MESSAGES = {
    "invalid": f"must be a whole number between 1 and {MAX_ITEMS}",
    "min_value": f"must be between 1 and {MAX_ITEMS}",
    "max_value": f"must be between 1 and {MAX_ITEMS}",
}
DIVERSITY_MESSAGES = {
    "invalid": "must be a number between 0 and 1",
    "min_value": "must be between 0 and 1",
    "max_value": "must be between 0 and 1",
}


def _count_field(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ITEMS,
        error_messages=COUNT_MESSAGES,
        help_text=help_text,
    )


def _diversity_field() -> serializers.FloatField:
    return serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        error_messages=DIVERSITY_MESSAGES,
        help_text="0 = most relevant first, 1 = most varied (MMR); default: the placement's.",
    )


class RecommendationQuerySerializer(serializers.Serializer):
    n = _count_field("How many items (1-100); default: the placement's (10).")
    placement = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Placement key whose rules apply (pins, boosts, categories); default rules "
        "when left out.",
    )
    category = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Only products of this category slug (with its subcategories).",
    )
    exclude_purchased = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out what the customer bought in the placement's window (90 days by "
        "default); default: the placement's setting.",
    )
    diversity = _diversity_field()


class SimilarQuerySerializer(serializers.Serializer):
    n = _count_field("How many items (1-100); default 10.")
    placement = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Placement key whose availability and category rules apply.",
    )
    diversity = _diversity_field()


class RecommendedItemSerializer(serializers.Serializer):
    product_id = serializers.CharField(help_text="The product's SKU (the catalog API's key).")
    score = serializers.FloatField(
        help_text="Relevance after rules: 0-1 from the ranking plus boosts; pinned items 1."
    )
    reason = serializers.CharField(
        help_text="Why, for people: 'Because you viewed Linen shirt', 'Popular in your "
        "segment', 'Trending now', 'Pinned' ..."
    )
    reason_code = serializers.CharField(
        help_text="Why, for code: pinned, viewed, carted, bought, personal, segment, trending, "
        "popular or similar."
    )
    model_version = serializers.IntegerField(
        allow_null=True,
        help_text="Version of the recommender that ranked it; null: catalog popularity.",
    )
    position = serializers.IntegerField(help_text="1-based position in the list.")
    title = serializers.CharField(help_text="Product title.")
    category = serializers.CharField(help_text="Category path, e.g. women/dresses.")


class RecommendationsSerializer(serializers.Serializer):
    items = RecommendedItemSerializer(many=True, help_text="Best first.")
    request_id = serializers.CharField(
        help_text="Send it back with impressions and clicks (POST /recommendations/feedback)."
    )
    model_version = serializers.IntegerField(
        allow_null=True, help_text="Recommender version used; null before any is trained."
    )
    source = serializers.CharField(
        help_text="model (scored online), cache (precomputed candidates), cold_start (segment "
        "or trending items) or popularity (no recommender trained yet)."
    )
    cache = serializers.CharField(
        help_text="hit, miss, unavailable (the cache is down: scored online) or skipped."
    )
    placement = serializers.CharField(help_text="Placement whose rules applied ('' = defaults).")


class RecommendationFeedbackSerializer(serializers.Serializer):
    request_id = serializers.CharField(
        max_length=64, help_text="The request_id of the recommendations shown."
    )
    type = serializers.ChoiceField(
        choices=FeedbackKind.choices, help_text="impression (shown) or click."
    )
    product_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text="SKUs of that request that were shown or clicked.",
    )
    timestamp = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it happened (ISO 8601); default: now.",
    )
    visitor_id = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=128,
        help_text="Anonymous id of the visitor, for similar-item lists served without one.",
    )


class RecommendationFeedbackResultSerializer(serializers.Serializer):
    request_id = serializers.CharField(help_text="The request the feedback was for.")
    kind = serializers.CharField(help_text="impression or click.")
    accepted = serializers.IntegerField(help_text="Events stored now (and counted).")
    duplicates = serializers.IntegerField(help_text="Already reported before: not counted again.")
    rejected = serializers.IntegerField(help_text="Refused by ingestion (see the quarantine).")


class RecommendationStatsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False,
        default=30,
        min_value=1,
        max_value=365,
        help_text="Window in days, ending now (1-365, default 30).",
    )
    placement = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Only this placement key."
    )


class PlacementStatsSerializer(serializers.Serializer):
    placement = serializers.CharField(help_text="Placement key ('' = requests without one).")
    model_version = serializers.IntegerField(
        allow_null=True, help_text="Recommender version; null: catalog popularity."
    )
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="Id of that version (GET /api/v1/ml/models)."
    )
    requests = serializers.IntegerField(help_text="Requests answered.")
    impressions = serializers.IntegerField(help_text="Items reported shown.")
    clicks = serializers.IntegerField(help_text="Items reported clicked.")
    ctr = serializers.FloatField(
        allow_null=True, help_text="Clicks per impression; null before any impression."
    )


class RecommendationStatsSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The window, in days ending now.")
    results = PlacementStatsSerializer(
        many=True, help_text="One row per placement and model version."
    )


class PlacementSerializer(serializers.ModelSerializer):
    """A placement and its rules."""

    class Meta:
        model = Placement
        fields = [*EDITABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class PlacementWriteSerializer(serializers.Serializer):
    """Shape of a placement's fields; the service checks SKUs, slugs and ranges."""

    key = serializers.SlugField(max_length=64, help_text="Stable id the shop sends, e.g. home.")
    name = serializers.CharField(max_length=120, help_text="Readable name.")
    description = serializers.CharField(
        required=False, allow_blank=True, help_text="Where and how it is shown."
    )
    default_count = _count_field("Items when a request gives no n (1-100, default 10).")
    diversity = _diversity_field()
    exclude_purchased_days = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=3650,
        help_text="Leave out what the customer bought in this many days (0 = never; 90).",
    )
    exclude_out_of_stock = serializers.BooleanField(
        required=False, help_text="Leave out products with no stock (default true)."
    )
    include_categories = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Category slugs to recommend from (with subtrees); empty = all.",
    )
    exclude_categories = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Category slugs never shown."
    )
    pinned_skus = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="SKUs shown first in this order (when available and not excluded).",
    )
    boosts = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="SKU -> amount (-1 to 1) added to its relevance (0-1 scale).",
    )
    category_boosts = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Category slug -> amount (-1 to 1) added to its products' relevance.",
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Inactive placements answer with the default rules."
    )


class RecommenderAlgorithmSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Algorithm (or blend) evaluated.")
    metrics = serializers.DictField(
        help_text="Its offline metrics: precision@k, recall@k, ndcg@k, map@k, coverage, "
        "train_seconds ..."
    )
    is_best = serializers.BooleanField(help_text="Whether it won (and serves).")


class RecommenderVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Model version id.")
    version = serializers.IntegerField(help_text="Version number of the recommender.")
    created_at = serializers.DateTimeField(help_text="When it was published.")
    content_hash = serializers.CharField(help_text="SHA-256 of the artifact.")


class RecommenderRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Training run id (GET /api/v1/ml/runs/{id}).")
    status = serializers.CharField(
        help_text="queued, running, succeeded, failed, not_enough_data or lost."
    )
    progress = serializers.IntegerField(help_text="Percent done.")
    progress_message = serializers.CharField(help_text="What it is doing.")
    error = serializers.CharField(help_text="Why it did not succeed, if it did not.")
    created_at = serializers.DateTimeField(help_text="When it was started.")
    finished_at = serializers.DateTimeField(allow_null=True, help_text="When it ended.")


class RecommenderModelsSerializer(serializers.Serializer):
    champion = RecommenderVersionSerializer(
        allow_null=True, help_text="The version serving now; null before the first success."
    )
    best = serializers.CharField(
        allow_null=True, help_text="The algorithm or blend that won the champion's evaluation."
    )
    algorithms = RecommenderAlgorithmSerializer(
        many=True, help_text="Every algorithm of the champion's evaluation, best first."
    )
    report = serializers.DictField(
        help_text="The champion's whole evaluation report (split, k, data counts ...)."
    )
    latest_run = RecommenderRunSerializer(
        allow_null=True, help_text="The latest training run of the recommender."
    )
    precomputed = serializers.DictField(
        allow_null=True,
        help_text="Candidates precomputed for the champion ({customers, finished_at}); null "
        "when not (yet) or the cache is unreachable.",
    )
    new_interactions = serializers.IntegerField(
        help_text="Interactions since the champion was trained."
    )
    retrain_threshold = serializers.IntegerField(
        help_text="New interactions that trigger a retrain before the daily one."
    )
