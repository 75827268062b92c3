"""The demo shop simulator: a believable fashion shop whose purchase process is known.

Pure: numpy and the standard library only, no Django (house rule "engines are pure"). The
service feeds it a validated `DemoShopConfig` and a `DemoShopSpec`; it yields `CustomerChunk`s
of plain rows (see `rows.py`) that the loader inserts, then describes the latent truth it used.

The purchase process is BG/NBD with Gamma-Gamma spend, per latent segment:

* each customer draws a purchase rate `lambda ~ Gamma(r, alpha)` (per day), a dropout
  probability `p ~ Beta(a, b)` and a spend rate `nu ~ Gamma(q, v)`;
* the first order follows sign-up (same session or after an exponential delay), with the
  segment's `first_purchase_probability`;
* after every repeat order (as in BG/NBD, not after the first one) the customer drops out for
  good with probability `p` (the dropout moment is that order's time); otherwise the next order arrives as a Poisson process with rate
  `lambda * curve(t)`, where the curve (seasonality, weekday, hour, promotions, normalised to
  mean 1) is evaluated in the customer's local time;
* each order's paid merchandise value is `Gamma(p_gg, nu)`; a basket of real products is
  filled to approach it, so realised totals follow the Gamma-Gamma truth up to one item.

Determinism: every chunk of `CHUNK_SIZE` customers and every phase draws from its own stream,
`SeedSequence(seed, spawn_key=(phase, chunk))`, so the output depends only on the seed, the
number of customers, the window and the config files.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from apps.core.demo.baskets import Purchases, fill_orders
from apps.core.demo.config import DemoShopConfig
from apps.core.demo.context import DemoShopSpec, ShopContext, window_start
from apps.core.demo.opinions import write_reviews, write_social_posts
from apps.core.demo.population import Population, draw_population
from apps.core.demo.rows import CatalogRows, CustomerChunk, OrderRows
from apps.core.demo.sessions import browsing_events
from apps.core.demo.timeline import HOURS_PER_DAY

__all__ = ["CHUNK_SIZE", "DemoShopSimulator", "DemoShopSpec", "GroundTruth", "window_start"]

CHUNK_SIZE = 1000
GENERATOR_VERSION = 1


@dataclass
class GroundTruth:
    """What the simulation knows and a model should recover."""

    header: dict[str, Any]
    customers: Iterator[dict[str, Any]]
    products: list[dict[str, Any]]
    social_posts: list[dict[str, Any]]


def simulate_purchases(shop: ShopContext, index: int, population: Population) -> Purchases:
    """The BG/NBD process for one chunk: first order after sign-up, then buy-or-drop cycles."""
    rng = shop.rng("purchases", index)
    n = population.n
    first_purchase = shop.config.behaviour["first_purchase"]
    probability = np.array([s.first_purchase_probability for s in shop.segments])
    buyer = rng.random(n) < probability[population.segment]
    same_session = rng.random(n) < float(first_purchase["same_session_share"])
    low, high = (float(x) for x in first_purchase["same_session_minutes"])
    delay = np.where(
        same_session,
        rng.uniform(low, high, n) / 60.0,
        rng.exponential(float(first_purchase["delay_mean_days"]) * HOURS_PER_DAY, n),
    )
    t = population.signup_h + delay
    buyer &= t < shop.hours
    group = shop.group(population.segment, population.country)
    dropped = np.zeros(n, dtype=bool)
    customers: list[np.ndarray] = []
    times: list[np.ndarray] = []
    active = np.nonzero(buyer)[0]
    first_round = True
    while active.size:  # one round per order number, vectorised over the customers still buying
        customers.append(active)
        times.append(t[active].copy())
        # BG/NBD: dropout may follow any repeat order, never the first (trial) one.
        drop = rng.random(active.size) < population.p[active]
        if first_round:
            drop[:] = False
            first_round = False
        dropped[active[drop]] = True
        alive = active[~drop]
        u = (
            shop.purchase_curves.cumulative(group[alive], t[alive])
            + rng.exponential(1.0, alive.size) / population.lam[alive]
        )
        within = u < shop.purchase_curves.totals[group[alive]]
        alive = alive[within]
        t[alive] = shop.purchase_curves.inverse(group[alive], u[within])
        active = alive
    customer = np.concatenate(customers) if customers else np.zeros(0, dtype=np.int64)
    when = np.concatenate(times) if times else np.zeros(0)
    order = np.lexsort((when, customer))
    return Purchases(customer=customer[order], t_hours=when[order], buyer=buyer, dropped=dropped)


class DemoShopSimulator:
    """Generates the shop chunk by chunk; memory stays bounded by `CHUNK_SIZE` customers."""

    def __init__(self, config: DemoShopConfig, spec: DemoShopSpec) -> None:
        if spec.customers < 1:
            raise ValueError("customers must be at least 1")
        if spec.n_days < 28:
            raise ValueError("the window must span at least 28 days")
        self.shop = ShopContext(config, spec)
        total = spec.customers
        self._truth: dict[str, np.ndarray] = {
            "segment": np.zeros(total, dtype=np.int16),
            "lambda": np.zeros(total),
            "p": np.zeros(total),
            "spend_mean": np.zeros(total),
            "dropout_s": np.full(total, -1, dtype=np.int64),
            "first_order_s": np.full(total, -1, dtype=np.int64),
            "n_orders": np.zeros(total, dtype=np.int32),
            "country": np.zeros(total, dtype=np.int16),
            "style": np.zeros(total, dtype=np.int16),
            "top_department": np.zeros(total, dtype=np.int16),
            "email_marketing": np.zeros(total, dtype=bool),
        }
        products = len(self.shop.catalog.rows.products.sku)
        self._review_count = np.zeros(products, dtype=np.int64)
        self._rating_sum = np.zeros(products, dtype=np.int64)
        self._social_truth: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {
            "categories": len(self.shop.catalog.rows.categories.slug),
            "brands": len(self.shop.catalog.rows.brands.slug),
            "products": products,
        }

    @property
    def catalog(self) -> CatalogRows:
        return self.shop.catalog.rows

    def chunks(self) -> Iterator[CustomerChunk]:
        """Customer chunks in order; consume them all before asking for `ground_truth()`."""
        customers = self.shop.spec.customers
        for index, first in enumerate(range(0, customers, CHUNK_SIZE)):
            chunk = self._chunk(index, first, min(CHUNK_SIZE, customers - first))
            for key, value in chunk.counts().items():
                self.counts[key] = self.counts.get(key, 0) + value
            yield chunk

    def _chunk(self, index: int, first: int, n: int) -> CustomerChunk:
        shop = self.shop
        customers, consents, aliases, population = draw_population(shop, index, first, n)
        purchases = simulate_purchases(shop, index, population)
        orders, lines, facts = fill_orders(shop, index, population, purchases)
        events = browsing_events(
            shop, index, population, purchases, orders, lines, facts, customers
        )
        reviews = write_reviews(shop, index, population, orders, facts)
        social, sentiments = write_social_posts(shop, index, population, orders, facts)
        np.add.at(self._review_count, reviews.product, 1)
        np.add.at(self._rating_sum, reviews.product, reviews.rating)
        skus = self.catalog.products.sku
        self._social_truth.extend(
            {
                "platform": platform,
                "external_id": external_id,
                "sku": skus[product],
                "sentiment": sentiment,
            }
            for platform, external_id, product, sentiment in zip(
                social.platform, social.external_id, social.product, sentiments, strict=True
            )
        )
        self._record_truth(population, purchases, orders)
        return CustomerChunk(
            index=index,
            first_customer=first,
            customers=customers,
            consents=consents,
            aliases=aliases,
            orders=orders,
            order_lines=lines,
            events=events,
            reviews=reviews,
            social_posts=social,
        )

    def _record_truth(
        self, population: Population, purchases: Purchases, orders: OrderRows
    ) -> None:
        span = slice(population.first, population.first + population.n)
        truth = self._truth
        truth["segment"][span] = population.segment
        truth["lambda"][span] = population.lam
        truth["p"][span] = population.p
        shape = np.array([s.gamma_gamma.p for s in self.shop.segments])[population.segment]
        truth["spend_mean"][span] = shape / population.nu
        truth["country"][span] = population.country
        truth["style"][span] = population.style
        truth["top_department"][span] = population.top_department
        truth["email_marketing"][span] = population.email_consent_final
        customer = np.asarray(orders.customer, dtype=np.int64)
        placed = np.asarray(orders.placed_at, dtype=np.int64)
        truth["n_orders"][span] = np.bincount(customer, minlength=population.n)
        first_order = np.full(population.n, -1, dtype=np.int64)
        last_order = np.full(population.n, -1, dtype=np.int64)
        if customer.size:
            first_order[customer[::-1]] = placed[::-1]
            last_order[customer] = placed
        truth["first_order_s"][span] = first_order
        truth["dropout_s"][span] = np.where(purchases.dropped, last_order, -1)

    def ground_truth(self) -> GroundTruth:
        """The latent truth of the whole run (after every chunk was consumed)."""
        spec = self.shop.spec
        truth = self._truth
        segments = self.shop.segments
        per_segment: dict[str, Any] = {}
        for number, segment in enumerate(segments):
            members = truth["segment"] == number
            buyers = members & (truth["n_orders"] > 0)
            per_segment[segment.name] = {
                "share": segment.share,
                "bgnbd": segment.bgnbd.as_dict(),
                "bgnbd_weeks": {**segment.bgnbd.as_dict(), "alpha": segment.bgnbd.alpha / 7.0},
                "gamma_gamma": segment.gamma_gamma.as_dict(),
                "expected": {
                    "mean_lambda_per_day": segment.bgnbd.mean_lambda,
                    "mean_dropout_p": segment.bgnbd.mean_p,
                    "mean_spend": segment.gamma_gamma.mean_spend,
                },
                "first_purchase_probability": segment.first_purchase_probability,
                "promo_sensitivity": segment.promo_sensitivity,
                "realised": {
                    "customers": int(members.sum()),
                    "buyers": int(buyers.sum()),
                    "mean_lambda_per_day": _mean(truth["lambda"][members]),
                    "mean_dropout_p": _mean(truth["p"][members]),
                    "mean_spend": _mean(truth["spend_mean"][members]),
                    "mean_orders": _mean(truth["n_orders"][members]),
                    "dropped_out": int((members & (truth["dropout_s"] >= 0)).sum()),
                },
            }
        header = {
            "generator": "smartmkt.demo_shop",
            "version": GENERATOR_VERSION,
            "seed": spec.seed,
            "parameters": {
                "customers": spec.customers,
                "months": spec.months,
                "start": spec.start.isoformat(),
                "end": spec.end.isoformat(),
                "window": "[start, end) in UTC; nothing happens on or after end",
                "chunk_size": CHUNK_SIZE,
                "time_unit": "days",
                "currency": self.shop.config.catalog["shop"].get("currency", "USD"),
                "model": (
                    "BG/NBD: first order after sign-up, then orders at rate lambda ~ "
                    "Gamma(r, alpha) per day; after each repeat order (not the first) dropout "
                    "with p ~ Beta(a, b), dropout_at = that order's time; rate modulated by a mean-1 curve (season, weekday, hour, "
                    "promotions) in local time. Gamma-Gamma: paid merchandise value per order "
                    "(subtotal - discount) ~ Gamma(p, nu), nu ~ Gamma(q, v). n_orders counts "
                    "every order, cancelled and refunded ones included."
                ),
                "promotions": self.shop.timeline.promotion_windows(),
                "calendar": {
                    key: self.shop.config.calendar[key] for key in ("monthly", "weekday", "hourly")
                },
            },
            "segments": per_segment,
            "counts": dict(self.counts),
        }
        return GroundTruth(
            header=header,
            customers=self._customer_truth(),
            products=self._product_truth(),
            social_posts=self._social_truth,
        )

    def _customer_truth(self) -> Iterator[dict[str, Any]]:
        truth = self._truth
        names = [s.name for s in self.shop.segments]
        codes = [str(c["code"]) for c in self.shop.countries]
        styles, departments = self.shop.catalog.styles, self.shop.catalog.departments
        for i in range(self.shop.spec.customers):
            dropout = int(truth["dropout_s"][i])
            first_order = int(truth["first_order_s"][i])
            yield {
                "external_id": f"demo-c{i + 1:06d}",
                "segment": names[int(truth["segment"][i])],
                "lambda": round(float(truth["lambda"][i]), 7),
                "p": round(float(truth["p"][i]), 6),
                "spend_mean": round(float(truth["spend_mean"][i]), 2),
                "n_orders": int(truth["n_orders"][i]),
                "first_order_at": _iso(first_order) if first_order >= 0 else None,
                "dropout_at": _iso(dropout) if dropout >= 0 else None,
                "dropout_date": _iso(dropout)[:10] if dropout >= 0 else None,
                "alive_at_end": dropout < 0,
                "country": codes[int(truth["country"][i])],
                "style": styles[int(truth["style"][i])],
                "top_department": departments[int(truth["top_department"][i])],
                "email_marketing_consent": bool(truth["email_marketing"][i]),
            }

    def _product_truth(self) -> list[dict[str, Any]]:
        latent = self.shop.catalog.latent
        config = self.shop.config.behaviour["reviews"]
        records = []
        for i, sku in enumerate(self.shop.catalog.rows.products.sku):
            quality = float(latent.quality[i])
            expected = _expected_rating(
                float(config["base"]) + float(config["quality_effect"]) * quality,
                math.hypot(float(config["customer_sd"]), float(config["noise_sd"])),
            )
            count = int(self._review_count[i])
            records.append(
                {
                    "sku": sku,
                    "quality": round(quality, 4),
                    "sentiment": "positive"
                    if quality > 0.5
                    else "negative"
                    if quality < -0.5
                    else "neutral",
                    "expected_rating": round(expected, 3),
                    "popularity": round(float(latent.popularity[i]), 6),
                    "n_reviews": count,
                    "mean_rating": round(int(self._rating_sum[i]) / count, 3) if count else None,
                }
            )
        return records


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mean(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 6) if values.size else None


def _expected_rating(mean: float, sd: float) -> float:
    """E[clip(round(X), 1, 5)] for X ~ Normal(mean, sd)."""

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))

    edges = [-math.inf, 1.5, 2.5, 3.5, 4.5, math.inf]
    return sum(star * (cdf(edges[star]) - cdf(edges[star - 1])) for star in range(1, 6))
