"""Discretisation for analysis: age bands from birth dates, price bands from price quartiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

# Upper bounds (exclusive) of the age bands, the usual marketing brackets.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "<18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
    (200, "65+"),
)
AGE_BAND_LABELS = tuple(label for _bound, label in AGE_BANDS)
PRICE_BAND_LABELS = ("budget", "mid", "upper", "premium")
MIN_PRODUCTS_FOR_PRICE_BANDS = 8


def age_in_years(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def age_band(age: int) -> str:
    for bound, label in AGE_BANDS:
        if age < bound:
            return label
    return AGE_BANDS[-1][1]


def age_bands(birth_dates: pd.Series, today: date) -> pd.Series:
    """Band of each known birth date (index kept); rows without one are left out. Birth dates
    in the future or more than 120 years back are invalid and left out too."""
    known = birth_dates[birth_dates.notna()]
    bands = {}
    for row_id, birth in known.items():
        age = age_in_years(birth, today)
        if 0 <= age <= 120:
            bands[row_id] = age_band(age)
    return pd.Series(bands, dtype=object)


@dataclass(frozen=True)
class PriceBands:
    """Band per product (index kept) and the price edges between bands."""

    bands: pd.Series
    edges: list[float]


def price_bands(prices: pd.Series) -> PriceBands | None:
    """Quartile bands: budget (lowest quarter of prices), mid, upper, premium (top quarter).

    Quartiles adapt to any shop's price level and currency; fixed price brackets would put a
    whole shop in one band. None with fewer than 8 priced products. When many products share
    a price, quartile edges coincide and fewer bands are used (each edge kept once).
    """
    known = prices[prices.notna()].astype(float)
    if len(known) < MIN_PRODUCTS_FOR_PRICE_BANDS:
        return None
    edges = sorted(set(np.quantile(known.to_numpy(), [0.25, 0.5, 0.75]).round(2).tolist()))
    # A price on an edge belongs to the band below it (right-closed bins).
    positions = np.searchsorted(np.array(edges), known.to_numpy(), side="left")
    labels = PRICE_BAND_LABELS if len(edges) == 3 else _fewer_labels(len(edges) + 1)
    bands = pd.Series([labels[position] for position in positions], index=known.index, dtype=object)
    return PriceBands(bands=bands, edges=edges)


def _fewer_labels(count: int) -> tuple[str, ...]:
    return {1: ("mid",), 2: ("budget", "premium"), 3: ("budget", "mid", "premium")}[count]
