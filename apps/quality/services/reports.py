"""Quality report snapshots: completeness per field, duplicates, invalid values, freshness.

A snapshot is computed after each cleaning run (and on demand) and stored as JSON, so the
Quality page and the API read one row instead of scanning tables on every request.
Completeness and event counts are SQL aggregates; invalid values and duplicates come from
the engine over the entity's rows (customers, products, orders).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from apps.catalog.services.cleaning import (
    category_cleaning_frame,
    product_cleaning_frame,
    product_field_counts,
    product_latest_change,
)
from apps.core.errors import ValidationFailed
from apps.customers.services.cleaning import (
    customer_cleaning_frame,
    customer_field_counts,
    customer_latest_change,
)
from apps.events.selectors import event_freshness_by_source
from apps.events.services.cleaning import (
    EVENT_COMPLETENESS_DAYS,
    event_field_counts,
    event_validity_counts,
    order_currency_counts,
    order_field_counts,
    order_flag_rows,
    order_latest_change,
    review_field_counts,
    review_latest_change,
    social_post_field_counts,
    social_post_latest_change,
)
from apps.quality.choices import Entity
from apps.quality.engine.dedup import customer_duplicates_as_cleaned
from apps.quality.engine.metrics import (
    InvalidValues,
    completeness,
    currency_invalid_values,
    customer_invalid_values,
    product_invalid_values,
)
from apps.quality.engine.outliers import PIPELINE_FLAGS
from apps.quality.engine.pipelines import clean_categories, clean_products
from apps.quality.models import CleaningRun, QualityReport

# Duplicate groups kept in a snapshot: what the Quality page offers for merge.
DUPLICATE_GROUPS_KEPT = 100


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _latest(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _iso(value) for name, value in values.items()}


def _base(total: int, filled: dict[str, int]) -> dict[str, Any]:
    return {
        "rows": total,
        "completeness": [item.as_dict() for item in completeness(total=total, filled=filled)],
    }


def _imputed_counts(frame: pd.DataFrame) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for markers in frame["imputed_values"]:
        if isinstance(markers, dict):
            counts.update(markers.keys())
    return dict(sorted(counts.items()))


def _distribution(series: pd.Series) -> dict[str, int]:
    values = series[series.map(lambda value: isinstance(value, str) and value != "")]
    return {str(key): int(count) for key, count in values.value_counts().sort_index().items()}


def _invalid(found: list[InvalidValues]) -> list[dict[str, Any]]:
    return [item.as_dict() for item in found]


def _customers_metrics() -> dict[str, Any]:
    total, filled = customer_field_counts()
    metrics = _base(total, filled)
    frame = customer_cleaning_frame()
    today = timezone.localdate()
    if frame.empty:
        return metrics | {"invalid": [], "duplicates": _no_duplicates(), "imputed": {}}
    # Duplicates are found on normalised values (as the next run would see them), without
    # writing anything: a report never changes data.
    groups = customer_duplicates_as_cleaned(frame).groups
    exact = [group for group in groups if group.exact]
    metrics |= {
        "invalid": _invalid(customer_invalid_values(frame, today=today)),
        "duplicates": {
            "groups": len(groups),
            "rows": sum(len(group.ids) for group in groups),
            "exact_groups": len(exact),
            "normalised_key_groups": len(groups) - len(exact),
            "candidates": [group.as_dict() for group in groups[:DUPLICATE_GROUPS_KEPT]],
        },
        "imputed": _imputed_counts(frame),
        "bands": {"age_band": _distribution(frame["age_band"])},
        "latest": _latest(customer_latest_change()),
    }
    return metrics


def _no_duplicates() -> dict[str, Any]:
    return {"groups": 0, "rows": 0, "exact_groups": 0, "normalised_key_groups": 0, "candidates": []}


def _products_metrics() -> dict[str, Any]:
    total, filled = product_field_counts()
    metrics = _base(total, filled) | {"latest": _latest(product_latest_change())}
    frame = product_cleaning_frame()
    if frame.empty:
        return metrics | {"invalid": [], "duplicates": _no_duplicates(), "imputed": {}}
    findings = clean_products(frame).findings + clean_categories(category_cleaning_frame()).findings
    alike = [finding for finding in findings if finding.action == "reported"]
    metrics |= {
        "invalid": _invalid(product_invalid_values(frame)),
        "duplicates": {
            "groups": sum(int(finding.parameters.get("groups", 0)) for finding in alike),
            "rows": sum(finding.rows for finding in alike),
            "findings": [
                {
                    "rule": finding.rule,
                    "field": finding.field,
                    "rows": finding.rows,
                    "examples": finding.examples,
                }
                for finding in alike
            ],
        },
        "imputed": _imputed_counts(frame),
        "bands": {"price_band": _distribution(frame["price_band"])},
    }
    return metrics


def _orders_metrics() -> dict[str, Any]:
    total, filled = order_field_counts()
    metrics = _base(total, filled) | {"latest": _latest(order_latest_change())}
    flags: Counter[str] = Counter()
    for _order_id, row_flags in order_flag_rows():
        if isinstance(row_flags, list):
            flags.update(flag for flag in row_flags if flag in PIPELINE_FLAGS)
    duplicates = flags.get("possible_duplicate", 0)
    return metrics | {
        "invalid": _invalid(currency_invalid_values(order_currency_counts())),
        "flags": {flag: flags.get(flag, 0) for flag in PIPELINE_FLAGS},
        "duplicates": {"groups": duplicates, "rows": duplicates},
    }


def _events_metrics() -> dict[str, Any]:
    now = timezone.now()
    total, filled = event_field_counts(now=now)
    validity = event_validity_counts(now=now)
    invalid = []
    if validity["unidentified"]:
        invalid.append(
            {
                "field": "customer",
                "reason": "neither a customer nor an anonymous id",
                "count": validity["unidentified"],
                "examples": [],
            }
        )
    if validity["future"]:
        invalid.append(
            {
                "field": "occurred_at",
                "reason": "more than a day in the future",
                "count": validity["future"],
                "examples": [],
            }
        )
    freshness = [
        {
            "source": row["source"],
            "events": row["events"],
            "last_occurred_at": _iso(row["last_occurred_at"]),
            "last_received_at": _iso(row["last_received_at"]),
        }
        for row in event_freshness_by_source()
    ]
    return _base(total, filled) | {
        "window_days": EVENT_COMPLETENESS_DAYS,
        "invalid": invalid,
        "duplicates": {
            "groups": 0,
            "rows": 0,
            "note": "re-sent events are stored once (message ids); conflicts go to quarantine",
        },
        "freshness": freshness,
    }


def _reviews_metrics() -> dict[str, Any]:
    total, filled = review_field_counts()
    return _base(total, filled) | {"invalid": [], "latest": _latest(review_latest_change())}


def _social_metrics() -> dict[str, Any]:
    total, filled = social_post_field_counts()
    return _base(total, filled) | {"invalid": [], "latest": _latest(social_post_latest_change())}


METRICS: dict[str, Callable[[], dict[str, Any]]] = {
    Entity.CUSTOMERS: _customers_metrics,
    Entity.PRODUCTS: _products_metrics,
    Entity.ORDERS: _orders_metrics,
    Entity.EVENTS: _events_metrics,
    Entity.REVIEWS: _reviews_metrics,
    Entity.SOCIAL: _social_metrics,
}


@transaction.atomic
def quality_report_compute(*, entity: str, run: CleaningRun | None = None) -> QualityReport:
    """Compute and store the quality report of one entity; returns the new snapshot."""
    if entity not in METRICS:
        raise ValidationFailed(
            f"entity: unknown entity {entity!r}; known: {', '.join(Entity.values)}",
            field="entity",
        )
    metrics = METRICS[entity]()
    return QualityReport.objects.create(
        entity=entity, run=run, rows=metrics["rows"], metrics=metrics, computed_at=timezone.now()
    )
