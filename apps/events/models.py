"""Orders, behaviour events, reviews and social posts."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.core.models import BaseModel
from apps.events.choices import (
    EventType,
    OrderStatus,
    QuarantineKind,
    QuarantineStatus,
    SalesChannel,
    SocialPlatform,
)


class Order(BaseModel):
    """A purchase. Revenue counts orders in paid/shipped/completed status."""

    external_id = models.CharField(max_length=128, unique=True, help_text="The shop's order id.")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.COMPLETED
    )
    channel = models.CharField(
        max_length=16, choices=SalesChannel.choices, default=SalesChannel.WEB
    )
    placed_at = models.DateTimeField(help_text="When the customer placed the order.")
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, help_text="Before discount.")
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="What the customer paid."
    )
    coupon_code = models.CharField(max_length=64, blank=True, db_index=True)
    campaign = models.CharField(
        max_length=128, blank=True, help_text="Attributed campaign, if any."
    )
    quality_flags = models.JSONField(
        default=list,
        blank=True,
        help_text="Set by the cleaning pipeline, e.g. amount_outlier, negative_amount.",
    )

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["customer", "placed_at"], name="order_customer_time"),
            models.Index(fields=["placed_at"], name="order_time"),
            models.Index(fields=["status", "placed_at"], name="order_status_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_total__gte=0), name="order_discount_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class OrderLine(models.Model):
    """One product line of an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    sku = models.CharField(max_length=64, help_text="SKU at the time of sale.")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["product", "order"], name="orderline_product")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="orderline_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Event(models.Model):
    """A behaviour event. `event_id` is the client's id (the API's message_id), unique per source.

    On PostgreSQL the table is partitioned by month of `occurred_at` (primary key (id,
    occurred_at)); `apps.events.services.partitions` keeps partitions ahead of time. Rows are
    written in bulk by `apps.events.services.ingest` only, which records each (source,
    event_id) in MessageReceipt first, so a re-sent message is stored once.
    """

    event_type = models.CharField(max_length=32, choices=EventType.choices, db_index=False)
    name = models.CharField(
        max_length=128, blank=True, help_text="Original event name, e.g. 'Product Viewed'."
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    anonymous_id = models.CharField(max_length=128, blank=True, help_text="Browser/device id.")
    session_id = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(help_text="When it happened on the client.")
    received_at = models.DateTimeField(
        default=timezone.now, help_text="When the server received it."
    )
    source = models.CharField(
        max_length=64, default="web", help_text="web, app, api, import, demo ..."
    )
    event_id = models.CharField(
        max_length=128, help_text="Client id of the event; unique per source."
    )

    context = models.JSONField(
        default=dict, blank=True, help_text="Client context: page, user agent, library, ip ..."
    )

    class Meta:
        ordering = ["-occurred_at"]
        # (source, event_id) is unique through MessageReceipt: on PostgreSQL this table is
        # partitioned by month of occurred_at, and a partitioned table cannot hold a unique
        # constraint without the partition key.
        indexes = [
            # Partial: anonymous events and events without a product (most page views) add
            # nothing to these two, which keeps bulk writes cheaper.
            models.Index(
                fields=["customer", "occurred_at"],
                name="event_customer_time",
                condition=models.Q(customer__isnull=False),
            ),
            models.Index(
                fields=["product", "occurred_at"],
                name="event_product_time",
                condition=models.Q(product__isnull=False),
            ),
            models.Index(fields=["event_type", "occurred_at"], name="event_type_time"),
            models.Index(fields=["anonymous_id", "occurred_at"], name="event_anonymous_time"),
            models.Index(fields=["occurred_at"], name="event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.occurred_at:%Y-%m-%d %H:%M}"


class MessageReceipt(models.Model):
    """One accepted message id per source: the idempotency ledger of event ingestion.

    The insert of this row (ON CONFLICT DO NOTHING) decides, under concurrency, which copy of a
    message is stored; `fingerprint` tells a natural duplicate (same payload) from a conflict.
    """

    source = models.CharField(max_length=64)
    message_id = models.CharField(max_length=128)
    fingerprint = models.CharField(
        max_length=32, help_text="blake2b-128 of the canonical message (sent_at left out)."
    )
    occurred_at = models.DateTimeField(help_text="occurred_at of the stored event.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "message_id"], name="receipt_source_message_unique"
            ),
        ]
        indexes = [models.Index(fields=["received_at"], name="receipt_received")]

    def __str__(self) -> str:
        return f"{self.source}:{self.message_id}"


class QuarantinedMessage(BaseModel):
    """A message that was not stored: the raw payload, why, and what became of it.

    Nothing sent to SmartMkt is silently dropped (Snowplow's failed events): rejected and
    conflicting messages, unparseable request bodies and failed import rows of events land
    here, can be fixed and replayed through the same pipeline, or discarded.
    """

    kind = models.CharField(max_length=16, choices=QuarantineKind.choices)
    status = models.CharField(
        max_length=16, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    source = models.CharField(max_length=64, blank=True)
    message_id = models.CharField(max_length=128, blank=True)
    message_type = models.CharField(max_length=16, blank=True, help_text="track, identify ...")
    payload = models.JSONField(
        null=True, blank=True, help_text="The message as received (null when not JSON)."
    )
    raw_body = models.TextField(blank=True, help_text="The body as received when not JSON.")
    error = models.TextField(help_text="Why it was not stored.")
    field = models.CharField(max_length=128, blank=True, help_text="The offending field.")
    received_via = models.CharField(
        max_length=32, default="api", help_text="api, batch, pixel, beacon, import ..."
    )
    api_key_prefix = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, help_text="Replay outcome or discard reason.")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="quarantine_status_time"),
            models.Index(fields=["source", "message_id"], name="quarantine_message"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id or '(no id)'}: {self.error[:60]}"


class Review(BaseModel):
    """A product review with its star rating and text."""

    external_id = models.CharField(
        max_length=128, blank=True, help_text="Id at the source, if any."
    )
    source = models.CharField(max_length=64, default="shop")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True, help_text="en, zh ...")
    reviewed_at = models.DateTimeField(help_text="When the review was written.")

    class Meta:
        ordering = ["-reviewed_at"]
        indexes = [models.Index(fields=["product", "reviewed_at"], name="review_product_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="review_rating_1_to_5",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="review_source_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}* {self.title or self.text[:40]}"


class SocialPost(BaseModel):
    """A public post or comment about the shop or its products on a social platform."""

    platform = models.CharField(max_length=20, choices=SocialPlatform.choices)
    external_id = models.CharField(max_length=128, help_text="The platform's post id.")
    author_handle = models.CharField(max_length=128, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="social_posts",
    )
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="social_posts",
    )
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    likes = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["-posted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="socialpost_platform_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["posted_at"], name="socialpost_time")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"
