"""Bulk writes of the cleaning pipeline on customer profiles (and the reads it needs).

The pipeline (apps.quality) decides what to change; these functions write it set-based:
one UPDATE per distinct value where values repeat (bands, imputed languages), one
UPDATE ... FROM (VALUES ...) per 5,000 rows where each row gets its own value (normalised
emails and phones). Nothing here saves row by row, so 100,000 customers take seconds. The
customers written are touched for the incremental segment refresh (a normalised country or
an imputed one can move a customer into or out of a segment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from apps.core.bulk import (
    each_update_from_values,
    field_counts,
    field_values_write,
    rows_frame,
    writable_field_check,
)
from apps.core.errors import ValidationFailed
from apps.customers.models import Customer
from apps.customers.services.freshness import customers_touch
from apps.customers.services.profiles import PERSON_FIELDS, PROFILE_VALUE_FIELDS

# Fields the pipeline may rewrite (normalise or derive).
CLEANABLE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "region",
    "country",
    "language",
    "age_band",
)
# Fields the pipeline may fill when empty, marking them in `imputed_values`.
IMPUTABLE_FIELDS = ("country", "language", "region", "age_band")
FRAME_FIELDS = (
    "id",
    "external_id",
    *PERSON_FIELDS,
    "signup_at",
    "created_at",
    "age_band",
    "imputed_values",
)
# Fields whose completeness the quality report shows (empty string or NULL is missing).
COMPLETENESS_FIELDS = PROFILE_VALUE_FIELDS


def customer_cleaning_frame() -> pd.DataFrame:
    """Every customer's cleanable fields as a DataFrame indexed by id (one query)."""
    rows = Customer.objects.order_by("id").values_list(*FRAME_FIELDS)
    return rows_frame(list(rows), FRAME_FIELDS, typed=("id", "signup_at", "created_at"))


def customer_field_counts() -> tuple[int, dict[str, int]]:
    """Number of customers and, per report field, how many have a value (one query)."""
    return field_counts(Customer, COMPLETENESS_FIELDS)


def customer_latest_change() -> dict[str, Any]:
    """When a customer was last created and last signed up (freshness of the entity)."""
    return {
        "last_created_at": Customer.objects.order_by("-created_at")
        .values_list("created_at", flat=True)
        .first(),
        "last_signup_at": Customer.objects.exclude(signup_at=None)
        .order_by("-signup_at")
        .values_list("signup_at", flat=True)
        .first(),
    }


@transaction.atomic
def customer_fields_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Rewrite one field of many customers (normalised or derived values); returns rows
    written. Only the cleaning pipeline's fields may be written this way."""
    writable_field_check(field, CLEANABLE_FIELDS)
    written = field_values_write(Customer, field, values, write_each=each_update_from_values)
    customers_touch(customer_ids=values.keys(), activity=False)
    return written


@transaction.atomic
def customer_imputed_write(*, field: str, values: Mapping[int, Any]) -> int:
    """Fill one field of many customers where it is empty (or holds an earlier imputed
    value); rows with a real value keep it, even one that arrived since the rows were read.

    The caller records which rows were imputed through `customer_imputation_markers_write`.
    """
    writable_field_check(field, IMPUTABLE_FIELDS)
    written = field_values_write(
        Customer, field, values, only_empty=True, write_each=each_update_from_values
    )
    customers_touch(customer_ids=values.keys(), activity=False)
    return written


@transaction.atomic
def customer_imputation_markers_write(*, markers: Mapping[int, dict[str, Any]]) -> int:
    """Set `imputed_values` ({field: value used}) of many customers."""
    for customer_id, marker in markers.items():
        if not isinstance(marker, dict):
            raise ValidationFailed(
                f"imputed_values: customer {customer_id} needs an object", field="imputed_values"
            )
    return each_update_from_values(Customer, "imputed_values", markers, timezone.now())
