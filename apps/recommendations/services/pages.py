"""Reads behind the recommendations web pages, composed from the app's services and selectors.

* `recommendations_home`: the champion, the model comparison of its evaluation (or of a chosen
  run's), the chart of NDCG by algorithm, the latest run and online CTR per placement;
* `recommender_run_status`: the latest run, for the live progress while it trains;
* `placement_rows`: placements with their requests and CTR of the last days;
* `recommendations_try`: what the API answers for a visitor and placement (the same service),
  with prices and the visitor's recent history beside it;
* `customer_preview`: a customer's top items for the profile page;
* `customer_search`, `category_options`: the pickers of the forms.

Read-only apart from the serving log: `recommendations_for` records every answer it gives,
previews included (see docs/recommendations_ui.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.catalog.selectors import category_list, product_list
from apps.core.errors import NotFound
from apps.customers.selectors import customer_get, customer_list
from apps.ml import selectors as ml_selectors
from apps.recommendations.choices import CacheState, RecommendationSource
from apps.recommendations.contracts import Recommendations, RecommenderOverview
from apps.recommendations.models import Placement
from apps.recommendations.selectors import placement_list, recommendation_stats
from apps.recommendations.services import data
from apps.recommendations.services.config import KIND
from apps.recommendations.services.served_log import served_log_flush
from apps.recommendations.services.serving import recommendations_for, visitor_resolve
from apps.recommendations.services.training import ACTIVE_STATUSES, recommender_overview

DEFAULT_K = 10
RUNS_OFFERED = 20
HISTORY_SHOWN = 12
PREVIEW_ITEMS = 5
SEARCH_RESULTS = 8
SEARCH_MIN_LENGTH = 2
STATS_DAYS = 30
# The baseline every recommender must beat, read from the same report.
BASELINE = "popularity"

ALGORITHM_LABELS = {
    "blend": ("Blend", "A weighted blend of the best models of each kind"),
    "popularity": ("Popularity", "The most bought and viewed products lately, for everyone"),
    "trending": ("Trending", "Products whose interest is rising now"),
    "popularity_category": ("Popular in category", "Bestsellers of the categories liked"),
    "popularity_segment": ("Popular in segment", "Bestsellers of the customer's segments"),
    "item_knn": ("Item-item kNN", "Products bought or viewed together with the customer's"),
    "user_knn": ("User-user kNN", "What customers with a similar history chose"),
    "rp3beta": ("RP3beta", "Random walks on the customer-product graph"),
    "ease": ("EASE", "A linear item-item model fitted in closed form"),
    "als": ("ALS", "Matrix factorisation of implicit feedback (alternating least squares)"),
    "bpr": ("BPR", "Matrix factorisation ranking bought above not bought"),
    "lightfm": ("LightFM", "Hybrid factorisation with product and customer features"),
    "content": ("Content", "Products whose text, category and brand match the history"),
}
HISTORY_LABELS = {"view": "Viewed", "cart": "Added to cart", "purchase": "Bought"}


@dataclass(frozen=True)
class MetricColumn:
    """One column of the comparison table."""

    key: str  # the report's key, e.g. ndcg@10
    label: str
    help: str
    kind: str  # "rate" (0-1, shown with 3 decimals), "number" or "seconds"


def _columns(k: int) -> tuple[MetricColumn, ...]:
    return (
        MetricColumn(
            f"precision@{k}", f"Precision@{k}", f"Share of the top {k} that was bought", "rate"
        ),
        MetricColumn(
            f"recall@{k}",
            f"Recall@{k}",
            f"Share of what was bought that made the top {k}",
            "rate",
        ),
        MetricColumn(
            f"ndcg@{k}", f"NDCG@{k}", "Hits weighted by rank; the champion is chosen by it", "rate"
        ),
        MetricColumn(f"map@{k}", f"MAP@{k}", "Mean average precision", "rate"),
        MetricColumn("coverage", "Coverage", "Share of the catalogue ever recommended", "rate"),
        MetricColumn(
            "diversity", "Diversity", "How unlike each other the items of a list are", "rate"
        ),
        MetricColumn(
            "novelty", "Novelty", "How far from the bestsellers (bits; higher = rarer)", "number"
        ),
        MetricColumn("train_seconds", "Train", "Seconds to fit on all the data", "seconds"),
    )


@dataclass(frozen=True)
class ComparisonRow:
    """One algorithm (or the blend) of an evaluation report."""

    name: str
    label: str
    description: str
    cells: tuple[tuple[MetricColumn, float | None], ...]  # in the order of Comparison.columns
    is_best: bool
    is_baseline: bool


@dataclass(frozen=True)
class Comparison:
    """Every algorithm of one evaluation report, best first, and the chart of NDCG@k."""

    k: int
    columns: tuple[MetricColumn, ...]
    rows: tuple[ComparisonRow, ...]
    best: str | None
    chart: dict[str, Any]
    protocol: str
    split: dict[str, Any]
    run: Any  # ml TrainingRun the report belongs to (None: the champion without its run)


@dataclass(frozen=True)
class ChampionSummary:
    """What the champion card shows."""

    version: Any  # ml ModelVersion
    algorithm: str
    algorithm_label: str
    trained_at: datetime
    ndcg: float | None
    baseline_ndcg: float | None
    k: int
    data: dict[str, Any]
    parts: tuple[str, ...] = ()  # labels of the blended algorithms when the champion is a blend

    @property
    def lift_percent(self) -> float | None:
        """How much better than popularity, in percent (None without both numbers)."""
        if self.ndcg is None or not self.baseline_ndcg:
            return None
        return 100.0 * (self.ndcg / self.baseline_ndcg - 1.0)


@dataclass(frozen=True)
class StatsRow:
    """Online results of one placement and model version."""

    placement: str
    placement_name: str
    model_version: int | None
    requests: int
    impressions: int
    clicks: int
    ctr: float | None

    @property
    def ctr_percent(self) -> float | None:
        return None if self.ctr is None else 100.0 * self.ctr


@dataclass(frozen=True)
class HomePage:
    overview: RecommenderOverview
    champion: ChampionSummary | None
    comparison: Comparison | None
    runs: tuple[Any, ...]  # succeeded runs whose report may be chosen instead
    stats: tuple[StatsRow, ...]
    stats_days: int
    placements: int
    latest_run: Any
    run_active: bool


def algorithm_label(name: str) -> str:
    """A readable name of an algorithm of the engine ("item_knn" -> "Item-item kNN")."""
    known = ALGORITHM_LABELS.get(name)
    return known[0] if known else name.replace("_", " ").capitalize()


def algorithm_description(name: str) -> str:
    """One line on what an algorithm of the engine does ("" when unknown)."""
    known = ALGORITHM_LABELS.get(name)
    return known[1] if known else ""


def source_label(source: str) -> str:
    """What a RecommendationSource value means, for people."""
    try:
        return str(RecommendationSource(source).label)
    except ValueError:
        return source


def cache_label(cache: str) -> str:
    """What a CacheState value means, for people."""
    try:
        return str(CacheState(cache).label)
    except ValueError:
        return cache


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def comparison_from_report(report: dict[str, Any], *, run: Any = None) -> Comparison | None:
    """The comparison table and chart of an evaluation report (None when it has none)."""
    algorithms = report.get("algorithms")
    if not isinstance(algorithms, dict) or not algorithms:
        return None
    k = int(report.get("k") or DEFAULT_K)
    best = report.get("best")
    every = _columns(k)
    # Only the columns some algorithm reports: a fit that measured NDCG alone shows no empty ones.
    columns = tuple(
        column
        for column in every
        if any(
            _number((metrics or {}).get(column.key)) is not None for metrics in algorithms.values()
        )
    )
    ndcg_key = f"ndcg@{k}"
    rows = [
        ComparisonRow(
            name=str(name),
            label=algorithm_label(str(name)),
            description=algorithm_description(str(name)),
            cells=tuple((column, _number((metrics or {}).get(column.key))) for column in columns),
            is_best=name == best,
            is_baseline=name == BASELINE,
        )
        for name, metrics in algorithms.items()
    ]
    ndcg = {
        str(name): _number((metrics or {}).get(ndcg_key)) for name, metrics in algorithms.items()
    }
    rows.sort(key=lambda row: (not row.is_best, -(ndcg[row.name] or 0.0), row.name))
    charted = [row for row in rows if ndcg[row.name] is not None]
    chart = {
        "labels": [row.label for row in charted],
        "values": [ndcg[row.name] for row in charted],
        "best": [row.is_best for row in charted],
        "baseline": [row.is_baseline for row in charted],
        "metric": f"NDCG@{k}",
    }
    return Comparison(
        k=k,
        columns=columns,
        rows=tuple(rows),
        best=str(best) if best is not None else None,
        chart=chart,
        protocol=str(report.get("protocol") or ""),
        split=dict(report.get("split") or {}),
        run=run,
    )


def _champion_summary(overview: RecommenderOverview) -> ChampionSummary | None:
    version = overview.champion
    if version is None:
        return None
    report = overview.report
    k = int(report.get("k") or DEFAULT_K)
    algorithms = report.get("algorithms") if isinstance(report.get("algorithms"), dict) else {}
    best = overview.best or ""
    baseline = (algorithms or {}).get(BASELINE) or {}
    params = ((algorithms or {}).get(best) or {}).get("params") or {}
    parts = params.get("parts") if isinstance(params, dict) else None
    run = version.training_run
    return ChampionSummary(
        version=version,
        algorithm=best,
        algorithm_label=algorithm_label(best) if best else "",
        trained_at=run.finished_at if run is not None and run.finished_at else version.created_at,
        ndcg=_number(((algorithms or {}).get(best) or {}).get(f"ndcg@{k}")),
        baseline_ndcg=_number(baseline.get(f"ndcg@{k}")),
        k=k,
        data=dict(report.get("data") or {}),
        parts=tuple(algorithm_label(str(name)) for name in (parts or {}).values())
        if isinstance(parts, dict)
        else (),
    )


def _report_run(run_id: int | None) -> Any:
    """The chosen run of the recommender with a report, or None (unknown id, other kind)."""
    if run_id is None:
        return None
    try:
        run = ml_selectors.training_run_get(run_id=run_id)
    except NotFound:
        return None
    if run.kind != KIND or not isinstance((run.metrics or {}).get("algorithms"), dict):
        return None
    return run


def _placement_names() -> dict[str, str]:
    return dict(placement_list().values_list("key", "name"))


def stats_rows(*, days: int = STATS_DAYS) -> tuple[StatsRow, ...]:
    """Online requests, impressions, clicks and CTR per placement and model version."""
    names = _placement_names()
    return tuple(
        StatsRow(
            placement=row.placement,
            placement_name=names.get(row.placement, "") if row.placement else "Default rules",
            model_version=row.model_version,
            requests=row.requests,
            impressions=row.impressions,
            clicks=row.clicks,
            ctr=row.ctr,
        )
        for row in _stats(days)
    )


def recommendations_home(*, run_id: int | None = None, days: int = STATS_DAYS) -> HomePage:
    """Everything the recommendations home shows; `run_id` picks a run whose report is compared
    instead of the champion's."""
    overview = recommender_overview()
    run = _report_run(run_id)
    if run is not None:
        comparison = comparison_from_report(run.metrics, run=run)
    elif overview.champion is not None:
        comparison = comparison_from_report(overview.report, run=overview.champion.training_run)
    else:
        comparison = None
    runs = tuple(
        candidate
        for candidate in ml_selectors.training_run_list(kind=KIND, status="succeeded")[
            :RUNS_OFFERED
        ]
        if isinstance((candidate.metrics or {}).get("algorithms"), dict)
    )
    latest = overview.latest_run
    return HomePage(
        overview=overview,
        champion=_champion_summary(overview),
        comparison=comparison,
        runs=runs,
        stats=stats_rows(days=days),
        stats_days=days,
        placements=placement_list().count(),
        latest_run=latest,
        run_active=latest is not None and latest.status in ACTIVE_STATUSES,
    )


def recommender_run_status() -> tuple[Any, bool]:
    """The latest run of the recommender (or None) and whether it is queued or running."""
    run = ml_selectors.training_run_list(kind=KIND).first()
    return run, run is not None and run.status in ACTIVE_STATUSES


# --- placements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementRow:
    placement: Placement
    requests: int
    impressions: int
    clicks: int

    @property
    def boost_count(self) -> int:
        return len(self.placement.boosts or {}) + len(self.placement.category_boosts or {})

    @property
    def ctr_percent(self) -> float | None:
        return 100.0 * self.clicks / self.impressions if self.impressions else None


def _stats(days: int) -> list[Any]:
    """recommendation_stats with the requests served a moment ago (still queued) counted."""
    served_log_flush()
    return list(recommendation_stats(days=days))


def placement_rows(*, days: int = STATS_DAYS) -> list[PlacementRow]:
    """Every placement with its online results of the last `days` (all model versions)."""
    totals: dict[str, list[int]] = {}
    for row in _stats(days):
        counts = totals.setdefault(row.placement, [0, 0, 0])
        counts[0] += row.requests
        counts[1] += row.impressions
        counts[2] += row.clicks
    rows = []
    for placement in placement_list():
        requests, impressions, clicks = totals.get(placement.key, [0, 0, 0])
        rows.append(PlacementRow(placement, requests, impressions, clicks))
    return rows


def category_options() -> list[tuple[str, str]]:
    """(slug, path) of every category, in tree order: what the rules and filters may name."""
    return [(slug, path or slug) for slug, path in category_list().values_list("slug", "path")]


# --- try it and the customer preview ---------------------------------------------------------------


@dataclass(frozen=True)
class ShownItem:
    """A recommended item as the API returns it, plus its price for people."""

    position: int
    sku: str
    title: str
    category: str
    price: Decimal | None
    currency: str
    score: float
    reason: str
    reason_code: str
    model_version: int | None
    bar_percent: int = 0  # the score as a share of the list's highest, for the score bar


@dataclass(frozen=True)
class HistoryRow:
    sku: str
    title: str
    category: str
    kind: str
    kind_label: str
    at: datetime
    quantity: int


@dataclass(frozen=True)
class TryResult:
    """An answer of the recommendation service and what explains it."""

    result: Recommendations
    items: tuple[ShownItem, ...]
    identifier: str
    customer: Any  # customers.Customer or None (an anonymous visitor)
    history: tuple[HistoryRow, ...]
    history_total: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def source_label(self) -> str:
        return source_label(self.result.source)

    @property
    def cache_label(self) -> str:
        return cache_label(self.result.cache)


def _shown_items(result: Recommendations) -> tuple[ShownItem, ...]:
    skus = [item.product_id for item in result.items]
    prices = {
        sku: (price, currency)
        for sku, price, currency in product_list()
        .filter(sku__in=skus)
        .order_by()
        .values_list("sku", "price", "currency")
    }
    top = max((item.score for item in result.items), default=0.0)
    return tuple(
        ShownItem(
            position=item.position,
            sku=item.product_id,
            title=item.title,
            category=item.category,
            price=prices.get(item.product_id, (None, ""))[0],
            currency=prices.get(item.product_id, (None, ""))[1],
            score=item.score,
            reason=item.reason,
            reason_code=item.reason_code,
            model_version=result.model_version,
            bar_percent=round(100 * item.score / top) if top > 0 else 0,
        )
        for item in result.items
    )


def _history(customer_id: int | None, anonymous_id: str) -> tuple[tuple[HistoryRow, ...], int]:
    history = data.visitor_history_load(customer_id=customer_id, anonymous_id=anonymous_id)
    shown = history[:HISTORY_SHOWN]
    infos = data.products_info(item.sku for item in shown)
    rows = tuple(
        HistoryRow(
            sku=item.sku,
            title=infos[item.sku].title if item.sku in infos else item.sku,
            category=infos[item.sku].category_path if item.sku in infos else "",
            kind=item.kind,
            kind_label=HISTORY_LABELS.get(item.kind, item.kind),
            at=item.at,
            quantity=item.quantity,
        )
        for item in shown
    )
    return rows, len(history)


def recommendations_try(
    *,
    identifier: str,
    placement: str = "",
    category: str = "",
    n: int | None = None,
    diversity: float | None = None,
) -> TryResult:
    """What GET /api/v1/recommendations/<identifier> answers with these parameters (the same
    service, so the same rules and reasons; not logged as traffic), and the visitor's recent
    history.

    Bad input raises ValidationFailed naming the field (customer_id, n, diversity, category,
    placement), as the API does.
    """
    result = recommendations_for(
        customer_id=identifier,
        placement=placement,
        category=category,
        n=n,
        diversity=diversity,
        log=False,
    )
    visitor = visitor_resolve(identifier)
    history, total = _history(visitor.customer_id, visitor.anonymous_id)
    return TryResult(
        result=result,
        items=_shown_items(result),
        identifier=identifier.strip(),
        customer=visitor.customer,
        history=history,
        history_total=total,
        params={"placement": placement, "category": category, "n": n, "diversity": diversity},
    )


@dataclass(frozen=True)
class CustomerPreview:
    customer: Any
    result: Recommendations
    items: tuple[ShownItem, ...]

    @property
    def source_label(self) -> str:
        return source_label(self.result.source)


def customer_preview(*, external_id: str, n: int = PREVIEW_ITEMS) -> CustomerPreview:
    """A known customer's top `n` items under the default rules (NotFound for an unknown id)."""
    customer = customer_get(external_id=external_id)
    result = recommendations_for(customer_id=customer.external_id, n=n, log=False)
    return CustomerPreview(customer=customer, result=result, items=_shown_items(result))


def customer_search(*, query: str, limit: int = SEARCH_RESULTS) -> list[Any]:
    """Customers whose id, email or name contains `query` (none for under two characters)."""
    query = query.strip()
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    return list(customer_list(search=query)[:limit])
