"""Events API: orders, behaviour events, reviews and social posts (reads), and the
webhook-style intake of reviews and social posts (POST /reviews, POST /social-posts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import Model
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer, _first_message
from apps.core.api.views import ScopedGenericAPIView
from apps.core.errors import DomainError, ValidationFailed
from apps.customers.selectors import customer_get
from apps.events import selectors, services
from apps.events.api.filters import (
    CustomerEventFilter,
    CustomerOrderFilter,
    EventFilter,
    OrderFilter,
    ReviewFilter,
    SocialPostFilter,
)
from apps.events.api.serializers import (
    MAX_WEBHOOK_ITEMS,
    EventSerializer,
    ItemBatchResultSerializer,
    OrderSerializer,
    ReviewBatchInputSerializer,
    ReviewInputSerializer,
    ReviewSerializer,
    SocialPostBatchInputSerializer,
    SocialPostInputSerializer,
    SocialPostSerializer,
)

CUSTOMER_ID = OpenApiParameter(
    "external_id",
    str,
    OpenApiParameter.PATH,
    description="The shop's customer id, or an anonymous id linked to the customer.",
)
ORDER_ID = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The shop's order id."
)


class OrderListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = OrderFilter

    @extend_schema(
        summary="List orders",
        responses=OpenApiResponse(OrderSerializer(many=True), description="A page of orders."),
    )
    def get(self, request: Request) -> Response:
        """Orders with their lines, newest first."""
        return self.list_response(selectors.order_list(**self.query_filters()), OrderSerializer)


class OrderDetailView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}

    @extend_schema(
        summary="Get an order",
        parameters=[ORDER_ID],
        responses=OpenApiResponse(OrderSerializer, description="The order with its lines."),
    )
    def get(self, request: Request, external_id: str) -> Response:
        """One order with its lines, by the shop's order id."""
        return Response(OrderSerializer(selectors.order_get(external_id=external_id)).data)


class CustomerOrderListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = CustomerOrderFilter

    @extend_schema(
        summary="List a customer's orders",
        parameters=[CUSTOMER_ID],
        responses=OpenApiResponse(OrderSerializer(many=True), description="A page of orders."),
    )
    def get(self, request: Request, external_id: str) -> Response:
        """A customer's orders with their lines, newest first."""
        customer = customer_get(external_id=external_id)
        orders = selectors.order_list(customer_id=customer.pk, **self.query_filters())
        return self.list_response(orders, OrderSerializer)


class EventListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = EventFilter

    @extend_schema(
        summary="List behaviour events",
        responses=OpenApiResponse(EventSerializer(many=True), description="A page of events."),
    )
    def get(self, request: Request) -> Response:
        """Behaviour events, newest first, filtered by type, customer, time ..."""
        return self.list_response(selectors.event_list(**self.query_filters()), EventSerializer)


class CustomerEventListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = CustomerEventFilter

    @extend_schema(
        summary="List a customer's behaviour events",
        parameters=[CUSTOMER_ID],
        responses=OpenApiResponse(EventSerializer(many=True), description="A page of events."),
    )
    def get(self, request: Request, external_id: str) -> Response:
        """A customer's behaviour events, newest first."""
        customer = customer_get(external_id=external_id)
        events = selectors.event_list(customer_id=customer.pk, **self.query_filters())
        return self.list_response(events, EventSerializer)


def _refusal(errors: Any) -> ValidationFailed:
    """A serializer's first error as a ValidationFailed naming the field (400 with `field`)."""
    field, message = _first_message(errors)
    if field in ("", "non_field_errors"):
        return ValidationFailed(f"item: {message}", field="item")
    return ValidationFailed(f"{field}: {message}", field=field)


class WebhookIntakeMixin:
    """POST of one object, or of `{"items": [...]}` (a crawler's batch), each stored or updated
    by its idempotency key, so a sender may re-send freely.

    One object: 201 with the row when created, 200 when it was known (updated or unchanged),
    400/409 `{detail, code, field}` when refused. A batch: 200 with every item's outcome by
    index (created, updated or rejected with reason and field): good items are stored even
    when others are refused, as /batch does for events.
    """

    input_serializer: ClassVar[type[serializers.Serializer]]
    output_serializer: ClassVar[type[serializers.Serializer]]
    upsert: ClassVar[Callable[..., tuple[Model, bool]]]

    def intake(self, request: Request) -> Response:
        body = request.data
        if isinstance(body, dict) and "items" in body:
            return Response(self._batch(body["items"]))
        if not isinstance(body, dict):
            raise ValidationFailed('body: send one object, or {"items": [...]}', field="body")
        record, created = self._upsert_one(body)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.output_serializer(record).data, status=answer)

    def _upsert_one(self, data: Any) -> tuple[Model, bool]:
        serializer = self.input_serializer(data=data)
        if not serializer.is_valid():
            raise _refusal(serializer.errors)
        return self.upsert(**serializer.to_service())

    def _batch(self, items: Any) -> dict[str, Any]:
        if not isinstance(items, list):
            raise ValidationFailed("items: must be a list of objects", field="items")
        if len(items) > MAX_WEBHOOK_ITEMS:
            raise ValidationFailed(
                f"items: {len(items)} items; at most {MAX_WEBHOOK_ITEMS} per request: split it",
                code="batch_too_large",
                field="items",
            )
        outcomes: dict[str, Any] = {"created": [], "updated": [], "rejected": []}
        for index, item in enumerate(items):
            outcome = {"index": index, "external_id": _external_id(item)}
            try:
                _, created = self._upsert_one(item)
            except DomainError as error:  # each item is refused on its own
                outcomes["rejected"].append(
                    {**outcome, "reason": error.message, "field": error.field or ""}
                )
                continue
            outcomes["created" if created else "updated"].append(outcome)
        outcomes["counts"] = {
            name: len(outcomes[name]) for name in ("created", "updated", "rejected")
        }
        return outcomes


def _external_id(item: Any) -> str:
    value = item.get("external_id", "") if isinstance(item, dict) else ""
    return value if isinstance(value, str) else str(value)


def _intake_schema(
    *, noun: str, key: str, item: type, batch: type, output: type, example: dict
) -> Any:
    name = item.__name__.removesuffix("InputSerializer")
    return extend_schema(
        summary=f"Send {noun} (webhook-style, idempotent by {key})",
        request=PolymorphicProxySerializer(
            component_name=f"{name}Intake",
            serializers=[item, batch],
            resource_type_field_name=None,
        ),
        examples=[
            OpenApiExample(f"One of the {noun}", value=example, request_only=True),
            OpenApiExample(f"A batch of {noun}", value={"items": [example]}, request_only=True),
        ],
        responses={
            201: OpenApiResponse(output, description="One object, stored now."),
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name=f"{name}IntakeResult",
                    serializers=[output, ItemBatchResultSerializer],
                    resource_type_field_name=None,
                ),
                description=(
                    "One object that was known already (updated with what was sent, or "
                    "unchanged), or a batch's outcome per item."
                ),
            ),
            400: OpenApiResponse(
                ErrorSerializer,
                description="One object refused: `detail` and `field` name the field.",
            ),
            409: OpenApiResponse(
                ErrorSerializer, description="One object refused by a business rule."
            ),
        },
    )


REVIEW_EXAMPLE = {
    "external_id": "tp-88412",
    "source": "trustpilot",
    "product": "DRS-001",
    "customer": "c-1001",
    "rating": 4,
    "title": "Lovely fabric",
    "text": "Fits well, a little long.",
    "language": "en",
    "reviewed_at": "2026-03-02T09:30:00Z",
}
SOCIAL_POST_EXAMPLE = {
    "platform": "instagram",
    "external_id": "C5xQ9a1LmZk",
    "text": "Obsessed with my new linen dress from @shop",
    "posted_at": "2026-03-02T18:04:00Z",
    "author_handle": "@ana.style",
    "likes": 120,
    "shares": 4,
    "language": "en",
    "product": "DRS-001",
}


class ReviewListView(WebhookIntakeMixin, ScopedGenericAPIView):
    required_scopes = {"GET": "events:read", "POST": "content:write"}
    filterset_class = ReviewFilter
    serializer_class = ReviewInputSerializer
    input_serializer = ReviewInputSerializer
    output_serializer = ReviewSerializer
    upsert = staticmethod(services.review_upsert)

    @extend_schema(
        summary="List product reviews",
        responses=OpenApiResponse(ReviewSerializer(many=True), description="A page of reviews."),
    )
    def get(self, request: Request) -> Response:
        """Product reviews, newest first."""
        return self.list_response(selectors.review_list(**self.query_filters()), ReviewSerializer)

    @_intake_schema(
        noun="reviews",
        key="source + external_id",
        item=ReviewInputSerializer,
        batch=ReviewBatchInputSerializer,
        output=ReviewSerializer,
        example=REVIEW_EXAMPLE,
    )
    def post(self, request: Request) -> Response:
        """Store a review, or update it when (source, external_id) is known: rating, title,
        text and language take the sent values; the product must stay the same (else 409).
        Also takes `{"items": [...]}` of up to 500 reviews, answered per item."""
        return self.intake(request)


class SocialPostListView(WebhookIntakeMixin, ScopedGenericAPIView):
    required_scopes = {"GET": "events:read", "POST": "content:write"}
    filterset_class = SocialPostFilter
    serializer_class = SocialPostInputSerializer
    input_serializer = SocialPostInputSerializer
    output_serializer = SocialPostSerializer
    upsert = staticmethod(services.social_post_upsert)

    @extend_schema(
        summary="List social posts",
        responses=OpenApiResponse(
            SocialPostSerializer(many=True), description="A page of social posts."
        ),
    )
    def get(self, request: Request) -> Response:
        """Public social posts about the shop and its products, newest first."""
        posts = selectors.social_post_list(**self.query_filters())
        return self.list_response(posts, SocialPostSerializer)

    @_intake_schema(
        noun="social posts",
        key="platform + external_id",
        item=SocialPostInputSerializer,
        batch=SocialPostBatchInputSerializer,
        output=SocialPostSerializer,
        example=SOCIAL_POST_EXAMPLE,
    )
    def post(self, request: Request) -> Response:
        """Store a post, or refresh it (text, likes, shares ...) when (platform, external_id)
        is known; product and customer links are only set when sent. Also takes
        `{"items": [...]}` of up to 500 posts, answered per item."""
        return self.intake(request)
