"""Choices of the recommendations app."""

from django.db import models


class RecommendationSource(models.TextChoices):
    """Where the ranking of an answered request came from."""

    MODEL = "model", "Personal scores of the champion, computed online"
    CACHE = "cache", "Personal scores of the champion, precomputed (Redis)"
    COLD_START = "cold_start", "Champion without personal signal: segment or trending items"
    POPULARITY = "popularity", "No recommender trained yet: catalog popularity"


class CacheState(models.TextChoices):
    """What the precomputed-candidates cache did for a request (explicit degradation)."""

    HIT = "hit", "Precomputed candidates used"
    MISS = "miss", "Nothing precomputed for this visitor: scored online"
    UNAVAILABLE = "unavailable", "Cache unreachable: scored online"
    SKIPPED = "skipped", "Not asked (no personal model scores needed)"
    ANSWER = "answer", "The whole answer reused: nothing it was computed from changed"


class ReasonCode(models.TextChoices):
    """Why an item was recommended; the human text is in the item's `reason`."""

    PINNED = "pinned", "Pinned by the placement"
    VIEWED = "viewed", "Similar to something the visitor viewed"
    CARTED = "carted", "Similar to something the visitor put in the cart"
    BOUGHT = "bought", "Similar to something the visitor bought"
    PERSONAL = "personal", "Personal model score"
    SEGMENT = "segment", "Popular in the visitor's segment"
    TRENDING = "trending", "Trending now"
    POPULAR = "popular", "Popular"
    SIMILAR = "similar", "Similar to the product shown"


class FeedbackKind(models.TextChoices):
    """What a visitor did with a recommended item (sent back by the shop)."""

    IMPRESSION = "impression", "Shown"
    CLICK = "click", "Clicked"
