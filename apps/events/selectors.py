"""Reads of orders and behaviour events, including the dashboard's KPIs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from apps.core.errors import NotFound
from apps.customers.selectors import customer_id_for
from apps.events.choices import DEMAND_STATUSES, REVENUE_STATUSES, QuarantineKind, QuarantineStatus
from apps.events.contracts import DailyValue, DashboardKpis, TopProduct
from apps.events.models import (
    Event,
    MessageReceipt,
    Order,
    OrderLine,
    QuarantinedMessage,
    Review,
    SocialPost,
)

ZERO = Decimal("0.00")


def order_revenue_queryset() -> QuerySet[Order]:
    """Orders that count as revenue (paid, shipped, completed)."""
    return Order.objects.filter(status__in=REVENUE_STATUSES)


def _customer_filter(customer_id: int | None, customer_external_id: str) -> int | None:
    """Resolve a customer filter to an id; -1 (matches nothing) for an unknown external id."""
    if customer_external_id:
        resolved = customer_id_for(identifier=customer_external_id)
        return -1 if resolved is None else resolved
    return customer_id


def order_list(
    *,
    customer_id: int | None = None,
    customer_external_id: str = "",
    status: str = "",
    channel: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Order]:
    """Orders newest first. `customer_external_id` also accepts an anonymous alias."""
    queryset = Order.objects.select_related("customer").prefetch_related("lines__product")
    customer_id = _customer_filter(customer_id, customer_external_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if status:
        queryset = queryset.filter(status=status)
    if channel:
        queryset = queryset.filter(channel=channel)
    if since is not None:
        queryset = queryset.filter(placed_at__gte=since)
    if until is not None:
        queryset = queryset.filter(placed_at__lt=until)
    return queryset.order_by("-placed_at", "-id")


def order_get(*, external_id: str) -> Order:
    """An order by the shop's id, with its lines."""
    order = (
        Order.objects.select_related("customer")
        .prefetch_related("lines__product")
        .filter(external_id=external_id)
        .first()
    )
    if order is None:
        raise NotFound(f"order {external_id!r} does not exist", code="order_not_found")
    return order


def event_list(
    *,
    customer_id: int | None = None,
    event_type: str = "",
    since: datetime | None = None,
    customer_external_id: str = "",
    until: datetime | None = None,
    anonymous_id: str = "",
    product_sku: str = "",
    source: str = "",
) -> QuerySet[Event]:
    """Behaviour events newest first. `customer_external_id` also accepts an anonymous alias."""
    queryset = Event.objects.select_related("product", "customer")
    customer_id = _customer_filter(customer_id, customer_external_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if event_type:
        queryset = queryset.filter(event_type=event_type)
    if since is not None:
        queryset = queryset.filter(occurred_at__gte=since)
    if until is not None:
        queryset = queryset.filter(occurred_at__lt=until)
    if anonymous_id:
        queryset = queryset.filter(anonymous_id=anonymous_id)
    if product_sku:
        queryset = queryset.filter(product__sku=product_sku)
    if source:
        queryset = queryset.filter(source=source)
    return queryset.order_by("-occurred_at", "-id")


def review_list(
    *,
    product_sku: str = "",
    customer_external_id: str = "",
    rating: int | None = None,
    min_rating: int | None = None,
    max_rating: int | None = None,
    since: datetime | None = None,
    source: str = "",
    language: str = "",
) -> QuerySet[Review]:
    """Product reviews, newest first."""
    queryset = Review.objects.select_related("product", "customer")
    if product_sku:
        queryset = queryset.filter(product__sku=product_sku)
    customer_id = _customer_filter(None, customer_external_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if rating is not None:
        queryset = queryset.filter(rating=rating)
    if min_rating is not None:
        queryset = queryset.filter(rating__gte=min_rating)
    if max_rating is not None:
        queryset = queryset.filter(rating__lte=max_rating)
    if since is not None:
        queryset = queryset.filter(reviewed_at__gte=since)
    if source:
        queryset = queryset.filter(source=source)
    if language:
        queryset = queryset.filter(language=language)
    return queryset.order_by("-reviewed_at", "-id")


def social_post_list(
    *,
    platform: str = "",
    product_sku: str = "",
    since: datetime | None = None,
    search: str = "",
    language: str = "",
) -> QuerySet[SocialPost]:
    """Social posts about the shop, newest first."""
    queryset = SocialPost.objects.select_related("product", "customer")
    if platform:
        queryset = queryset.filter(platform=platform)
    if product_sku:
        queryset = queryset.filter(product__sku=product_sku)
    if since is not None:
        queryset = queryset.filter(posted_at__gte=since)
    search = search.strip()
    if search:
        queryset = queryset.filter(text__icontains=search)
    if language:
        queryset = queryset.filter(language=language)
    return queryset.order_by("-posted_at", "-id")


def customer_timeline(*, customer_id: int, limit: int = 100) -> list[Event]:
    """The latest behaviour events of one customer, newest first."""
    return list(event_list(customer_id=customer_id)[:limit])


def _period_numbers(start: datetime, end: datetime) -> tuple[int, int, Decimal, int]:
    """Active customers, revenue orders, revenue and events of [start, end)."""
    orders = order_revenue_queryset().filter(placed_at__gte=start, placed_at__lt=end)
    totals = orders.aggregate(count=Count("id"), revenue=Sum("total"))
    buyers = set(orders.exclude(customer=None).values_list("customer_id", flat=True).distinct())
    events = Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    visitors = set(events.exclude(customer=None).values_list("customer_id", flat=True).distinct())
    return (
        len(buyers | visitors),
        totals["count"] or 0,
        totals["revenue"] or ZERO,
        events.count(),
    )


def dashboard_kpis(*, days: int = 30, now: datetime | None = None) -> DashboardKpis:
    """Active customers (an order or event in the window), orders, revenue, AOV, events,
    each also for the `days` before."""
    end = now or timezone.now()
    start = end - timedelta(days=days)
    active, orders, revenue, events = _period_numbers(start, end)
    previous_active, previous_orders, previous_revenue, previous_events = _period_numbers(
        start - timedelta(days=days), start
    )
    average = (revenue / orders).quantize(Decimal("0.01")) if orders else ZERO
    return DashboardKpis(
        days=days,
        active_customers=active,
        orders=orders,
        revenue=revenue,
        average_order_value=average,
        events=events,
        previous_active_customers=previous_active,
        previous_orders=previous_orders,
        previous_revenue=previous_revenue,
        previous_events=previous_events,
    )


def _fill_days(rows: dict, start: datetime, end: datetime) -> list[DailyValue]:
    """One point per calendar day touched by [start, end): a window ending at midnight stops
    at the last complete day instead of showing an empty today."""
    first = timezone.localtime(start).date()
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    return [
        DailyValue(
            day=first + timedelta(days=offset),
            value=float(rows.get(first + timedelta(days=offset), 0)),
        )
        for offset in range((last - first).days + 1)
    ]


def revenue_per_day(*, days: int = 90, now: datetime | None = None) -> list[DailyValue]:
    """Revenue per calendar day, zero-filled, oldest first."""
    end = now or timezone.now()
    start = end - timedelta(days=days)
    rows = (
        order_revenue_queryset()
        .filter(placed_at__gte=start, placed_at__lt=end)
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(value=Sum("total"))
    )
    return _fill_days({row["day"]: row["value"] for row in rows}, start, end)


def events_per_day(*, days: int = 30, now: datetime | None = None) -> list[DailyValue]:
    """Behaviour events per calendar day, zero-filled, oldest first."""
    end = now or timezone.now()
    start = end - timedelta(days=days)
    rows = (
        Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(value=Count("id"))
    )
    return _fill_days({row["day"]: row["value"] for row in rows}, start, end)


def top_products(
    *, days: int = 30, limit: int = 10, now: datetime | None = None
) -> list[TopProduct]:
    """Best sellers by revenue in the window."""
    end = now or timezone.now()
    start = end - timedelta(days=days)
    rows = (
        OrderLine.objects.filter(
            order__status__in=REVENUE_STATUSES,
            order__placed_at__gte=start,
            order__placed_at__lt=end,
            product__isnull=False,
        )
        .values("product_id", sku_=F("product__sku"), title=F("product__title"))
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-revenue")[:limit]
    )
    return [
        TopProduct(
            product_id=row["product_id"],
            sku=row["sku_"],
            title=row["title"],
            units=row["units"] or 0,
            revenue=row["revenue"] or ZERO,
        )
        for row in rows
    ]


def quarantine_list(
    *, status: str = "", kind: str = "", source: str = "", search: str = ""
) -> QuerySet[QuarantinedMessage]:
    """Quarantined messages, newest first. `search` matches the message id (exactly or in
    part), the error text, or `#<entry id>`."""
    queryset = QuarantinedMessage.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if source:
        queryset = queryset.filter(source=source)
    search = search.strip()
    if search:
        matches = Q(message_id__icontains=search) | Q(error__icontains=search)
        entry_id = search.removeprefix("#")
        if entry_id.isdigit() and len(entry_id) < 18:
            matches |= Q(pk=int(entry_id))
        queryset = queryset.filter(matches)
    return queryset.order_by("-received_at", "-id")


def quarantine_get(*, entry_id: int) -> QuarantinedMessage:
    """One quarantined message by its id."""
    entry = QuarantinedMessage.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"quarantined message {entry_id} does not exist", code="not_found")
    return entry


def quarantine_counts() -> dict[str, int]:
    """Open entries per kind (every kind present, 0 when none), and `total`."""
    rows = (
        QuarantinedMessage.objects.filter(status=QuarantineStatus.OPEN)
        .values_list("kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(QuarantineKind.values, 0)
    counts.update({kind: count for kind, count in rows})
    counts["total"] = sum(counts.values())
    return counts


def quarantine_sources() -> list[str]:
    """Sources that have quarantined messages, for the source filter."""
    return list(
        QuarantinedMessage.objects.exclude(source="")
        .values_list("source", flat=True)
        .distinct()
        .order_by("source")
    )


def event_freshness_by_source() -> list[dict]:
    """Per event source: the newest occurred_at and received_at and how many events it sent,
    most recently heard from first (for the data quality report's freshness)."""
    rows = (
        Event.objects.order_by()
        .values("source")
        .annotate(
            last_occurred_at=Max("occurred_at"),
            last_received_at=Max("received_at"),
            events=Count("id"),
        )
    )
    return sorted(
        (dict(row) for row in rows), key=lambda row: row["last_received_at"], reverse=True
    )


def ingestion_summary(*, hours: int = 24, now: datetime | None = None) -> dict:
    """Messages stored per source in the last `hours` and per hour, from the receipt ledger.

    The ledger has one row per stored message with its receive time (indexed), so this reads
    a day of traffic without touching the partitioned events table.
    """
    now = now or timezone.now()
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    recent = MessageReceipt.objects.filter(received_at__gte=start, received_at__lte=now)
    by_source = list(
        recent.values("source")
        .annotate(messages=Count("id"), last_received_at=Max("received_at"))
        .order_by("-messages")
    )
    per_hour = dict(
        recent.annotate(hour=TruncHour("received_at"))
        .values_list("hour")
        .annotate(count=Count("id"))
        .order_by()
    )
    hours_axis = [start + timedelta(hours=offset) for offset in range(hours)]
    return {
        "hours": hours,
        "total": sum(row["messages"] for row in by_source),
        "by_source": by_source,
        "per_hour": [{"hour": hour, "messages": per_hour.get(hour, 0)} for hour in hours_axis],
    }


# --- Bulk reads for customer features (segments: churn and purchase propensity) -------------


def customer_order_facts(
    *, until: datetime, since: datetime | None = None
) -> list[tuple[int, datetime, Decimal, str]]:
    """Revenue orders of known customers placed in [since, until), as plain tuples.

    `(customer_id, placed_at, total, coupon_code)`, unordered, for pandas. The caller gives the
    window explicitly, so feature code reading "before the cut" cannot see later orders.
    """
    queryset = order_revenue_queryset().filter(customer_id__isnull=False, placed_at__lt=until)
    if since is not None:
        queryset = queryset.filter(placed_at__gte=since)
    return list(queryset.order_by().values_list("customer_id", "placed_at", "total", "coupon_code"))


def customer_category_units(*, until: datetime) -> list[tuple[int, str, int]]:
    """`(customer_id, category path, units)` of revenue order lines placed before `until`.

    Grouped in the database (one row per customer and category), lines without a product or
    category left out.
    """
    return list(
        OrderLine.objects.filter(
            order__status__in=REVENUE_STATUSES,
            order__customer_id__isnull=False,
            order__placed_at__lt=until,
            product__category__isnull=False,
        )
        .values_list("order__customer_id", "product__category__path")
        .annotate(units=Sum("quantity"))
        .order_by()
    )


def customer_event_activity(
    *,
    until: datetime,
    event_types: tuple[str, ...],
    windows_days: tuple[int, ...],
    lookback_days: int,
) -> list[dict]:
    """Per customer, behaviour in windows that end at `until` (one grouped query).

    Keys: `customer_id`, `<event type>_<N>d` (events of that type in the N days before
    `until`) for every type and window, `sessions_<N>d` (distinct session ids) and
    `last_event_at` (latest event in the `lookback_days` before `until`). Only events of known
    customers in [until - lookback_days, until) are read, so the partitions scanned are bounded.
    """
    start = until - timedelta(days=max(lookback_days, *windows_days))
    aggregates: dict = {"last_event_at": Max("occurred_at")}
    for days in windows_days:
        window = Q(occurred_at__gte=until - timedelta(days=days))
        for event_type in event_types:
            aggregates[f"{event_type}_{days}d"] = Count(
                "id", filter=window & Q(event_type=event_type)
            )
        aggregates[f"sessions_{days}d"] = Count(
            "session_id", distinct=True, filter=window & ~Q(session_id="")
        )
    rows = (
        Event.objects.filter(
            customer_id__isnull=False, occurred_at__gte=start, occurred_at__lt=until
        )
        .values("customer_id")
        .annotate(**aggregates)
        .order_by()
    )
    return [dict(row) for row in rows]


def latest_order_placed_at() -> datetime | None:
    """When the newest revenue order was placed (the end of the known purchase history)."""
    return order_revenue_queryset().aggregate(latest=Max("placed_at"))["latest"]


def earliest_order_placed_at() -> datetime | None:
    """When the oldest revenue order was placed (the start of the known purchase history)."""
    return (
        order_revenue_queryset().order_by("placed_at").values_list("placed_at", flat=True).first()
    )


# --- Bulk reads for RFM, lifecycle and clustering (segments) ---------------------------------


def customer_purchase_totals(
    *, until: datetime
) -> list[tuple[int, int, Decimal, datetime, datetime, int, Decimal, Decimal]]:
    """Per customer with revenue orders placed before `until`, one grouped query:
    `(customer_id, orders, revenue, first_order_at, last_order_at, discounted_orders,
    discount_total, subtotal)`, unordered."""
    from django.db.models import Min

    return list(
        order_revenue_queryset()
        .filter(customer_id__isnull=False, placed_at__lt=until)
        .values("customer_id")
        .annotate(
            orders=Count("id"),
            revenue=Sum("total"),
            first_order_at=Min("placed_at"),
            last_order_at=Max("placed_at"),
            discounted_orders=Count("id", filter=Q(discount_total__gt=0)),
            discount=Sum("discount_total"),
            merchandise=Sum("subtotal"),
        )
        .order_by()
        .values_list(
            "customer_id",
            "orders",
            "revenue",
            "first_order_at",
            "last_order_at",
            "discounted_orders",
            "discount",
            "merchandise",
        )
    )


def customer_purchase_days(*, until: datetime) -> list[tuple[int, int]]:
    """`(customer_id, day ordinal)` once per calendar day (project time zone) on which a
    customer placed a revenue order before `until`: several orders on one day are one purchase
    day. Days as `date.toordinal()`, so gaps are plain subtractions; unordered."""
    rows = (
        order_revenue_queryset()
        .filter(customer_id__isnull=False, placed_at__lt=until)
        .annotate(day=TruncDate("placed_at"))
        .order_by()
        .values_list("customer_id", "day")
        .distinct()
    )
    return [(customer_id, day.toordinal()) for customer_id, day in rows.iterator(chunk_size=50_000)]


def customer_event_counts(*, until: datetime) -> list[tuple[int, int, int]]:
    """`(customer_id, events, product views)` of known customers' events before `until`."""
    return list(
        Event.objects.filter(customer_id__isnull=False, occurred_at__lt=until)
        .values("customer_id")
        .annotate(events=Count("id"), views=Count("id", filter=Q(event_type="product_view")))
        .order_by()
        .values_list("customer_id", "events", "views")
    )


def customer_review_counts(*, until: datetime) -> list[tuple[int, int]]:
    """`(customer_id, reviews written before until)` of customers who reviewed."""
    return list(
        Review.objects.filter(customer_id__isnull=False, reviewed_at__lt=until)
        .values("customer_id")
        .annotate(reviews=Count("id"))
        .order_by()
        .values_list("customer_id", "reviews")
    )


def customer_category_spend(*, until: datetime) -> list[tuple[int, str, Decimal]]:
    """`(customer_id, category path, money spent)` on revenue order lines before `until`,
    grouped in the database; lines without a product or category left out."""
    return list(
        OrderLine.objects.filter(
            order__status__in=REVENUE_STATUSES,
            order__customer_id__isnull=False,
            order__placed_at__lt=until,
            product__category__isnull=False,
        )
        .values_list("order__customer_id", "product__category__path")
        .annotate(spend=Sum("line_total"))
        .order_by()
    )


def customer_search_queries(
    *, until: datetime, since: datetime | None = None
) -> list[tuple[int, str]]:
    """`(customer_id, search query)` of known customers' search events in [since, until)."""
    from django.db.models.fields.json import KeyTextTransform

    queryset = Event.objects.filter(
        customer_id__isnull=False, event_type="search", occurred_at__lt=until
    )
    if since is not None:
        queryset = queryset.filter(occurred_at__gte=since)
    return [
        (customer_id, query)
        for customer_id, query in queryset.annotate(query=KeyTextTransform("query", "properties"))
        .order_by()
        .values_list("customer_id", "query")
        .iterator(chunk_size=50_000)
        if query
    ]


def visitor_product_history(
    *,
    customer_id: int | None,
    anonymous_id: str = "",
    since: datetime,
    event_types: tuple[str, ...],
    events_limit: int,
    lines_limit: int,
) -> list[tuple[str, str, datetime, int]]:
    """A visitor's newest product events of `event_types` (by customer, else anonymous id)
    and, for a customer, newest revenue order lines, since `since`: rows (sku, event type or
    "purchase", when, quantity), at most `events_limit` events and `lines_limit` lines.

    One query (a UNION ALL of two bounded, index-ordered reads): the per-request history of
    the recommender, where two ORM queries cost more than the rest of the request.
    """
    product = Event._meta.get_field("product").related_model._meta.db_table
    event, order, line = Event._meta.db_table, Order._meta.db_table, OrderLine._meta.db_table
    types = ", ".join(["%s"] * len(event_types))
    params: list[Any] = [customer_id if customer_id is not None else anonymous_id]
    who = "e.customer_id = %s" if customer_id is not None else "e.anonymous_id = %s"
    events_sql = (
        f"SELECT p.sku, e.event_type, e.occurred_at, 1 AS quantity FROM {event} e "
        f"JOIN {product} p ON p.id = e.product_id "
        f"WHERE {who} AND e.occurred_at >= %s AND e.event_type IN ({types}) "
        "ORDER BY e.occurred_at DESC, e.id DESC LIMIT %s"
    )
    params += [since, *event_types, events_limit]
    sql = f"SELECT * FROM ({events_sql}) AS recent_events"
    if customer_id is not None:
        statuses = ", ".join(["%s"] * len(REVENUE_STATUSES))
        sql += (
            " UNION ALL SELECT * FROM ("
            f"SELECT p.sku, 'purchase', o.placed_at, l.quantity FROM {order} o "
            f"JOIN {line} l ON l.order_id = o.id JOIN {product} p ON p.id = l.product_id "
            f"WHERE o.customer_id = %s AND o.placed_at >= %s AND o.status IN ({statuses}) "
            "ORDER BY o.placed_at DESC, o.id DESC, l.id LIMIT %s) AS recent_lines"
        )
        params += [customer_id, since, *[str(s) for s in REVENUE_STATUSES], lines_limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(sku, kind, _aware(at), int(quantity or 1)) for sku, kind, at, quantity in rows]


def _aware(value: Any) -> datetime:
    """A timestamp from a raw query (SQLite hands back text or naive UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def customer_orders_between(
    *, customer_ids: list[int], start: datetime, end: datetime
) -> list[tuple[int, datetime, Decimal, str]]:
    """(customer id, placed_at, total, coupon code) of the revenue orders the customers placed
    in [start, end), oldest first: conversions and revenue for campaign reports."""
    rows: list[tuple[int, datetime, Decimal, str]] = []
    for offset in range(0, len(customer_ids), 5000):
        rows.extend(
            order_revenue_queryset()
            .filter(
                customer_id__in=customer_ids[offset : offset + 5000],
                placed_at__gte=start,
                placed_at__lt=end,
            )
            .values_list("customer_id", "placed_at", "total", "coupon_code")
        )
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def orders_with_coupon_codes(
    *, codes: set[str], since: datetime | None = None
) -> list[tuple[str, int | None, str, datetime, Decimal]]:
    """(order external id, customer id, coupon code, placed_at, discount total) of revenue
    orders that used one of `codes`, oldest first."""
    queryset = order_revenue_queryset().filter(coupon_code__in=list(codes))
    if since is not None:
        queryset = queryset.filter(placed_at__gte=since)
    return list(
        queryset.order_by("placed_at", "id").values_list(
            "external_id", "customer_id", "coupon_code", "placed_at", "discount_total"
        )
    )


def customer_engagement_times(
    *, customer_ids: list[int], since: datetime
) -> list[tuple[int, datetime]]:
    """(customer id, when) of the customers' email opens and clicks by people (machine opens
    left out) since `since`: what send-time optimisation learns from."""
    rows: list[tuple[int, datetime]] = []
    for offset in range(0, len(customer_ids), 5000):
        rows.extend(
            Event.objects.filter(
                customer_id__in=customer_ids[offset : offset + 5000],
                event_type__in=("email_open", "email_click"),
                occurred_at__gte=since,
            )
            .exclude(properties__machine=True)
            .values_list("customer_id", "occurred_at")
        )
    return rows


def event_trigger_rows(
    *, event_type: str, received_after: datetime, received_until: datetime
) -> list[tuple[int, datetime, int | None]]:
    """(customer id, occurred_at, product id) of known customers' events of `event_type`
    received in (received_after, received_until]: what starts event-triggered journeys
    (received, not occurred, so late events still count once)."""
    return list(
        Event.objects.filter(
            event_type=event_type,
            customer__isnull=False,
            received_at__gt=received_after,
            received_at__lte=received_until,
            occurred_at__gte=received_after - timedelta(days=2),
        )
        .order_by("received_at")
        .values_list("customer_id", "occurred_at", "product_id")
    )


def customer_has_event_since(*, customer_id: int, event_type: str, since: datetime) -> bool:
    """Whether the customer had an event of `event_type` at or after `since` (a purchase counts
    also as an order placed then)."""
    found = Event.objects.filter(
        customer_id=customer_id, event_type=event_type, occurred_at__gte=since
    ).exists()
    if not found and event_type == "purchase":
        found = (
            order_revenue_queryset().filter(customer_id=customer_id, placed_at__gte=since).exists()
        )
    return found


def customer_cart_product_ids(*, customer_id: int, since: datetime) -> list[int]:
    """Products the customer added to the cart since `since` and has not removed or bought
    since, most recent first."""
    rows = (
        Event.objects.filter(
            customer_id=customer_id,
            event_type__in=("add_to_cart", "remove_from_cart", "purchase"),
            occurred_at__gte=since,
            product__isnull=False,
        )
        .order_by("occurred_at")
        .values_list("event_type", "product_id")
    )
    cart: dict[int, None] = {}
    for event_type, product_id in rows:
        if event_type == "add_to_cart":
            cart.pop(product_id, None)
            cart[product_id] = None
        else:
            cart.pop(product_id, None)
    bought = set(
        OrderLine.objects.filter(
            order__customer_id=customer_id, order__placed_at__gte=since
        ).values_list("product_id", flat=True)
    )
    return [product_id for product_id in reversed(list(cart)) if product_id not in bought]


# Event names (Segment-style track calls) the creative optimiser counts, per `creative`
# property: impressions, clicks, and conversions (an order event carrying the creative).
AD_IMPRESSION_NAMES = ("Ad Impression", "ad_impression")
AD_CLICK_NAMES = ("Ad Clicked", "ad_click")


def creative_event_counts(*, since: datetime) -> dict[str, tuple[int, int, int]]:
    """creative -> (impressions, clicks, conversions) from events since `since`: what the ad
    and creative bandit learns from."""
    counts: dict[str, list[int]] = {}
    rows = (
        Event.objects.filter(occurred_at__gte=since, properties__has_key="creative")
        .filter(Q(name__in=AD_IMPRESSION_NAMES + AD_CLICK_NAMES) | Q(event_type="purchase"))
        .values_list("name", "event_type", "properties__creative")
    )
    for name, event_type, creative in rows:
        if not creative:
            continue
        entry = counts.setdefault(str(creative), [0, 0, 0])
        if name in AD_IMPRESSION_NAMES:
            entry[0] += 1
        elif name in AD_CLICK_NAMES:
            entry[1] += 1
        elif event_type == "purchase":
            entry[2] += 1
    return {creative: (a, b, c) for creative, (a, b, c) in sorted(counts.items())}


SALES_GROUPS = {"": None, "product": "product_id", "category": "product__category_id"}


def sales_per_day(
    *, since: datetime, until: datetime, by: str = "", ids: Collection[int | None] | None = None
) -> list[tuple[date, int | None, Decimal, int]]:
    """(day, group id, revenue, units) of order lines per calendar day, for forecasting.

    Orders count as demand when paid, shipped, completed or still pending (most of the last
    days' orders are pending: leaving them out would show a slump that is not there).
    Revenue here is the sum of line totals (merchandise revenue, before shipping and
    order-level discounts), so product and category figures add up to the shop's; `by` is
    "" (whole shop, group id None), "product" or "category" (None: no product/category).
    With `by`, `ids` keeps only those groups (None among them: lines without one).
    """
    if by not in SALES_GROUPS:
        raise ValueError(f"by must be one of {', '.join(repr(k) for k in SALES_GROUPS)}")
    group = SALES_GROUPS[by]
    lines = _demand_lines(since, until)
    if group and ids is not None:
        wanted = Q(**{f"{group}__in": [i for i in ids if i is not None]})
        if None in ids:
            wanted |= Q(**{f"{group}__isnull": True})
        lines = lines.filter(wanted)
    lines = lines.annotate(day=TruncDate("order__placed_at"))
    fields = ["day", group] if group else ["day"]
    rows = lines.values(*fields).annotate(revenue=Sum("line_total"), units=Sum("quantity"))
    return [
        (row["day"], row[group] if group else None, row["revenue"] or ZERO, int(row["units"] or 0))
        for row in rows.order_by(*fields)
    ]


def _demand_lines(since: datetime, until: datetime) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        order__status__in=DEMAND_STATUSES, order__placed_at__gte=since, order__placed_at__lt=until
    )


def units_per_product(*, since: datetime, until: datetime) -> dict[int, int]:
    """product id -> units ordered in [since, until) (demand, as `sales_per_day` counts it)."""
    rows = (
        _demand_lines(since, until)
        .filter(product__isnull=False)
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: int(row["units"] or 0) for row in rows}


def new_customers_per_day(*, since: datetime, until: datetime) -> dict[date, int]:
    """Customers whose first order (paid, shipped, completed or pending) fell on each day."""
    firsts = (
        Order.objects.filter(
            status__in=DEMAND_STATUSES, customer__isnull=False, placed_at__lt=until
        )
        .values("customer")
        .annotate(first=Min("placed_at"))
        .filter(first__gte=since)
        .values_list("first", flat=True)
    )
    counts: dict[date, int] = {}
    for first in firsts:
        day = timezone.localtime(first).date()
        counts[day] = counts.get(day, 0) + 1
    return counts


def campaign_order_days(*, since: datetime, until: datetime, min_share: float = 0.1) -> set[date]:
    """Days on which at least `min_share` of orders were attributed to a campaign: the
    shop's promotion days as its orders record them."""
    rows = (
        Order.objects.filter(status__in=DEMAND_STATUSES, placed_at__gte=since, placed_at__lt=until)
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(orders=Count("id"), attributed=Count("id", filter=~Q(campaign="")))
    )
    return {
        row["day"]
        for row in rows
        if row["orders"] and row["attributed"] / row["orders"] >= min_share
    }
