"""Imputation of missing values. Only missing cells are filled; each rule says what it used.

A group's most common value (or median) is used only when the group has at least
`min_support` known values, so one row never decides for a whole group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from apps.quality.engine.changes import ColumnChange, column_change, is_missing, plain

MIN_SUPPORT = 3
PARAMETER_GROUPS_KEPT = 50


def missing_mask(series: pd.Series) -> pd.Series:
    return series.map(is_missing).astype(bool)


def _mode(values: pd.Series) -> Any:
    """Most common value; ties go to the smallest, so runs are deterministic."""
    counts = values.value_counts()
    top = counts.max()
    return sorted(counts[counts == top].index.tolist())[0]


def impute_mode(
    *, frame: pd.DataFrame, field: str, label: str, min_support: int = MIN_SUPPORT
) -> ColumnChange:
    """Fill missing `field` with the most common known value of the whole column."""
    missing = missing_mask(frame[field])
    known = frame.loc[~missing, field]
    if not missing.any() or len(known) < min_support:
        return _empty(field, "impute_mode")
    mode = _mode(known)
    new_values = pd.Series(mode, index=frame.index[missing], dtype=object)
    return column_change(
        frame=frame,
        field=field,
        new_values=new_values,
        rule="impute_mode",
        action="imputed",
        label=label,
        parameters={"mode": plain(mode), "known_rows": int(len(known))},
    )


def impute_group_mode(
    *,
    frame: pd.DataFrame,
    field: str,
    by: Sequence[str],
    label: str,
    min_support: int = MIN_SUPPORT,
) -> ColumnChange:
    """Fill missing `field` with the most common value among rows of the same group `by`
    (e.g. language by country); rows whose group is unknown or too small stay missing."""
    missing = missing_mask(frame[field])
    group_known = ~np.logical_or.reduce([missing_mask(frame[key]) for key in by])
    known = frame.loc[~missing & group_known, [*by, field]]
    if not missing.any() or known.empty:
        return _empty(field, "impute_group_mode")
    modes: dict[tuple, Any] = {}
    for key, rows in known.groupby(list(by), sort=True)[field]:
        if len(rows) >= min_support:
            modes[key if isinstance(key, tuple) else (key,)] = _mode(rows)
    targets = frame.loc[missing & group_known, list(by)]
    keys = pd.Series(list(zip(*(targets[name] for name in by), strict=True)), index=targets.index)
    filled = keys.map(lambda key: modes.get(key))
    filled = filled[filled.notna()]
    used = sorted(set(keys) & set(modes))
    return column_change(
        frame=frame,
        field=field,
        new_values=filled.astype(object),
        rule="impute_group_mode",
        action="imputed",
        label=label,
        parameters={
            "group": list(by),
            "min_support": min_support,
            "modes": {
                " / ".join(str(part) for part in key): plain(modes[key])
                for key in used[:PARAMETER_GROUPS_KEPT]
            },
        },
    )


def group_median(
    *, known: pd.DataFrame, value: str, by: str, min_support: int = MIN_SUPPORT
) -> tuple[dict[Any, float], float | None]:
    """Median of `value` per group (groups with enough rows) and over all known rows."""
    medians = {
        key: float(rows.median())
        for key, rows in known.groupby(by, sort=True)[value]
        if len(rows) >= min_support
    }
    overall = float(known[value].median()) if len(known) >= min_support else None
    return medians, overall


def _empty(field: str, rule: str) -> ColumnChange:
    return ColumnChange(rule=rule, field=field, action="imputed", values={})
