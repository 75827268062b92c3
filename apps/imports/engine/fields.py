"""What a row of each kind holds: target fields, which are required, and their usual names.

The aliases drive the mapping suggestion (a column named "Email Address" maps to `email`);
docs/imports.md lists the same tables for people.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("customers", "products", "orders", "events", "reviews", "social")


@dataclass(frozen=True)
class FieldSpec:
    """One target field of a kind."""

    name: str
    help: str
    required: bool = False
    aliases: tuple[str, ...] = ()


def _field(name: str, help: str, *aliases: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name=name, help=help, required=required, aliases=aliases)


KIND_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "customers": (
        _field(
            "external_id",
            "The shop's customer id; re-importing it updates the profile.",
            "customer_id", "customer_external_id", "id", "user_id", "customer", "customer_number",
            required=True,
        ),
        _field("email", "Email address (stored trimmed, lower-cased).", "email_address", "e_mail", "mail"),
        _field("phone", "Phone number.", "phone_number", "mobile", "telephone", "tel", "cell"),
        _field("first_name", "Given name.", "firstname", "given_name", "first", "forename"),
        _field("last_name", "Family name.", "lastname", "surname", "family_name", "last"),
        _field("gender", "female, male or other (f/m accepted).", "sex"),
        _field("birth_date", "Date of birth, YYYY-MM-DD.", "birthday", "date_of_birth", "dob", "birthdate"),
        _field("city", "City.", "town"),
        _field("region", "Region, state or province.", "state", "province", "county"),
        _field("country", "ISO 3166-1 alpha-2 code, e.g. DE.", "country_code"),
        _field("language", "Preferred language, e.g. en.", "lang", "locale", "preferred_language"),
        _field(
            "signup_at",
            "When the customer signed up (ISO 8601; no zone means UTC).",
            "signup_date", "signed_up_at", "created_at", "registered_at", "registration_date",
            "joined_at", "date_joined",
        ),
        _field(
            "acquisition_channel",
            "organic, paid_search, social, email, referral, direct or affiliate.",
            "channel", "acquisition_source", "source_channel",
        ),
    ),
    "products": (
        _field(
            "sku",
            "Stock keeping unit; re-importing it updates the product.",
            "product_sku", "product_id", "item_id", "sku_code", "variant_sku", "id",
            required=True,
        ),
        _field("title", "Product name (required for a new product).", "name", "product_name", "product_title"),
        _field("description", "Long description.", "body", "body_html", "details"),
        _field(
            "category",
            "Category name, slug or path such as 'Women > Dresses' or women/dresses.",
            "category_path", "categories", "product_type", "product_category",
        ),
        _field("brand", "Brand name (created on first use).", "vendor", "manufacturer", "brand_name"),
        _field("price", "Selling price (required for a new product).", "list_price", "unit_price", "sale_price"),
        _field("cost", "Unit cost, for margins.", "unit_cost", "cost_price", "cogs"),
        _field("currency", "ISO 4217 code, e.g. EUR (default USD).", "currency_code"),
        _field("stock", "Units in stock.", "inventory", "stock_quantity", "inventory_quantity", "qty", "quantity"),
        _field("tags", "Tags separated by | or ,.", "labels", "keywords"),
        _field("is_active", "true/false, yes/no, 1/0.", "active", "enabled", "published", "available"),
        _field("launched_at", "Launch date (ISO 8601).", "launch_date", "released_at", "release_date", "published_at"),
    ),
    "orders": (
        _field(
            "order_id",
            "The shop's order id; an order that exists already is skipped.",
            "order_external_id", "order_number", "order_no", "order", "external_id", "order_name",
            required=True,
        ),
        _field(
            "customer_id",
            "Customer external id; an unknown one gets a bare customer profile.",
            "customer_external_id", "customer", "user_id", "client_id", "customer_number",
        ),
        _field(
            "placed_at",
            "When the order was placed (ISO 8601; no zone means UTC).",
            "order_date", "ordered_at", "created_at", "date", "timestamp", "purchased_at",
            "processed_at",
            required=True,
        ),
        _field("status", "pending, paid, shipped, completed (default), cancelled or refunded.", "order_status"),
        _field("channel", "web (default), app, marketplace or store.", "sales_channel", "source_name"),
        _field("currency", "ISO 4217 code (default USD).", "currency_code"),
        _field(
            "sku",
            "SKU of the line's product (kept as text when the catalogue lacks it).",
            "product_sku", "item_sku", "lineitem_sku", "product_id", "item_id", "variant_sku",
            required=True,
        ),
        _field("quantity", "Units on the line (default 1).", "qty", "units", "lineitem_quantity", "item_quantity"),
        _field(
            "unit_price",
            "Price of one unit.",
            "price", "item_price", "lineitem_price", "unit_amount",
            required=True,
        ),
        _field("discount", "Discount on the whole line.", "line_discount", "lineitem_discount", "item_discount"),
        _field(
            "discount_total",
            "Order-level discount (taken from the order's first line).",
            "order_discount", "total_discount", "discount_amount", "discounts",
        ),
        _field("shipping_total", "Shipping charged (order-level).", "shipping", "shipping_cost", "shipping_amount"),
        _field("coupon_code", "Coupon used (order-level).", "coupon", "discount_code", "promo_code", "voucher"),
        _field("campaign", "Attributed campaign (order-level).", "utm_campaign", "campaign_name"),
        _field(
            "total",
            "Optional check: the order's total; a total that does not match the lines is refused.",
            "order_total", "grand_total", "total_price",
        ),
    ),
    "events": (
        _field(
            "event_id",
            "The event's id (message_id): re-importing it stores nothing new.",
            "message_id", "messageid", "id", "event_uuid", "uuid",
            required=True,
        ),
        _field("type", "track (default), page, screen, identify or alias.", "message_type", "call_type"),
        _field("event", "Event name for track, e.g. Product Viewed; page name for page.", "event_name", "name", "action"),
        _field("user_id", "Customer external id.", "userid", "customer_id", "customer_external_id", "external_id"),
        _field("anonymous_id", "Browser or device id.", "anonymousid", "anon_id", "device_id", "cookie_id"),
        _field(
            "timestamp",
            "When it happened (ISO 8601 or Unix epoch; no zone means UTC).",
            "occurred_at", "time", "event_time", "created_at", "date", "datetime",
        ),
        _field("properties", "A JSON object of properties (traits for identify).", "props", "properties_json", "traits"),
    ),
    "reviews": (
        _field(
            "external_id",
            "The review's id at the source; without one a stable id is derived from the row.",
            "review_id", "id",
        ),
        _field("source", "Where it was written (default import): shop, trustpilot ...", "platform", "site"),
        _field("sku", "SKU of the reviewed product.", "product_sku", "product_id", "item_id", required=True),
        _field("customer_id", "Reviewer's customer external id.", "customer_external_id", "user_id", "reviewer_id", "customer"),
        _field("rating", "Stars, 1 to 5.", "stars", "score", "star_rating", "rating_value", required=True),
        _field("title", "Headline.", "headline", "summary", "subject"),
        _field("text", "The review text.", "body", "review", "content", "comment", "review_text", "review_body"),
        _field("language", "Language code, e.g. en.", "lang", "locale"),
        _field(
            "reviewed_at",
            "When it was written (ISO 8601).",
            "date", "created_at", "review_date", "submitted_at", "timestamp", "published_at",
            required=True,
        ),
    ),
    "social": (
        _field(
            "platform",
            "twitter, instagram, facebook, weibo, xiaohongshu, tiktok or other.",
            "network", "site", "source",
            required=True,
        ),
        _field("external_id", "The platform's post id.", "post_id", "id", "tweet_id", required=True),
        _field("author_handle", "Author's handle.", "author", "handle", "username", "user", "screen_name"),
        _field("text", "The post's text.", "content", "message", "body", "post", "caption", required=True),
        _field("language", "Language code, e.g. en.", "lang", "locale"),
        _field("likes", "Likes (whole number).", "like_count", "favorites", "favourites", "hearts", "reactions"),
        _field("shares", "Shares (whole number).", "share_count", "retweets", "reposts", "retweet_count"),
        _field(
            "posted_at",
            "When it was posted (ISO 8601).",
            "date", "created_at", "timestamp", "published_at", "post_date",
            required=True,
        ),
        _field("sku", "SKU of the product it is about.", "product_sku", "product_id"),
        _field("customer_id", "Author's customer external id, when known.", "customer_external_id", "user_id"),
    ),
}  # fmt: skip

# Kinds whose unmapped columns are kept (customers: attributes; events: properties).
EXTRA_TARGETS = {"customers": "attributes", "events": "properties"}


def field_names(kind: str) -> tuple[str, ...]:
    return tuple(spec.name for spec in KIND_FIELDS[kind])


def required_fields(kind: str) -> tuple[str, ...]:
    return tuple(spec.name for spec in KIND_FIELDS[kind] if spec.required)
