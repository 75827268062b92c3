"""Behaviour events of the demo shop: sessions around orders, browsing and anonymous visits.

Pure: numpy and the standard library only, no Django. Every customer gets a sign-up event
(`identify`); customers with an anonymous alias browsed before signing up (events with only
the anonymous id); each web/app order comes with its checkout session (page view, search,
product views, add to cart, checkout, purchase) and sometimes research sessions before it;
browsing-only sessions follow the customer's activity (some abandon a cart, some remove an
item); visitors who never sign up browse anonymously. Session times follow the customer's
own rate curve, so browsing peaks when buying does.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from typing import Any

import numpy as np

from apps.core.demo.baskets import OrderFacts, Purchases
from apps.core.demo.catalog import GENDER_GROUP_ANY
from apps.core.demo.context import ShopContext
from apps.core.demo.population import Population
from apps.core.demo.rows import CustomerRows, EventRows, OrderLineRows, OrderRows

EVENT_NAMES = {
    "identify": "Signed Up",
    "page_view": "Page Viewed",
    "product_view": "Product Viewed",
    "search": "Products Searched",
    "add_to_cart": "Product Added",
    "remove_from_cart": "Product Removed",
    "checkout": "Checkout Started",
    "purchase": "Order Completed",
}


def browsing_events(
    shop: ShopContext,
    index: int,
    population: Population,
    purchases: Purchases,
    orders: OrderRows,
    lines: OrderLineRows,
    facts: OrderFacts,
    customers: CustomerRows,
) -> EventRows:
    """Sign-ups, research and browsing sessions, checkout sessions and anonymous visitors."""
    rng, rnd = shop.rng("events", index), shop.random("events", index)
    config = shop.config.behaviour["browsing"]
    events = EventRows()
    n = population.n
    hours = float(shop.hours)
    group = shop.group(population.segment, population.country)
    browse_multiplier = np.array([s.browse_multiplier for s in shop.segments])[population.segment]
    order_customer = np.asarray(orders.customer, dtype=np.int64)
    order_hours = (np.asarray(orders.placed_at, dtype=np.int64) - shop.spec.start_epoch) / 3600.0
    orders_per_customer = np.bincount(order_customer, minlength=n)
    last_order_h = np.full(n, -1.0)
    if order_customer.size:
        last_order_h[order_customer] = order_hours  # sorted by time: the last one wins

    # 1. Ask for sessions (who, kind, window); draw all their times in one vectorised call.
    requests_customer: list[int] = []
    requests_low: list[float] = []
    requests_high: list[float] = []
    requests_kind: list[str] = []
    pre_low, pre_high = (int(x) for x in config["pre_signup_sessions"])
    pre_days = float(config["pre_signup_days"])
    for c in range(n):
        if population.alias[c]:
            for _ in range(rnd.randint(pre_low, pre_high)):
                requests_customer.append(c)
                requests_low.append(max(0.0, population.signup_h[c] - pre_days * 24))
                requests_high.append(population.signup_h[c])
                requests_kind.append("pre_signup")
    research = rng.poisson(float(config["research_sessions_per_order"]), order_customer.size)
    previous_h = population.signup_h.copy()
    for k in range(order_customer.size):
        c = int(order_customer[k])
        low, high = float(previous_h[c]), float(order_hours[k]) - 1.0
        previous_h[c] = order_hours[k]
        if facts.channel[k] == "marketplace" or high <= low:
            continue
        for _ in range(int(research[k])):
            requests_customer.append(c)
            requests_low.append(low)
            requests_high.append(high)
            requests_kind.append("research")
    buyers = purchases.buyer
    active_end = np.where(
        purchases.dropped,
        np.minimum(hours, last_order_h + float(config["post_dropout_days"]) * 24),
        hours,
    )
    active_end = np.where(
        buyers,
        active_end,
        np.minimum(hours, population.signup_h + float(config["non_buyer_active_days"]) * 24),
    )
    active_months = np.maximum(0.0, active_end - population.signup_h) / (24 * 30.4)
    browse_mean = np.where(
        buyers,
        float(config["browse_sessions_per_order"]) * orders_per_customer
        + float(config["browse_sessions_per_active_month"]) * active_months,
        float(config["non_buyer_sessions_mean"]),
    )
    browse = rng.poisson(browse_mean * browse_multiplier)
    for c in range(n):
        for _ in range(int(browse[c])):
            requests_customer.append(c)
            requests_low.append(float(population.signup_h[c]))
            requests_high.append(float(max(active_end[c], population.signup_h[c] + 0.5)))
            requests_kind.append("browse")
    who = np.asarray(requests_customer, dtype=np.int64)
    session_hours = shop.purchase_curves.sample(
        rng,
        group[who],
        np.asarray(requests_low, dtype=float),
        np.minimum(np.asarray(requests_high, dtype=float), hours),
    )

    # 2. Emit the events: sign-ups, browsing sessions, then each order's checkout session.
    app_share = config["app_share"]
    for c in range(n):
        _emit(
            shop,
            events,
            kind="identify",
            customer=c,
            anonymous_id=population.alias[c],
            session=f"demo-{shop.spec.seed}-s{shop.next_id('session')}",
            product=-1,
            properties={"method": "signup", "channel": customers.acquisition_channel[c]},
            at=customers.signup_at[c],
        )
    for r in range(who.size):
        c = int(who[r])
        kind = requests_kind[r]
        language = population.language[c]
        _browse_session(
            shop,
            events,
            rnd,
            customer=-1 if kind == "pre_signup" else c,
            anonymous_id=population.alias[c],
            start=shop.epoch(float(session_hours[r])),
            language=language,
            device="app" if rnd.random() < float(app_share[language]) else "web",
            affinity=population.affinity[c],
            gender_group=int(population.gender_group[c]),
            style=int(population.style[c]),
            cart=kind != "research",
        )
    line_start = 0
    line_order = lines.order
    for k in range(len(orders.external_id)):
        line_end = line_start
        while line_end < len(line_order) and line_order[line_end] == k:
            line_end += 1
        if facts.channel[k] != "marketplace":
            c = orders.customer[k]
            _purchase_session(
                shop,
                events,
                rnd,
                customer=c,
                anonymous_id=population.alias[c],
                language=population.language[c],
                orders=orders,
                order=k,
                products=lines.product[line_start:line_end],
                quantities=lines.quantity[line_start:line_end],
            )
        line_start = line_end

    # 3. Visitors who never sign up: anonymous ids only.
    visitors = int(rng.poisson(float(config["anonymous_sessions_per_customer"]) * n))
    if visitors:
        weights = np.array([float(c["weight"]) for c in shop.countries])
        zone = rng.choice(len(shop.countries), visitors, p=weights / weights.sum())
        times = shop.signup_curves.sample(rng, zone, np.zeros(visitors), np.full(visitors, hours))
        for v in range(visitors):
            language = str(shop.countries[zone[v]]["language"])
            anonymous_id = f"anon-{rnd.getrandbits(64):016x}"
            visits = 2 if rnd.random() < 0.2 else 1
            for visit in range(visits):
                at = float(times[v]) + visit * rnd.uniform(24, 240)
                if at >= hours:
                    break
                _browse_session(
                    shop,
                    events,
                    rnd,
                    customer=-1,
                    anonymous_id=anonymous_id,
                    start=shop.epoch(at),
                    language=language,
                    device="app" if rnd.random() < float(app_share[language]) else "web",
                    affinity=None,
                    gender_group=rnd.choice((0, 0, 1, 2)),
                    style=-1,
                    cart=True,
                )
    return events


def _emit(
    shop: ShopContext,
    events: EventRows,
    *,
    kind: str,
    customer: int,
    anonymous_id: str,
    session: str,
    product: int,
    properties: dict[str, Any],
    at: int,
) -> None:
    events.event_id.append(f"demo-{shop.spec.seed}-{shop.next_id('event')}")
    events.event_type.append(kind)
    events.name.append(EVENT_NAMES[kind])
    events.customer.append(customer)
    events.anonymous_id.append(anonymous_id)
    events.session_id.append(session)
    events.product.append(product)
    events.properties.append(properties)
    events.occurred_at.append(at)


def _pick_browsed(
    shop: ShopContext,
    rnd: random.Random,
    affinity: list[float] | None,
    gender_group: int,
    style: int,
) -> int:
    departments = len(shop.catalog.departments)
    if affinity is None:
        department = rnd.randrange(departments)
    else:
        department = min(bisect_right(affinity, rnd.random()), departments - 1)
    return shop.picker.pick(
        rnd, department=department, gender_group=gender_group, style=style, half=-1
    )


def _session_steps(
    shop: ShopContext,
    rnd: random.Random,
    *,
    language: str,
    device: str,
    first_product: int,
) -> list[tuple[str, int, dict[str, Any]]]:
    config = shop.config.behaviour["browsing"]
    steps: list[tuple[str, int, dict[str, Any]]] = [
        (
            "page_view",
            -1,
            {
                "path": rnd.choice(config["landing_pages"]),
                "referrer": rnd.choice(config["referrers"]),
                "device": device,
            },
        )
    ]
    if rnd.random() < float(config["search_share"]):
        query = shop.texts.search_query(rnd, language, shop.catalog.latent.words[first_product])
        steps.append(("search", -1, {"query": query, "results": rnd.randint(3, 80)}))
    return steps


def _browse_session(
    shop: ShopContext,
    events: EventRows,
    rnd: random.Random,
    *,
    customer: int,
    anonymous_id: str,
    start: int,
    language: str,
    device: str,
    affinity: list[float] | None,
    gender_group: int,
    style: int,
    cart: bool,
) -> None:
    config = shop.config.behaviour["browsing"]
    low, high = (int(x) for x in config["product_views"])
    viewed = [
        _pick_browsed(shop, rnd, affinity, gender_group, style)
        for _ in range(rnd.randint(low, high))
    ]
    viewed = [product for product in viewed if product >= 0]
    if not viewed:
        return
    steps = _session_steps(shop, rnd, language=language, device=device, first_product=viewed[0])
    steps.extend(("product_view", product, shop.product_properties(product)) for product in viewed)
    if cart and rnd.random() < float(config["abandon_cart_share"]):
        added = rnd.sample(viewed, k=min(len(viewed), rnd.choice((1, 1, 2))))
        for product in added:
            properties = shop.product_properties(product)
            properties["quantity"] = 1
            steps.append(("add_to_cart", product, properties))
        if rnd.random() < float(config["remove_from_cart_share"]):
            product = rnd.choice(added)
            steps.append(
                ("remove_from_cart", product, {"sku": shop.catalog.rows.products.sku[product]})
            )
    gap_low, gap_high = (int(x) for x in config["event_gap_seconds"])
    times, at = [], start
    for _ in steps:  # a session cut by the end of the window keeps its first events
        if at >= shop.end_epoch:
            break
        times.append(at)
        at += rnd.randint(gap_low, gap_high)
    _emit_session(shop, events, steps, times, customer=customer, anonymous_id=anonymous_id)


def _purchase_session(
    shop: ShopContext,
    events: EventRows,
    rnd: random.Random,
    *,
    customer: int,
    anonymous_id: str,
    language: str,
    orders: OrderRows,
    order: int,
    products: list[int],
    quantities: list[int],
) -> None:
    config = shop.config.behaviour["browsing"]
    channel = orders.channel[order]
    device = "app" if channel == "app" else "web"
    steps = _session_steps(shop, rnd, language=language, device=device, first_product=products[0])
    related_low, related_high = (int(x) for x in config["related_views"])
    department = int(shop.catalog.latent.department[products[0]])
    for _ in range(rnd.randint(related_low, related_high)):
        related = shop.picker.pick(
            rnd, department=department, gender_group=GENDER_GROUP_ANY, style=-1, half=-1
        )
        if related >= 0 and related not in products:
            steps.append(("product_view", related, shop.product_properties(related)))
    for product in products:
        steps.append(("product_view", product, shop.product_properties(product)))
    for product, quantity in zip(products, quantities, strict=True):
        properties = shop.product_properties(product)
        properties["quantity"] = quantity
        steps.append(("add_to_cart", product, properties))
    subtotal = orders.subtotal_cents[order] / 100
    steps.append(("checkout", -1, {"value": subtotal, "items": sum(quantities)}))
    steps.append(
        (
            "purchase",
            -1,
            {
                "order_id": orders.external_id[order],
                "revenue": orders.total_cents[order] / 100,
                "currency": orders.currency[order],
                "coupon": orders.coupon_code[order],
            },
        )
    )
    gap_low, gap_high = (int(x) for x in config["event_gap_seconds"])
    gaps = [rnd.randint(gap_low, gap_high) for _ in range(len(steps) - 1)]
    times = [orders.placed_at[order] - sum(gaps)]  # the purchase event lands at placed_at
    for gap in gaps:
        times.append(times[-1] + gap)
    _emit_session(shop, events, steps, times, customer=customer, anonymous_id=anonymous_id)


def _emit_session(
    shop: ShopContext,
    events: EventRows,
    steps: list[tuple[str, int, dict[str, Any]]],
    times: list[int],
    *,
    customer: int,
    anonymous_id: str,
) -> None:
    """One session: its steps at the given times (a shorter `times` cuts the session)."""
    session = f"demo-{shop.spec.seed}-s{shop.next_id('session')}"
    for (kind, product, properties), at in zip(steps, times, strict=False):
        _emit(
            shop,
            events,
            kind=kind,
            customer=customer,
            anonymous_id=anonymous_id,
            session=session,
            product=product,
            properties=properties,
            at=at,
        )
