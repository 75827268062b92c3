"""Cross-app reads for the web UI's overview pages: the dashboard and the data inventory.

Each function composes other apps' selectors into one object a page can render, so views stay
thin and the arithmetic (changes against the previous period) is tested once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from apps.catalog.selectors import product_list
from apps.customers.selectors import customer_count, customer_list
from apps.events.contracts import DailyValue, TopProduct
from apps.events.selectors import (
    dashboard_kpis,
    event_list,
    events_per_day,
    order_list,
    revenue_per_day,
    review_list,
    social_post_list,
    top_products,
)


@dataclass(frozen=True)
class Metric:
    """A number of the current period next to the same number of the period before it."""

    value: int | Decimal
    previous: int | Decimal | None = None

    @property
    def change_percent(self) -> float | None:
        """Relative change in percent, or None when there is nothing to compare with."""
        if self.previous is None or self.previous == 0:
            return None
        return round(float((self.value - self.previous) / self.previous * 100), 1)

    @property
    def trend(self) -> str:
        """up, down or flat: how the number moved against the previous period."""
        change = self.change_percent
        if change is None or change == 0:
            return "flat"
        return "up" if change > 0 else "down"


@dataclass(frozen=True)
class DashboardOverview:
    """Everything the dashboard shows, read at one instant so the numbers agree."""

    days: int
    chart_days: int
    customers: int
    active_customers: Metric
    orders: Metric
    revenue: Metric
    average_order_value: Metric
    events: Metric
    revenue_per_day: list[DailyValue]
    events_per_day: list[DailyValue]
    top_products: list[TopProduct]

    @property
    def is_empty(self) -> bool:
        """True on a fresh install: no customers, no recent revenue and no recent events."""
        return (
            self.customers == 0
            and not any(point.value for point in self.revenue_per_day)
            and not any(point.value for point in self.events_per_day)
        )


def _start_of_day(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def dashboard_overview(
    *, days: int = 30, chart_days: int = 90, now: datetime | None = None
) -> DashboardOverview:
    """Headline KPIs of the last `days` (with the period before), daily charts, best sellers."""
    now = now or timezone.now()
    kpis = dashboard_kpis(days=days, now=now)
    previous_average = (
        (kpis.previous_revenue / kpis.previous_orders).quantize(Decimal("0.01"))
        if kpis.previous_orders
        else None
    )
    return DashboardOverview(
        days=days,
        chart_days=chart_days,
        customers=customer_count(),
        active_customers=Metric(kpis.active_customers, kpis.previous_active_customers),
        orders=Metric(kpis.orders, kpis.previous_orders),
        revenue=Metric(kpis.revenue, kpis.previous_revenue),
        average_order_value=Metric(kpis.average_order_value, previous_average),
        events=Metric(kpis.events, kpis.previous_events),
        # Charts show complete days: today's partial bar would read as a collapse.
        revenue_per_day=revenue_per_day(days=chart_days, now=_start_of_day(now)),
        events_per_day=events_per_day(days=days, now=_start_of_day(now)),
        top_products=top_products(days=days, limit=10, now=now),
    )


@dataclass(frozen=True)
class TableSize:
    """How many rows one kind of data has and when the newest one happened."""

    count: int
    latest_at: datetime | None


@dataclass(frozen=True)
class DataInventory:
    """Row counts of everything the platform learns from, for the Data page."""

    customers: TableSize
    products: TableSize
    orders: TableSize
    events: TableSize
    reviews: TableSize
    social_posts: TableSize

    @property
    def is_empty(self) -> bool:
        return not any(
            size.count
            for size in (
                self.customers,
                self.products,
                self.orders,
                self.events,
                self.reviews,
                self.social_posts,
            )
        )


def _table_size(queryset: QuerySet, time_field: str) -> TableSize:
    numbers = queryset.order_by().aggregate(count=Count("pk"), latest_at=Max(time_field))
    return TableSize(count=numbers["count"], latest_at=numbers["latest_at"])


def data_inventory() -> DataInventory:
    """Row count and newest timestamp per kind of data (one aggregate query per table)."""
    return DataInventory(
        customers=_table_size(customer_list(), "created_at"),
        products=_table_size(product_list(), "created_at"),
        orders=_table_size(order_list(), "placed_at"),
        events=_table_size(event_list(), "occurred_at"),
        reviews=_table_size(review_list(), "reviewed_at"),
        social_posts=_table_size(social_post_list(), "posted_at"),
    )


def customer_countries() -> list[str]:
    """Country codes customers live in, for the customer list's country filter."""
    return list(
        customer_list()
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )
