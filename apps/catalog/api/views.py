"""Catalog API: thin views over catalog.services and catalog.selectors."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.api.filters import BrandFilter, CategoryFilter, ProductFilter
from apps.catalog.api.serializers import (
    BrandSerializer,
    CategorySerializer,
    ProductCreateSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
)
from apps.core.api.errors import ErrorSerializer
from apps.core.api.views import ScopedGenericAPIView

SKU = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The product's SKU.")


class ProductListView(ScopedGenericAPIView):
    required_scopes = {"GET": "catalog:read", "POST": "catalog:write"}
    serializer_class = ProductCreateSerializer
    filterset_class = ProductFilter

    @extend_schema(
        summary="List products",
        responses=OpenApiResponse(ProductSerializer(many=True), description="A page of products."),
    )
    def get(self, request: Request) -> Response:
        """Products, by title unless `ordering` says otherwise, filtered by the query parameters."""
        return self.list_response(selectors.product_list(**self.query_filters()), ProductSerializer)

    @extend_schema(
        summary="Create a product",
        request=ProductCreateSerializer,
        responses={
            201: OpenApiResponse(ProductSerializer, description="The new product."),
            409: OpenApiResponse(ErrorSerializer, description="A product with this SKU exists."),
        },
    )
    def post(self, request: Request) -> Response:
        """Create a product. `category` is a category slug, `brand` a brand name (created on first use); a SKU in use is a 409."""
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(ScopedGenericAPIView):
    required_scopes = {"GET": "catalog:read", "PATCH": "catalog:write"}
    serializer_class = ProductUpdateSerializer

    @extend_schema(
        summary="Get a product",
        parameters=[SKU],
        responses=OpenApiResponse(ProductSerializer, description="The product."),
    )
    def get(self, request: Request, sku: str) -> Response:
        """One product by SKU."""
        return Response(ProductSerializer(selectors.product_get(sku=sku)).data)

    @extend_schema(
        summary="Update a product",
        parameters=[SKU],
        request=ProductUpdateSerializer,
        responses=OpenApiResponse(ProductSerializer, description="The updated product."),
    )
    def patch(self, request: Request, sku: str) -> Response:
        """Change the given product fields; fields left out keep their value."""
        product = selectors.product_get(sku=sku)
        serializer = ProductUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product, _ = services.product_update(sku=product.sku, changes=serializer.validated_data)
        return Response(ProductSerializer(product).data)


class CategoryListView(ScopedGenericAPIView):
    required_scopes = {"GET": "catalog:read"}
    filterset_class = CategoryFilter

    @extend_schema(
        summary="List categories",
        responses=OpenApiResponse(
            CategorySerializer(many=True), description="A page of categories in tree order."
        ),
    )
    def get(self, request: Request) -> Response:
        """Categories in tree order (by path)."""
        return self.list_response(
            selectors.category_list(**self.query_filters()), CategorySerializer
        )


class BrandListView(ScopedGenericAPIView):
    required_scopes = {"GET": "catalog:read"}
    filterset_class = BrandFilter

    @extend_schema(
        summary="List brands",
        responses=OpenApiResponse(BrandSerializer(many=True), description="A page of brands."),
    )
    def get(self, request: Request) -> Response:
        """Brands by name."""
        return self.list_response(selectors.brand_list(**self.query_filters()), BrandSerializer)
