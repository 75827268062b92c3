"""What a rule would write: the new value per row id, how many rows, a few examples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

EXAMPLES_KEPT = 5


@dataclass(frozen=True)
class ColumnChange:
    """New values of one field written by one rule. `values` maps row id -> new value and
    holds only rows whose value changes; `examples` shows a few as {id, before, after} where
    id is the row's public label (external id, SKU)."""

    rule: str
    field: str
    action: str
    values: dict[int, Any]
    examples: list[dict[str, Any]] = dataclass_field(default_factory=list)
    parameters: dict[str, Any] = dataclass_field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.values)


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and blank strings are missing; 0 and False are values."""
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return False


def plain(value: Any) -> Any:
    """A value as JSON can hold it (examples and parameters are stored as JSON)."""
    if is_missing(value):
        return None if not isinstance(value, str) else value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _same(before: Any, after: Any) -> bool:
    if is_missing(before) and is_missing(after):
        return before == after if isinstance(before, str) and isinstance(after, str) else True
    return bool(before == after)


def column_change(
    *,
    frame: pd.DataFrame,
    field: str,
    new_values: pd.Series,
    rule: str,
    action: str,
    label: str,
    parameters: dict[str, Any] | None = None,
) -> ColumnChange:
    """Compare `new_values` (indexed like `frame`, maybe a subset) with `frame[field]`.

    Only rows whose value differs are kept; `frame` must be indexed by row id.
    """
    values: dict[int, Any] = {}
    examples: list[dict[str, Any]] = []
    # Plain lists, not per-row pandas lookups: this runs over every row of big tables.
    befores = frame[field].reindex(new_values.index).tolist()
    for row_id, before, after in zip(
        new_values.index.tolist(), befores, new_values.tolist(), strict=True
    ):
        if _same(before, after):
            continue
        values[int(row_id)] = after
        if len(examples) < EXAMPLES_KEPT:
            examples.append(
                {"id": str(frame.at[row_id, label]), "before": plain(before), "after": plain(after)}
            )
    return ColumnChange(
        rule=rule,
        field=field,
        action=action,
        values=values,
        examples=examples,
        parameters=parameters or {},
    )


def apply_change(frame: pd.DataFrame, change: ColumnChange) -> None:
    """Write a change into the working copy, so the next rule sees it."""
    if not change.values:
        return
    ids = list(change.values)
    series = frame[change.field]
    if series.dtype != object:
        frame[change.field] = series.astype(object)
    frame.loc[ids, change.field] = pd.Series(change.values, dtype=object)
