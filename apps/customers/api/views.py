"""Customer API: thin views over customers.services and customers.selectors."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedGenericAPIView
from apps.customers import selectors, services
from apps.customers.api.filters import CustomerFilter
from apps.customers.api.serializers import (
    ConsentCreateSerializer,
    ConsentOverviewSerializer,
    ConsentSerializer,
    CustomerCreateSerializer,
    CustomerDetailSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
)
from apps.segments.selectors import customer_scores_get

CUSTOMER_ID = OpenApiParameter(
    "external_id",
    str,
    OpenApiParameter.PATH,
    description="The shop's customer id, or an anonymous id linked to the customer.",
)


class CustomerListView(ScopedGenericAPIView):
    required_scopes = {"GET": "customers:read", "POST": "customers:write"}
    serializer_class = CustomerCreateSerializer
    filterset_class = CustomerFilter

    @extend_schema(
        summary="List customers",
        responses=OpenApiResponse(
            CustomerSerializer(many=True), description="A page of customers."
        ),
    )
    def get(self, request: Request) -> Response:
        """Customers, newest sign-ups first, filtered by the query parameters."""
        return self.list_response(
            selectors.customer_list(**self.query_filters()), CustomerSerializer
        )

    @extend_schema(
        summary="Create a customer",
        request=CustomerCreateSerializer,
        responses={
            201: OpenApiResponse(CustomerDetailSerializer, description="The new customer."),
            409: OpenApiResponse(ErrorSerializer, description="A customer with this id exists."),
        },
    )
    def post(self, request: Request) -> Response:
        """Create a customer. The email is stored trimmed and lower-cased; an `external_id` in use is a 409 (update it with PATCH)."""
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(**serializer.validated_data)
        return Response(CustomerDetailSerializer(customer).data, status=status.HTTP_201_CREATED)


def _detail(customer: Any) -> dict:
    customer.traits = customer_scores_get(customer_id=customer.pk)
    return CustomerDetailSerializer(customer).data


class CustomerDetailView(ScopedGenericAPIView):
    required_scopes = {"GET": "customers:read", "PATCH": "customers:write"}
    serializer_class = CustomerUpdateSerializer

    @extend_schema(
        summary="Get a customer",
        parameters=[CUSTOMER_ID],
        responses=OpenApiResponse(CustomerDetailSerializer, description="The customer."),
    )
    def get(self, request: Request, external_id: str) -> Response:
        """One customer with its other ids and traits (RFM, lifecycle, cluster, CLV, churn and
        propensity). The path takes the external id or an anonymous alias."""
        customer = selectors.customer_get(external_id=external_id)
        return Response(_detail(customer))

    @extend_schema(
        summary="Update a customer",
        parameters=[CUSTOMER_ID],
        request=CustomerUpdateSerializer,
        responses=OpenApiResponse(CustomerDetailSerializer, description="The updated customer."),
    )
    def patch(self, request: Request, external_id: str) -> Response:
        """Change the given profile fields; fields left out keep their value."""
        customer = selectors.customer_get(external_id=external_id)
        serializer = CustomerUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer, _ = services.customer_update(
            external_id=customer.external_id, changes=serializer.validated_data
        )
        return Response(_detail(customer))


class CustomerConsentView(ScopedGenericAPIView):
    required_scopes = {"GET": "customers:read", "POST": "customers:write"}
    serializer_class = ConsentCreateSerializer

    @extend_schema(
        summary="A customer's consent",
        parameters=[CUSTOMER_ID],
        responses=OpenApiResponse(
            ConsentOverviewSerializer, description="Consent in force per purpose, and history."
        ),
    )
    def get(self, request: Request, external_id: str) -> Response:
        """The consent in force per purpose (its latest decision; none means no consent) and every decision, newest first."""
        customer = selectors.customer_get(external_id=external_id)
        overview = {
            "customer": customer.external_id,
            "in_force": selectors.consent_state(customer=customer),
            "history": selectors.consent_history(customer=customer),
        }
        return Response(ConsentOverviewSerializer(overview).data)

    @extend_schema(
        summary="Record a consent decision",
        parameters=[CUSTOMER_ID],
        request=ConsentCreateSerializer,
        responses={201: OpenApiResponse(ConsentSerializer, description="The recorded decision.")},
    )
    def post(self, request: Request, external_id: str) -> Response:
        """Record a consent decision. Decisions are appended, never changed: the latest per purpose is in force."""
        customer = selectors.customer_get(external_id=external_id)
        serializer = ConsentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record(customer=customer, **serializer.validated_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)
