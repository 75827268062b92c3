"""What a cleaning run does per entity: load the rows through the owning app, run the
engine's rules, write the results through the owning app's services, record every change.

Each step runs inside the run's per-entity transaction (see runs.py) and returns totals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from apps.catalog.services.cleaning import (
    category_cleaning_frame,
    category_names_write,
    product_cleaning_frame,
    product_fields_write,
    product_imputation_markers_write,
    product_imputed_write,
)
from apps.core.errors import DomainError
from apps.customers.services.cleaning import (
    customer_cleaning_frame,
    customer_fields_write,
    customer_imputation_markers_write,
    customer_imputed_write,
)
from apps.events.services.cleaning import (
    order_cleaning_frame,
    order_currencies_write,
    order_flags_write,
)
from apps.quality.choices import ChangeAction, CleaningRule, Entity
from apps.quality.engine.changes import EXAMPLES_KEPT, ColumnChange
from apps.quality.engine.dedup import DuplicateFindings
from apps.quality.engine.pipelines import (
    clean_categories,
    clean_customers,
    clean_orders,
    clean_products,
)
from apps.quality.models import CleaningChange, CleaningRun
from apps.quality.services.identity import duplicate_group_merge

# A run merges at most this many exact duplicate groups; the next run takes the rest.
MAX_AUTO_MERGED_GROUPS = 1000
EXACT_RULE = (
    "same normalised email, and no identity field (phone, names, birth date, gender, country) "
    "disagrees; the earliest sign-up survives"
)
Writer = Callable[..., int]
Step = Callable[..., dict[str, Any]]


def _change_row(
    run: CleaningRun,
    entity: str,
    change: ColumnChange,
    *,
    rows: int | None = None,
    field_prefix: str = "",
) -> CleaningChange:
    return CleaningChange(
        run=run,
        entity=entity,
        rule=change.rule,
        action=change.action,
        field=f"{field_prefix}{change.field}",
        rows_affected=change.rows if rows is None else rows,
        examples=change.examples[:EXAMPLES_KEPT],
        parameters=change.parameters,
    )


def _write_all(
    run: CleaningRun,
    entity: str,
    changes: list[ColumnChange],
    writers: dict[str, Writer],
    *,
    field_prefix: str = "",
) -> tuple[list[CleaningChange], set[int]]:
    """Write each change with the writer for its action; record it with the rows written."""
    records, changed = [], set()
    for change in changes:
        written = writers[change.action](field=change.field, values=change.values)
        if written:
            records.append(
                _change_row(run, entity, change, rows=written, field_prefix=field_prefix)
            )
            changed |= set(change.values)
    return records, changed


def _duplicate_records(
    run: CleaningRun, findings: DuplicateFindings, *, auto_merge: bool
) -> tuple[list[CleaningChange], int]:
    records: list[CleaningChange] = []
    merged_profiles = 0
    exact = findings.exact
    if exact and auto_merge:
        examples: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        merged_groups = 0
        for group in exact[:MAX_AUTO_MERGED_GROUPS]:
            try:
                merges = duplicate_group_merge(
                    survivor_external_id=group.labels[0],
                    merged_external_ids=group.labels[1:],
                    actor_label=f"cleaning run {run.pk}",
                    reason=CleaningRule.DUPLICATE_EXACT,
                )
            except DomainError as error:  # e.g. rows a merge cannot move: left for a person
                skipped.append({"ids": group.labels, "reason": error.message})
                continue
            merged_groups += 1
            merged_profiles += len(merges)
            if len(examples) < EXAMPLES_KEPT:
                examples.append(
                    {
                        "id": group.labels[0],
                        "before": group.labels,
                        "after": group.labels[0],
                        "merge_ids": [merge.pk for merge in merges],
                    }
                )
        if merged_profiles or skipped:
            records.append(
                CleaningChange(
                    run=run,
                    entity=Entity.CUSTOMERS,
                    rule=CleaningRule.DUPLICATE_EXACT,
                    action=ChangeAction.MERGED,
                    field="email",
                    rows_affected=merged_profiles,
                    examples=examples,
                    parameters={
                        "rule": EXACT_RULE,
                        "groups": merged_groups,
                        "left_for_next_run": max(0, len(exact) - MAX_AUTO_MERGED_GROUPS),
                        "skipped": skipped[:EXAMPLES_KEPT],
                    },
                )
            )
    reported = findings.normalised if auto_merge else findings.groups
    if reported:
        records.append(
            CleaningChange(
                run=run,
                entity=Entity.CUSTOMERS,
                rule=CleaningRule.DUPLICATE_NORMALISED_KEY,
                action=ChangeAction.REPORTED,
                field="email, phone",
                rows_affected=sum(len(group.ids) for group in reported),
                examples=[
                    {"ids": group.labels, "keys": group.keys, "conflicts": group.conflicts}
                    for group in reported[:EXAMPLES_KEPT]
                ],
                parameters={
                    "groups": len(reported),
                    "rule": "shared normalised email or E.164 phone; offered for merge on the "
                    "Quality page and in the admin",
                },
            )
        )
    return records, merged_profiles


def customers_clean(run: CleaningRun, *, auto_merge: bool = True) -> dict[str, Any]:
    """Normalise, impute and band customers; merge exact duplicates, report the others."""
    frame = customer_cleaning_frame()
    if frame.empty:
        return {"rows_changed": 0, "changes": 0, "merged": 0}
    result = clean_customers(frame, today=timezone.localdate())
    records, changed = _write_all(
        run,
        Entity.CUSTOMERS,
        result.changes,
        {
            ChangeAction.UPDATED: customer_fields_write,
            ChangeAction.IMPUTED: customer_imputed_write,
        },
    )
    for change in result.bookkeeping:
        customer_imputation_markers_write(markers=change.values)
    records += [_change_row(run, Entity.CUSTOMERS, change) for change in result.findings]
    merged = 0
    if result.duplicates is not None:
        duplicate_records, merged = _duplicate_records(
            run, result.duplicates, auto_merge=auto_merge
        )
        records += duplicate_records
    CleaningChange.objects.bulk_create(records)
    return {"rows_changed": len(changed), "changes": len(records), "merged": merged}


def products_clean(run: CleaningRun, *, auto_merge: bool = True) -> dict[str, Any]:
    """Tidy category names; trim product text, normalise currencies, impute costs, set price
    bands; report look-alike products and categories."""
    records: list[CleaningChange] = []
    categories = category_cleaning_frame()
    if not categories.empty:
        result = clean_categories(categories)
        written, _ = _write_all(
            run,
            Entity.PRODUCTS,
            result.changes,
            {ChangeAction.UPDATED: lambda field, values: category_names_write(values=values)},
            field_prefix="category.",
        )
        records += written
        records += [
            _change_row(run, Entity.PRODUCTS, change, field_prefix="category.")
            for change in result.findings
        ]
    frame = product_cleaning_frame()
    changed: set[int] = set()
    if not frame.empty:
        result = clean_products(frame)
        written, changed = _write_all(
            run,
            Entity.PRODUCTS,
            result.changes,
            {
                ChangeAction.UPDATED: product_fields_write,
                ChangeAction.IMPUTED: product_imputed_write,
            },
        )
        records += written
        for change in result.bookkeeping:
            product_imputation_markers_write(markers=change.values)
        records += [_change_row(run, Entity.PRODUCTS, change) for change in result.findings]
    CleaningChange.objects.bulk_create(records)
    return {"rows_changed": len(changed), "changes": len(records)}


def orders_clean(run: CleaningRun, *, auto_merge: bool = True) -> dict[str, Any]:
    """Normalise order currencies and recompute the pipeline's quality flags."""
    frame = order_cleaning_frame()
    if frame.empty:
        return {"rows_changed": 0, "changes": 0}
    result = clean_orders(frame)
    records, changed = _write_all(
        run,
        Entity.ORDERS,
        result.changes,
        {ChangeAction.UPDATED: lambda field, values: order_currencies_write(values=values)},
    )
    for change in result.bookkeeping:
        order_flags_write(values=change.values)
        changed |= set(change.values)
    records += [_change_row(run, Entity.ORDERS, change) for change in result.findings]
    CleaningChange.objects.bulk_create(records)
    return {"rows_changed": len(changed), "changes": len(records)}


ENTITY_STEPS: dict[str, Step] = {
    Entity.CUSTOMERS: customers_clean,
    Entity.PRODUCTS: products_clean,
    Entity.ORDERS: orders_clean,
}
