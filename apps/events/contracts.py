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


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one message of a batch; `index` is its position in the batch."""

    index: int
    message_id: str
    reason: str = ""
    field: str = ""
    quarantine_id: int | None = None

    def as_dict(self) -> dict:
        body: dict = {"index": self.index, "message_id": self.message_id}
        if self.reason:
            body["reason"] = self.reason
            body["field"] = self.field
        if self.quarantine_id is not None:
            body["quarantine_id"] = self.quarantine_id
        return body


@dataclass(frozen=True)
class IngestResult:
    """Outcome of one ingest call: every message is in exactly one of the three lists.

    `duplicates` holds re-sent ids with the same payload (stored once, acknowledged);
    `rejected` holds invalid messages and conflicts (re-sent id, different payload), each
    with its reason and the id of its quarantine row.
    """

    accepted: tuple[MessageOutcome, ...]
    duplicates: tuple[MessageOutcome, ...]
    rejected: tuple[MessageOutcome, ...]

    def as_dict(self) -> dict:
        return {
            "accepted": [outcome.as_dict() for outcome in self.accepted],
            "duplicates": [outcome.as_dict() for outcome in self.duplicates],
            "rejected": [outcome.as_dict() for outcome in self.rejected],
            "counts": {
                "accepted": len(self.accepted),
                "duplicates": len(self.duplicates),
                "rejected": len(self.rejected),
            },
        }
