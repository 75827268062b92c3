"""Plain, column-oriented rows the engine produces and the loader inserts.

Pure: no Django. Columns are parallel lists (cheap to append in the generating loops, cheap to
zip into model instances). Conventions the loader relies on:

* times are whole seconds since the Unix epoch, UTC;
* money is in integer cents (the loader turns them into 2-place Decimals);
* `customer` columns hold the customer's position inside its chunk (-1 for none), `product`
  columns the product's position in `CatalogRows.products` (-1 for none), `order` columns the
  order's position inside the chunk, `category`/`brand`/`parent` positions in their lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class CategoryRows:
    slug: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    path: list[str] = field(default_factory=list)


@dataclass
class BrandRows:
    name: list[str] = field(default_factory=list)
    slug: list[str] = field(default_factory=list)


@dataclass
class ProductRows:
    sku: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    category: list[int] = field(default_factory=list)
    brand: list[int] = field(default_factory=list)
    price_cents: list[int] = field(default_factory=list)
    cost_cents: list[int] = field(default_factory=list)
    currency: list[str] = field(default_factory=list)
    stock: list[int] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    is_active: list[bool] = field(default_factory=list)
    launched_at: list[int] = field(default_factory=list)


@dataclass
class CatalogRows:
    categories: CategoryRows
    brands: BrandRows
    products: ProductRows


@dataclass
class CustomerRows:
    external_id: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)
    first_name: list[str] = field(default_factory=list)
    last_name: list[str] = field(default_factory=list)
    gender: list[str] = field(default_factory=list)
    birth_date: list[date] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    signup_at: list[int] = field(default_factory=list)
    acquisition_channel: list[str] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ConsentRows:
    customer: list[int] = field(default_factory=list)
    purpose: list[str] = field(default_factory=list)
    granted: list[bool] = field(default_factory=list)
    recorded_at: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)


@dataclass
class AliasRows:
    customer: list[int] = field(default_factory=list)
    alias: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)


@dataclass
class OrderRows:
    external_id: list[str] = field(default_factory=list)
    customer: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    placed_at: list[int] = field(default_factory=list)
    currency: list[str] = field(default_factory=list)
    subtotal_cents: list[int] = field(default_factory=list)
    discount_cents: list[int] = field(default_factory=list)
    shipping_cents: list[int] = field(default_factory=list)
    total_cents: list[int] = field(default_factory=list)
    coupon_code: list[str] = field(default_factory=list)
    campaign: list[str] = field(default_factory=list)


@dataclass
class OrderLineRows:
    order: list[int] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    sku: list[str] = field(default_factory=list)
    quantity: list[int] = field(default_factory=list)
    unit_price_cents: list[int] = field(default_factory=list)
    discount_cents: list[int] = field(default_factory=list)
    line_total_cents: list[int] = field(default_factory=list)


@dataclass
class EventRows:
    event_id: list[str] = field(default_factory=list)
    event_type: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    customer: list[int] = field(default_factory=list)
    anonymous_id: list[str] = field(default_factory=list)
    session_id: list[str] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    occurred_at: list[int] = field(default_factory=list)


@dataclass
class ReviewRows:
    external_id: list[str] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    customer: list[int] = field(default_factory=list)
    rating: list[int] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    reviewed_at: list[int] = field(default_factory=list)


@dataclass
class SocialPostRows:
    platform: list[str] = field(default_factory=list)
    external_id: list[str] = field(default_factory=list)
    author_handle: list[str] = field(default_factory=list)
    customer: list[int] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    likes: list[int] = field(default_factory=list)
    shares: list[int] = field(default_factory=list)
    posted_at: list[int] = field(default_factory=list)


@dataclass
class CustomerChunk:
    """Everything generated for one block of customers, ready to insert in this order."""

    index: int
    first_customer: int
    customers: CustomerRows
    consents: ConsentRows
    aliases: AliasRows
    orders: OrderRows
    order_lines: OrderLineRows
    events: EventRows
    reviews: ReviewRows
    social_posts: SocialPostRows

    def counts(self) -> dict[str, int]:
        return {
            "customers": len(self.customers.external_id),
            "consents": len(self.consents.customer),
            "customer_aliases": len(self.aliases.alias),
            "orders": len(self.orders.external_id),
            "order_lines": len(self.order_lines.order),
            "events": len(self.events.event_id),
            "reviews": len(self.reviews.external_id),
            "social_posts": len(self.social_posts.external_id),
        }
