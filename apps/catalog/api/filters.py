"""Query parameters of catalog lists: declared and validated here, applied by the selectors."""

import django_filters

from apps.catalog.models import Brand, Category, Product
from apps.catalog.selectors import PRODUCT_SORTABLE_FIELDS


class ProductFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="search", max_length=200, help_text="Matches SKU or title (case-insensitive)."
    )
    category = django_filters.CharFilter(
        field_name="category",
        max_length=120,
        help_text="Category slug; includes products of its sub-categories.",
    )
    brand = django_filters.CharFilter(
        field_name="brand", max_length=120, help_text="Brand slug or name."
    )
    is_active = django_filters.BooleanFilter(
        field_name="is_active", help_text="true: only products on sale; false: only inactive."
    )
    min_price = django_filters.NumberFilter(
        field_name="min_price", help_text="Only products at this price or above."
    )
    max_price = django_filters.NumberFilter(
        field_name="max_price", help_text="Only products at this price or below."
    )
    ordering = django_filters.ChoiceFilter(
        field_name="order_by",
        choices=[(value, value) for value in sorted(PRODUCT_SORTABLE_FIELDS)],
        help_text="Sort order; `-` for descending. Default: by title.",
    )

    class Meta:
        model = Product
        fields: list[str] = []


class CategoryFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(
        field_name="parent", max_length=120, help_text="Slug of a category: its direct children."
    )
    search = django_filters.CharFilter(
        field_name="search", max_length=200, help_text="Matches name or slug."
    )

    class Meta:
        model = Category
        fields: list[str] = []


class BrandFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="search", max_length=200, help_text="Matches name or slug."
    )

    class Meta:
        model = Brand
        fields: list[str] = []
