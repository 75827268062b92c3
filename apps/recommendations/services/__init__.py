"""Writes and serving of recommendations, split by sub-domain; import from here.

serving:    recommendations_for, similar_products (rules, real time, MMR, reasons, logging)
training:   the trainer's body, recommender_train (`recommend train`), retraining, overview
cache:      precomputed candidates per customer (Redis), with online fallback
feedback:   impressions and clicks -> events + online CTR counters
placements: placement_create / update / delete
data:       loading interactions, catalogue and customer features through other apps' selectors
"""

from apps.recommendations.services.cache import (
    CacheUnavailable,
    PrecomputeSummary,
    candidates_precompute,
    candidates_precompute_if_stale,
)
from apps.recommendations.services.config import KIND
from apps.recommendations.services.feedback import feedback_record
from apps.recommendations.services.placements import (
    placement_create,
    placement_delete,
    placement_update,
)
from apps.recommendations.services.served_log import served_log_flush, served_log_pending
from apps.recommendations.services.serving import (
    recommendations_for,
    served_recommendations_prune,
    similar_products,
)
from apps.recommendations.services.training import (
    recommender_overview,
    recommender_retrain_if_needed,
    recommender_retrain_start,
    recommender_train,
)

__all__ = [
    "served_log_flush",
    "served_log_pending",
    "KIND",
    "CacheUnavailable",
    "PrecomputeSummary",
    "candidates_precompute",
    "candidates_precompute_if_stale",
    "feedback_record",
    "placement_create",
    "placement_delete",
    "placement_update",
    "recommendations_for",
    "recommender_overview",
    "recommender_retrain_if_needed",
    "recommender_retrain_start",
    "recommender_train",
    "served_recommendations_prune",
    "similar_products",
]
