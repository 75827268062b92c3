"""Loading what the recommender learns from and serves with, through the owning apps' selectors.

* `interaction_log_load`: purchases (order lines of revenue orders), add-to-carts, product
  views and recommendation clicks as one `InteractionLog` (weights: EVENT_WEIGHTS x quantity);
* `item_features_load`: the catalogue (category, brand, price, title + description, tags,
  stock) as `ItemFeatures`;
* `user_features_load`: demographics, RFM cell, lifecycle stage, cluster and the largest
  segments as `UserFeatures`;
* `visitor_history_load`: one visitor's latest interactions, read at request time, so what
  happened a second ago already counts.

Ids are strings: customers by external id, anonymous visitors as `anon:<anonymous id>`,
products by SKU (the model's item ids).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from apps.catalog.selectors import catalogue_version, product_list
from apps.core.recheck import Rechecked
from apps.customers.selectors import customer_list
from apps.events.selectors import event_list, order_revenue_queryset, visitor_product_history
from apps.recommendations.engine.data import (
    EVENT_WEIGHTS,
    InteractionLog,
    ItemFeatures,
    UserFeatures,
)
from apps.recommendations.services.config import setting
from apps.segments.selectors import segment_list, segment_member_customer_ids

ANONYMOUS_PREFIX = "anon:"
# Behaviour events that express interest in a product, and their EVENT_WEIGHTS key.
EVENT_KINDS = {"product_view": "product_view", "add_to_cart": "add_to_cart"}
# Clicks on recommendations (stored as custom events by the feedback service).
CLICK_EVENT_NAME = "Recommendation Clicked"
IMPRESSION_EVENT_NAME = "Recommendation Impression"
# User features given to the engine (and the cohorts served to visitors without history).
USER_FEATURES = (
    "segment",  # the engine's segment (popular-in-segment component): the RFM cell
    "gender",
    "age_band",
    "country",
    "rfm_cell",
    "lifecycle_stage",
    "cluster",
)
SEGMENT_FEATURES = 20  # the largest segments become one feature each
HISTORY_EVENTS = 100
HISTORY_PURCHASE_LINES = 100
SECONDS_PER_DAY = 86400.0

Progress = Callable[[float, str], None]


def _no_progress(percent: float, message: str = "") -> None:
    """Progress sink for callers that show none."""


def anonymous_user_id(anonymous_id: str) -> str:
    """The model's user id of an anonymous visitor (kept apart from customer external ids)."""
    return f"{ANONYMOUS_PREFIX}{anonymous_id}"


def decay(ages_seconds: np.ndarray, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half-life): a week-old view counts less than one from today."""
    ages = np.maximum(np.asarray(ages_seconds, dtype=np.float64), 0.0)
    return np.power(0.5, ages / (max(half_life_days, 1e-6) * SECONDS_PER_DAY))


# --- the interaction log ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedInteractions:
    """The log and what it is made of, for the run's metrics."""

    log: InteractionLog
    purchases: int
    carts: int
    views: int
    clicks: int


def _event_rows(event_type: str, *, name: str = "", since: datetime | None) -> Iterable[tuple]:
    events = event_list(event_type=event_type, since=since).filter(product__isnull=False)
    if name:
        events = events.filter(name=name)
    return (
        events.order_by()
        .values_list("customer__external_id", "anonymous_id", "product__sku", "occurred_at")
        .iterator(chunk_size=50_000)
    )


def interaction_log_load(
    *, since: datetime | None = None, progress: Progress = _no_progress
) -> LoadedInteractions:
    """Every interaction with a product (since `since`), as one time-sorted InteractionLog.

    Purchases come from order lines of paid/shipped/completed orders of known customers
    (weight x quantity); views, add-to-carts and recommendation clicks from events of
    customers or anonymous visitors. Purchase events are left out: their orders are counted.
    """
    users: list[str] = []
    items: list[str] = []
    times: list[float] = []
    weights: list[float] = []
    progress(1, "Loading purchases")
    orders = order_revenue_queryset().filter(customer__isnull=False, lines__product__isnull=False)
    if since is not None:
        orders = orders.filter(placed_at__gte=since)
    purchase_weight = EVENT_WEIGHTS["purchase"]
    for external_id, sku, placed_at, quantity in (
        orders.order_by()
        .values_list("customer__external_id", "lines__product__sku", "placed_at", "lines__quantity")
        .iterator(chunk_size=50_000)
    ):
        users.append(external_id)
        items.append(sku)
        times.append(placed_at.timestamp())
        weights.append(purchase_weight * max(int(quantity or 1), 1))
    purchases = len(users)
    counts = {}
    sources = [
        ("add_to_cart", "add_to_cart", ""),
        ("product_view", "product_view", ""),
        ("click", "custom", CLICK_EVENT_NAME),
    ]
    for step, (weight_key, event_type, name) in enumerate(sources):
        progress(2 + 2 * step, f"Loading {weight_key.replace('_', ' ')} events")
        before = len(users)
        weight = EVENT_WEIGHTS[weight_key]
        for external_id, anonymous_id, sku, occurred_at in _event_rows(
            event_type, name=name, since=since
        ):
            if external_id:
                users.append(external_id)
            elif anonymous_id:
                users.append(anonymous_user_id(anonymous_id))
            else:
                continue
            items.append(sku)
            times.append(occurred_at.timestamp())
            weights.append(weight)
        counts[weight_key] = len(users) - before
    user_array = np.asarray(users, dtype=str)
    item_array = np.asarray(items, dtype=str)
    time_array = np.asarray(times, dtype=np.float64)
    weight_array = np.asarray(weights, dtype=np.float32)
    # Database order is arbitrary: sort so equal data always hashes (and trains) the same.
    order = np.lexsort((weight_array, item_array, user_array, time_array))
    log = InteractionLog(
        user_ids=user_array[order],
        item_ids=item_array[order],
        timestamps=time_array[order],
        weights=weight_array[order],
    )
    return LoadedInteractions(
        log=log,
        purchases=purchases,
        carts=counts["add_to_cart"],
        views=counts["product_view"],
        clicks=counts["click"],
    )


def interactions_count(*, since: datetime | None) -> int:
    """How many interactions (order lines, views, add-to-carts) happened since `since`.

    Counted by when they happened (orders' placed_at, events' occurred_at): both indexed, and
    on PostgreSQL the events' partitions are pruned by it. Back-dated imports do not count.
    """
    lines = order_revenue_queryset().filter(lines__product__isnull=False)
    total = 0
    if since is not None:
        lines = lines.filter(placed_at__gte=since)
    total += lines.values("lines__id").count()
    for event_type in EVENT_KINDS:
        total += (
            event_list(event_type=event_type, since=since).filter(product__isnull=False).count()
        )
    return total


# --- catalogue and customers --------------------------------------------------------------------


def item_features_load() -> ItemFeatures:
    """Every product (active or not: interactions with retired products still teach the model)."""
    rows = list(
        product_list()
        .order_by("sku")
        .values_list(
            "sku", "category__path", "brand__name", "price", "title", "description", "tags", "stock"
        )
    )
    return ItemFeatures(
        item_ids=np.asarray([row[0] for row in rows], dtype=str),
        categories=np.asarray([row[1] or "" for row in rows], dtype=str),
        brands=np.asarray([row[2] or "" for row in rows], dtype=str),
        prices=np.asarray(
            [float(row[3]) if row[3] is not None else np.nan for row in rows], dtype=np.float64
        ),
        texts=np.asarray([f"{row[4]}\n{row[5] or ''}".strip() for row in rows], dtype=str),
        tags=[[str(tag) for tag in row[6]] if isinstance(row[6], list) else [] for row in rows],
        in_stock=np.asarray([(row[7] or 0) > 0 for row in rows], dtype=bool),
    )


def age_band(birth_date: date | None, *, today: date | None = None) -> str:
    """A coarse age band ("" when unknown): what demographic cohorts group by."""
    if birth_date is None:
        return ""
    today = today or timezone.localdate()
    years = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    if years < 0 or years > 120:
        return ""
    for limit, label in ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")):
        if years < limit:
            return label
    return "65+"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def customer_cohorts(
    *,
    gender: str,
    birth_date: date | None,
    country: str,
    rfm_cell: str,
    lifecycle_stage: str,
    cluster: int | None,
) -> dict[str, str]:
    """The user-feature values of one customer (the same encoding training uses)."""
    return {
        "segment": _text(rfm_cell),
        "gender": _text(gender),
        "age_band": age_band(birth_date),
        "country": _text(country),
        "rfm_cell": _text(rfm_cell),
        "lifecycle_stage": _text(lifecycle_stage),
        "cluster": _text(cluster),
    }


def user_features_load(user_ids: np.ndarray) -> UserFeatures:
    """Demographics, RFM cell, lifecycle stage, cluster and the largest segments of the users.

    Anonymous visitors (and customers without scores) get "" for what is unknown.
    """
    wanted = {str(user) for user in user_ids}
    by_external: dict[str, dict[str, str]] = {}
    pk_to_external: dict[int, str] = {}
    rows = customer_list().values_list(
        "pk",
        "external_id",
        "gender",
        "birth_date",
        "country",
        "scores__rfm_cell",
        "scores__lifecycle_stage",
        "scores__cluster",
    )
    for pk, external_id, gender, birth, country, cell, stage, cluster in rows.iterator(
        chunk_size=20_000
    ):
        if external_id not in wanted:
            continue
        pk_to_external[pk] = external_id
        by_external[external_id] = customer_cohorts(
            gender=gender,
            birth_date=birth,
            country=country,
            rfm_cell=cell or "",
            lifecycle_stage=stage or "",
            cluster=cluster,
        )
    ordered = [str(user) for user in user_ids]
    features: dict[str, np.ndarray] = {
        name: np.asarray([by_external.get(user, {}).get(name, "") for user in ordered], dtype=str)
        for name in USER_FEATURES
    }
    segments = segment_list().filter(member_count__gt=0).order_by("-member_count", "id")
    position = {user: index for index, user in enumerate(ordered)}
    for segment in segments[:SEGMENT_FEATURES]:
        column = np.full(len(ordered), "", dtype=object)
        for customer_id in segment_member_customer_ids(segment_id=segment.pk).values_list(
            "customer_id", flat=True
        ):
            member = pk_to_external.get(customer_id)
            if member is not None:
                column[position[member]] = "in"
        features[f"segment_{segment.pk}"] = column.astype(str)
    return UserFeatures(user_ids=np.asarray(ordered, dtype=str), features=features)


# --- one visitor, at request time ---------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    """One interaction of a visitor with a product, newest first in a history."""

    sku: str
    kind: str  # "view", "cart" or "purchase"
    at: datetime
    quantity: int = 1

    @property
    def weight_key(self) -> str:
        return {"view": "product_view", "cart": "add_to_cart", "purchase": "purchase"}[self.kind]


def visitor_history_load(*, customer_id: int | None, anonymous_id: str = "") -> list[Interaction]:
    """A visitor's latest product views, add-to-carts and purchases, newest first.

    Read at request time (one query over the last RECOMMENDATIONS_HISTORY_DAYS: the bound
    prunes the monthly event partitions), so an event stored a second ago counts.
    """
    if customer_id is None and not anonymous_id:
        return []
    rows = visitor_product_history(
        customer_id=customer_id,
        anonymous_id=anonymous_id if customer_id is None else "",
        since=timezone.now() - timedelta(days=float(setting("RECOMMENDATIONS_HISTORY_DAYS"))),
        event_types=tuple(EVENT_KINDS),
        events_limit=HISTORY_EVENTS,
        lines_limit=HISTORY_PURCHASE_LINES,
    )
    history = [
        Interaction(
            sku=sku,
            kind="purchase" if kind == "purchase" else "cart" if kind == "add_to_cart" else "view",
            at=at,
            quantity=quantity,
        )
        for sku, kind, at, quantity in rows
    ]
    history.sort(key=lambda item: item.at, reverse=True)
    return history


def purchased_from_history(history: list[Interaction], *, days: int) -> set[str] | None:
    """SKUs bought in the last `days` days as the history shows them, or None when it cannot
    tell (the window reaches past the history's, or the history's purchase lines were cut at
    HISTORY_PURCHASE_LINES): then `purchased_skus` asks the database."""
    if days <= 0:
        return set()
    lines = [item for item in history if item.kind == "purchase"]
    if (
        days > float(setting("RECOMMENDATIONS_HISTORY_DAYS"))
        or len(lines) >= HISTORY_PURCHASE_LINES
    ):
        return None
    since = timezone.now() - timedelta(days=days)
    return {item.sku for item in lines if item.at >= since}


def purchased_skus(*, customer_id: int | None, days: int) -> set[str]:
    """SKUs the customer bought (revenue orders) in the last `days` days."""
    if customer_id is None or days <= 0:
        return set()
    since = timezone.now() - timedelta(days=days)
    return set(
        order_revenue_queryset()
        .filter(customer_id=customer_id, placed_at__gte=since, lines__product__isnull=False)
        .order_by()
        .values_list("lines__product__sku", flat=True)
        .distinct()
    )


# --- the catalogue at request time --------------------------------------------------------------


@dataclass(frozen=True)
class ProductInfo:
    """What the rules and the response need of one product."""

    sku: str
    title: str
    category_path: str
    category_name: str
    stock: int
    is_active: bool

    def in_category(self, slug: str) -> bool:
        """Whether the product is in the category `slug` or one of its descendants."""
        return bool(slug) and slug in self.category_path.split("/")


def _products_info_read(skus: set[str]) -> dict[str, ProductInfo]:
    rows = (
        product_list()
        .filter(sku__in=skus)
        .order_by()
        .values_list("sku", "title", "category__path", "category__name", "stock", "is_active")
    )
    return {
        sku: ProductInfo(
            sku=sku,
            title=title,
            category_path=path or "",
            category_name=name or "",
            stock=int(stock or 0),
            is_active=bool(active),
        )
        for sku, title, path, name, stock, active in rows
    }


# ProductInfo already read in this process, valid while the catalogue version is unchanged
# (checked at most every RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS): requests read the products
# they rank from memory, and a change to any product or category empties it.
_catalogue_lock = threading.Lock()
_catalogue: Rechecked[Any] = Rechecked(
    catalogue_version, lambda: setting("RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS")
)
_infos_version: Any = None
_infos: dict[str, ProductInfo | None] = {}


def catalogue_stamp() -> Any:
    """`catalogue_version()` (changes with any product or category), reused within
    RECOMMENDATIONS_CATALOGUE_CHECK_SECONDS in this process."""
    return _catalogue.get()


def catalogue_memory_forget() -> None:
    """Forget the catalogue version and products read in this process (tests)."""
    global _infos_version
    _catalogue.forget()
    with _catalogue_lock:
        _infos_version = None
        _infos.clear()


def products_info(skus: Iterable[str]) -> dict[str, ProductInfo]:
    """SKU -> ProductInfo for the SKUs that exist: from this process's memory while the
    catalogue is unchanged, else one query (for those not in memory)."""
    global _infos_version
    wanted = {sku for sku in skus if sku}
    if not wanted:
        return {}
    version = catalogue_stamp()
    with _catalogue_lock:
        if version != _infos_version:
            _infos.clear()
            _infos_version = version
        known = {sku: _infos[sku] for sku in wanted if sku in _infos}
    missing = wanted - set(known)
    if missing:
        found = _products_info_read(missing)
        fresh = {sku: found.get(sku) for sku in missing}
        with _catalogue_lock:
            if _infos_version == version:
                _infos.update(fresh)
        known.update(fresh)
    return {sku: info for sku, info in known.items() if info is not None}


def category_skus(slug: str) -> set[str]:
    """SKUs of the active products in a category's subtree."""
    return set(product_list(category=slug, is_active=True).values_list("sku", flat=True))


def product_skus_by_pk(pks: list[int]) -> dict[int, str]:
    return dict(product_list().filter(pk__in=pks).order_by().values_list("pk", "sku"))


def catalog_fill(*, limit: int, category: str = "") -> list[str]:
    """Active, in-stock products newest first: the last resort when nothing was bought yet."""
    products = product_list(category=category, is_active=True, order_by="-created_at").filter(
        stock__gt=0
    )
    return list(products.values_list("sku", flat=True)[:limit])
