"""Frozen dataclasses other apps (campaigns, journeys, the UI) may use to read recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RecommendedItem:
    """One recommended product, best first."""

    product_id: str  # the product's SKU (the catalog API's key)
    score: float  # final relevance after rules and boosts, 0-1 (pinned items: 1.0)
    reason: str  # human text: "Because you viewed Linen shirt", "Popular in your segment"
    reason_code: str  # ReasonCode value
    position: int  # 1-based
    title: str = ""
    category: str = ""  # category path, e.g. women/dresses


@dataclass(frozen=True)
class Recommendations:
    """An answered request: the items, the request id to send feedback with, and provenance."""

    items: tuple[RecommendedItem, ...]
    request_id: str
    model_version: int | None  # version number of the recommender champion, None: fallback
    model_version_id: int | None
    source: str  # RecommendationSource value
    cache: str  # CacheState value
    placement: str  # the placement key used ('' = defaults)
    visitor: str  # "customer" (a known customer), "anonymous" (an alias or unknown id)


@dataclass(frozen=True)
class PlacementRules:
    """The business rules one request is answered with (a placement's, or the defaults)."""

    key: str = ""
    default_count: int = 10
    diversity: float = 0.3
    exclude_purchased_days: int = 90
    exclude_out_of_stock: bool = True
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    pinned_skus: tuple[str, ...] = ()
    boosts: dict[str, float] = field(default_factory=dict)
    category_boosts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedbackResult:
    """What became of one feedback call: new events stored, re-sent ones, refused ones."""

    request_id: str
    kind: str
    accepted: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class PlacementStats:
    """Online results of one placement and model version over a window."""

    placement: str
    model_version: int | None
    model_version_id: int | None
    requests: int
    impressions: int
    clicks: int

    @property
    def ctr(self) -> float | None:
        """Clicks per impression (None before the first impression)."""
        return self.clicks / self.impressions if self.impressions else None


@dataclass(frozen=True)
class RecommenderOverview:
    """What the models endpoint and page show: the champion, its report, the latest run."""

    champion: Any  # ml ModelVersion or None
    report: dict[str, Any]  # the champion's metrics: algorithms -> metrics, best, data ...
    latest_run: Any  # ml TrainingRun or None
    precomputed: dict[str, Any] | None  # {"customers", "finished_at"} of the champion, or None
    new_interactions: int  # since the champion's training (what the retrain check counts)
    retrain_threshold: int
    checked_at: datetime | None = None

    @property
    def best(self) -> str | None:
        """The algorithm or blend that won the champion's evaluation."""
        best = self.report.get("best")
        return str(best) if best is not None else None

    @property
    def algorithms(self) -> list[dict[str, Any]]:
        """[{name, metrics, is_best}] of the champion's evaluation, the winner first."""
        table = self.report.get("algorithms")
        if not isinstance(table, dict):
            return []
        rows = [
            {"name": str(name), "metrics": dict(metrics or {}), "is_best": name == self.best}
            for name, metrics in table.items()
        ]
        return sorted(rows, key=lambda row: (not row["is_best"], row["name"]))
