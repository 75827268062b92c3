"""Orders of the demo shop: coupons, baskets of real products, shipping and status.

Pure: numpy and the standard library only, no Django. Each purchase moment gets a paid value
drawn from the customer's Gamma-Gamma spend; a basket is filled the way a shopper with that
budget would (department by affinity, then style, season, popularity, price), so realised
order values follow the latent spend up to one item. Promotions in force in the customer's
local time bring their discount and coupon code; first orders may use the welcome coupon and
customers with email consent in force the newsletter coupon.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from apps.core.demo.context import ShopContext
from apps.core.demo.population import Population
from apps.core.demo.rows import OrderLineRows, OrderRows
from apps.core.demo.timeline import HOURS_PER_DAY


@dataclass
class Purchases:
    """Purchase moments of one chunk (from engine.simulate_purchases), by customer then time."""

    customer: np.ndarray
    t_hours: np.ndarray
    buyer: np.ndarray
    dropped: np.ndarray


@dataclass
class OrderFacts:
    """What later phases need to know about each order besides its row."""

    lines: list[list[int]]  # product indices per order
    status: list[str]
    channel: list[str]


def fill_orders(
    shop: ShopContext, index: int, population: Population, purchases: Purchases
) -> tuple[OrderRows, OrderLineRows, OrderFacts]:
    """Turn purchase moments into orders: coupon, basket towards the spend target, status."""
    rng, rnd = shop.rng("orders", index), shop.random("orders", index)
    config = shop.config.behaviour["orders"]
    customer, t = purchases.customer, purchases.t_hours
    count = customer.size
    zone = population.country[customer]
    promotion = shop.timeline.promotion_at(zone, t)
    year = shop.timeline.local_year(zone, t)
    month = shop.timeline.local_month(zone, t)
    shape = np.array([s.gamma_gamma.p for s in shop.segments])[population.segment[customer]]
    paid_value = rng.gamma(shape, 1.0 / population.nu[customer]) * 100.0  # cents
    is_first = np.ones(count, dtype=bool)
    is_first[1:] = customer[1:] != customer[:-1]

    latent = shop.catalog.latent
    prices = latent.price_cents.tolist()
    quality = latent.quality.tolist()
    skus = shop.catalog.rows.products.sku
    promotions = shop.timeline.promotions
    welcome, newsletter = config["welcome_coupon"], config["newsletter_coupon"]
    shipping = config["shipping"]
    free_over = float(shipping["free_over"]) * 100
    fee = round(float(shipping["fee"]) * 100)
    max_lines = int(config["max_lines"])
    overshoot = float(config["budget_overshoot"])
    second_unit = float(config["second_unit_share"])
    cancel_rate, refund_rate = float(config["cancel_rate"]), float(config["refund_rate"])
    refund_effect = float(config["refund_quality_effect"])
    open_hours = float(config["open_status_days"]) * HOURS_PER_DAY
    channel_names = {lang: list(mix) for lang, mix in config["channels"].items()}
    channel_weights = {
        lang: [float(w) for w in mix.values()] for lang, mix in config["channels"].items()
    }

    orders, lines = OrderRows(), OrderLineRows()
    facts = OrderFacts(lines=[], status=[], channel=[])
    for k in range(count):
        c = int(customer[k])
        hour = float(t[k])
        language = population.language[c]
        rate, coupon, campaign = 0.0, "", ""
        promo = int(promotion[k])
        if promo >= 0 and rnd.random() < float(config["promo_coupon_use"]):
            rate = promotions[promo].discount
            coupon = f"{promotions[promo].coupon}{int(year[k]) % 100:02d}"
            campaign = f"{promotions[promo].slug}-{int(year[k])}"
        elif is_first[k] and rnd.random() < float(welcome["share"]):
            rate, coupon = float(welcome["discount"]), str(welcome["code"])
        elif population.email_grant_h[c] <= hour < population.email_withdraw_h[
            c
        ] and rnd.random() < float(newsletter["share"]):
            rate, coupon = float(newsletter["discount"]), str(newsletter["code"])
            campaign = f"newsletter-{int(year[k])}-{int(month[k]):02d}"

        # Fill a basket towards the Gamma-Gamma target value, like a shopper with a budget.
        remaining = float(paid_value[k]) / (1.0 - rate)
        half = 0 if 3 <= int(month[k]) <= 8 else 1
        basket: dict[int, int] = {}
        affinity = population.affinity[c]
        while len(basket) < max_lines:
            limit = remaining * overshoot
            # A shopper whose favourite department has nothing in budget looks elsewhere.
            for _ in range(1 if basket else 4):
                department = min(bisect_right(affinity, rnd.random()), len(affinity) - 1)
                product = shop.picker.pick(
                    rnd,
                    department=department,
                    gender_group=int(population.gender_group[c]),
                    style=int(population.style[c]),
                    half=half,
                    limit_cents=limit,
                )
                if product >= 0:
                    break
            if product < 0:
                if basket:
                    break
                product = shop.picker.cheapest(
                    rnd, department=department, gender_group=int(population.gender_group[c])
                )
            quantity = 2 if rnd.random() < second_unit and 2 * prices[product] <= limit else 1
            basket[product] = basket.get(product, 0) + quantity
            remaining -= prices[product] * quantity
            if remaining < 1000:
                break

        order_number = len(orders.external_id)
        gross = [prices[product] * quantity for product, quantity in basket.items()]
        subtotal = sum(gross)
        discount = round(subtotal * rate)
        spread = 0
        for position, (product, quantity) in enumerate(basket.items()):
            if position == len(basket) - 1:
                share = discount - spread
            else:
                share = discount * gross[position] // subtotal
            spread += share
            lines.order.append(order_number)
            lines.product.append(product)
            lines.sku.append(skus[product])
            lines.quantity.append(quantity)
            lines.unit_price_cents.append(prices[product])
            lines.discount_cents.append(share)
            lines.line_total_cents.append(gross[position] - share)

        channel = rnd.choices(channel_names[language], weights=channel_weights[language])[0]
        ship = 0 if channel == "marketplace" or subtotal - discount >= free_over else fee
        age = shop.hours - hour
        if age < open_hours:
            status = "pending" if age < 24 else "paid" if age < 60 else "shipped"
        else:
            mean_quality = sum(quality[product] for product in basket) / len(basket)
            draw = rnd.random()
            if draw < cancel_rate:
                status = "cancelled"
            elif draw < cancel_rate + refund_rate * math.exp(-refund_effect * mean_quality):
                status = "refunded"
            else:
                status = "completed"
        orders.external_id.append(f"demo-o{shop.next_id('order'):07d}")
        orders.customer.append(c)
        orders.status.append(status)
        orders.channel.append(channel)
        orders.placed_at.append(shop.epoch(hour))
        orders.currency.append(shop.currency)
        orders.subtotal_cents.append(subtotal)
        orders.discount_cents.append(discount)
        orders.shipping_cents.append(ship)
        orders.total_cents.append(subtotal - discount + ship)
        orders.coupon_code.append(coupon)
        orders.campaign.append(campaign)
        facts.lines.append(list(basket))
        facts.status.append(status)
        facts.channel.append(channel)
    return orders, lines, facts
