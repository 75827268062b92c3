"""Typed values from CSV cells (text) or JSON values, with reasons a person can act on.

Every parser takes the raw value and the field name and returns the typed value, or None for
an empty cell; a value that cannot be read raises `RowProblem` naming the field.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TRUE = {"true", "t", "yes", "y", "1", "on", "active", "enabled"}
_FALSE = {"false", "f", "no", "n", "0", "off", "inactive", "disabled"}
_CURRENCY_SYMBOLS = "$€£¥₹"
_EPOCH_MILLISECONDS_FROM = 10**11
_SLASHED_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_AMBIGUOUS_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


class RowProblem(ValueError):
    """A value of a row cannot be used; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any, field: str, *, max_length: int | None = None, required: bool = False) -> str:
    """Trimmed text; numbers from JSON become their text. '' when empty (unless required)."""
    if is_empty(value):
        if required:
            raise RowProblem(field, "is required and empty")
        return ""
    if isinstance(value, bool) or isinstance(value, dict | list):
        raise RowProblem(field, f"expected text, got {json.dumps(value)[:40]}")
    result = str(value).strip()
    if "\x00" in result:
        raise RowProblem(field, "contains a NUL character")
    if max_length is not None and len(result) > max_length:
        raise RowProblem(field, f"at most {max_length} characters (got {len(result)})")
    return result


def decimal(value: Any, field: str) -> Decimal | None:
    """A number with a dot for decimals; a leading or trailing currency symbol is allowed."""
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RowProblem(field, f"expected a number, got {json.dumps(value, default=str)[:40]}")
    raw = str(value).strip()
    cleaned = raw.strip(_CURRENCY_SYMBOLS).strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        hint = ""
        if re.fullmatch(r"-?\d+,\d{1,2}", cleaned):
            hint = " (use a dot for decimals, e.g. 12.50)"
        elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
            hint = " (leave out thousands separators, e.g. 1234.50)"
        raise RowProblem(field, f"{raw!r} is not a number{hint}") from None
    if not number.is_finite():
        raise RowProblem(field, f"{raw!r} is not a number")
    return number


def integer(value: Any, field: str) -> int | None:
    """A whole number: 3, "3" and "3.0" are fine, 3.5 is not."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise RowProblem(field, f"expected a whole number, got {str(value).lower()}")
    if isinstance(value, int):
        return value
    try:
        number = decimal(value, field)
    except RowProblem:
        number = None
    if number is None or number != number.to_integral_value():
        raise RowProblem(field, f"{str(value).strip()!r} is not a whole number")
    return int(number)


def boolean(value: Any, field: str) -> bool | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise RowProblem(field, f"{str(value).strip()!r} is not true/false (yes/no, 1/0)")


def moment(value: Any, field: str) -> datetime | None:
    """ISO 8601 date or date-time (no zone means UTC), YYYY/MM/DD, or a Unix epoch."""
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowProblem(field, f"expected a date-time, got {json.dumps(value, default=str)[:40]}")
    raw = str(value).strip()
    if isinstance(value, int | float) or re.fullmatch(r"\d{9,13}(\.\d+)?", raw):
        seconds = float(raw)
        if seconds >= _EPOCH_MILLISECONDS_FROM:
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise RowProblem(field, f"{raw!r} is not a Unix time") from None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        slashed = _SLASHED_DATE.match(raw)
        if slashed:
            year, month, day_of_month, hour, minute, second = (
                int(part) if part else 0 for part in slashed.groups()
            )
            try:
                parsed = datetime(year, month, day_of_month, hour, minute, second)
            except ValueError:
                parsed = None
    if parsed is None:
        hint = (
            " (day and month order is ambiguous; use YYYY-MM-DD)"
            if _AMBIGUOUS_DATE.match(raw)
            else " (use ISO 8601, e.g. 2024-03-31 or 2024-03-31T14:05:00Z)"
        )
        raise RowProblem(field, f"{raw!r} is not a date-time{hint}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def day(value: Any, field: str) -> date | None:
    """A calendar date; a date-time is cut to its date."""
    parsed = moment(value, field)
    return parsed.date() if parsed is not None else None


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (as text in CSV, or an object in JSON files); {} when empty."""
    if is_empty(value):
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise RowProblem(field, f"expected a JSON object, got {json.dumps(value)[:40]}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise RowProblem(
            field, f"not valid JSON: {error.msg} at character {error.pos + 1}"
        ) from None
    if not isinstance(parsed, dict):
        raise RowProblem(field, "expected a JSON object {...}")
    return parsed


def tag_list(value: Any, field: str) -> list[str] | None:
    """Tags separated by | or , (a JSON list works too); duplicates dropped, order kept."""
    if is_empty(value):
        return None
    if isinstance(value, list):
        items = [str(item).strip() for item in value if not is_empty(item)]
    elif isinstance(value, str):
        separator = "|" if "|" in value else ","
        items = [item.strip() for item in value.split(separator) if item.strip()]
    else:
        raise RowProblem(field, "expected tags separated by | or ,")
    if any("\x00" in item for item in items):
        raise RowProblem(field, "contains a NUL character")
    return list(dict.fromkeys(items))


def plain(value: Any) -> Any:
    """An extra value as stored in attributes/properties: text trimmed, JSON values as they are."""
    return value.strip() if isinstance(value, str) else value
