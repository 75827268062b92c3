"""The rules of each entity, in order, over a working copy of its rows.

Each function takes a DataFrame indexed by row id (as loaded by the owning app) and returns
what to write and what to record; nothing is written here. Later rules see the values earlier
rules produced (the phone is parsed with the country already normalised, and so on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from apps.quality.engine import normalise
from apps.quality.engine.bands import (
    AGE_BAND_LABELS,
    age_band,
    age_bands,
    age_in_years,
    price_bands,
)
from apps.quality.engine.changes import (
    EXAMPLES_KEPT,
    ColumnChange,
    apply_change,
    column_change,
    is_missing,
    plain,
)
from apps.quality.engine.dedup import DuplicateFindings, customer_duplicates
from apps.quality.engine.impute import group_median, impute_group_mode, missing_mask
from apps.quality.engine.outliers import (
    AMOUNT_OUTLIER,
    MODIFIED_Z_THRESHOLD,
    NEGATIVE_AMOUNT,
    PIPELINE_FLAGS,
    POSSIBLE_DUPLICATE,
    TOTAL_MISMATCH,
    order_flags,
)

CUSTOMER_TEXT_FIELDS = ("first_name", "last_name", "city", "region")
FLAG_RULES = {
    NEGATIVE_AMOUNT: "negative_amount_flag",
    AMOUNT_OUTLIER: "outlier_flag",
    TOTAL_MISMATCH: "total_mismatch_flag",
    POSSIBLE_DUPLICATE: "duplicate_order_flag",
}


@dataclass
class EntityCleaning:
    """What a pipeline found.

    changes:     writes that are recorded as cleaning changes, in the order applied
    bookkeeping: writes that only keep markers in step (imputation markers, flag lists)
    findings:    recorded, not written (duplicates offered for merge, flags per rule)
    """

    changes: list[ColumnChange] = field(default_factory=list)
    bookkeeping: list[ColumnChange] = field(default_factory=list)
    findings: list[ColumnChange] = field(default_factory=list)
    duplicates: DuplicateFindings | None = None


def _normalised(
    frame: pd.DataFrame,
    *,
    field_name: str,
    rule: str,
    label: str,
    function: Callable[[str], str | None],
    parameters: dict[str, Any] | None = None,
) -> ColumnChange:
    """Apply a value normaliser to the non-missing values of a column; a None result (the
    normaliser cannot tell) keeps the value."""
    values = frame[field_name]
    present = values[values.map(lambda value: isinstance(value, str)).astype(bool)]
    cache: dict[str, Any] = {}
    new_values = {}
    for row_id, value in present.items():
        text = str(value)
        if text not in cache:
            result = function(text)
            cache[text] = text if result is None else result
        new_values[row_id] = cache[text]
    return column_change(
        frame=frame,
        field=field_name,
        new_values=pd.Series(new_values, dtype=object),
        rule=rule,
        action="updated",
        label=label,
        parameters=parameters,
    )


def _record(result: EntityCleaning, frame: pd.DataFrame, change: ColumnChange) -> None:
    if change.values:
        result.changes.append(change)
        apply_change(frame, change)


def _imputed_markers(
    frame: pd.DataFrame, *, label: str, stale: Callable[[int, str, Any], bool]
) -> tuple[dict[int, dict[str, Any]], ColumnChange]:
    """Current imputation markers per row with the stale ones (a real value has since
    arrived) removed, and a record of the removals."""
    markers: dict[int, dict[str, Any]] = {}
    cleared: dict[int, Any] = {}
    examples: list[dict[str, Any]] = []
    for row_id, value in frame["imputed_values"].items():
        current = dict(value) if isinstance(value, dict) else {}
        kept = {name: used for name, used in current.items() if not stale(row_id, name, used)}
        markers[int(row_id)] = kept
        if kept != current:
            cleared[int(row_id)] = sorted(set(current) - set(kept))
            if len(examples) < EXAMPLES_KEPT:
                examples.append(
                    {"id": str(frame.at[row_id, label]), "before": current, "after": kept}
                )
    change = ColumnChange(
        rule="imputed_superseded",
        field="imputed_values",
        action="updated",
        values=cleared,
        examples=examples,
    )
    return markers, change


def _mark_imputed(markers: dict[int, dict[str, Any]], change: ColumnChange) -> None:
    for row_id, value in change.values.items():
        markers[row_id][change.field] = plain(value)


def _record_normalised(
    result: EntityCleaning,
    frame: pd.DataFrame,
    *,
    field_name: str,
    rule: str,
    label: str,
    function: Callable[[str], str | None],
    parameters: dict[str, Any] | None = None,
) -> None:
    """Normalise a column (see _normalised) and record the change."""
    change = _normalised(
        frame,
        field_name=field_name,
        rule=rule,
        label=label,
        function=function,
        parameters=parameters,
    )
    _record(result, frame, change)


def _current_markers(
    result: EntityCleaning,
    frame: pd.DataFrame,
    *,
    label: str,
    stale: Callable[[int, str, Any], bool],
) -> dict[int, dict[str, Any]]:
    """The imputation markers still valid; the stale ones removed are reported as a finding."""
    markers, superseded = _imputed_markers(frame, label=label, stale=stale)
    if superseded.values:
        result.findings.append(superseded)
    return markers


def _keep_in_step(
    result: EntityCleaning,
    frame: pd.DataFrame,
    *,
    field_name: str,
    new_values: dict[Any, Any],
    action: str,
    label: str,
) -> ColumnChange:
    """Record a bookkeeping write (its rule is the field's name) when anything changed."""
    change = column_change(
        frame=frame,
        field=field_name,
        new_values=pd.Series(new_values, dtype=object),
        rule=field_name,
        action=action,
        label=label,
    )
    if change.values:
        result.bookkeeping.append(change)
    return change


def _store_markers(
    result: EntityCleaning, frame: pd.DataFrame, markers: dict[int, dict[str, Any]], label: str
) -> None:
    """Write the imputation markers back as bookkeeping when they changed."""
    change = _keep_in_step(
        result,
        frame,
        field_name="imputed_values",
        new_values=dict(markers),
        action="updated",
        label=label,
    )
    apply_change(frame, change)


def _report_alike(
    result: EntityCleaning,
    frame: pd.DataFrame,
    *,
    keys: pd.Series,
    label: str,
    rule: str,
    field_name: str,
    key_description: str,
) -> None:
    """Report the rows that share a key, grouped, as a finding (nothing is merged)."""
    alike = keys[keys.duplicated(keep=False)]
    if not len(alike):
        return
    groups = [
        [str(frame.at[row_id, label]) for row_id in rows.index]
        for _key, rows in alike.groupby(alike.map(str), sort=True)
    ]
    result.findings.append(
        ColumnChange(
            rule=rule,
            field=field_name,
            action="reported",
            values={int(row_id): None for row_id in alike.index},
            examples=[{"ids": group} for group in groups[:EXAMPLES_KEPT]],
            parameters={"key": key_description, "groups": len(groups)},
        )
    )


def clean_customers(frame: pd.DataFrame, *, today: date) -> EntityCleaning:
    """Trim names, normalise country, email and phone, take a missing country from the phone,
    impute language (by country) and region (by country and city), derive age bands (the
    median age's band for customers without a birth date, marked imputed), find duplicates.
    """
    work = frame.copy()
    label = "external_id"
    result = EntityCleaning()
    for name in CUSTOMER_TEXT_FIELDS:
        _record_normalised(
            result,
            work,
            field_name=name,
            rule="text_trim",
            label=label,
            function=normalise.text_trim,
        )
    _record_normalised(
        result,
        work,
        field_name="country",
        rule="country_iso2",
        label=label,
        function=normalise.country_iso2,
        parameters={"aliases": normalise.COUNTRY_ALIASES},
    )
    _record_normalised(
        result,
        work,
        field_name="email",
        rule="email_normalise",
        label=label,
        function=normalise.email_normalise,
    )
    phones = {}
    regions = {}
    for row_id, phone, country in zip(work.index, work["phone"], work["country"], strict=True):
        if is_missing(phone):
            continue
        if not is_missing(country) and normalise.E164_PATTERN.match(str(phone)):
            continue  # already E.164, and no country to take from it: nothing to parse
        parsed = normalise.phone_e164(str(phone), "" if is_missing(country) else str(country))
        phones[row_id] = parsed.value
        if parsed.possible and parsed.region:
            regions[row_id] = parsed.region
    _record(
        result,
        work,
        column_change(
            frame=work,
            field="phone",
            new_values=pd.Series(phones, dtype=object),
            rule="phone_e164",
            action="updated",
            label=label,
            parameters={"default_region": "the customer's country"},
        ),
    )
    _record_normalised(
        result,
        work,
        field_name="language",
        rule="language_normalise",
        label=label,
        function=normalise.language_normalise,
    )

    derived_bands = age_bands(work["birth_date"], today)

    def stale(row_id: int, name: str, used: Any) -> bool:
        if name == "age_band":
            return not is_missing(work.at[row_id, "birth_date"])
        return name not in work.columns or work.at[row_id, name] != used

    markers = _current_markers(result, work, label=label, stale=stale)

    missing_country = missing_mask(work["country"])
    from_phone = pd.Series(
        {row_id: region for row_id, region in regions.items() if missing_country.at[row_id]},
        dtype=object,
    )
    imputations = [
        column_change(
            frame=work,
            field="country",
            new_values=from_phone,
            rule="country_from_phone",
            action="imputed",
            label=label,
        )
    ]
    _record(result, work, imputations[0])
    for target, group in (("language", ["country"]), ("region", ["country", "city"])):
        change = impute_group_mode(frame=work, field=target, by=group, label=label)
        imputations.append(change)
        _record(result, work, change)

    _record(
        result,
        work,
        column_change(
            frame=work,
            field="age_band",
            new_values=derived_bands,
            rule="age_band",
            action="updated",
            label=label,
            parameters={"bands": list(AGE_BAND_LABELS), "as_of": today.isoformat()},
        ),
    )
    without_birth = work.index[missing_mask(work["birth_date"])]
    known_births = work["birth_date"][~missing_mask(work["birth_date"])]
    if len(without_birth) and len(known_births) >= 3:
        ages = sorted(age_in_years(birth, today) for birth in known_births)
        median_age = float(pd.Series(ages).median())
        band = age_band(int(median_age))
        change = column_change(
            frame=work,
            field="age_band",
            new_values=pd.Series(band, index=without_birth, dtype=object),
            rule="impute_median",
            action="imputed",
            label=label,
            parameters={"median_age": median_age, "band": band, "known_rows": len(known_births)},
        )
        imputations.append(change)
        _record(result, work, change)

    for change in imputations:
        _mark_imputed(markers, change)
    _store_markers(result, work, markers, label)

    result.duplicates = customer_duplicates(work, label=label)
    return result


def clean_products(frame: pd.DataFrame) -> EntityCleaning:
    """Trim titles and descriptions, normalise currencies, impute a missing cost from the
    cost/price ratio of its category (else of all products), set price bands, and report
    products that look alike (same tidied title and brand)."""
    work = frame.copy()
    label = "sku"
    result = EntityCleaning()
    _record_normalised(
        result,
        work,
        field_name="title",
        rule="text_trim",
        label=label,
        function=normalise.text_trim,
    )
    _record_normalised(
        result,
        work,
        field_name="description",
        rule="text_trim",
        label=label,
        function=normalise.text_strip,
        parameters={"mode": "strip only: descriptions keep their line breaks"},
    )
    _record_normalised(
        result,
        work,
        field_name="currency",
        rule="currency_iso",
        label=label,
        function=normalise.currency_iso,
        parameters={"aliases": normalise.CURRENCY_ALIASES},
    )

    def stale(row_id: int, name: str, used: Any) -> bool:
        current: Any = work.at[row_id, name] if name in work.columns else None
        if is_missing(current) or is_missing(used):
            return True
        return f"{float(current):.2f}" != f"{float(used):.2f}"

    markers = _current_markers(result, work, label=label, stale=stale)

    for change in _impute_cost(work, label):
        _record(result, work, change)
        _mark_imputed(markers, change)
    _store_markers(result, work, markers, label)

    bands = price_bands(work["price"])
    if bands is not None:
        _record(
            result,
            work,
            column_change(
                frame=work,
                field="price_band",
                new_values=bands.bands,
                rule="price_band",
                action="updated",
                label=label,
                parameters={"edges": bands.edges, "method": "price quartiles"},
            ),
        )

    keys = pd.Series(
        [
            (normalise.name_key(str(title)), brand)
            for title, brand in zip(work["title"], work["brand_id"].fillna(-1), strict=True)
        ],
        index=work.index,
    )
    _report_alike(
        result,
        work,
        keys=keys,
        label=label,
        rule="duplicate_normalised_key",
        field_name="title",
        key_description="tidied title and brand",
    )
    return result


def _impute_cost(work: pd.DataFrame, label: str) -> list[ColumnChange]:
    price = _numbers(work["price"])
    cost = _numbers(work["cost"])
    missing = cost.isna() & price.notna()
    if not missing.any():
        return []
    known = pd.DataFrame({"ratio": cost / price, "category": work["category_id"].fillna(-1)}).loc[
        cost.notna() & price.notna() & (price > 0)
    ]
    medians, overall = group_median(known=known, value="ratio", by="category")
    by_group, overall_fill = {}, {}
    for row_id in work.index[missing]:
        category = work.at[row_id, "category_id"]
        category = -1 if is_missing(category) else category
        if category in medians:
            by_group[row_id] = round(price.at[row_id] * medians[category], 2)
        elif overall is not None:
            overall_fill[row_id] = round(price.at[row_id] * overall, 2)
    changes = [
        column_change(
            frame=work,
            field="cost",
            new_values=pd.Series(by_group, dtype=object),
            rule="impute_group_median",
            action="imputed",
            label=label,
            parameters={
                "statistic": "median cost/price ratio",
                "group": "category",
                "ratios": {str(key): round(value, 4) for key, value in list(medians.items())[:50]},
            },
        ),
        column_change(
            frame=work,
            field="cost",
            new_values=pd.Series(overall_fill, dtype=object),
            rule="impute_median",
            action="imputed",
            label=label,
            parameters={
                "statistic": "median cost/price ratio of all products",
                "ratio": None if overall is None else round(overall, 4),
            },
        ),
    ]
    return [change for change in changes if change.values]


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(
        series.map(lambda value: None if is_missing(value) else float(value)), errors="coerce"
    ).astype(float)


def clean_categories(frame: pd.DataFrame) -> EntityCleaning:
    """Tidy category names and report siblings whose tidied names collide."""
    work = frame.copy()
    label = "slug"
    result = EntityCleaning()
    _record_normalised(
        result,
        work,
        field_name="name",
        rule="category_name_normalise",
        label=label,
        function=normalise.category_name_normalise,
    )
    keys = pd.Series(
        [
            (parent, normalise.name_key(str(name)))
            for parent, name in zip(work["parent_id"].fillna(-1), work["name"], strict=True)
        ],
        index=work.index,
    )
    _report_alike(
        result,
        work,
        keys=keys,
        label=label,
        rule="duplicate_category_name",
        field_name="name",
        key_description="parent and tidied name",
    )
    return result


def clean_orders(frame: pd.DataFrame) -> EntityCleaning:
    """Normalise order currencies, then flag amounts (see engine.outliers). Flags the
    pipeline did not set are kept; its own are recomputed, so a corrected order loses them."""
    work = frame.copy()
    label = "external_id"
    result = EntityCleaning()
    _record_normalised(
        result,
        work,
        field_name="currency",
        rule="currency_iso",
        label=label,
        function=normalise.currency_iso,
    )
    if work.empty:
        return result
    computed = order_flags(work)
    new_flags = {}
    added: dict[str, dict[int, Any]] = {flag: {} for flag in PIPELINE_FLAGS}
    cleared: dict[str, int] = {flag: 0 for flag in PIPELINE_FLAGS}
    examples: dict[str, list[dict[str, Any]]] = {flag: [] for flag in PIPELINE_FLAGS}
    for row_id, current in work["quality_flags"].items():
        current_flags = list(current) if isinstance(current, list) else []
        pipeline_flags = computed.flags[int(row_id)]
        kept = [flag for flag in current_flags if flag not in PIPELINE_FLAGS]
        new_flags[row_id] = kept + pipeline_flags
        for flag in PIPELINE_FLAGS:
            had, has = flag in current_flags, flag in pipeline_flags
            if has and not had:
                added[flag][int(row_id)] = flag
                if len(examples[flag]) < EXAMPLES_KEPT:
                    examples[flag].append(_order_example(work, row_id))
            elif had and not has:
                cleared[flag] += 1
    bounds = {
        bound.currency: {
            "orders": bound.orders,
            "median_total": bound.median_total,
            "upper_bound": bound.upper_bound,
            "method": bound.method,
        }
        for bound in computed.bounds
    }
    for flag in PIPELINE_FLAGS:
        if not added[flag] and not cleared[flag]:
            continue
        parameters: dict[str, Any] = {"flag": flag, "cleared": cleared[flag]}
        if flag == AMOUNT_OUTLIER:
            parameters |= {"threshold": MODIFIED_Z_THRESHOLD, "bounds": bounds}
        result.findings.append(
            ColumnChange(
                rule=FLAG_RULES[flag],
                field="quality_flags",
                action="flagged",
                values=added[flag],
                examples=examples[flag],
                parameters=parameters,
            )
        )
    _keep_in_step(
        result,
        work,
        field_name="quality_flags",
        new_values=new_flags,
        action="flagged",
        label=label,
    )
    return result


def _order_example(work: pd.DataFrame, row_id: Any) -> dict[str, Any]:
    row = work.loc[row_id]
    return {
        "id": str(row["external_id"]),
        "subtotal": plain(row["subtotal"]),
        "discount_total": plain(row["discount_total"]),
        "shipping_total": plain(row["shipping_total"]),
        "total": plain(row["total"]),
        "currency": str(row["currency"]),
    }
