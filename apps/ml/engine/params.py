"""Checks every kind's parameter validator shares (pure): numbers within bounds, and no
parameter the kind does not know. Messages name the parameter and the value."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def number_param(
    params: dict[str, Any], name: str, *, low: float, high: float, integer: bool = False
) -> Any:
    """`params[name]` as a float (an int when `integer`) between `low` and `high`; numeric
    strings are accepted. Raises ValueError naming the parameter otherwise."""
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    if integer:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def unknown_params_reject(params: Iterable[str], known: Iterable[str]) -> None:
    """Raise ValueError listing the parameters not in `known` (and the known ones)."""
    known = set(known)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
