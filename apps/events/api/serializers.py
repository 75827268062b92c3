"""Events API shapes: orders with their lines, behaviour events, reviews and social posts."""

from rest_framework import serializers

from apps.events.choices import SocialPlatform
from apps.events.models import Event, Order, OrderLine, Review, SocialPost

_CUSTOMER_HELP = "External id of the customer; null when not known."
_PRODUCT_HELP = "SKU of the product; null when none or not in the catalogue."


def _customer_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="external_id", read_only=True, help_text=_CUSTOMER_HELP
    )


def _product_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="sku", read_only=True, help_text=_PRODUCT_HELP)


class OrderLineSerializer(serializers.ModelSerializer):
    """One product line of an order."""

    title = serializers.CharField(
        source="product.title",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Title of the product; null when the SKU is not in the catalogue.",
    )

    class Meta:
        model = OrderLine
        fields = ["sku", "title", "quantity", "unit_price", "discount", "line_total"]
        read_only_fields = fields
        extra_kwargs = {
            "sku": {"help_text": "SKU at the time of sale."},
            "quantity": {"help_text": "Units bought."},
            "unit_price": {"help_text": "Price of one unit."},
            "discount": {"help_text": "Discount on the whole line."},
            "line_total": {"help_text": "quantity x unit_price - discount."},
        }


class OrderSerializer(serializers.ModelSerializer):
    """A purchase with its lines. Revenue counts paid, shipped and completed orders."""

    customer = _customer_field()
    lines = OrderLineSerializer(many=True, read_only=True, help_text="The order's lines.")

    class Meta:
        model = Order
        fields = [
            "external_id",
            "customer",
            "status",
            "channel",
            "placed_at",
            "currency",
            "subtotal",
            "discount_total",
            "shipping_total",
            "total",
            "coupon_code",
            "campaign",
            "lines",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "external_id": {"help_text": "The shop's order id."},
            "status": {"help_text": "pending, paid, shipped, completed, cancelled or refunded."},
            "channel": {"help_text": "Where it was sold: web, app, marketplace or store."},
            "currency": {"help_text": "ISO 4217 currency code."},
            "subtotal": {"help_text": "Sum of the line totals, before the order discount."},
            "discount_total": {"help_text": "Discount on the whole order."},
            "shipping_total": {"help_text": "Shipping charged."},
            "total": {"help_text": "What the customer paid: subtotal - discount + shipping."},
            "coupon_code": {"help_text": "Coupon used, if any."},
            "campaign": {"help_text": "Attributed campaign, if any."},
        }


class EventSerializer(serializers.ModelSerializer):
    """A behaviour event (page view, add to cart, purchase ...)."""

    customer = _customer_field()
    product = _product_field()

    class Meta:
        model = Event
        fields = [
            "event_id",
            "source",
            "event_type",
            "name",
            "customer",
            "anonymous_id",
            "session_id",
            "product",
            "properties",
            "occurred_at",
            "received_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "event_id": {"help_text": "Client id of the event (message_id); unique per source."},
            "event_type": {"help_text": "Normalised type: page_view, product_view, purchase ..."},
            "session_id": {"help_text": "Client session id, if any."},
            "properties": {"help_text": "Event properties as sent by the client."},
        }


class ReviewSerializer(serializers.ModelSerializer):
    """A product review."""

    product = serializers.SlugRelatedField(
        slug_field="sku", read_only=True, help_text="SKU of the reviewed product."
    )
    customer = _customer_field()

    class Meta:
        model = Review
        fields = [
            "external_id",
            "source",
            "product",
            "customer",
            "rating",
            "title",
            "text",
            "language",
            "reviewed_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "source": {"help_text": "Where the review comes from: shop, marketplace ..."},
            "rating": {"help_text": "Stars, 1 to 5."},
            "title": {"help_text": "Headline of the review."},
            "text": {"help_text": "Body of the review."},
        }


class SocialPostSerializer(serializers.ModelSerializer):
    """A public post about the shop or its products on a social platform."""

    customer = _customer_field()
    product = _product_field()

    class Meta:
        model = SocialPost
        fields = [
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
        ]
        read_only_fields = fields
        extra_kwargs = {
            "platform": {"help_text": "twitter, instagram, facebook, weibo, xiaohongshu ..."},
            "author_handle": {"help_text": "Handle of the author on the platform."},
            "text": {"help_text": "Text of the post."},
            "language": {"help_text": "Language of the text: en, zh ..."},
            "likes": {"help_text": "Likes when last seen."},
            "shares": {"help_text": "Shares when last seen."},
            "posted_at": {"help_text": "When it was posted."},
        }


# ---------- Webhook-style intake of reviews and social posts ----------

MAX_WEBHOOK_ITEMS = 500


class ReviewInputSerializer(serializers.Serializer):
    """A review as a review platform or the shop sends it; (source, external_id) identifies it."""

    external_id = serializers.CharField(
        max_length=128, help_text="The review's id at the source: the idempotency key."
    )
    source = serializers.CharField(
        max_length=64,
        required=False,
        default="shop",
        help_text="Where the review comes from: shop (default), trustpilot, amazon ...",
    )
    product = serializers.CharField(max_length=64, help_text="SKU of the reviewed product.")
    customer = serializers.CharField(
        max_length=128,
        required=False,
        default="",
        allow_blank=True,
        help_text="External id of the customer who wrote it, if known (must exist).",
    )
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="Stars, 1 to 5.")
    title = serializers.CharField(
        max_length=255,
        required=False,
        default="",
        allow_blank=True,
        help_text="Headline of the review.",
    )
    text = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=20_000,
        help_text="Body of the review.",
    )
    language = serializers.CharField(
        max_length=8, required=False, default="", allow_blank=True, help_text="en, zh ..."
    )
    reviewed_at = serializers.DateTimeField(
        help_text="When the review was written (ISO 8601 with a time zone)."
    )

    def to_service(self) -> dict:
        """The validated review as keyword arguments of `review_upsert`."""
        data = dict(self.validated_data)
        data["product_sku"] = data.pop("product")
        data["customer_external_id"] = data.pop("customer")
        return data


class SocialPostInputSerializer(serializers.Serializer):
    """A post as a crawler or a platform's webhook sends it; (platform, external_id) identifies
    it."""

    platform = serializers.ChoiceField(
        choices=SocialPlatform.choices,
        help_text="twitter, instagram, facebook, weibo, xiaohongshu, tiktok or other.",
    )
    external_id = serializers.CharField(
        max_length=128, help_text="The platform's post id: the idempotency key with platform."
    )
    text = serializers.CharField(max_length=20_000, help_text="Text of the post.")
    posted_at = serializers.DateTimeField(
        help_text="When it was posted (ISO 8601 with a time zone)."
    )
    author_handle = serializers.CharField(
        max_length=128,
        required=False,
        default="",
        allow_blank=True,
        help_text="Handle of the author on the platform.",
    )
    likes = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text="Likes when seen."
    )
    shares = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text="Shares when seen."
    )
    language = serializers.CharField(
        max_length=8, required=False, default="", allow_blank=True, help_text="en, zh ..."
    )
    product = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="SKU of the product the post is about, if any (must exist).",
    )
    customer = serializers.CharField(
        max_length=128,
        required=False,
        default="",
        allow_blank=True,
        help_text="External id of the customer who posted, if known (must exist).",
    )

    def to_service(self) -> dict:
        """The validated post as keyword arguments of `social_post_upsert`."""
        data = dict(self.validated_data)
        data["product_sku"] = data.pop("product")
        data["customer_external_id"] = data.pop("customer")
        return data


def _items_field(item_serializer: type[serializers.Serializer], what: str) -> serializers.Field:
    return item_serializer(
        many=True,
        help_text=f"Up to {MAX_WEBHOOK_ITEMS} {what}; each is stored or refused on its own.",
    )


class ReviewBatchInputSerializer(serializers.Serializer):
    """Many reviews in one request (a crawler's batch)."""

    items = _items_field(ReviewInputSerializer, "reviews")


class SocialPostBatchInputSerializer(serializers.Serializer):
    """Many posts in one request (a crawler's batch)."""

    items = _items_field(SocialPostInputSerializer, "posts")


class ItemOutcomeSerializer(serializers.Serializer):
    """What became of one item of a batch."""

    index = serializers.IntegerField(help_text="Position of the item in `items`.")
    external_id = serializers.CharField(help_text="The item's external_id as sent (may be empty).")
    reason = serializers.CharField(required=False, help_text="Why it was refused.")
    field = serializers.CharField(
        required=False, help_text="The refused field, e.g. rating or product."
    )


class ItemBatchResultSerializer(serializers.Serializer):
    """Outcome of a batch: every item is in exactly one list."""

    created = ItemOutcomeSerializer(many=True, help_text="Stored now.")
    updated = ItemOutcomeSerializer(
        many=True, help_text="Known already: updated with what was sent (or unchanged)."
    )
    rejected = ItemOutcomeSerializer(
        many=True, help_text="Refused, with the reason and field; nothing of them is stored."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="created, updated, rejected."
    )
