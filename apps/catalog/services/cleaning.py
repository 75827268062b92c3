"""Bulk writes of the cleaning pipeline on products and categories (and the reads it needs).

Set-based like the customers' cleaning writes: one UPDATE per distinct value where values
repeat (price bands), batched `bulk_update` where each row has its own (trimmed titles).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Category, Product
from apps.core.bulk import (
    each_bulk_update,
    field_counts,
    field_values_write,
    rows_frame,
    writable_field_check,
)
from apps.core.errors import ValidationFailed

PRODUCT_CLEANABLE_FIELDS = ("title", "description", "currency", "price_band")
PRODUCT_IMPUTABLE_FIELDS = ("cost",)
PRODUCT_FRAME_FIELDS = (
    "id",
    "sku",
    "title",
    "description",
    "currency",
    "price",
    "cost",
    "category_id",
    "brand_id",
    "is_active",
    "price_band",
    "imputed_values",
)
PRODUCT_COMPLETENESS_FIELDS = (
    "title",
    "description",
    "category",
    "brand",
    "cost",
    "image",
    "launched_at",
)
CATEGORY_FRAME_FIELDS = ("id", "slug", "name", "parent_id")


def product_cleaning_frame() -> pd.DataFrame:
    """Every product's cleanable fields as a DataFrame indexed by id (one query)."""
    rows = Product.objects.order_by("id").values_list(*PRODUCT_FRAME_FIELDS)
    return rows_frame(list(rows), PRODUCT_FRAME_FIELDS)


def category_cleaning_frame() -> pd.DataFrame:
    """Every category's id, slug, name and parent as a DataFrame indexed by id."""
    rows = Category.objects.order_by("id").values_list(*CATEGORY_FRAME_FIELDS)
    return rows_frame(list(rows), CATEGORY_FRAME_FIELDS)


def product_field_counts() -> tuple[int, dict[str, int]]:
    """Number of products and, per report field, how many have a value (one query)."""
    return field_counts(Product, PRODUCT_COMPLETENESS_FIELDS)


def product_latest_change() -> dict[str, Any]:
    """When a product was last created and last changed (freshness of the catalogue)."""
    return {
        "last_created_at": Product.objects.order_by("-created_at")
        .values_list("created_at", flat=True)
        .first(),
        "last_updated_at": Product.objects.order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first(),
    }


@transaction.atomic
def product_fields_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Rewrite one field of many products (trimmed text, ISO currency, price band)."""
    writable_field_check(field, PRODUCT_CLEANABLE_FIELDS)
    return field_values_write(Product, field, values)


@transaction.atomic
def product_imputed_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Fill one field of many products where it is empty (or holds an earlier imputed value)."""
    writable_field_check(field, PRODUCT_IMPUTABLE_FIELDS)
    return field_values_write(Product, field, values, only_empty=True)


@transaction.atomic
def product_imputation_markers_write(*, markers: Mapping[int, dict[str, Any]]) -> int:
    """Set `imputed_values` ({field: value used}) of many products."""
    return each_bulk_update(Product, "imputed_values", markers, timezone.now())


@transaction.atomic
def category_names_write(*, values: Mapping[int, str]) -> int:
    """Rename many categories (tidied names); slugs and paths stay, so links keep working."""
    for category_id, name in values.items():
        if not str(name).strip():
            raise ValidationFailed(
                f"name: category {category_id} would get an empty name", field="name"
            )
    return field_values_write(Category, "name", values)
