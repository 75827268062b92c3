"""Catalog API shapes: output serializers mirror the models, input ones validate writes."""

from rest_framework import serializers

from apps.catalog.models import Brand, Category, Product

_PRODUCT_HELP = {
    "sku": "Stock keeping unit, the product's id in the API.",
    "title": "Product name as shown to customers.",
    "description": "Long description (plain text).",
    "category": "Slug of the product's category.",
    "brand": "Brand name; a new name creates the brand.",
    "price": "Unit price (decimal string, two places), not negative.",
    "cost": "Unit cost, for margin and ROI; null when unknown.",
    "currency": "ISO 4217 currency code, e.g. USD.",
    "stock": "Units in stock.",
    "tags": "List of tag strings.",
    "attributes": "Colour, material, size ... as a JSON object.",
    "is_active": "Inactive products are not recommended.",
    "launched_at": "When the product went on sale (ISO 8601).",
}


class CategorySerializer(serializers.ModelSerializer):
    """A node of the category tree."""

    parent = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the parent; null at the root."
    )

    class Meta:
        model = Category
        fields = ["slug", "name", "parent", "path"]
        read_only_fields = fields
        extra_kwargs = {
            "slug": {"help_text": "The category's id in the API and in product filters."},
            "name": {"help_text": "Display name."},
            "path": {"help_text": "Slash-joined slugs from the root, e.g. women/dresses."},
        }


class BrandSerializer(serializers.ModelSerializer):
    """A brand the shop sells."""

    class Meta:
        model = Brand
        fields = ["slug", "name"]
        read_only_fields = fields
        extra_kwargs = {
            "slug": {"help_text": "URL-safe id of the brand, usable in product filters."},
            "name": {"help_text": "Brand name."},
        }


class ProductSerializer(serializers.ModelSerializer):
    """A sellable item."""

    category = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text=_PRODUCT_HELP["category"]
    )
    category_path = serializers.CharField(
        source="category.path",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Path of the category from the root, e.g. women/dresses.",
    )
    brand = serializers.SlugRelatedField(
        slug_field="name", read_only=True, help_text="Brand name; null when unknown."
    )

    class Meta:
        model = Product
        fields = [
            "sku",
            "title",
            "description",
            "category",
            "category_path",
            "brand",
            "price",
            "cost",
            "currency",
            "stock",
            "tags",
            "attributes",
            "image",
            "is_active",
            "launched_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            **{name: {"help_text": text} for name, text in _PRODUCT_HELP.items()},
            "image": {"help_text": "URL of the product image; null when none."},
        }


class ProductUpdateSerializer(serializers.Serializer):
    """Product fields to change; fields left out keep their value."""

    title = serializers.CharField(required=False, max_length=255, help_text=_PRODUCT_HELP["title"])
    description = serializers.CharField(
        required=False, allow_blank=True, help_text=_PRODUCT_HELP["description"]
    )
    category = serializers.SlugField(
        required=False, allow_blank=True, max_length=120, help_text=_PRODUCT_HELP["category"]
    )
    brand = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text=_PRODUCT_HELP["brand"]
    )
    price = serializers.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text=_PRODUCT_HELP["price"],
    )
    cost = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text=_PRODUCT_HELP["cost"],
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        help_text=_PRODUCT_HELP["currency"],
        error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. USD."},
    )
    stock = serializers.IntegerField(required=False, help_text=_PRODUCT_HELP["stock"])
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, help_text=_PRODUCT_HELP["tags"]
    )
    attributes = serializers.DictField(required=False, help_text=_PRODUCT_HELP["attributes"])
    is_active = serializers.BooleanField(required=False, help_text=_PRODUCT_HELP["is_active"])
    launched_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_PRODUCT_HELP["launched_at"]
    )


class ProductCreateSerializer(ProductUpdateSerializer):
    """A new product: SKU, title and price are required."""

    sku = serializers.CharField(max_length=64, help_text=_PRODUCT_HELP["sku"])
    title = serializers.CharField(max_length=255, help_text=_PRODUCT_HELP["title"])
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text=_PRODUCT_HELP["price"]
    )
