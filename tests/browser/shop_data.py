"""A tiny, fully known shop for the web UI tests, written with the ORM.

The numbers the pages must show follow from these rows and are spelled out in `SmallShop`, so
tests assert exact values. Used by tests/browser and by the Django test-client tests of the web
pages (apps/core/tests/test_web_*.py, apps/customers/tests/test_web.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from apps.catalog.models import Product
from apps.customers.models import Consent, Customer
from apps.events.models import Event, Order, OrderLine

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class SmallShop:
    """The rows created and what the dashboard must show for the last 30 days."""

    ada: Customer
    grace: Customer
    dress: Product
    boots: Product
    customers: int = 2
    active_customers: int = 2
    orders: int = 3
    revenue: Decimal = Decimal("360.00")
    average_order_value: Decimal = Decimal("120.00")
    events: int = 5
    previous_orders: int = 1
    previous_revenue: Decimal = Decimal("80.00")


def create_user(*, username: str = "anna", role: str = "analyst", password: str = PASSWORD) -> User:
    """A UI user holding `role` (a group of that name, as `roles_sync` creates them)."""
    user = User.objects.create_user(
        username=username,
        email=f"{username}@shop.example",
        password=password,
        first_name=username.capitalize(),
        last_name="Analyst",
    )
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _order(
    external_id: str,
    customer: Customer,
    placed_at: datetime,
    lines: list[tuple[Product, int]],
    status: str = "completed",
) -> Order:
    total = sum((product.price * quantity for product, quantity in lines), Decimal("0.00"))
    order = Order.objects.create(
        external_id=external_id,
        customer=customer,
        status=status,
        placed_at=placed_at,
        subtotal=total,
        total=total,
    )
    for product, quantity in lines:
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            quantity=quantity,
            unit_price=product.price,
            line_total=product.price * quantity,
        )
    return order


def create_small_shop(*, now: datetime | None = None) -> SmallShop:
    now = now or timezone.now()
    dress = Product.objects.create(
        sku="DRS-001", title="Linen Summer Dress", price=Decimal("80.00")
    )
    boots = Product.objects.create(
        sku="BOOT-7", title="Leather Ankle Boots", price=Decimal("120.00")
    )
    ada = Customer.objects.create(
        external_id="cus-ada",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        city="London",
        country="GB",
        acquisition_channel="social",
        signup_at=now - timedelta(days=200),
        attributes={"vip": True, "sizes": ["S", "M"], "favourite_colour": "teal"},
    )
    grace = Customer.objects.create(
        external_id="cus-grace",
        first_name="Grace",
        last_name="Hopper",
        city="Arlington",
        country="US",
        acquisition_channel="organic",
        signup_at=now - timedelta(days=400),
    )
    Consent.objects.create(
        customer=ada,
        purpose="email_marketing",
        granted=True,
        recorded_at=now - timedelta(days=150),
        source="signup_form",
    )
    Consent.objects.create(
        customer=ada, purpose="profiling", granted=True, recorded_at=now - timedelta(days=150)
    )
    Consent.objects.create(
        customer=ada,
        purpose="profiling",
        granted=False,
        recorded_at=now - timedelta(days=20),
        source="preference_centre",
    )
    _order("ORD-1001", ada, now - timedelta(days=3), [(dress, 2)])
    _order("ORD-1002", ada, now - timedelta(days=12), [(boots, 1)])
    _order("ORD-1003", grace, now - timedelta(days=25), [(dress, 1)])
    _order("ORD-0900", grace, now - timedelta(days=45), [(dress, 1)])  # the previous period
    _order("ORD-1004", grace, now - timedelta(days=2), [(boots, 5)], status="cancelled")
    for number, (customer, event_type, product, hours_ago) in enumerate(
        [
            (ada, "product_view", dress, 100),
            (ada, "add_to_cart", dress, 99),
            (ada, "purchase", dress, 72),
            (ada, "search", None, 120),
            (grace, "page_view", None, 144),
        ]
    ):
        Event.objects.create(
            event_type=event_type,
            customer=customer,
            product=product,
            properties={"query": "linen dress"} if event_type == "search" else {},
            occurred_at=now - timedelta(hours=hours_ago),
            source="test",
            event_id=f"test-{number}",
        )
    return SmallShop(ada=ada, grace=grace, dress=dress, boots=boots)
