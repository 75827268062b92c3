"""Admin for orders, events, reviews and social posts: history from the shop, shown read-only.

They arrive through ingestion, imports and the demo generator; editing them here would
rewrite what customers did. Reviews and posts may be deleted (moderation of spam).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.errors import Conflict
from apps.events.choices import QuarantineStatus
from apps.events.models import (
    Event,
    MessageReceipt,
    Order,
    OrderLine,
    QuarantinedMessage,
    Review,
    SocialPost,
)
from apps.events.services import quarantine_discard, quarantine_replay


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["sku", "product", "quantity", "unit_price", "discount", "line_total"]
    readonly_fields = fields
    raw_id_fields = ["product"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "customer",
        "status",
        "channel",
        "placed_at",
        "total",
        "currency",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["=external_id", "=customer__external_id", "=coupon_code"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    date_hierarchy = "placed_at"
    ordering = ["-placed_at"]
    inlines = [OrderLineInline]
    fieldsets = [
        (
            None,
            {
                "fields": ["external_id", "customer", "status", "channel", "placed_at"],
                "description": (
                    "An order as the shop reported it. Revenue counts paid, shipped and "
                    "completed orders; the status is the shop's."
                ),
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    "subtotal",
                    "discount_total",
                    "shipping_total",
                    "total",
                    "coupon_code",
                    "campaign",
                ],
                "description": (
                    "subtotal = sum of line totals; total = subtotal - discount + shipping, in "
                    "the order's ISO 4217 currency. Coupon and campaign as attributed."
                ),
            },
        ),
    ]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    # No date_hierarchy: on a table of millions of rows its year/month query scans them all.
    list_display = ["occurred_at", "event_type", "customer", "anonymous_id", "product", "source"]
    list_filter = ["event_type"]
    search_fields = ["=event_id", "=anonymous_id", "=customer__external_id", "=session_id"]
    list_select_related = ["customer", "product"]
    raw_id_fields = ["customer", "product"]
    ordering = ["-occurred_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "event_type",
                    "name",
                    "occurred_at",
                    "received_at",
                    "source",
                    "event_id",
                    "customer",
                    "anonymous_id",
                    "session_id",
                    "product",
                    "properties",
                ],
                "description": (
                    "A behaviour event: its normalised type and original name, when it "
                    "happened and arrived, who (customer or anonymous/session id), which "
                    "product, and the client's properties. (source, event_id) is unique."
                ),
            },
        )
    ]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["reviewed_at", "product", "rating", "title", "customer", "source"]
    list_filter = ["rating", "source", "language"]
    search_fields = ["=product__sku", "=customer__external_id", "title"]
    list_select_related = ["product", "customer"]
    raw_id_fields = ["product", "customer"]
    ordering = ["-reviewed_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "product",
                    "customer",
                    "rating",
                    "title",
                    "text",
                    "language",
                    "reviewed_at",
                    "source",
                    "external_id",
                ],
                "description": (
                    "A product review: stars from 1 to 5, its text and language, and where it "
                    "came from. Delete spam; do not rewrite what a customer wrote."
                ),
            },
        )
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(SocialPost)
class SocialPostAdmin(ReadOnlyAdmin):
    list_display = ["posted_at", "platform", "author_handle", "product", "likes", "shares"]
    list_filter = ["platform", "language"]
    search_fields = ["=external_id", "author_handle", "=product__sku"]
    list_select_related = ["product", "customer"]
    raw_id_fields = ["product", "customer"]
    ordering = ["-posted_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "platform",
                    "external_id",
                    "author_handle",
                    "customer",
                    "product",
                    "text",
                    "language",
                    "likes",
                    "shares",
                    "posted_at",
                ],
                "description": (
                    "A public post about the shop: the platform and its post id (unique "
                    "together), author, linked customer/product, text, and the like and share "
                    "counts when last seen. Delete spam; posts refresh when crawled again."
                ),
            },
        )
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(ReadOnlyAdmin):
    """Messages that were not stored. Replay and discard go through the quarantine services
    (Data > Quarantine in the web UI also lets a user fix the payload before a replay)."""

    list_display = ["received_at", "kind", "status", "source", "message_id", "field", "error"]
    list_filter = ["status", "kind", "received_via", "source"]
    search_fields = ["=message_id", "error"]
    readonly_fields = [
        "kind",
        "status",
        "source",
        "message_id",
        "message_type",
        "payload",
        "raw_body",
        "error",
        "field",
        "received_via",
        "api_key_prefix",
        "received_at",
        "resolved_at",
        "resolution_note",
    ]
    date_hierarchy = "received_at"
    actions = ["replay_selected", "discard_selected"]

    @admin.action(description="Replay selected messages as they are")
    def replay_selected(self, request: HttpRequest, queryset: Any) -> None:
        outcomes = {"replayed": 0, "still refused": 0, "not open": 0}
        for entry_id in queryset.values_list("pk", flat=True):
            try:
                entry, _result = quarantine_replay(entry_id=entry_id)
            except Conflict:
                outcomes["not open"] += 1
                continue
            outcomes[
                "replayed" if entry.status == QuarantineStatus.REPLAYED else "still refused"
            ] += 1
        self.message_user(request, ", ".join(f"{count} {name}" for name, count in outcomes.items()))

    @admin.action(description="Discard selected messages")
    def discard_selected(self, request: HttpRequest, queryset: Any) -> None:
        discarded = 0
        for entry_id in queryset.filter(status=QuarantineStatus.OPEN).values_list("pk", flat=True):
            quarantine_discard(entry_id=entry_id, note=f"Discarded in the admin by {request.user}.")
            discarded += 1
        self.message_user(request, f"{discarded} discarded")


@admin.register(MessageReceipt)
class MessageReceiptAdmin(ReadOnlyAdmin):
    """The idempotency ledger: which message ids of which source were stored, and when."""

    list_display = ["source", "message_id", "occurred_at", "received_at", "fingerprint"]
    list_filter = ["source"]
    search_fields = ["=message_id"]
