"""Events API: orders, behaviour events, reviews and social posts (reads; ingestion comes next)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.views import ScopedGenericAPIView
from apps.customers.selectors import customer_get
from apps.events import selectors
from apps.events.api.filters import (
    CustomerEventFilter,
    CustomerOrderFilter,
    EventFilter,
    OrderFilter,
    ReviewFilter,
    SocialPostFilter,
)
from apps.events.api.serializers import (
    EventSerializer,
    OrderSerializer,
    ReviewSerializer,
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


class ReviewListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = ReviewFilter

    @extend_schema(
        summary="List product reviews",
        responses=OpenApiResponse(ReviewSerializer(many=True), description="A page of reviews."),
    )
    def get(self, request: Request) -> Response:
        """Product reviews, newest first."""
        return self.list_response(selectors.review_list(**self.query_filters()), ReviewSerializer)


class SocialPostListView(ScopedGenericAPIView):
    required_scopes = {"GET": "events:read"}
    filterset_class = SocialPostFilter

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
