"""Metrics of the quality report: completeness per field and invalid values with examples."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any

import pandas as pd

from apps.quality.engine.bands import age_in_years
from apps.quality.engine.changes import is_missing, plain
from apps.quality.engine.normalise import (
    country_iso2,
    currency_iso,
    email_is_valid,
    email_normalise,
    phone_e164,
)

EXAMPLES_KEPT = 5
OLDEST_PLAUSIBLE_AGE = 120


@dataclass(frozen=True)
class FieldCompleteness:
    field: str
    filled: int
    total: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.filled / self.total, 1) if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "filled": self.filled, "percent": self.percent}


def completeness(*, total: int, filled: Mapping[str, int]) -> list[FieldCompleteness]:
    """Share of rows with a value, per field, in the order given."""
    return [
        FieldCompleteness(field=name, filled=count, total=total) for name, count in filled.items()
    ]


@dataclass(frozen=True)
class InvalidValues:
    """Rows of one field that break one rule, with a few examples as {id, value}."""

    field: str
    reason: str
    count: int
    examples: list[dict[str, Any]] = dataclass_field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "reason": self.reason,
            "count": self.count,
            "examples": self.examples,
        }


Check = Callable[[Any], bool]


def invalid_values(
    frame: pd.DataFrame, *, field_name: str, reason: str, is_invalid: Check, label: str
) -> InvalidValues | None:
    """Rows whose non-missing `field_name` fails; None when there are none."""
    values = frame[field_name]
    present = values[~values.map(is_missing).astype(bool)]
    bad = present[present.map(is_invalid).astype(bool)]
    if bad.empty:
        return None
    examples = [
        {"id": str(frame.at[row_id, label]), "value": plain(value)}
        for row_id, value in bad.head(EXAMPLES_KEPT).items()
    ]
    return InvalidValues(field=field_name, reason=reason, count=len(bad), examples=examples)


def _checks(
    frame: pd.DataFrame, label: str, rules: list[tuple[str, str, Check]]
) -> list[InvalidValues]:
    found = []
    for field_name, reason, check in rules:
        result = invalid_values(
            frame, field_name=field_name, reason=reason, is_invalid=check, label=label
        )
        if result is not None:
            found.append(result)
    return found


def customer_invalid_values(frame: pd.DataFrame, *, today: date) -> list[InvalidValues]:
    """Invalid emails, impossible phone numbers, unknown countries, implausible birth dates,
    and emails or countries that are valid but not in normal form (not cleaned yet)."""

    def bad_birth_date(value: Any) -> bool:
        if not isinstance(value, date):
            return True
        age = age_in_years(value, today)
        return age < 0 or age > OLDEST_PLAUSIBLE_AGE

    def bad_phone(value: Any) -> bool:
        return not phone_e164(str(value)).possible

    def future(value: Any) -> bool:
        return isinstance(value, datetime | pd.Timestamp) and value.date() > today

    return _checks(
        frame,
        "external_id",
        [
            ("email", "not an email address", lambda value: not email_is_valid(str(value))),
            (
                "email",
                "not trimmed or lower-cased",
                lambda value: email_is_valid(str(value)) and email_normalise(str(value)) != value,
            ),
            ("phone", "not a possible phone number", bad_phone),
            ("country", "not an ISO 3166 country", lambda value: country_iso2(str(value)) is None),
            ("birth_date", "in the future or over 120 years ago", bad_birth_date),
            ("signup_at", "in the future", future),
        ],
    )


def product_invalid_values(frame: pd.DataFrame) -> list[InvalidValues]:
    """Unknown currencies, zero prices and costs above the price (a loss on every sale)."""
    return _checks(
        frame,
        "sku",
        [
            (
                "currency",
                "not an ISO 4217 currency",
                lambda value: currency_iso(str(value)) is None,
            ),
            ("price", "zero price", lambda value: float(value) == 0.0),
        ],
    ) + _cost_above_price(frame)


def _cost_above_price(frame: pd.DataFrame) -> list[InvalidValues]:
    known = frame[frame["cost"].notna() & frame["price"].notna()]
    bad = known[known["cost"].astype(float) > known["price"].astype(float)]
    if bad.empty:
        return []
    examples = [
        {"id": str(row["sku"]), "value": f"cost {plain(row['cost'])} > price {plain(row['price'])}"}
        for _row_id, row in bad.head(EXAMPLES_KEPT).iterrows()
    ]
    return [
        InvalidValues(
            field="cost", reason="cost above the price", count=len(bad), examples=examples
        )
    ]


def currency_invalid_values(counts: Mapping[str, int]) -> list[InvalidValues]:
    """Unknown currency codes from rows per stored code (orders: a grouped count, not rows)."""
    bad = {code: count for code, count in sorted(counts.items()) if currency_iso(str(code)) is None}
    if not bad:
        return []
    examples = [
        {"id": f"{count} rows", "value": code} for code, count in list(bad.items())[:EXAMPLES_KEPT]
    ]
    return [
        InvalidValues(
            field="currency",
            reason="not an ISO 4217 currency",
            count=sum(bad.values()),
            examples=examples,
        )
    ]
