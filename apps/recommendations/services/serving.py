"""Serving: personal recommendations and similar items, with business rules, in real time.

`recommendations_for` answers one request:

1. the placement's rules (or the defaults), the visitor (a customer by external id or alias,
   else an anonymous id), and the visitor's current history read from the database now;
2. candidates: the champion's personal scores (precomputed in the cache, else online), or for
   a visitor with no signal the items popular in their segment / trending, or, before any
   recommender is trained, catalog popularity; never an error;
3. real time: items like what the visitor viewed, carted or bought in the last
   RECOMMENDATIONS_RECENT_HOURS are boosted ("Because you viewed X"), those recent views and
   carts and the purchases of the placement's window are left out;
4. rules: out of stock and inactive products out, category include/exclude (placement and
   request), SKU and category boosts, pinned SKUs first;
5. MMR picks the rest with the request's (or placement's) diversity;
6. every answer is logged (`ServedRecommendation`) with a request id for feedback.

`similar_products` does the same for "more like this product".
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from apps.catalog.selectors import category_get
from apps.core.errors import NotFound, ValidationFailed
from apps.customers.selectors import customer_get
from apps.recommendations.choices import CacheState, ReasonCode, RecommendationSource
from apps.recommendations.contracts import PlacementRules, Recommendations, RecommendedItem
from apps.recommendations.engine.data import EVENT_WEIGHTS
from apps.recommendations.engine.model import RecommenderModel
from apps.recommendations.models import MAX_ITEMS, ServedRecommendation
from apps.recommendations.selectors import placement_rules
from apps.recommendations.services import answers, data
from apps.recommendations.services.cache import CacheUnavailable, candidates_get
from apps.recommendations.services.champion import champion_model_get
from apps.recommendations.services.config import setting
from apps.recommendations.services.fallback import popular_skus
from apps.recommendations.services.ranking import (
    Anchor,
    anchor_boosts,
    mmr_select,
    normalise,
    similarity_matrix,
)
from apps.recommendations.services.served_log import served_log
from apps.segments.selectors import customer_scores_get

logger = logging.getLogger(__name__)

RECENT_ANCHORS = 5
RECENT_BOOST = 1.0  # weight of "like what you just did" on the 0-1 relevance scale
REASON_THRESHOLD = 0.3  # similarity above which an item is explained by a history item
REASON_HISTORY = 10
TRENDING_QUANTILE = 0.9
# A ranking is checked against the catalogue (stock, categories) in at most this many chunks:
# a bounded number of queries per request even when most top items are unavailable.
MAX_ROUNDS = 8
DEFAULT_PURCHASE_WINDOW_DAYS = 90
# Cohorts tried in order for a visitor without history (see trainers: metadata["cohorts"]).
COHORT_ORDER = ("rfm_cell", "lifecycle_stage", "cluster", "age_band", "gender", "country")


def _pool_size(count: int) -> int:
    """How many valid candidates MMR chooses from."""
    return min(max(3 * count, 30), 300)


# --- input ---------------------------------------------------------------------------------------


def _count(n: int | None, rules: PlacementRules) -> int:
    if n is None:
        return rules.default_count
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ITEMS:
        raise ValidationFailed(f"n: must be a whole number between 1 and {MAX_ITEMS}", field="n")
    return n


def _diversity(value: float | None, rules: PlacementRules) -> float:
    if value is None:
        return rules.diversity
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationFailed("diversity: must be a number between 0 and 1", field="diversity")
    if not math.isfinite(value) or not 0.0 <= float(value) <= 1.0:
        raise ValidationFailed("diversity: must be between 0 and 1", field="diversity")
    return float(value)


def _category(slug: str) -> str:
    slug = (slug or "").strip()
    if not slug:
        return ""
    try:
        category_get(slug=slug)
    except NotFound:
        raise ValidationFailed(
            f"category: no category with slug {slug!r}", field="category"
        ) from None
    return slug


def _rules(placement: str) -> PlacementRules:
    try:
        return placement_rules(key=(placement or "").strip())
    except NotFound as error:
        raise ValidationFailed(f"placement: {error.message}", field="placement") from None


@dataclass
class Visitor:
    """Who a request is for: a known customer, or an anonymous (or unknown) id."""

    identifier: str
    customer: Any = None  # customers.Customer or None
    _cohorts: dict[str, str] | None = None

    @property
    def customer_id(self) -> int | None:
        return self.customer.pk if self.customer is not None else None

    @property
    def anonymous_id(self) -> str:
        return "" if self.customer is not None else self.identifier

    @property
    def model_user_id(self) -> str:
        if self.customer is not None:
            return str(self.customer.external_id)
        return data.anonymous_user_id(self.identifier)

    def cohorts(self) -> dict[str, str]:
        """Demographics and scores, the same encoding the trainer used ({} for anonymous)."""
        if self.customer is None:
            return {}
        if self._cohorts is None:
            self._cohorts = self._cohorts_load()
        return self._cohorts

    def segment(self) -> str | None:
        """The engine's segment of this visitor (the RFM cell), None when unknown."""
        return self.cohorts().get("segment") or None

    def _cohorts_load(self) -> dict[str, str]:
        scores = customer_scores_get(customer_id=self.customer.pk)
        return data.customer_cohorts(
            gender=self.customer.gender,
            birth_date=self.customer.birth_date,
            country=self.customer.country,
            rfm_cell=scores.rfm_cell if scores else "",
            lifecycle_stage=scores.lifecycle_stage if scores else "",
            cluster=scores.cluster if scores else None,
        )


def _identifier(value: str) -> str:
    identifier = (value or "").strip()
    if not identifier:
        raise ValidationFailed("customer_id: is required", field="customer_id")
    return identifier


def visitor_resolve(identifier: str) -> Visitor:
    """A customer by external id or alias; anything else is an anonymous visitor."""
    identifier = _identifier(identifier)
    try:
        return Visitor(identifier=identifier, customer=customer_get(external_id=identifier))
    except NotFound:
        return Visitor(identifier=identifier)


# --- candidates ----------------------------------------------------------------------------------


@dataclass
class Candidate:
    sku: str
    model_index: int  # -1 when the model does not know it (or there is no model)
    base: float  # ranking score before rules (any scale; normalised over the pool)
    boost: float = 0.0  # similarity to recent anchors, 0-1
    anchor: int = -1  # which anchor gave the boost
    relevance: float = 0.0
    pinned: bool = False
    info: data.ProductInfo | None = None


@dataclass
class _Context:
    """Everything one request decided, shared by the steps below."""

    rules: PlacementRules
    count: int
    diversity: float
    model: RecommenderModel | None
    version: Any
    source: str = RecommendationSource.POPULARITY
    cache: str = CacheState.SKIPPED
    cohort_skus: set[str] = field(default_factory=set)  # "Popular in your segment"
    segment_ranked: bool = False  # cold start ranked by the model's segment popularity
    allowed: set[str] | None = None  # category restriction (None = everything)
    excluded: set[str] = field(default_factory=set)
    anchors: list[Anchor] = field(default_factory=list)
    history: list[data.Interaction] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    known_products: dict[str, data.ProductInfo | None] = field(default_factory=dict)
    similar_to: data.ProductInfo | None = None


def _infos(context: _Context, skus: Any) -> dict[str, data.ProductInfo]:
    """ProductInfo of `skus`, read once per request (one query for those not read yet)."""
    wanted = list(dict.fromkeys(skus))
    missing = [sku for sku in wanted if sku not in context.known_products]
    if missing:
        found = data.products_info(missing)
        for sku in missing:
            context.known_products[sku] = found.get(sku)
    return {sku: info for sku in wanted if (info := context.known_products.get(sku)) is not None}


def _valid(info: data.ProductInfo | None, context: _Context) -> bool:
    if info is None or not info.is_active:
        return False
    if context.rules.exclude_out_of_stock and info.stock <= 0:
        return False
    if info.sku in context.excluded:
        return False
    if context.allowed is not None and info.sku not in context.allowed:
        return False
    return not any(info.in_category(slug) for slug in context.rules.exclude_categories)


def _collect(ranked: list[tuple[str, int, float]], context: _Context, want: int) -> list[Candidate]:
    """Walk a ranking (sku, model index, score) in chunks, keeping valid products until `want`."""
    kept: list[Candidate] = []
    chunk = max(want * 2, 50)
    for start in range(0, min(len(ranked), chunk * MAX_ROUNDS), chunk):
        part = [row for row in ranked[start : start + chunk] if row[0] not in context.excluded]
        infos = _infos(context, (row[0] for row in part))
        for sku, index, score in part:
            info = infos.get(sku)
            if _valid(info, context):
                kept.append(Candidate(sku=sku, model_index=index, base=score, info=info))
        if len(kept) >= want:
            break
    return kept[: max(want, 0)]


def _ranking_limit(want: int) -> int:
    """How deep `_collect` may walk a ranking (its chunks times MAX_ROUNDS)."""
    return max(want * 2, 50) * MAX_ROUNDS


def _ranking_from_scores(
    model: RecommenderModel, scores: np.ndarray, context: _Context, want: int
) -> list[tuple[str, int, float]]:
    """The best items the model knows (as deep as `_collect` may look), best first, ties in
    catalogue order, minus what the rules exclude up front."""
    scores = np.array(scores, dtype=np.float64)
    for sku in context.excluded:
        index = model.item_index(sku)
        if index is not None:
            scores[index] = -np.inf
    if context.allowed is not None:
        mask = np.ones(model.n_items, dtype=bool)
        for sku in context.allowed:
            index = model.item_index(sku)
            if index is not None:
                mask[index] = False
        scores[mask] = -np.inf
    finite = np.flatnonzero(np.isfinite(scores))
    limit = _ranking_limit(want)
    if finite.size > limit:
        finite = finite[np.argpartition(-scores[finite], limit - 1)[:limit]]
    order = finite[np.lexsort((finite, -scores[finite]))]
    return [(str(model.item_ids[i]), int(i), float(scores[i])) for i in order]


def _ranking_from_skus(
    skus: list[str], model: RecommenderModel | None
) -> list[tuple[str, int, float]]:
    """A ranked SKU list with rank-based scores (1 for the first, falling to 0)."""
    size = max(len(skus), 1)
    ranking = []
    for position, sku in enumerate(skus):
        index = model.item_index(sku) if model is not None else None
        ranking.append((sku, -1 if index is None else int(index), 1.0 - position / size))
    return ranking


def _history_events(
    model: RecommenderModel, history: list[data.Interaction]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The visitor's raw events on catalogue items (indices, epoch seconds, event weight x
    quantity), for `score_events`: each component reads them with its own history settings,
    exactly as the evaluation measured it."""
    rows = [
        (index, interaction)
        for interaction in history
        if (index := model.item_index(interaction.sku)) is not None
    ]
    return (
        np.asarray([index for index, _ in rows], dtype=np.int64),
        np.asarray([i.at.timestamp() for _, i in rows], dtype=np.float64),
        np.asarray([EVENT_WEIGHTS[i.weight_key] * i.quantity for _, i in rows], dtype=np.float64),
    )


def _cohort_skus(model: RecommenderModel, visitor: Visitor) -> list[str]:
    cohorts = model.metadata.get("cohorts") or {}
    if not cohorts:
        return []
    values = visitor.cohorts()
    for name in COHORT_ORDER:
        value = values.get(name, "")
        skus = (cohorts.get(name) or {}).get(value) if value else None
        if skus:
            return [str(sku) for sku in skus]
    return []


def _personal_candidates(
    model: RecommenderModel, visitor: Visitor, context: _Context, want: int, use_cache: bool
) -> tuple[list[Candidate], np.ndarray | None]:
    """Candidates from the champion: cached personal scores, else online; cold start when the
    visitor has no signal. Returns the candidates and the full score vector when computed."""
    history_items, history_times, history_weights = _history_events(model, context.history)
    user_index = model.user_index(visitor.model_user_id)
    if user_index is None and history_items.size == 0:
        context.source = RecommendationSource.COLD_START
        segment = visitor.segment()
        context.segment_ranked = bool(
            model.weights.get("segment") and model.segment_index(segment) is not None
        )
        scores = model.score_events(user_index=None, items=history_items, segment=segment)
        ranking = _ranking_from_scores(model, scores, context, want)
        cohort = _cohort_skus(model, visitor)
        if cohort:
            # The segment's favourites first (scores above every popularity score), then the
            # rest by popularity: a short segment list is topped up, not cut short.
            first = {sku for sku in cohort if sku not in context.excluded}
            if context.allowed is not None:
                first &= context.allowed
            context.cohort_skus = first
            top = max((row[2] for row in ranking), default=0.0) + 1.0
            ranked_first = [
                (sku, _model_index(model, sku), top + 1.0 - position / len(cohort))
                for position, sku in enumerate(cohort)
                if sku in first
            ]
            ranking = ranked_first + [row for row in ranking if row[0] not in first]
        return _collect(ranking, context, want), None
    context.source = RecommendationSource.MODEL
    if use_cache and visitor.customer_id is not None and context.version is not None:
        try:
            cached = candidates_get(
                model_version_id=context.version.pk, customer_id=visitor.customer_id
            )
        except CacheUnavailable:
            context.cache = CacheState.UNAVAILABLE
            cached = None
        else:
            context.cache = CacheState.HIT if cached is not None else CacheState.MISS
        if cached is not None:
            indices, scores = cached
            ranking = [
                (str(model.item_ids[i]), int(i), float(s))
                for i, s in zip(indices, scores, strict=True)
                if 0 <= i < model.n_items
            ]
            if context.allowed is not None:
                ranking = [row for row in ranking if row[0] in context.allowed]
            kept = _collect(ranking, context, want)
            if len(kept) >= context.count:
                context.source = RecommendationSource.CACHE
                return kept, None
            context.cache = CacheState.MISS  # too few survive the rules: score online
    scores = model.score_events(
        user_index=user_index,
        items=history_items,
        timestamps=history_times,
        event_weights=history_weights,
        now=timezone.now().timestamp(),
        segment=visitor.segment(),
    )
    return _collect(_ranking_from_scores(model, scores, context, want), context, want), scores


def _anchors(context: _Context, model: RecommenderModel | None) -> list[Anchor]:
    """The newest distinct products the visitor viewed, carted or bought recently."""
    since = timezone.now() - timedelta(hours=float(setting("RECOMMENDATIONS_RECENT_HOURS")))
    anchors: list[Anchor] = []
    seen: set[str] = set()
    for interaction in context.history:
        if interaction.at < since or interaction.sku in seen:
            continue
        seen.add(interaction.sku)
        index = model.item_index(interaction.sku) if model is not None else None
        weight = 1.0 - 0.15 * len(anchors)
        anchors.append(
            Anchor(
                model_index=-1 if index is None else int(index),
                sku=interaction.sku,
                kind=interaction.kind,
                weight=weight,
            )
        )
        if len(anchors) == RECENT_ANCHORS:
            break
    return anchors


def _apply_anchors(
    candidates: list[Candidate], context: _Context, scores: np.ndarray | None
) -> list[Candidate]:
    """Boost (and add) items like the recent anchors: the model's neighbours and content, or
    without a model the anchors' categories."""
    if not context.anchors:
        return candidates
    by_sku = {candidate.sku: candidate for candidate in candidates}
    model = context.model
    if model is not None:
        boosts = anchor_boosts(model, context.anchors)
        floor = min((c.base for c in candidates), default=0.0)
        # The most boosted items join the pool (as many as the pool holds already: MMR and
        # the similarity matrix stay small however many neighbours the anchors have).
        strongest = sorted(boosts, key=lambda index: (-boosts[index][0], index))
        extra = [
            (str(model.item_ids[index]), index)
            for index in strongest
            if str(model.item_ids[index]) not in by_sku
            and str(model.item_ids[index]) not in context.excluded
            and (context.allowed is None or str(model.item_ids[index]) in context.allowed)
        ][: _pool_size(context.count)]
        infos = _infos(context, (sku for sku, _ in extra))
        for sku, index in extra:
            info = infos.get(sku)
            if _valid(info, context):
                base = float(scores[index]) if scores is not None else floor
                by_sku[sku] = Candidate(sku=sku, model_index=index, base=base, info=info)
        for candidate in by_sku.values():
            if candidate.model_index in boosts:
                candidate.boost, candidate.anchor = boosts[candidate.model_index]
    # Anchors the model cannot place (no model, or a product newer than it): their category.
    anchor_infos = _infos(
        context,
        [a.sku for a in context.anchors if model is None or a.model_index < 0],
    )
    for position, anchor in enumerate(context.anchors):
        info = anchor_infos.get(anchor.sku)
        if info is None or not info.category_path:
            continue
        for candidate in by_sku.values():
            if (
                candidate.info is not None
                and candidate.info.category_path == info.category_path
                and candidate.boost < 0.5 * anchor.weight
            ):
                candidate.boost, candidate.anchor = 0.5 * anchor.weight, position
    return list(by_sku.values())


def _apply_boosts_and_pins(candidates: list[Candidate], context: _Context) -> list[Candidate]:
    """Relevance 0-1 from the base scores, plus recency and placement boosts; pinned SKUs
    (available and not excluded) are marked and put first in the placement's order."""
    rules = context.rules
    by_sku = {candidate.sku: candidate for candidate in candidates}
    promoted = [sku for sku, amount in rules.boosts.items() if amount > 0]
    wanted = [
        sku
        for sku in dict.fromkeys((*rules.pinned_skus, *promoted))
        if sku not in by_sku and sku not in context.excluded
    ]
    if wanted:
        infos = _infos(context, wanted)
        floor = min((c.base for c in candidates), default=0.0)
        for sku in wanted:
            info = infos.get(sku)
            if sku not in by_sku and _valid(info, context):
                index = context.model.item_index(sku) if context.model is not None else None
                by_sku[sku] = Candidate(
                    sku=sku, model_index=-1 if index is None else int(index), base=floor, info=info
                )
    pool = list(by_sku.values())
    relevance = normalise(np.asarray([c.base for c in pool], dtype=np.float64))
    for candidate, value in zip(pool, relevance, strict=True):
        extra = rules.boosts.get(candidate.sku, 0.0)
        if candidate.info is not None:
            extra += sum(
                amount
                for slug, amount in rules.category_boosts.items()
                if candidate.info.in_category(slug)
            )
        candidate.relevance = float(value) + RECENT_BOOST * candidate.boost + extra
    pool.sort(key=lambda c: c.relevance, reverse=True)
    pinned = [by_sku[sku] for sku in dict.fromkeys(rules.pinned_skus) if sku in by_sku]
    for candidate in pinned:
        candidate.pinned = True
    return pinned + [c for c in pool if not c.pinned]


def _select(candidates: list[Candidate], context: _Context) -> list[Candidate]:
    """Pinned items first, then MMR over the rest."""
    if not candidates:
        return []
    pinned = [position for position, c in enumerate(candidates) if c.pinned][: context.count]
    indices = np.asarray([c.model_index for c in candidates], dtype=np.int64)
    categories = [c.info.category_path if c.info else "" for c in candidates]
    similarity = similarity_matrix(context.model, indices, categories)
    relevance = normalise(np.asarray([c.relevance for c in candidates], dtype=np.float64))
    picked = mmr_select(
        relevance,
        similarity,
        k=context.count - len(pinned),
        diversity=context.diversity,
        already=pinned,
    )
    return [candidates[position] for position in (*pinned, *picked)]


# --- reasons ---------------------------------------------------------------------------------------


_ANCHOR_REASONS = {
    "view": ("Because you viewed {title}", ReasonCode.VIEWED),
    "cart": ("Because you added {title} to your cart", ReasonCode.CARTED),
    "purchase": ("Because you bought {title}", ReasonCode.BOUGHT),
}


def _history_explainers(chosen: list[Candidate], context: _Context) -> dict[str, data.Interaction]:
    """For personal picks: the history item each one is most like, when similar enough."""
    model = context.model
    if model is None or not context.history:
        return {}
    history: list[data.Interaction] = []
    for interaction in context.history:
        if interaction.sku not in {h.sku for h in history}:
            history.append(interaction)
        if len(history) == REASON_HISTORY:
            break
    infos = _infos(context, (h.sku for h in history))
    context.titles.update({sku: info.title for sku, info in infos.items()})
    indices = np.asarray(
        [c.model_index for c in chosen] + [_model_index(model, h.sku) for h in history],
        dtype=np.int64,
    )
    categories = [c.info.category_path if c.info else "" for c in chosen] + [
        infos[h.sku].category_path if h.sku in infos else "" for h in history
    ]
    similarity = similarity_matrix(model, indices, categories)[: len(chosen), len(chosen) :]
    explainers: dict[str, data.Interaction] = {}
    for row, candidate in enumerate(chosen):
        if not history:
            break
        best = int(np.argmax(similarity[row]))
        if similarity[row, best] >= REASON_THRESHOLD and history[best].sku != candidate.sku:
            explainers[candidate.sku] = history[best]
    return explainers


def _model_index(model: RecommenderModel | None, sku: str) -> int:
    index = model.item_index(sku) if model is not None else None
    return -1 if index is None else int(index)


def _is_trending(context: _Context) -> Any:
    """A test "is this candidate among the model's top trending items" (never true without)."""
    model = context.model
    if model is None or model.trending is None or model.n_items == 0:
        return lambda candidate: False
    trending = model.trending
    threshold = float(np.quantile(trending, TRENDING_QUANTILE))
    return lambda candidate: (
        threshold > 0
        and candidate.model_index >= 0
        and trending[candidate.model_index] >= threshold
    )


def _reasons(chosen: list[Candidate], context: _Context) -> list[tuple[str, str]]:
    anchor_titles = _infos(context, (a.sku for a in context.anchors))
    context.titles.update({sku: info.title for sku, info in anchor_titles.items()})
    explainers = (
        _history_explainers(chosen, context)
        if context.source in (RecommendationSource.MODEL, RecommendationSource.CACHE)
        else {}
    )
    is_trending = _is_trending(context)
    reasons = []
    for candidate in chosen:
        if candidate.pinned:
            reasons.append(("Pinned", ReasonCode.PINNED.value))
            continue
        if context.similar_to is not None:
            reasons.append(_similar_reason(context))
            continue
        if candidate.anchor >= 0 and candidate.boost >= REASON_THRESHOLD:
            anchor = context.anchors[candidate.anchor]
            text, code = _ANCHOR_REASONS[anchor.kind]
            title = context.titles.get(anchor.sku, anchor.sku)
            reasons.append((text.format(title=title), code.value))
            continue
        explainer = explainers.get(candidate.sku)
        if explainer is not None:
            text, code = _ANCHOR_REASONS[explainer.kind]
            title = context.titles.get(explainer.sku, explainer.sku)
            reasons.append((text.format(title=title), code.value))
        elif context.source in (RecommendationSource.MODEL, RecommendationSource.CACHE):
            reasons.append(("Recommended for you", ReasonCode.PERSONAL.value))
        elif candidate.sku in context.cohort_skus or (
            context.segment_ranked and not context.cohort_skus
        ):
            reasons.append(("Popular in your segment", ReasonCode.SEGMENT.value))
        elif is_trending(candidate):
            reasons.append(("Trending now", ReasonCode.TRENDING.value))
        else:
            reasons.append(("Popular now", ReasonCode.POPULAR.value))
    return reasons


def _similar_reason(context: _Context) -> tuple[str, str]:
    anchor = context.similar_to
    assert anchor is not None
    if context.source == RecommendationSource.MODEL:
        return f"Similar to {anchor.title}", ReasonCode.SIMILAR.value
    if anchor.category_name:
        return f"More in {anchor.category_name}", ReasonCode.SIMILAR.value
    return "Popular now", ReasonCode.POPULAR.value


# --- the answer -----------------------------------------------------------------------------------


def _answer(
    chosen: list[Candidate],
    context: _Context,
    *,
    visitor: Visitor | None,
    anchor_sku: str = "",
    log: bool = True,
) -> Recommendations:
    reasons = _reasons(chosen, context)
    version = context.version if context.model is not None else None
    items = tuple(
        RecommendedItem(
            product_id=candidate.sku,
            score=1.0 if candidate.pinned else round(max(candidate.relevance, 0.0), 4),
            reason=reason,
            reason_code=code,
            position=position,
            title=candidate.info.title if candidate.info else "",
            category=candidate.info.category_path if candidate.info else "",
        )
        for position, (candidate, (reason, code)) in enumerate(
            zip(chosen, reasons, strict=True), start=1
        )
    )
    request_id = ""
    if log:  # previews in the UI are not traffic: no request row, no request_id
        request_id = str(_served_record(context, visitor, anchor_sku, version, items))
    return Recommendations(
        items=items,
        request_id=request_id,
        model_version=version.version if version is not None else None,
        model_version_id=version.pk if version is not None else None,
        source=str(context.source),
        cache=str(context.cache),
        placement=context.rules.key,
        visitor="customer" if visitor is not None and visitor.customer is not None else "anonymous",
    )


def _served_record(
    context: _Context,
    visitor: Visitor | None,
    anchor_sku: str,
    version: Any,
    items: tuple[RecommendedItem, ...],
) -> uuid.UUID:
    return served_log(
        customer_id=visitor.customer_id if visitor is not None else None,
        visitor_id=visitor.identifier[:128] if visitor is not None else "",
        placement=context.rules.key,
        anchor_sku=anchor_sku,
        model_version_id=version.pk if version is not None else None,
        source=context.source,
        cache=context.cache,
        items=[item.product_id for item in items],
    )


def _allowed(rules: PlacementRules, category: str) -> set[str] | None:
    allowed: set[str] | None = None
    if rules.include_categories:
        allowed = set()
        for slug in rules.include_categories:
            allowed |= data.category_skus(slug)
    if category:
        in_category = data.category_skus(category)
        allowed = in_category if allowed is None else allowed & in_category
    return allowed


def recommendations_for(
    *,
    customer_id: str,
    n: int | None = None,
    placement: str = "",
    category: str = "",
    exclude_purchased: bool | None = None,
    diversity: float | None = None,
    use_cache: bool = True,
    log: bool = True,
) -> Recommendations:
    """Up to `n` products for a customer (external id or alias) or an anonymous visitor id.

    Never an error for an unknown id, a visitor without history, an untrained recommender or
    an empty catalogue (fewer or no items instead). `exclude_purchased` None follows the
    placement (its window, 90 days by default); `diversity` None takes the placement's.
    Bad input raises ValidationFailed naming the field (n, diversity, placement, category).
    `log=False` (previews in the UI) records no served request and returns no request_id.
    """
    rules = _rules(placement)
    count = _count(n, rules)
    context = _Context(
        rules=rules,
        count=count,
        diversity=_diversity(diversity, rules),
        model=None,
        version=None,
    )
    category = _category(category)
    identifier = _identifier(customer_id)
    request = answers.AnswerRequest(
        identifier=identifier,
        rules=rules,
        count=count,
        diversity=context.diversity,
        category=category,
        exclude_purchased=exclude_purchased,
    )
    keep = use_cache and answers.enabled()
    stamps: answers.Stamps | None = None
    if keep:
        try:
            kept, stamps = answers.answer_get(request)
        except CacheUnavailable:
            stamps = None
        else:
            if kept is not None:
                return _reused(kept, identifier, log=log)
    visitor = visitor_resolve(identifier)
    answer = _computed(context, visitor, category, exclude_purchased, use_cache, log)
    if stamps is not None:
        try:
            answers.answer_keep(
                request, stamps=stamps, customer_id=visitor.customer_id, answer=answer
            )
        except CacheUnavailable:
            pass
    return answer


def _reused(kept: answers.KeptAnswer, identifier: str, *, log: bool) -> Recommendations:
    """A kept answer with a new request id (logged like a computed one)."""
    answer = kept.answer
    request_id = ""
    if log:
        request_id = str(
            served_log(
                customer_id=kept.customer_id,
                visitor_id=identifier[:128],
                placement=answer.placement,
                anchor_sku="",
                model_version_id=answer.model_version_id,
                source=answer.source,
                cache=CacheState.ANSWER,
                items=[item.product_id for item in answer.items],
            )
        )
    return replace(answer, request_id=request_id, cache=str(CacheState.ANSWER))


def _computed(
    context: _Context,
    visitor: Visitor,
    category: str,
    exclude_purchased: bool | None,
    use_cache: bool,
    log: bool,
) -> Recommendations:
    rules, count = context.rules, context.count
    context.history = data.visitor_history_load(
        customer_id=visitor.customer_id, anonymous_id=visitor.anonymous_id
    )
    days = rules.exclude_purchased_days
    if exclude_purchased is True and days <= 0:
        days = DEFAULT_PURCHASE_WINDOW_DAYS
    if exclude_purchased is not False and visitor.customer_id is not None:
        bought = data.purchased_from_history(context.history, days=days)
        if bought is None:
            bought = data.purchased_skus(customer_id=visitor.customer_id, days=days)
        context.excluded |= bought
    context.allowed = _allowed(rules, category)
    context.version, context.model = champion_model_get()
    context.anchors = _anchors(context, context.model)
    context.excluded |= {a.sku for a in context.anchors if a.kind in ("view", "cart")}
    # The visitor's recent products (reasons' titles, anchors' categories): one query.
    _infos(context, [interaction.sku for interaction in context.history[: data.HISTORY_EVENTS]])
    want = _pool_size(count)
    scores: np.ndarray | None = None
    if context.model is not None:
        candidates, scores = _personal_candidates(context.model, visitor, context, want, use_cache)
    else:
        context.source = RecommendationSource.POPULARITY
        ranked = popular_skus(limit=max(want * 4, 200), category=category)
        if context.allowed is not None:
            ranked = [sku for sku in ranked if sku in context.allowed]
            ranked += sorted(context.allowed - set(ranked))[: want * 2]
        candidates = _collect(_ranking_from_skus(ranked, None), context, want)
    candidates = _apply_anchors(candidates, context, scores)
    candidates = _apply_boosts_and_pins(candidates, context)
    return _answer(_select(candidates, context), context, visitor=visitor, log=log)


def similar_products(
    *, sku: str, n: int = 10, placement: str = "", diversity: float | None = None
) -> Recommendations:
    """Products like `sku` (its model neighbours and content; without a model, popular ones of
    its category), minus itself, with the placement's availability and category rules."""
    rules = _rules(placement)
    context = _Context(
        rules=rules,
        count=_count(n, rules),
        diversity=_diversity(diversity, rules) if diversity is not None else 0.0,
        model=None,
        version=None,
    )
    anchor = data.products_info([sku]).get(sku)
    if anchor is None:
        raise NotFound(f"product {sku!r} does not exist", code="product_not_found")
    context.similar_to = anchor
    context.excluded = {sku}
    context.allowed = _allowed(rules, "")
    context.version, context.model = champion_model_get()
    want = _pool_size(context.count)
    index = context.model.item_index(sku) if context.model is not None else None
    if context.model is not None and index is not None and context.model.n_items > 1:
        context.source = RecommendationSource.MODEL
        depth = min(_ranking_limit(want), context.model.n_items - 1)
        items, scores = context.model.similar(index, depth)
        ranking = sorted(
            (
                (str(context.model.item_ids[i]), int(i), float(s))
                for i, s in zip(items, scores, strict=True)
                if np.isfinite(s)
            ),
            key=lambda row: (-row[2], row[1]),  # ties in catalogue order, every time
        )
        if context.allowed is not None:
            ranking = [row for row in ranking if row[0] in context.allowed]
        candidates = _collect(ranking, context, want)
    else:
        context.source = (
            RecommendationSource.COLD_START
            if context.model is not None
            else RecommendationSource.POPULARITY
        )
        slug = anchor.category_path.rsplit("/", 1)[-1] if anchor.category_path else ""
        ranked = popular_skus(limit=max(want * 4, 200), category=slug)
        if context.allowed is not None:
            ranked = [s for s in ranked if s in context.allowed]
        candidates = _collect(_ranking_from_skus(ranked, context.model), context, want)
    candidates = _apply_boosts_and_pins(candidates, context)
    return _answer(_select(candidates, context), context, visitor=None, anchor_sku=sku)


def served_recommendations_prune(*, older_than_days: int | None = None) -> int:
    """Delete served-request rows older than the retention (RECOMMENDATIONS_SERVED_RETENTION_DAYS);
    returns how many. Their impressions and clicks stay as events."""
    days = int(
        setting("RECOMMENDATIONS_SERVED_RETENTION_DAYS")
        if older_than_days is None
        else older_than_days
    )
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = ServedRecommendation.objects.filter(served_at__lt=cutoff).delete()
    return deleted
