"""Frozen dataclasses other apps may use to read events and orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class DashboardKpis:
    """Headline numbers of a period and the period before it, for the dashboard."""

    days: int
    active_customers: int
    orders: int
    revenue: Decimal
    average_order_value: Decimal
    events: int
    previous_active_customers: int
    previous_orders: int
    previous_revenue: Decimal
    previous_events: int


@dataclass(frozen=True)
class DailyValue:
    day: date
    value: float


@dataclass(frozen=True)
class TopProduct:
    product_id: int
    sku: str
    title: str
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class OrderLineInput:
    """One line of an order to record: the SKU (linked to the product when it exists),
    quantity, unit price and the discount on the whole line."""

    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
