"""Hand-made customers whose segment membership is known exactly, for the segments tests.

Every behaviour sits at a window edge relative to one fixed `now`: exactly 30 days ago
(inside "the last 30 days") against 30 days and one second ago (outside).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory
from apps.customers.tests.factories import ConsentFactory, CustomerFactory
from apps.events.tests.factories import EventFactory, OrderFactory, OrderLineFactory
from apps.segments.models import CustomerScores
from apps.segments.services.compiler import CompileContext, members_queryset
from apps.segments.services.segments import definition_parse

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def group(*conditions: dict, operator: str = "and", negate: bool = False) -> dict:
    return {"type": "group", "operator": operator, "negate": negate, "conditions": list(conditions)}


def member_ids(definition: dict, now: datetime, restrict_to: list[int] | None = None) -> set[str]:
    """External ids of the customers a definition selects as of `now`."""
    from apps.customers.selectors import customer_list

    root = definition_parse(definition)
    ids = set(members_queryset(root, CompileContext(now=now, restrict_to=restrict_to)))
    return set(customer_list().filter(pk__in=ids).values_list("external_id", flat=True))


@dataclass
class Shop:
    now: datetime
    customers: dict[str, Any]
    dress: Any
    boots: Any


def _views(customer: Any, product: Any, times: list[datetime], event_type: str = "product_view"):
    for moment in times:
        EventFactory(customer=customer, product=product, event_type=event_type, occurred_at=moment)


def _order(customer: Any, placed_at: datetime, total: str, product: Any = None, status=None):
    order = OrderFactory(
        customer=customer,
        placed_at=placed_at,
        total=Decimal(total),
        subtotal=Decimal(total),
        **({"status": status} if status else {}),
    )
    if product is not None:
        OrderLineFactory(
            order=order, product=product, unit_price=Decimal(total), line_total=Decimal(total)
        )
    return order


def build_shop(now: datetime | None = None) -> Shop:
    """Six customers:

    ada  DE, 3 dress views at now-1d, now-10d, exactly now-30d; an order exactly 90 days ago
         (80.00, dress); scores champions, churn 0.10, clv 900; attribute plan=gold; consent
    bob  DE, 3 dress views but the oldest at now-30d-1s; an order 90 days + 1 second ago
         (50.00, boots); scores lost, churn 0.90, clv 20
    cy   FR, 2 dress views in the window; no orders; no scores; attribute plan=silver
    dee  FR, first order exactly 7 days ago (30.00, dress) and one yesterday (20.00, boots);
         scores new, churn 0.40
    eve  US, orders 8 days ago and yesterday (10.00 each, no lines); a cancelled order 2 days
         ago (ignored); signed up exactly 30 days ago
    fay  US, nothing at all; no email; signed up 30 days + 1 second ago
    """
    now = now or timezone.now().replace(microsecond=0)
    women = CategoryFactory(slug="women", name="Women")
    dresses = CategoryFactory(slug="dresses", name="Dresses", parent=women)
    shoes = CategoryFactory(slug="shoes", name="Shoes")
    acme = BrandFactory(slug="acme", name="Acme")
    dress = ProductFactory(sku="DRESS-1", category=dresses, brand=acme)
    boots = ProductFactory(sku="BOOTS-1", category=shoes)
    signup = now - 100 * DAY
    people = {
        "ada": CustomerFactory(external_id="ada", country="DE", signup_at=signup,
                               attributes={"plan": "gold", "visits": 12}),
        "bob": CustomerFactory(external_id="bob", country="DE", signup_at=signup),
        "cy": CustomerFactory(external_id="cy", country="FR", signup_at=signup,
                              attributes={"plan": "silver"}),
        "dee": CustomerFactory(external_id="dee", country="FR", signup_at=signup),
        "eve": CustomerFactory(external_id="eve", country="US", signup_at=now - 30 * DAY),
        "fay": CustomerFactory(external_id="fay", country="US", email="",
                               signup_at=now - 30 * DAY - SECOND),
    }  # fmt: skip
    _views(people["ada"], dress, [now - DAY, now - 10 * DAY, now - 30 * DAY])
    _views(people["bob"], dress, [now - DAY, now - 10 * DAY, now - 30 * DAY - SECOND])
    _views(people["cy"], dress, [now - 2 * DAY, now - 3 * DAY])
    _views(people["cy"], boots, [now - 2 * DAY, now - 3 * DAY, now - 4 * DAY])
    _order(people["ada"], now - 90 * DAY, "80.00", dress)
    _order(people["bob"], now - 90 * DAY - SECOND, "50.00", boots)
    _order(people["dee"], now - 7 * DAY, "30.00", dress)
    _order(people["dee"], now - DAY, "20.00", boots)
    _order(people["eve"], now - 8 * DAY, "10.00")
    _order(people["eve"], now - DAY, "10.00")
    _order(people["eve"], now - 2 * DAY, "500.00", status="cancelled")
    CustomerScores.objects.create(
        customer=people["ada"], rfm_cell="champions", churn_risk=0.10, clv_12m=Decimal("900"),
        p_alive=0.95, rfm_recency=5, lifecycle_stage="loyal", cluster=2,
    )  # fmt: skip
    CustomerScores.objects.create(
        customer=people["bob"], rfm_cell="lost", churn_risk=0.90, clv_12m=Decimal("20"),
        p_alive=0.05, rfm_recency=1, lifecycle_stage="lapsed", cluster=0,
    )  # fmt: skip
    CustomerScores.objects.create(
        customer=people["dee"], rfm_cell="new", churn_risk=0.40, clv_12m=Decimal("150"),
        p_alive=0.7, rfm_recency=5, lifecycle_stage="new", cluster=1,
    )  # fmt: skip
    ConsentFactory(customer=people["ada"], purpose="email_marketing", granted=True,
                   recorded_at=now - 5 * DAY)  # fmt: skip
    ConsentFactory(customer=people["bob"], purpose="email_marketing", granted=True,
                   recorded_at=now - 5 * DAY)  # fmt: skip
    ConsentFactory(customer=people["bob"], purpose="email_marketing", granted=False,
                   recorded_at=now - 2 * DAY)  # fmt: skip
    return Shop(now=now, customers=people, dress=dress, boots=boots)
