"""Bulk writes of the cleaning pipeline on products and categories (and the reads it needs).

Set-based like the customers' cleaning writes: one UPDATE per distinct value where values
repeat (price bands), batched `bulk_update` where each row has its own (trimmed titles).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Count, Model, Q
from django.utils import timezone

from apps.catalog.models import Category, Product
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
BULK_BATCH_SIZE = 1000
GROUPED_WRITE_MAX_VALUES = 50
ID_CHUNK = 10_000


def _frame(rows: list[tuple], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in columns:
        if name != "id":
            frame[name] = frame[name].astype(object)
    return frame.set_index("id", drop=False).rename_axis(None)


def product_cleaning_frame() -> pd.DataFrame:
    """Every product's cleanable fields as a DataFrame indexed by id (one query)."""
    rows = Product.objects.order_by("id").values_list(*PRODUCT_FRAME_FIELDS)
    return _frame(list(rows), PRODUCT_FRAME_FIELDS)


def category_cleaning_frame() -> pd.DataFrame:
    """Every category's id, slug, name and parent as a DataFrame indexed by id."""
    rows = Category.objects.order_by("id").values_list(*CATEGORY_FRAME_FIELDS)
    return _frame(list(rows), CATEGORY_FRAME_FIELDS)


def product_field_counts() -> tuple[int, dict[str, int]]:
    """Number of products and, per report field, how many have a value (one query)."""
    aggregates: dict[str, Any] = {"total": Count("id")}
    for name in PRODUCT_COMPLETENESS_FIELDS:
        field = Product._meta.get_field(name)
        empty = Q(**{f"{name}__isnull": True})
        if field.get_internal_type() in ("CharField", "TextField", "FileField", "ImageField"):
            empty |= Q(**{name: ""})
        aggregates[name] = Count("id", filter=~empty)
    counts = Product.objects.aggregate(**aggregates)
    total = counts.pop("total")
    return total, {name: counts[name] for name in PRODUCT_COMPLETENESS_FIELDS}


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


def _check_field(field: str, allowed: Sequence[str]) -> None:
    if field not in allowed:
        raise ValidationFailed(
            f"field: {field!r} is not one the cleaning pipeline may write; "
            f"allowed: {', '.join(allowed)}",
            field="field",
        )


def _write_values(
    model: type[Model], field: str, values: Mapping[int, Any], *, only_empty: bool = False
) -> int:
    if not values:
        return 0
    now = timezone.now()
    by_value: dict[Any, list[int]] = defaultdict(list)
    for row_id, value in values.items():
        by_value[value].append(row_id)
    if only_empty or len(by_value) <= GROUPED_WRITE_MAX_VALUES:
        updated = 0
        for value, all_ids in by_value.items():
            for start in range(0, len(all_ids), ID_CHUNK):
                queryset = model._default_manager.filter(pk__in=all_ids[start : start + ID_CHUNK])
                if only_empty:  # a real value, even one that arrived meanwhile, is never replaced
                    queryset = queryset.filter(
                        Q(**{f"{field}__isnull": True}) | Q(imputed_values__has_key=field)
                    )
                updated += queryset.update(**{field: value, "updated_at": now})
        return updated
    rows = [model(pk=row_id, updated_at=now) for row_id in values]
    for row in rows:
        setattr(row, field, values[row.pk])
    return model._default_manager.bulk_update(
        rows, [field, "updated_at"], batch_size=BULK_BATCH_SIZE
    )


@transaction.atomic
def product_fields_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Rewrite one field of many products (trimmed text, ISO currency, price band)."""
    _check_field(field, PRODUCT_CLEANABLE_FIELDS)
    return _write_values(Product, field, values)


@transaction.atomic
def product_imputed_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Fill one field of many products where it is empty (or holds an earlier imputed value)."""
    _check_field(field, PRODUCT_IMPUTABLE_FIELDS)
    return _write_values(Product, field, values, only_empty=True)


@transaction.atomic
def product_imputation_markers_write(*, markers: Mapping[int, dict[str, Any]]) -> int:
    """Set `imputed_values` ({field: value used}) of many products."""
    now = timezone.now()
    rows = [
        Product(pk=product_id, imputed_values=marker, updated_at=now)
        for product_id, marker in markers.items()
    ]
    return Product.objects.bulk_update(
        rows, ["imputed_values", "updated_at"], batch_size=BULK_BATCH_SIZE
    )


@transaction.atomic
def category_names_write(*, values: Mapping[int, str]) -> int:
    """Rename many categories (tidied names); slugs and paths stay, so links keep working."""
    for category_id, name in values.items():
        if not str(name).strip():
            raise ValidationFailed(
                f"name: category {category_id} would get an empty name", field="name"
            )
    return _write_values(Category, "name", values)
