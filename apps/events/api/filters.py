"""Query parameters of order, event, review and social-post lists (applied by the selectors)."""

import django_filters
from drf_spectacular.utils import extend_schema_field

from apps.events.choices import EventType, OrderStatus, SalesChannel, SocialPlatform
from apps.events.models import Event, Order, Review, SocialPost

_CUSTOMER_HELP = "External id (or anonymous alias) of the customer."
_SINCE_HELP = "Only rows at or after this time (ISO 8601, e.g. 2026-01-31T00:00:00Z)."
_UNTIL_HELP = "Only rows before this time (ISO 8601)."
_RATINGS = [(stars, str(stars)) for stars in range(1, 6)]


def _stars(field_name: str, help_text: str) -> django_filters.TypedChoiceFilter:
    """A 1-5 star filter, documented as an integer (django-filter leaves its type unknown)."""
    star_filter = django_filters.TypedChoiceFilter(
        field_name=field_name, choices=_RATINGS, coerce=int, help_text=help_text
    )
    schema = {"type": "integer", "minimum": 1, "maximum": 5, "description": help_text}
    return extend_schema_field(schema)(star_filter)


def _since(field_name: str = "since") -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(field_name=field_name, help_text=_SINCE_HELP)


def _until() -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(field_name="until", help_text=_UNTIL_HELP)


class CustomerOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="status", choices=OrderStatus.choices, help_text="Order status."
    )
    channel = django_filters.ChoiceFilter(
        field_name="channel", choices=SalesChannel.choices, help_text="Sales channel."
    )
    since = _since()
    until = _until()

    class Meta:
        model = Order
        fields: list[str] = []


class OrderFilter(CustomerOrderFilter):
    customer = django_filters.CharFilter(
        field_name="customer_external_id", max_length=128, help_text=_CUSTOMER_HELP
    )

    class Meta(CustomerOrderFilter.Meta):
        pass


class CustomerEventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        field_name="event_type", choices=EventType.choices, help_text="Event type."
    )
    since = _since()
    until = _until()

    class Meta:
        model = Event
        fields: list[str] = []


class EventFilter(CustomerEventFilter):
    customer = django_filters.CharFilter(
        field_name="customer_external_id", max_length=128, help_text=_CUSTOMER_HELP
    )
    anonymous_id = django_filters.CharFilter(
        field_name="anonymous_id", max_length=128, help_text="Browser/device id."
    )
    product = django_filters.CharFilter(
        field_name="product_sku", max_length=64, help_text="SKU of the product."
    )
    source = django_filters.CharFilter(
        field_name="source", max_length=64, help_text="Where events came from: web, app, api ..."
    )

    class Meta(CustomerEventFilter.Meta):
        pass


class ReviewFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(
        field_name="product_sku", max_length=64, help_text="SKU of the reviewed product."
    )
    customer = django_filters.CharFilter(
        field_name="customer_external_id", max_length=128, help_text=_CUSTOMER_HELP
    )
    rating = _stars("rating", "Exactly this many stars.")
    min_rating = _stars("min_rating", "At least this many stars.")
    max_rating = _stars("max_rating", "At most this many stars.")
    since = _since()
    source = django_filters.CharFilter(
        field_name="source", max_length=64, help_text="Where reviews came from: shop ..."
    )
    language = django_filters.CharFilter(
        field_name="language", max_length=8, help_text="Language of the text: en, zh ..."
    )

    class Meta:
        model = Review
        fields: list[str] = []


class SocialPostFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(
        field_name="platform", choices=SocialPlatform.choices, help_text="Social platform."
    )
    product = django_filters.CharFilter(
        field_name="product_sku", max_length=64, help_text="SKU of the product the post is about."
    )
    since = _since()
    search = django_filters.CharFilter(
        field_name="search", max_length=200, help_text="Words in the text (case-insensitive)."
    )
    language = django_filters.CharFilter(
        field_name="language", max_length=8, help_text="Language of the text: en, zh ..."
    )

    class Meta:
        model = SocialPost
        fields: list[str] = []
